package workflows

import (
	"fmt"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// The order saga's side of attention.go: a step that failed for good moves
// the order to needs_attention in the database, the OrderStatus attribute
// and the timeline, and back to where it was once an operator answers.

func (s *saga) park(ctx workflow.Context, a Attention) {
	s.parkedFrom = s.view.Status
	s.view.WaitingFor = "operator: " + UpdateRetry + " or " + UpdateResolve
	e := activities.Event{Key: fmt.Sprintf("attention#%d", a.Round), Status: order.NeedsAttention,
		Reason: "step " + a.Step + " failed: " + a.Reason, Move: true}
	s.show(ctx, e)
}

func (s *saga) resume(ctx workflow.Context, a Attention, d Decision) {
	s.view.WaitingFor = ""
	note := activities.Event{Key: fmt.Sprintf("attention_decision#%d", a.Round), Status: order.NeedsAttention,
		Actor: d.Actor, Reason: d.action + " " + a.Step + ": " + d.Reason}
	s.show(ctx, note)
	back := activities.Event{Key: fmt.Sprintf("attention_resumed#%d", a.Round), Status: s.parkedFrom,
		Reason: "operator " + d.Actor + " answered " + d.action, Move: true}
	s.show(ctx, back)
}

// show records a line of the order's log; a database that cannot take it
// (the likely cause of the failure) leaves it to the search attribute and
// the timeline, so showing never parks in turn.
func (s *saga) show(ctx workflow.Context, e activities.Event) {
	if err := s.record(caught(ctx), e); err != nil {
		workflow.GetLogger(ctx).Error("order log not written", "Key", e.Key, "Error", err)
		if e.Move {
			s.set(ctx, e.Status, e.Reason)
		}
	}
}

// giveUp ends an order whose step an operator gave up: what was made is
// undone, and a paid order is refunded.
func (s *saga) giveUp(ctx workflow.Context) (Result, error) {
	// The customer's notice gives no internals; the log keeps the step.
	reason := "the order could not be completed"
	if s.paid {
		// Pushed by MarkPaid; a payment taken before it is refunded too.
		s.push(UndoRefundPayment)
		return s.compensate(ctx, order.Refunded, reason, activities.EmailRefunded)
	}
	return s.compensate(ctx, order.Cancelled, reason, activities.EmailCancelled)
}
