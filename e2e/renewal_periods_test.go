package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/mail"
	sealbox "github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
)

// The run whose renewal is not paid within the grace period.
const missedPeriod = 5

// periodRun is what one run of the subscription workflow scheduled: the
// testsuite keeps no history, so its length is bounded from these counts.
type periodRun struct {
	Period                                      int
	ChargeID, PF, FV                            string
	Paid                                        string // the period paid for
	Activities, Local, Timers, Signals, Upserts int
}

// key is the counts alone, to compare runs.
func (r periodRun) key() [5]int {
	return [5]int{r.Activities, r.Local, r.Timers, r.Signals, r.Upserts}
}

// bound is an upper bound of the run's history events: started and
// continued-as-new, scheduled/started/completed per activity, a marker per
// local activity, started and fired (or cancelled) per timer, one event per
// signal and per upsert, and at most three workflow-task events for each
// thing that wakes the workflow, plus the first task.
func (r periodRun) bound() int {
	wakes := r.Activities + r.Local + r.Timers + r.Signals
	return 2 + 3*r.Activities + r.Local + 2*r.Timers + r.Signals + r.Upserts + 3*(wakes+1)
}

// The acceptance test of renewals: 14 monthly periods, each a run of its
// own on the SDK's time-skipping testsuite with the real activities (the
// stack's PostgreSQL, tenant fake and mail sink). One renewal is paid late:
// the subscription is suspended at the tenant, then reactivated.
func TestRenewalFourteenPeriods(t *testing.T) {
	ctx := context.Background()
	o := newOrder(t)
	id := placeAndPay(t, o, "completed")
	require.Equal(t, "installer_ready", string(waitDone(t, id).Status))
	// Only the test drives the periods: the run the stack started goes.
	require.NoError(t, st.Client.TerminateWorkflow(ctx, workflows.SubscriptionWorkflowID(id), "", "the test drives the periods"))

	loc := warsaw(t)
	midnight := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc) }
	acts := renewalActivities(t, loc)
	ord, err := st.Store.GetOrder(ctx, id)
	require.NoError(t, err)
	sv, err := st.Store.GetService(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 1, sv.Period)
	customer, sub := atTenant(t, id)
	require.Equal(t, tenant.StatusActive, sub.Status)

	in := workflows.SubscriptionInput{OrderID: id, Period: sv.Period, PeriodEnd: midnight(sv.PeriodEnd), Timing: workflows.DefaultTiming}
	tm := in.Timing
	now, stage := midnight(sv.PeriodStart).Add(10*time.Hour), store.ServiceActive
	firstStart := sv.PeriodEnd

	var runs []periodRun
	for range 14 {
		r := periodRun{Period: in.Period, ChargeID: fmt.Sprintf("%s:renewal:%d", id, in.Period+1)}
		var s testsuite.WorkflowTestSuite
		s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
		env := s.NewTestWorkflowEnvironment()
		env.SetStartTime(now)
		env.SetTestTimeout(time.Minute) // wall clock without progress: the activities are real
		env.RegisterWorkflowWithOptions(workflows.SubscriptionWorkflow, workflow.RegisterOptions{Name: workflows.SubscriptionWorkflowName})
		env.RegisterActivity(acts)
		// Started as the stack starts it; a continued run keeps the
		// attributes the previous one left.
		require.NoError(t, env.SetTypedSearchAttributesOnStart(workflows.AfterAttributes(id, ord.Plan, ord.Domain, sv.Seats, stage)))
		env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
			r.Upserts++
			if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(workflows.StageKey); ok {
				stage = v
			}
		}).Return(nil).Maybe()
		env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { r.Activities++ })
		env.SetOnLocalActivityStartedListener(func(*activity.Info, context.Context, []any) { r.Local++ })
		env.SetOnTimerScheduledListener(func(string, time.Duration) { r.Timers++ })

		// pay records the payment as the intake does and signals it.
		pay := func() {
			c, err := st.Store.GetCharge(ctx, r.ChargeID)
			if !assert.NoError(t, err, "the renewal pro-forma is out") || !assert.NotNil(t, c.Invoice) {
				return
			}
			assert.Equal(t, "awaiting_payment", c.Status)
			p := store.Payment{PaymentID: "pay-" + r.ChargeID, OrderID: id, ChargeID: r.ChargeID, Status: "completed", Amount: c.Invoice.Gross, Currency: "PLN"}
			rec, err := st.Store.RecordPayment(ctx, p)
			if !assert.NoError(t, err) {
				return
			}
			assert.True(t, rec.First)
			assert.False(t, rec.Refund, "a renewal still awaited is not owed back, even late")
			r.Signals++
			env.SignalWorkflow(workflows.SignalPayment, workflows.Payment{PaymentID: p.PaymentID, Status: p.Status,
				Amount: p.Amount, Currency: p.Currency, ChargeID: r.ChargeID})
		}
		suspensions, reactivations := st.Fake.Suspensions(), st.Fake.Reactivations()
		suspendedSeen := false
		if in.Period != missedPeriod {
			env.RegisterDelayedCallback(pay, in.PeriodEnd.Add(-tm.Notice+24*time.Hour).Sub(now))
		} else {
			// Past the grace period: suspended at the tenant, data kept.
			env.RegisterDelayedCallback(func() {
				got, ok := st.Fake.Subscription(customer, sub.ID)
				assert.True(t, ok)
				assert.Equal(t, tenant.StatusSuspended, got.Status, "suspended at the tenant after the grace period")
				assert.Equal(t, suspensions+1, st.Fake.Suspensions())
				cur, err := st.Store.GetService(ctx, id)
				assert.NoError(t, err)
				assert.Equal(t, store.ServiceSuspended, cur.Status)
				assert.Equal(t, in.Period, cur.Period, "the unpaid period is not entered")
				suspendedSeen = true
			}, in.PeriodEnd.Add(tm.Grace+24*time.Hour).Sub(now))
			env.RegisterDelayedCallback(pay, in.PeriodEnd.Add(tm.Grace+3*24*time.Hour).Sub(now))
		}

		env.ExecuteWorkflow(workflows.SubscriptionWorkflowName, in)
		require.True(t, env.IsWorkflowCompleted())
		var can *workflow.ContinueAsNewError
		require.True(t, errors.As(env.GetWorkflowError(), &can), "period %d continued as new, not %v", in.Period, env.GetWorkflowError())
		var next workflows.SubscriptionInput
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))

		c, err := st.Store.GetCharge(ctx, r.ChargeID)
		require.NoError(t, err)
		require.Equal(t, "paid", c.Status)
		require.NotNil(t, c.Invoice)
		fv, err := st.Store.ChargeDocument(ctx, r.ChargeID, "invoice")
		require.NoError(t, err, "period %d: VAT invoice of the renewal", in.Period)
		r.PF, r.FV = c.Invoice.Number, fv.Number
		r.Paid = c.PeriodStart.Format(time.DateOnly) + ".." + lastDayOf(c.PeriodEnd)
		require.Equal(t, in.Period+1, next.Period)
		require.True(t, midnight(c.PeriodEnd).Equal(next.PeriodEnd), "next run ends with the period paid for: %v, %v", c.PeriodEnd, next.PeriodEnd)
		require.Equal(t, in.Timing, next.Timing)
		require.Nil(t, next.Cancel)
		require.Equal(t, store.ServiceActive, stage)
		sv, err = st.Store.GetService(ctx, id)
		require.NoError(t, err)
		require.Equal(t, store.ServiceActive, sv.Status)
		require.Equal(t, in.Period+1, sv.Period)
		got, _ := st.Fake.Subscription(customer, sub.ID)
		require.Equal(t, tenant.StatusActive, got.Status)
		if in.Period == missedPeriod {
			require.True(t, suspendedSeen, "the suspension was checked")
			require.Equal(t, suspensions+1, st.Fake.Suspensions())
			require.Equal(t, reactivations+1, st.Fake.Reactivations(), "the late payment reactivated it at the tenant")
		} else {
			require.Equal(t, suspensions, st.Fake.Suspensions())
			require.Equal(t, reactivations, st.Fake.Reactivations())
		}
		runs = append(runs, r)
		in, now = next, env.Now()
	}

	t.Logf("%-6s %-48s %-22s %-15s %-15s %s", "period", "charge", "pays for", "PF", "FV", "events ≤")
	for _, r := range runs {
		t.Logf("%-6d %-48s %-22s %-15s %-15s %d", r.Period, r.ChargeID, r.Paid, r.PF, r.FV, r.bound())
	}
	// Bounded history: a paid period's run is the same size however many
	// came before it, and none comes near a size worth continuing for.
	var paid []periodRun
	for _, r := range runs[1:] {
		if r.Period != missedPeriod {
			paid = append(paid, r)
		}
	}
	for _, r := range paid {
		require.Equal(t, paid[0].key(), r.key(), "run of period %d scheduled as much as the run of period %d", r.Period, paid[0].Period)
	}
	// The missed period also waits out its grace, suspends, reminds and
	// reactivates; each run keeps its cancellation window's timer.
	for _, r := range runs {
		require.Less(t, r.bound(), 120, "history of period %d", r.Period)
	}

	// Periods are contiguous months, and the service is in the 15th.
	prevEnd := firstStart
	for i, r := range runs {
		c, err := st.Store.GetCharge(ctx, r.ChargeID)
		require.NoError(t, err)
		require.Equal(t, i+2, c.Period)
		require.Equal(t, sv.Seats, c.Seats)
		require.True(t, prevEnd.Equal(c.PeriodStart), "period %d starts %v, where %d ended %v", c.Period, c.PeriodStart, c.Period-1, prevEnd)
		// A month as PostgreSQL counts it for the first period: the 31st
		// plus one is the last day of a shorter month.
		var monthOn time.Time
		require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT ($1::date + interval '1 month')::date`, c.PeriodStart).Scan(&monthOn))
		require.True(t, monthOn.Equal(c.PeriodEnd), "period %d is one month: %v..%v", c.Period, c.PeriodStart, c.PeriodEnd)
		prevEnd = c.PeriodEnd
	}
	require.Equal(t, store.ServiceActive, sv.Status)
	require.Equal(t, 15, sv.Period)
	require.True(t, prevEnd.Equal(sv.PeriodEnd))

	checkRenewalDocuments(t, id, runs)

	// One email of each kind per period, reminders only when it went unpaid.
	to := emailOf(o)
	for kind, n := range map[string]int{
		activities.EmailRenewalInvoice: 14, activities.EmailRenewalPaid: 13,
		activities.ReminderEmail(1): 1, activities.ReminderEmail(2): 1,
		activities.EmailSubscriptionSuspended: 1, activities.EmailSubscriptionReactivated: 1,
	} {
		require.Equal(t, n, noticesTo(to, kind), "%s emails", kind)
	}
}

// checkRenewalDocuments: a pro-forma and a VAT invoice per renewal, numbered
// in the order they were issued, from counters that never repeat a number.
func checkRenewalDocuments(t *testing.T, orderID string, runs []periodRun) {
	t.Helper()
	ctx := context.Background()
	docs, err := st.Store.Documents(ctx, orderID)
	require.NoError(t, err)
	byCharge := map[string]map[string]store.Invoice{}
	seqOf := map[string][]int{} // this order's numbers per series, in issue order
	for _, d := range docs {
		series, _, n := splitNumber(t, d.Number)
		seqOf[series] = append(seqOf[series], n)
		if d.ChargeID == "" {
			continue
		}
		if byCharge[d.ChargeID] == nil {
			byCharge[d.ChargeID] = map[string]store.Invoice{}
		}
		_, dup := byCharge[d.ChargeID][d.Kind]
		require.False(t, dup, "%s has one %s", d.ChargeID, d.Kind)
		byCharge[d.ChargeID][d.Kind] = d
	}
	require.Len(t, byCharge, 14)
	require.Empty(t, seqOf[store.SeriesCorrection], "nothing was corrected")
	var pf, fv []int
	for _, r := range runs {
		k := byCharge[r.ChargeID]
		require.Len(t, k, 2, "%s: a pro-forma and a VAT invoice", r.ChargeID)
		require.Equal(t, r.PF, k["proforma"].Number)
		require.Equal(t, r.FV, k["invoice"].Number)
		require.Equal(t, "paid", k["proforma"].Status)
		require.Equal(t, "paid", k["invoice"].Status)
		require.Equal(t, k["proforma"].Gross, k["invoice"].Gross)
		_, _, p := splitNumber(t, r.PF)
		_, _, f := splitNumber(t, r.FV)
		pf, fv = append(pf, p), append(fv, f)
	}
	requireIncreasing(t, "PF of the renewals in period order", pf)
	requireIncreasing(t, "FV of the renewals in period order", fv)
	for series, seq := range seqOf {
		requireIncreasing(t, series+" of the order in issue order", seq)
	}
	require.Len(t, seqOf[store.SeriesInvoice], 15, "the order's own VAT invoice and 14 renewals")

	// Across the database, in one snapshot: each counter issued every
	// number up to its last once.
	rows, err := st.Store.Pool.Query(ctx, `SELECT c.series, c.year, c.last, count(i.id), count(DISTINCT i.number),
			coalesce(max(split_part(i.number, '/', 3)::int), 0), coalesce(min(split_part(i.number, '/', 3)::int), 0)
		FROM document_counters c LEFT JOIN invoices i ON i.number LIKE c.series || '/' || c.year || '/%'
		GROUP BY c.series, c.year, c.last`)
	require.NoError(t, err)
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var series string
		var year, last, count, distinct, hi, lo int
		require.NoError(t, rows.Scan(&series, &year, &last, &count, &distinct, &hi, &lo))
		require.Equal(t, count, distinct, "%s/%d: a number issued twice", series, year)
		require.Equal(t, last, count, "%s/%d: counter at %d, %d documents", series, year, last, count)
		require.Equal(t, last, hi, "%s/%d: highest number", series, year)
		require.Equal(t, 1, lo, "%s/%d: lowest number", series, year)
		seen++
	}
	require.NoError(t, rows.Err())
	require.GreaterOrEqual(t, seen, 2, "the PF and FV counters")
}

func lastDayOf(end time.Time) string { return end.AddDate(0, 0, -1).Format(time.DateOnly) }

// splitNumber reads "FV/2026/000123".
func splitNumber(t *testing.T, number string) (series, year string, n int) {
	t.Helper()
	parts := strings.Split(number, "/")
	require.Len(t, parts, 3, number)
	n, err := strconv.Atoi(parts[2])
	require.NoError(t, err, number)
	return parts[0], parts[1], n
}

func requireIncreasing(t *testing.T, what string, seq []int) {
	t.Helper()
	for i := 1; i < len(seq); i++ {
		require.Less(t, seq[i-1], seq[i], "%s: %v", what, seq)
	}
}

// renewalActivities are the worker's activities with the stack's parts.
func renewalActivities(t *testing.T, loc *time.Location) *activities.Activities {
	t.Helper()
	sender, err := mail.NewSender(mail.Config{Host: st.Sink.Host(), Port: st.Sink.Port(), TLS: "none", From: cfg.SMTP.From}, zap.NewNop())
	require.NoError(t, err)
	box, err := sealbox.NewBox(cfg.CredentialsKey)
	require.NoError(t, err)
	return &activities.Activities{
		Store: st.Store, Tenant: tenant.NewClient(st.FakeURL, cfg.PartnerAPIToken, nil), Mail: sender, Box: box,
		BillingPanelURL: cfg.BillingPanelURL, Location: loc,
	}
}
