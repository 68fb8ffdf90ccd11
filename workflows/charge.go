package workflows

import (
	"errors"
	"strconv"
	"time"

	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// chargeWait waits for the payment of one charge (more licences, a renewal)
// with the order saga's rules: a failed payment ends the wait, one that does
// not match the pro-forma is logged and not taken, reminders go out on the
// way, and one timer runs at a time.
type chargeWait struct {
	orderID   string
	chargeID  string
	invoice   activities.Invoice
	reminders []time.Time // sent in order; the first n are done
	sent      int
	// wake ends a wait early when stop says so (an update arrived).
	wake workflow.ReceiveChannel
	stop func() bool
	// keepFailed waits on after a failed payment: a renewal may be paid at
	// a second try, where a new order ends.
	keepFailed bool
}

// until waits for a completed payment of the charge until the deadline with
// the one paymentWait; nil and the reason otherwise. A run that began its
// wait before there was one replays the loop it was recorded with.
func (w *chargeWait) until(ctx workflow.Context, deadline time.Time) (*Payment, string) {
	if workflow.GetVersion(ctx, changePaymentWait, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return w.legacyUntil(ctx, deadline)
	}
	pw := paymentWait{chargeID: w.chargeID, invoice: w.invoice, deadline: deadline, reminders: w.reminders, sent: w.sent,
		wake: w.wake, stop: w.stop, keepFailed: func() bool { return w.keepFailed }, cancellable: true,
		remind: func(ctx workflow.Context, n int) { w.remind(ctx, n) }}
	p, why := pw.wait(ctx)
	w.sent = pw.sent
	if why != "" {
		return nil, why // a failed payment is not one to take
	}
	return p, why
}

// remind sends the charge's n-th payment reminder; one that cannot go out
// does not change the charge.
func (w *chargeWait) remind(ctx workflow.Context, n int) {
	r := activities.Notice{OrderID: w.orderID, Kind: activities.EmailPaymentReminder,
		Key: activities.ReminderEmail(n) + ":" + w.chargeID, ChargeID: w.chargeID}
	if err := notify(caught(ctx), r); err != nil {
		workflow.GetLogger(ctx).Warn("payment reminder not sent", "ChargeID", w.chargeID, "Error", err)
	}
}

// changePaymentWait marks charges whose waits run on paymentWait, which
// keeps one timer through signals and updates; earlier runs made a new one
// each round (legacyUntil).
const changePaymentWait = "one-payment-wait"

// notify sends one email of a post-purchase workflow, once per key. A
// refusal by the mail server is logged, not fatal, as in the order saga.
func notify(ctx workflow.Context, n activities.Notice) error {
	err := workflow.ExecuteActivity(withMail(ctx, "Email "+n.Kind), a.SendNotice, n).Get(ctx, nil)
	if isRejected(err) {
		workflow.GetLogger(ctx).Warn("email rejected", "Kind", n.Kind, "Error", err)
		return nil
	}
	return err
}

// drainSignals reads payment notifications still buffered when a run ends:
// repeats of a payment already taken. The intake keeps their record.
func drainSignals(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalPayment)
	var p Payment
	for ch.ReceiveAsync(&p) {
		workflow.GetLogger(ctx).Info("payment notification after the wait", "PaymentID", p.PaymentID, "ChargeID", p.ChargeID)
	}
}

// stage moves a post-purchase workflow's Stage attribute.
func stage(ctx workflow.Context, cur *string, st string) {
	if *cur == st {
		return
	}
	*cur = st
	if err := workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(st)); err != nil {
		workflow.GetLogger(ctx).Error("search attribute not updated", "Error", err)
	}
}

// days says a span in whole days, as a customer reads it in an email's
// reason ("30 days", not "720h0m0s"); other spans (tests) keep Go's form.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return strconv.Itoa(int(d/day)) + " days"
	}
	return d.String()
}

// isRejected tells an email that will not go out: the mail server refused
// the address for good, or an operator gave it up (and told the customer
// another way). Neither stops the workflow.
func isRejected(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && (appErr.Type() == ErrEmailRejected || appErr.Type() == ErrResolved)
}
