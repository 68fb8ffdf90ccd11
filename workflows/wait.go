package workflows

import (
	"time"

	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/workflow"
)

// timer is one durable timer for a time that may move, in the shape of
// Temporal's updatabletimer sample: waits that are woken (a signal, an
// update) keep it, and it is made again only when its time moves.
type timer struct {
	f      workflow.Future
	cancel workflow.CancelFunc
}

// set starts the timer for at, replacing the one before.
func (t *timer) set(ctx workflow.Context, at time.Time) {
	t.stop()
	tctx, cancel := workflow.WithCancel(ctx)
	t.f, t.cancel = workflow.NewTimer(tctx, at.Sub(workflow.Now(ctx))), cancel
}

func (t *timer) stop() {
	if t.cancel != nil {
		t.cancel()
	}
}

// sleepUntil waits until at, or until stop says so after a wake. One timer
// serves the whole wait.
func sleepUntil(ctx workflow.Context, at time.Time, wake workflow.ReceiveChannel, stop func() bool) {
	if (stop != nil && stop()) || !at.After(workflow.Now(ctx)) {
		return
	}
	var t timer
	defer t.stop()
	t.set(ctx, at)
	for {
		fired := false
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(t.f, func(f workflow.Future) { fired = f.Get(ctx, nil) == nil })
		if wake != nil {
			sel.AddReceive(wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		}
		sel.Select(ctx)
		if fired || ctx.Err() != nil || (stop != nil && stop()) {
			return
		}
	}
}

// Why a payment wait ended without a payment.
const (
	waitDeadline = "deadline"
	waitFailed   = "payment_failed"
	waitStopped  = "stopped"
	// The workflow itself was cancelled (an operator in the Web UI).
	waitCancelled = "cancelled"
)

// paymentWait is the one wait for a payment, of an order's own pro-forma or
// of a charge's (more licences, a renewal): one durable timer at a time, for
// the next reminder or the deadline, whichever comes first; a payment signal
// or an update wakes the wait without remaking the timer. A failed payment
// ends it (unless keepFailed says to wait on), one that does not match the
// pro-forma is logged and not taken; reminders already due when the wait
// begins are not sent late.
type paymentWait struct {
	chargeID  string             // the charge paid for; "" for the order's own pro-forma
	invoice   activities.Invoice // what a payment must match
	deadline  time.Time
	reminders []time.Time // sent in order; the first sent are done
	sent      int
	// remind sends the n-th reminder (from 1).
	remind func(ctx workflow.Context, n int)
	// keepFailed tells whether a failed payment leaves the wait open (a
	// renewal may be paid at a second try; a transfer an operator saw
	// outweighs a failed attempt).
	keepFailed func() bool
	// wake is where updates knock; stop (checked first) ends the wait, and
	// turn (checked after a payment) answers one: paid by hand, or a new
	// deadline.
	wake workflow.ReceiveChannel
	stop func() bool
	turn func(ctx workflow.Context) (*Payment, *time.Time)
	// cancellable: the workflow's own cancellation ends the wait (orders
	// started before the compensation stack did not listen for it).
	cancellable bool
}

// wait returns the payment taken, or nil and why the wait ended (with the
// failed payment when it was one).
func (w *paymentWait) wait(ctx workflow.Context) (*Payment, string) {
	payments := workflow.GetSignalChannel(ctx, SignalPayment)
	for w.sent < len(w.reminders) && !w.reminders[w.sent].After(workflow.Now(ctx)) {
		w.sent++ // already due when the wait began: not sent late
	}
	if !w.deadline.After(workflow.Now(ctx)) {
		return nil, waitDeadline
	}
	var t timer
	defer t.stop()
	isReminder := false
	next := func() {
		isReminder = w.sent < len(w.reminders) && w.reminders[w.sent].Before(w.deadline)
		if isReminder {
			t.set(ctx, w.reminders[w.sent])
		} else {
			t.set(ctx, w.deadline)
		}
	}
	next()
	// A signal taken in the same step as an update waits here until the
	// update is dealt with, instead of being dropped.
	var pending *Payment
	for {
		if w.stop != nil && w.stop() {
			return nil, waitStopped
		}
		if p := pending; p != nil {
			pending = nil
			switch {
			case p.ChargeID != w.chargeID:
				workflow.GetLogger(ctx).Warn("payment for another charge ignored", "PaymentID", p.PaymentID, "ChargeID", p.ChargeID)
			case p.Status == "failed" && w.keepFailed != nil && w.keepFailed():
				workflow.GetLogger(ctx).Info("payment failed, still waiting", "PaymentID", p.PaymentID)
			case p.Status == "failed":
				return p, waitFailed
			case p.Amount != w.invoice.Gross || p.Currency != w.invoice.Currency:
				// The intake refuses these; one that slips through is logged, not taken.
				workflow.GetLogger(ctx).Warn("payment does not match the pro-forma", "PaymentID", p.PaymentID)
			default:
				return p, ""
			}
		}
		if w.turn != nil {
			paid, moved := w.turn(ctx)
			if paid != nil {
				return paid, ""
			}
			if moved != nil {
				w.deadline = *moved
				next()
				continue
			}
		}
		fired, stopped, woken := false, false, false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(payments, func(c workflow.ReceiveChannel, _ bool) {
			var p Payment
			c.Receive(ctx, &p)
			pending, woken = &p, true
		})
		sel.AddFuture(t.f, func(f workflow.Future) {
			// A timer cancelled with the workflow is not a deadline.
			if f.Get(ctx, nil) != nil {
				stopped = true
			} else {
				fired = true
			}
		})
		if w.wake != nil {
			sel.AddReceive(w.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); woken = true })
		}
		if w.cancellable {
			sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { stopped = true })
		}
		sel.Select(ctx)
		switch {
		case woken:
			continue // a fired timer stays ready for the next round
		case stopped:
			return nil, waitCancelled
		case fired && isReminder:
			w.sent++
			w.remind(ctx, w.sent)
			next()
		case fired:
			return nil, waitDeadline
		}
	}
}
