package e2e

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// An annual term renews after twelve months, not one: the subscription
// runs on the time-skipping testsuite with the real activities (the
// stack's PostgreSQL, tenant fake and mail sink); its renewal pro-forma
// goes out a notice before the twelfth month ends and bills the next
// twelve, and each term opens a cancellation window of its own.
func TestAnnualTermRenewsAfterTwelveMonths(t *testing.T) {
	ctx := context.Background()
	o := newOrder(t)
	o["billing_cycle"] = "annual"
	id := o["order_id"].(string)
	require.Equal(t, 202, place(t, o).Status)
	waitMail(t, emailOf(o), "billing_access")
	// Five seats of Business Standard for twelve months, with 23% VAT.
	n := notify(t, intake.Notification{OrderID: id, PaymentID: "annual-" + id, Status: "completed", Amount: "3985.20", Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
	require.Equal(t, "installer_ready", string(waitDone(t, id).Status))
	require.NoError(t, st.Client.TerminateWorkflow(ctx, workflows.SubscriptionWorkflowID(id), "", "the test drives the term"))

	loc := warsaw(t)
	midnight := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc) }
	sv, err := st.Store.GetService(ctx, id)
	require.NoError(t, err)
	require.True(t, sv.PeriodStart.AddDate(1, 0, 0).Equal(sv.PeriodEnd), "the first term is a year: %v to %v", sv.PeriodStart, sv.PeriodEnd)

	start := midnight(sv.PeriodStart).Add(10 * time.Hour)
	end := midnight(sv.PeriodEnd)
	in := workflows.SubscriptionInput{OrderID: id, Period: sv.Period, PeriodEnd: end, Timing: workflows.DefaultTiming, PeriodStart: start}
	charge := id + ":renewal:2"

	var s testsuite.WorkflowTestSuite
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.SetTestTimeout(time.Minute)
	env.RegisterWorkflowWithOptions(workflows.SubscriptionWorkflow, workflow.RegisterOptions{Name: workflows.SubscriptionWorkflowName})
	env.RegisterActivity(renewalActivities(t, loc))
	ord, err := st.Store.GetOrder(ctx, id)
	require.NoError(t, err)
	require.NoError(t, env.SetTypedSearchAttributesOnStart(workflows.AfterAttributes(id, ord.Plan, ord.Domain, sv.Seats, store.ServiceActive)))
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	calls := map[string][]time.Time{}
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		calls[info.ActivityType.Name] = append(calls[info.ActivityType.Name], env.Now())
	})
	// A month before the end nothing is due yet; the pro-forma comes a
	// notice before the twelfth month ends and is paid the day after.
	env.RegisterDelayedCallback(func() {
		_, err := st.Store.GetCharge(ctx, charge)
		assert.ErrorIs(t, err, store.ErrNotFound, "no renewal after the first month")
	}, end.AddDate(0, -1, 0).Sub(start))
	env.RegisterDelayedCallback(func() {
		c, err := st.Store.GetCharge(ctx, charge)
		if !assert.NoError(t, err) || !assert.NotNil(t, c.Invoice) {
			return
		}
		p := store.Payment{PaymentID: "pay-" + charge, OrderID: id, ChargeID: charge, Status: "completed", Amount: c.Invoice.Gross, Currency: "PLN"}
		_, err = st.Store.RecordPayment(ctx, p)
		assert.NoError(t, err)
		env.SignalWorkflow(workflows.SignalPayment, workflows.Payment{PaymentID: p.PaymentID, Status: p.Status, Amount: p.Amount, Currency: p.Currency, ChargeID: charge})
	}, end.Add(-in.Timing.Notice+24*time.Hour).Sub(start))

	env.ExecuteWorkflow(workflows.SubscriptionWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "continued as new, not %v", env.GetWorkflowError())
	var next workflows.SubscriptionInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))

	require.Len(t, calls["OpenRenewal"], 1)
	require.True(t, calls["OpenRenewal"][0].Equal(end.Add(-in.Timing.Notice)), "renewal pro-forma at %v", calls["OpenRenewal"][0])
	require.Len(t, calls["FreeSeats"], 1, "the term's window is counted once")
	require.True(t, start.Add(workflows.CancelWindow-workflows.CancelWindowReminder).Equal(calls["FreeSeats"][0]),
		"the term's window is counted a day before it closes, not at %v", calls["FreeSeats"][0])
	// Four of the five seats are free (the admin holds one): the customer
	// is told they can still give them back.
	m := waitNotice(t, emailOf(o), "seats_window")
	require.Contains(t, m.Text, "168 godzin")
	require.Contains(t, m.Subject, "(4)")
	c, err := st.Store.GetCharge(ctx, charge)
	require.NoError(t, err)
	require.Equal(t, "paid", c.Status)
	require.True(t, c.PeriodStart.Equal(sv.PeriodEnd), "the next term starts where the first ended")
	require.True(t, c.PeriodStart.AddDate(1, 0, 0).Equal(c.PeriodEnd), "the next term is a year: %v to %v", c.PeriodStart, c.PeriodEnd)
	require.Equal(t, 2, next.Period)
	require.True(t, midnight(c.PeriodEnd).Equal(next.PeriodEnd))
	require.True(t, end.Equal(next.PeriodStart), "the next run's window opens at the renewal, %v", next.PeriodStart)
	require.Empty(t, next.Windows, "the first term's window closed long ago")
}
