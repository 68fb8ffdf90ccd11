package workflows

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// What every path runs before it waits for payment.
var billed = []string{"OpenBilling", "SendEmail:billing_access", "Transition:awaiting_payment"}

// undoUnpaid is the compensation of an order that was never paid, in the
// order it must run: the reverse of what billing made.
var undoUnpaid = []string{"Record:compensating", "VoidInvoice", "RevokeBilling", "ReleaseReservation", "SendEmail:cancelled", "Record:cancelled"}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestFailedPaymentUndoesBillingInReverse(t *testing.T) {
	h := newHarness(t)
	h.payAfter(time.Hour, Payment{PaymentID: "p-1", Status: "failed", Amount: pln("332.10"), Currency: "PLN"})
	r := h.run(t)
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, "payment p-1 failed", r.Reason)
	require.Equal(t, join(billed, undoUnpaid), h.calls)
	h.env.AssertActivityCalled(t, "VoidInvoice", mock.Anything, "shop-1", "payment p-1 failed")
}

func TestCancelUpdateUndoesBillingInReverse(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() { h.update(t, UpdateCancel, CancelRequest{Reason: "changed mind", Actor: "shop"}) }, time.Hour)
	require.Equal(t, order.Cancelled, h.run(t).Status)
	require.Equal(t, join(billed, undoUnpaid), h.calls)
}

func TestWorkflowCancellationStillCompensates(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, time.Hour)
	r := h.run(t)
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, "cancellation of the workflow requested", r.Reason)
	require.Equal(t, join(billed, undoUnpaid), h.calls, "the cancelled context did not stop compensation")
}

// paidSteps omits the payment confirmation: it runs beside provisioning, so
// its place among the tenant steps is not fixed. sequential drops it too.
var paidSteps = []string{"MarkPaid"}

func (h *harness) sequential() []string {
	var out []string
	for _, c := range h.calls {
		if c != "SendEmail:payment_received" {
			out = append(out, c)
		}
	}
	return out
}

func TestTakenDomainRefundsAndUndoesInReverse(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CreateTenant, mock.Anything, "shop-1").Return(activities.Tenant{},
			temporal.NewNonRetryableApplicationError("domain acme.onmicrosoft.com is already taken", ErrDomainTaken, nil))
	})
	h.payAfter(time.Hour, paid)
	r := h.run(t)
	require.Equal(t, order.Refunded, r.Status)
	require.Equal(t, "domain acme.onmicrosoft.com is already taken", r.Reason)
	require.Equal(t, join(billed, paidSteps, []string{"CreateTenant",
		"Record:compensating", "RefundPayment", "VoidInvoice", "RevokeBilling", "ReleaseReservation", "SendEmail:refunded", "Record:refunded"}), h.sequential())
}

func TestRejectedSubscriptionIsSuspendedFirst(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.BuyPlan, mock.Anything, "shop-1").Return(
			temporal.NewNonRetryableApplicationError("409 Conflict: offer not available", ErrTenantAPI, nil))
	})
	h.payAfter(time.Hour, paid)
	r := h.run(t)
	require.Equal(t, order.Refunded, r.Status)
	require.Contains(t, r.Reason, "offer not available")
	require.Equal(t, join(billed, paidSteps, []string{"CreateTenant", "BuyPlan",
		"Record:compensating", "SuspendSubscriptions", "RefundPayment", "VoidInvoice", "RevokeBilling", "ReleaseReservation",
		"SendEmail:refunded", "Record:refunded"}), h.sequential())
}

// The admin's licence is a tenant step like the subscription: refused for
// good, the order is refunded and the subscription (whose licence it is)
// suspended first.
func TestRefusedAdminLicenceIsRefundedAndTheSubscriptionSuspended(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.BuyPlan, mock.Anything, "shop-1").Return(
			temporal.NewNonRetryableApplicationError("409 Conflict: InsufficientLicenses", ErrTenantAPI, nil))
	})
	h.payAfter(time.Hour, paid)
	r := h.run(t)
	require.Equal(t, order.Refunded, r.Status)
	require.Contains(t, r.Reason, "InsufficientLicenses")
	require.Equal(t, join(billed, paidSteps, []string{"CreateTenant", "BuyPlan",
		"Record:compensating", "SuspendSubscriptions", "RefundPayment", "VoidInvoice", "RevokeBilling", "ReleaseReservation",
		"SendEmail:refunded", "Record:refunded"}), h.sequential())
}

// The test environment caps unlimited retries at 10 attempts where the
// server stops at the activity's ScheduleToClose (2 h); either way the
// retries end and the paid order is refunded, not left hanging.
func TestTenantAPIThatNeverRecoversEndsRefunded(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CreateTenant, mock.Anything, "shop-1").Return(activities.Tenant{}, errors.New("503 Service Unavailable"))
	})
	h.payAfter(time.Hour, paid)
	r := h.run(t)
	require.Equal(t, order.Refunded, r.Status)
	require.Equal(t, "the Microsoft 365 tenant could not be created: 503 Service Unavailable", r.Reason)
	require.Equal(t, 10, count(h.calls, "CreateTenant"), "retried, with backoff")
	require.NotContains(t, h.calls, "SuspendSubscriptions", "no tenant, nothing to suspend")
}

func TestRemindersGoOutAtTheirTimesThenTheOrderIsCancelled(t *testing.T) {
	h := newHarness(t)
	var at []time.Duration
	h.onCall = func(_, step string) {
		if step == activities.ReminderEmail(1) || step == activities.ReminderEmail(2) {
			at = append(at, h.env.Now().Sub(start))
		}
	}
	in := input
	in.Reminders = []time.Time{start.Add(24 * time.Hour), deadline.Add(-24 * time.Hour)}
	r := h.runWith(t, in)
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, deadline, h.env.Now().UTC(), "reminders do not move the deadline")
	require.Equal(t, []time.Duration{24 * time.Hour, 144 * time.Hour}, at)
	require.Equal(t, join(billed, []string{"SendEmail:payment_reminder#1", "SendEmail:payment_reminder#2"}, undoUnpaid), h.calls)
}

func TestPaymentStopsFurtherReminders(t *testing.T) {
	h := newHarness(t)
	in := input
	in.Reminders = []time.Time{start.Add(24 * time.Hour), deadline.Add(-24 * time.Hour)}
	h.payAfter(30*time.Hour, paid)
	require.Equal(t, order.InstallerReady, h.runWith(t, in).Status)
	require.Contains(t, h.calls, "SendEmail:payment_reminder#1")
	require.NotContains(t, h.calls, "SendEmail:payment_reminder#2")
}

// A reminder whose email fails for good does not change the order.
func TestFailedReminderDoesNotStopTheOrder(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.SendEmail, mock.Anything, "shop-1", activities.ReminderEmail(1)).Return(
			temporal.NewNonRetryableApplicationError("no such order", ErrInvalidOrder, nil))
	})
	in := input
	in.Reminders = []time.Time{start.Add(24 * time.Hour)}
	h.payAfter(30*time.Hour, paid)
	require.Equal(t, order.InstallerReady, h.runWith(t, in).Status)
}

func TestFailedUndoWaitsForAnOperatorThenRetries(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.BuyPlan, mock.Anything, "shop-1").Return(
			temporal.NewNonRetryableApplicationError("409 Conflict", ErrTenantAPI, nil))
		env.OnActivity(a.SuspendSubscriptions, mock.Anything, "shop-1").Return(0,
			temporal.NewNonRetryableApplicationError("403 Forbidden", ErrTenantAPI, nil)).Once()
	})
	h.payAfter(time.Hour, paid)
	var early, noActor error
	h.env.RegisterDelayedCallback(func() {
		h.updateOr(UpdateRetryCompensation, Decision{Actor: "ops", Reason: "too early"}, func(err error) { early = err })
	}, 30*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		sv := h.status(t)
		require.Equal(t, order.NeedsAttention, sv.Status)
		require.Contains(t, sv.Reason, "suspend_subscriptions failed: 403 Forbidden")
		require.Equal(t, []string{UndoSuspendSubscriptions, UndoRefundPayment, UndoVoidInvoice, UndoRevokeBilling, UndoReleaseReservation}, sv.Undo)
		h.updateOr(UpdateRetryCompensation, Decision{Reason: "fixed"}, func(err error) { noActor = err })
		h.update(t, UpdateRetryCompensation, Decision{Actor: "ops@example.com", Reason: "partner API permissions fixed"})
	}, 10*time.Hour)
	r := h.run(t)
	require.ErrorContains(t, early, "only an order in needs_attention")
	require.ErrorContains(t, noActor, "actor is required")
	require.Equal(t, order.Refunded, r.Status)
	require.Equal(t, join(billed, paidSteps, []string{"CreateTenant", "BuyPlan",
		"Record:compensating", "SuspendSubscriptions", "Record:needs_attention#1", "Record:decision#1", "Record:compensating#2",
		"SuspendSubscriptions", "RefundPayment", "VoidInvoice", "RevokeBilling", "ReleaseReservation",
		"SendEmail:refunded", "Record:refunded"}), h.sequential())
	h.env.AssertActivityCalled(t, "Record", mock.Anything, "shop-1", activities.Event{
		Key: "decision#1", Status: order.NeedsAttention, Actor: "ops@example.com", Reason: "retry_compensation: partner API permissions fixed"})
	require.Equal(t, []order.Status{order.Placed, order.BillingAccess, order.AwaitingPayment, order.ProvisioningTenant,
		order.Compensating, order.NeedsAttention, order.NeedsAttention /* the decision, a note */, order.Compensating, order.Refunded}, h.statuses(t))
}

// resolve says the failed step was done by hand; the steps after it still
// run, so nothing owed to the customer is dropped.
func TestResolveSkipsOnlyTheFailedStep(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.RevokeBilling, mock.Anything, "shop-1").Return(
			temporal.NewNonRetryableApplicationError("order vanished", ErrInvalidOrder, nil))
	})
	var noReason error
	h.env.RegisterDelayedCallback(func() {
		h.updateOr(UpdateResolve, Decision{Actor: "ops@example.com"}, func(err error) { noReason = err })
		h.update(t, UpdateResolve, Decision{Actor: "ops@example.com", Reason: "access revoked by hand"})
	}, 200*time.Hour)
	r := h.run(t)
	require.ErrorContains(t, noReason, "reason is required")
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, join(billed, []string{"Record:compensating", "VoidInvoice", "RevokeBilling", "Record:needs_attention#1",
		"Record:decision#1", "Record:compensating#2", "ReleaseReservation", "SendEmail:cancelled", "Record:cancelled"}), h.calls)
}

// An undo step that keeps failing with a temporary error is retried for a
// bounded time; then an operator decides, rather than the order hanging.
func TestUndoRetriesRunOutIntoNeedsAttention(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.BuyPlan, mock.Anything, "shop-1").Return(
			temporal.NewNonRetryableApplicationError("409 Conflict", ErrTenantAPI, nil))
		env.OnActivity(a.SuspendSubscriptions, mock.Anything, "shop-1").Return(0, errors.New("503 Service Unavailable"))
	})
	h.payAfter(time.Hour, paid)
	var at time.Duration
	h.env.RegisterDelayedCallback(func() {
		at = h.env.Now().Sub(start)
		require.Equal(t, order.NeedsAttention, h.status(t).Status)
		h.update(t, UpdateResolve, Decision{Actor: "ops@example.com", Reason: "suspended in Partner Center by hand"})
	}, 5*time.Hour)
	r := h.run(t)
	require.Equal(t, order.Refunded, r.Status)
	require.Equal(t, 5*time.Hour, at)
	require.Equal(t, 1, count(h.calls, "RefundPayment"), "the refund is not dropped")
	require.Equal(t, 10, count(h.calls, "SuspendSubscriptions"), "retried, then done by hand")
}

func (h *harness) status(t *testing.T) StatusView {
	v, err := h.env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var sv StatusView
	require.NoError(t, v.Get(&sv))
	return sv
}

// update sends an update that must be accepted.
func (h *harness) update(t *testing.T, name string, arg any) {
	h.updateOr(name, arg, func(err error) { t.Errorf("%s rejected: %v", name, err) })
}

// updateOr sends an update; the test env reports a rejection later, to onReject.
func (h *harness) updateOr(name string, arg any, onReject func(error)) {
	h.updates++
	h.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, h.updates), &testsuite.TestUpdateCallback{
		OnReject:   onReject,
		OnAccept:   func() {},
		OnComplete: func(any, error) {},
	}, arg)
}

func count(calls []string, name string) int {
	n := 0
	for _, c := range calls {
		if c == name {
			n++
		}
	}
	return n
}

// index is the position of the first call named name, or -1.
func index(calls []string, name string) int {
	for i, c := range calls {
		if c == name {
			return i
		}
	}
	return -1
}
