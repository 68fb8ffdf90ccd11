package workflows

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

// pln is an amount as the tests write it.
func pln(s string) money.Grosze {
	var g money.Grosze
	if err := g.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return g
}

var (
	start    = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	deadline = start.Add(168 * time.Hour)
	invoice  = activities.Invoice{Number: "PF/2026/000001", Net: pln("270.00"), VAT: pln("62.10"), Gross: pln("332.10"), Currency: "PLN", DueDate: "2026-12-02"}
	input    = OrderInput{OrderID: "shop-1", Plan: "business-standard", Seats: 5, DomainPrefix: "acme", PaymentDeadline: deadline}
	// placement is the place update the intake starts input's run with.
	placement = order.Placement{
		Request: order.Request{OrderID: "shop-1", Plan: "business-standard", Seats: 5, DomainPrefix: "acme", BillingCycle: "monthly", Language: "pl",
			Customer: order.Customer{Company: "Acme sp. z o.o.", Email: "it@acme.pl"}},
		Shop: "shop-a", Hash: []byte("hash-1"), PlacedAt: start, Deadline: deadline,
	}
	recorded = activities.Recorded{Outcome: order.OutcomePlaced, Created: true, Status: order.Placed, PlacedAt: start, Deadline: deadline}
)

// harness runs OrderWorkflow with every activity mocked to succeed and
// records the activities in the order they ran, with their step argument.
type harness struct {
	env     *testsuite.TestWorkflowEnvironment
	calls   []string
	updates int
	// placed is the answer to the place update the run started with.
	placed   *PlaceAnswer
	placeErr error
	// onCall, if set, sees each activity recorded, with its step.
	onCall func(name, step string)
}

// newHarness takes overrides first: testify uses the first matching
// expectation, so they win over the defaults below.
func newHarness(t *testing.T, overrides ...func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities)) *harness {
	h := newUnplacedHarness(t, overrides...)
	// Every run starts as the intake starts it: with the place update.
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdatePlace, "place-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { h.placeErr = err }, OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if a, ok := v.(PlaceAnswer); ok {
					h.placed = &a
				}
				h.placeErr = err
			},
		}, placement)
	}, 0)
	return h
}

// newUnplacedHarness is newHarness whose run gets no place update.
func newUnplacedHarness(t *testing.T, overrides ...func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities)) *harness {
	var s testsuite.WorkflowTestSuite
	h := &harness{env: s.NewTestWorkflowEnvironment()}
	h.env.SetStartTime(start)
	h.env.SetWorkerOptions(worker.Options{Interceptors: Interceptors()})
	h.env.RegisterWorkflow(OrderWorkflow)
	h.env.RegisterActivity(&activities.Activities{})
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		var id, step string
		_ = args.Get(&id, &step)
		h.record(info.ActivityType.Name, step)
	})
	h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, args []any) {
		step := ""
		if len(args) > 1 {
			step = fmt.Sprint(args[1])
			if e, ok := args[1].(activities.Event); ok {
				step = e.Key
			}
		}
		h.record(info.ActivityType.Name, step)
	})
	var a *activities.Activities
	for _, o := range overrides {
		o(h.env, a)
	}
	h.env.OnActivity(a.RecordOrder, mock.Anything, mock.Anything).Return(recorded, nil).Maybe()
	h.env.OnActivity(a.FindPlacement, mock.Anything, "shop-1").Return(activities.Recorded{}, nil).Maybe()
	h.env.OnActivity(a.OpenBilling, mock.Anything, "shop-1").Return(invoice, nil).Maybe()
	h.env.OnActivity(a.SendEmail, mock.Anything, "shop-1", mock.Anything).Return(nil).Maybe()
	h.env.OnActivity(a.Transition, mock.Anything, "shop-1", mock.Anything, mock.Anything).Return(nil).Maybe()
	h.env.OnActivity(a.MarkPaid, mock.Anything, "shop-1", mock.Anything).Return(nil).Maybe()
	h.env.OnActivity(a.CheckDomain, mock.Anything, "shop-1").Return(nil).Maybe()
	h.env.OnActivity(a.CreateTenant, mock.Anything, "shop-1").Return(activities.Tenant{TenantID: "t-1", Domain: "acme.onmicrosoft.com", AdminUser: "admin@acme.onmicrosoft.com"}, nil).Maybe()
	h.env.OnActivity(a.BuyPlan, mock.Anything, "shop-1").Return(nil).Maybe()
	h.env.OnActivity(a.FinishInstaller, mock.Anything, "shop-1").Return(order.DesktopInstaller, nil).Maybe()
	h.env.OnActivity(a.Record, mock.Anything, "shop-1", mock.Anything).Return(nil).Maybe()
	h.env.OnActivity(a.RecordManualPayment, mock.Anything, "shop-1", mock.Anything, mock.Anything, mock.Anything).Return("manual:shop-1:BANK-1", nil).Maybe()
	h.env.OnActivity(a.VoidInvoice, mock.Anything, "shop-1", mock.Anything).Return("KOR/2026/000001", nil).Maybe()
	h.env.OnActivity(a.RevokeBilling, mock.Anything, "shop-1").Return(nil).Maybe()
	h.env.OnActivity(a.ReleaseReservation, mock.Anything, "shop-1").Return(nil).Maybe()
	h.env.OnActivity(a.RefundPayment, mock.Anything, "shop-1", mock.Anything).Return(nil).Maybe()
	h.env.OnActivity(a.SuspendSubscriptions, mock.Anything, "shop-1").Return(1, nil).Maybe()
	return h
}

// record notes an activity; the steps of the generic ones are part of the name.
func (h *harness) record(name, step string) {
	if h.onCall != nil {
		h.onCall(name, step)
	}
	if name == "RecordOrder" || name == "FindPlacement" {
		return // every run's first step; the place tests look at it
	}
	if step != "" && (name == "SendEmail" || name == "Transition" || name == "Record") {
		name += ":" + step
	}
	h.calls = append(h.calls, name)
}

func (h *harness) payAfter(d time.Duration, p Payment) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalPayment, p) }, d)
}

func (h *harness) run(t *testing.T) Result {
	return h.runWith(t, input)
}

func (h *harness) runWith(t *testing.T, in OrderInput) Result {
	h.env.ExecuteWorkflow(OrderWorkflow, in)
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError(), "activities run: %v", h.calls)
	var r Result
	require.NoError(t, h.env.GetWorkflowResult(&r))
	return r
}

func (h *harness) statuses(t *testing.T) []order.Status {
	v, err := h.env.QueryWorkflow(QueryTimeline)
	require.NoError(t, err)
	var tl []TimelineEntry
	require.NoError(t, v.Get(&tl))
	var out []order.Status
	for _, e := range tl {
		out = append(out, e.Status)
	}
	return out
}

var paid = Payment{PaymentID: "p-1", Status: "completed", Amount: pln("332.10"), Currency: "PLN"}

func TestHappyPathRunsEveryStageInOrder(t *testing.T) {
	h := newHarness(t)
	h.payAfter(2*time.Hour, paid)
	r := h.run(t)
	require.Equal(t, order.InstallerReady, r.Status)
	require.Equal(t, []string{
		"OpenBilling", "SendEmail:billing_access", "Transition:awaiting_payment",
		"MarkPaid",
		"CreateTenant", "BuyPlan",
		"Transition:emailing_credentials", "SendEmail:credentials", "SendEmail:installer_ready", "FinishInstaller",
	}, h.sequential())
	// The confirmation runs beside provisioning: once, after the payment is
	// recorded, and awaited before the credentials go out.
	require.Equal(t, 1, count(h.calls, "SendEmail:payment_received"), h.calls)
	require.Less(t, index(h.calls, "MarkPaid"), index(h.calls, "SendEmail:payment_received"), h.calls)
	require.Less(t, index(h.calls, "SendEmail:payment_received"), index(h.calls, "Transition:emailing_credentials"), h.calls)
	require.Equal(t, []order.Status{order.Placed, order.BillingAccess, order.AwaitingPayment, order.ProvisioningTenant,
		order.EmailingCredentials, order.InstallerReady}, h.statuses(t))

	v, err := h.env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var sv StatusView
	require.NoError(t, v.Get(&sv))
	require.Equal(t, "t-1", sv.TenantID)
	require.Equal(t, "PF/2026/000001", sv.Invoice.Number)
	require.Empty(t, sv.WaitingFor)
}

// A stage left within the workflow task that entered it gets no search
// attribute of its own: an operator filters by the stages an order waits in.
func TestStatusAttributeOnlyWhereTheOrderWaits(t *testing.T) {
	var shown []string
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, _ *activities.Activities) {
		env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
			if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(OrderStatusKey); ok {
				shown = append(shown, v)
			}
		}).Return(nil).Maybe()
	})
	h.payAfter(2*time.Hour, paid)
	require.Equal(t, order.InstallerReady, h.run(t).Status)
	// placed: the test environment starts the run without the intake's attributes.
	require.Equal(t, []string{"placed", "awaiting_payment", "provisioning_tenant", "installer_ready"}, shown)
	require.Equal(t, []order.Status{order.Placed, order.BillingAccess, order.AwaitingPayment, order.ProvisioningTenant,
		order.EmailingCredentials, order.InstallerReady}, h.statuses(t), "the timeline has every stage")
}

func TestStatusQueryShowsWhatTheOrderWaitsFor(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryStatus)
		require.NoError(t, err)
		var sv StatusView
		require.NoError(t, v.Get(&sv))
		require.Equal(t, order.AwaitingPayment, sv.Status)
		require.Equal(t, "payment", sv.WaitingFor)
		require.True(t, deadline.Equal(*sv.Until))
		h.env.SignalWorkflow(SignalPayment, paid)
	}, time.Hour)
	require.Equal(t, order.InstallerReady, h.run(t).Status)
	require.Contains(t, h.calls, "SendEmail:credentials", "the saga went on after the rejected email")
}

func TestPaymentDeadlineCancelsTheOrder(t *testing.T) {
	h := newHarness(t)
	r := h.run(t)
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, "payment deadline passed", r.Reason)
	require.Equal(t, []string{"OpenBilling", "SendEmail:billing_access", "Transition:awaiting_payment",
		"Record:compensating", "VoidInvoice", "RevokeBilling", "ReleaseReservation", "SendEmail:cancelled", "Record:cancelled"}, h.calls)
	require.Equal(t, deadline, h.env.Now().UTC(), "the saga gave up exactly at the deadline")
	require.Equal(t, []order.Status{order.Placed, order.BillingAccess, order.AwaitingPayment, order.Compensating, order.Cancelled}, h.statuses(t))
}

func TestFailedPaymentCancelsTheOrder(t *testing.T) {
	h := newHarness(t)
	h.payAfter(time.Hour, Payment{PaymentID: "p-1", Status: "failed", Amount: pln("332.10"), Currency: "PLN"})
	r := h.run(t)
	require.Equal(t, order.Cancelled, r.Status)
	require.Contains(t, r.Reason, "p-1 failed")
	require.NotContains(t, h.calls, "MarkPaid")
}

func TestMismatchedPaymentIsIgnoredAndACorrectOneCompletes(t *testing.T) {
	h := newHarness(t)
	h.payAfter(time.Hour, Payment{PaymentID: "p-0", Status: "completed", Amount: pln("1.00"), Currency: "PLN"})
	h.payAfter(2*time.Hour, paid)
	require.Equal(t, order.InstallerReady, h.run(t).Status)
	h.env.AssertActivityCalled(t, "MarkPaid", mock.Anything, "shop-1", "p-1")
	h.env.AssertActivityNotCalled(t, "MarkPaid", mock.Anything, "shop-1", "p-0")
}

func TestCancelUpdateWhileAwaitingPayment(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateCancel, "u-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("cancel rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, CancelRequest{Reason: "customer changed mind", Actor: "shop"})
	}, time.Hour)
	r := h.run(t)
	require.Equal(t, order.Cancelled, r.Status)
	require.Contains(t, r.Reason, "customer changed mind")
	require.Less(t, h.env.Now().Sub(start), 2*time.Hour, "cancel acts at once, not at the deadline")
}

func TestCancelAfterPaymentIsRejected(t *testing.T) {
	// Recording the payment takes an hour, so the cancel lands between the
	// payment and provisioning, the narrowest window there is.
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.MarkPaid, mock.Anything, "shop-1", "p-1").After(time.Hour).Return(nil)
	})
	h.payAfter(time.Hour, paid)
	var rejected error
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateCancel, "u-2", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { rejected = err },
			OnAccept:   func() { t.Error("cancel accepted after payment") },
			OnComplete: func(any, error) {},
		}, CancelRequest{Reason: "too late", Actor: "shop"})
	}, 90*time.Minute)
	require.Equal(t, order.InstallerReady, h.run(t).Status)
	require.ErrorContains(t, rejected, "can no longer be cancelled")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, rejected, &appErr)
	require.Equal(t, ErrNotCancellable, appErr.Type(), "the intake answers 409 by this type")
}

func TestTakenDomainRefundsWithAClearReason(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CreateTenant, mock.Anything, "shop-1").Return(activities.Tenant{},
			temporal.NewNonRetryableApplicationError("domain acme.onmicrosoft.com is already taken", ErrDomainTaken, nil))
	})
	h.payAfter(time.Hour, paid)
	r := h.run(t)
	require.Equal(t, order.Refunded, r.Status)
	require.Equal(t, "domain acme.onmicrosoft.com is already taken", r.Reason)
	h.env.AssertActivityNotCalled(t, "BuyPlan", mock.Anything, mock.Anything)
	h.env.AssertActivityCalled(t, "SendEmail", mock.Anything, "shop-1", activities.EmailRefunded)
}

func TestRejectedEmailDoesNotStopTheOrder(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.SendEmail, mock.Anything, "shop-1", activities.EmailPaymentReceived).Return(
			temporal.NewNonRetryableApplicationError("550 mailbox unavailable", ErrEmailRejected, nil))
	})
	h.payAfter(time.Hour, paid)
	require.Equal(t, order.InstallerReady, h.run(t).Status)
}
