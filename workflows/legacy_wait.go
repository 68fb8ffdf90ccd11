package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// legacyUntil is the charges' wait as runs that began it before
// changePaymentWait recorded it: a new timer each round. Remove once no such
// run is open.
func (w *chargeWait) legacyUntil(ctx workflow.Context, deadline time.Time) (*Payment, string) {
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
			w.remind(ctx, w.sent)
		}
	}
}
