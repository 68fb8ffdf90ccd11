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

// Why a wait ended without a payment.
const (
	waitDeadline = "deadline"
	waitFailed   = "payment_failed"
	waitStopped  = "stopped"
	// The workflow itself was cancelled (an operator in the Web UI).
	waitCancelled = "cancelled"
)

// until waits for a completed payment of the charge until the deadline;
// nil and the reason otherwise.
func (w *chargeWait) until(ctx workflow.Context, deadline time.Time) (*Payment, string) {
	payments := workflow.GetSignalChannel(ctx, SignalPayment)
	for {
		if w.stop != nil && w.stop() {
			return nil, waitStopped
		}
		next, isReminder := deadline, false
		for w.sent < len(w.reminders) && !w.reminders[w.sent].After(workflow.Now(ctx)) {
			w.sent++ // already due when the wait began: not sent late
		}
		if w.sent < len(w.reminders) && w.reminders[w.sent].Before(deadline) {
			next, isReminder = w.reminders[w.sent], true
		}
		if !next.After(workflow.Now(ctx)) {
			return nil, waitDeadline
		}
		timerCtx, stopTimer := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(timerCtx, next.Sub(workflow.Now(ctx)))
		var got *Payment
		fired := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(payments, func(c workflow.ReceiveChannel, _ bool) {
			var p Payment
			c.Receive(ctx, &p)
			got = &p
		})
		sel.AddFuture(timer, func(f workflow.Future) { fired = f.Get(ctx, nil) == nil })
		if w.wake != nil {
			sel.AddReceive(w.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		}
		sel.Select(ctx)
		if !fired {
			stopTimer()
		}
		if ctx.Err() != nil {
			// Every timer of a cancelled workflow is ready at once: without
			// this the loop would spin and never yield.
			return nil, waitCancelled
		}
		switch {
		case got != nil && got.ChargeID != w.chargeID:
			workflow.GetLogger(ctx).Warn("payment for another charge ignored", "PaymentID", got.PaymentID, "ChargeID", got.ChargeID)
		case got != nil && got.Status == "failed" && w.keepFailed:
			workflow.GetLogger(ctx).Info("payment failed, still waiting", "PaymentID", got.PaymentID)
		case got != nil && got.Status == "failed":
			return nil, waitFailed
		case got != nil && (got.Amount != w.invoice.Gross || got.Currency != w.invoice.Currency):
			workflow.GetLogger(ctx).Warn("payment does not match the pro-forma", "PaymentID", got.PaymentID)
		case got != nil:
			return got, ""
		case fired && isReminder:
			w.sent++
			n := activities.Notice{OrderID: w.orderID, Kind: activities.EmailPaymentReminder,
				Key: activities.ReminderEmail(w.sent) + ":" + w.chargeID, ChargeID: w.chargeID}
			// A reminder that cannot go out does not change the charge.
			if err := notify(caught(ctx), n); err != nil {
				workflow.GetLogger(ctx).Warn("payment reminder not sent", "ChargeID", w.chargeID, "Error", err)
			}
		}
	}
}

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
