package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// push registers undo steps for what the saga just made.
func (s *saga) push(steps ...string) {
	for _, st := range steps {
		if !slices.Contains(s.undo, st) { // a retried step registers once
			s.undo = append(s.undo, st)
		}
	}
	s.showUndo()
}

func (s *saga) showUndo() {
	s.view.Undo = slices.Clone(s.undo)
	slices.Reverse(s.view.Undo)
}

// compensate undoes what the saga made, newest first, then tells the
// customer and ends the order in end. It runs on a disconnected context: a
// cancellation of the workflow must not stop it halfway. An undo step that
// fails after its retries puts the order in needs_attention until an
// operator retries or resolves; nothing is skipped silently.
func (s *saga) compensate(ctx workflow.Context, end order.Status, reason, notice string) (Result, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	s.compensating = true
	actor := ""
	if s.cancel != nil {
		actor = s.cancel.Actor
	}
	if err := s.record(ctx, activities.Event{Key: string(order.Compensating), Status: order.Compensating, Reason: reason, Actor: actor, Move: true}); err != nil {
		return Result{}, err
	}
	for len(s.undo) > 0 {
		step := s.undo[len(s.undo)-1]
		if err := s.runUndo(ctx, step, reason); err != nil {
			resolved, err := s.needsAttention(ctx, step, reason, err)
			if err != nil {
				return Result{}, err
			}
			if !resolved {
				continue // run the step again
			}
			// Done by hand: the rest still runs, so nothing is dropped.
		}
		s.undo = s.undo[:len(s.undo)-1]
		s.showUndo()
	}
	if err := s.email(ctx, notice); err != nil {
		return Result{}, err
	}
	if err := s.record(ctx, activities.Event{Key: string(end), Status: end, Reason: reason, Move: true}); err != nil {
		return Result{}, err
	}
	return Result{Status: end, Reason: reason}, nil
}

// runUndo runs one undo step as its activity.
func (s *saga) runUndo(ctx workflow.Context, step, reason string) error {
	id := s.in.OrderID
	switch step {
	case UndoSuspendSubscriptions:
		return workflow.ExecuteActivity(withUndo(ctx, "Suspend subscriptions at the tenant API"), a.SuspendSubscriptions, id).Get(ctx, nil)
	case UndoRefundPayment:
		return workflow.ExecuteLocalActivity(withUndoDB(ctx, "Mark the payment for refund"), a.RefundPayment, id, reason).Get(ctx, nil)
	case UndoVoidInvoice:
		return workflow.ExecuteLocalActivity(withUndoDB(ctx, "Void the pro-forma, or correct the paid VAT invoice"), a.VoidInvoice, id, reason).Get(ctx, nil)
	case UndoRevokeBilling:
		return workflow.ExecuteLocalActivity(withUndoDB(ctx, "Revoke billing panel access"), a.RevokeBilling, id).Get(ctx, nil)
	case UndoReleaseReservation:
		return workflow.ExecuteLocalActivity(withUndoDB(ctx, "Release the domain reservation"), a.ReleaseReservation, id).Get(ctx, nil)
	}
	return temporal.NewNonRetryableApplicationError("unknown undo step "+step, ErrInvalidOrder, nil)
}

// needsAttention parks the order until an operator decides; resolved tells
// the operator did the failed step by hand.
func (s *saga) needsAttention(ctx workflow.Context, step, reason string, cause error) (resolved bool, err error) {
	s.round++
	why := "undo step " + step + " failed: " + errorMessage(cause)
	if err := s.record(ctx, activities.Event{Key: fmt.Sprintf("%s#%d", order.NeedsAttention, s.round), Status: order.NeedsAttention, Reason: why, Move: true}); err != nil {
		return false, err
	}
	s.view.WaitingFor = "operator: " + UpdateRetryCompensation + " or " + UpdateResolve
	s.deciding = true
	if err := workflow.Await(ctx, func() bool { return s.decision != nil }); err != nil {
		return false, err
	}
	// Closed before anything else runs: a second decision sent while this
	// one is being logged must not answer the next failure unseen.
	d := *s.decision
	s.decision, s.deciding, s.view.WaitingFor = nil, false, ""
	note := activities.Event{Key: fmt.Sprintf("decision#%d", s.round), Status: order.NeedsAttention, Actor: d.Actor, Reason: d.action + ": " + d.Reason}
	if err := s.record(ctx, note); err != nil {
		return false, err
	}
	// Back to compensating with the original reason either way: the notice
	// the customer gets tells why the order ended, not which step failed.
	err = s.record(ctx, activities.Event{Key: fmt.Sprintf("%s#%d", order.Compensating, s.round+1), Status: order.Compensating, Reason: reason, Move: true})
	return d.action == UpdateResolve, err
}

// record writes a line of the order's log; with Move it is a transition the
// saga takes too, otherwise a note on its timeline.
func (s *saga) record(ctx workflow.Context, e activities.Event) error {
	summary := "Log " + e.Key
	if e.Move {
		summary = "Status " + string(e.Status)
	}
	if err := workflow.ExecuteLocalActivity(withDB(ctx, summary), a.Record, s.in.OrderID, e).Get(ctx, nil); err != nil {
		return err
	}
	if e.Move {
		s.set(ctx, e.Status, e.Reason)
	} else {
		s.timeline = append(s.timeline, TimelineEntry{Status: s.view.Status, At: workflow.Now(ctx), Reason: e.Actor + ": " + e.Reason})
	}
	return nil
}

// registerDecisions lets an operator answer an order in needs_attention.
func (s *saga) registerDecisions(ctx workflow.Context) error {
	for _, action := range []string{UpdateRetryCompensation, UpdateResolve} {
		err := workflow.SetUpdateHandlerWithOptions(ctx, action,
			func(ctx workflow.Context, d Decision) (StatusView, error) {
				if t := s.att; action == UpdateResolve && t.waiting() {
					t.decide(action, d) // a step that failed for good, not an undo step
					return s.view, nil
				}
				d.action = action
				s.decision = &d
				return s.view, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error {
				if t := s.att; action == UpdateResolve && t.waiting() {
					return t.validate(action, d)
				}
				switch {
				case !s.deciding || s.decision != nil:
					return fmt.Errorf("order is %s: only an order in %s waits for a decision", s.view.Status, order.NeedsAttention)
				case strings.TrimSpace(d.Actor) == "":
					return errors.New("actor is required: who decides")
				case action == UpdateResolve && strings.TrimSpace(d.Reason) == "":
					return errors.New("reason is required: what was done by hand")
				}
				return nil
			}})
		if err != nil {
			return err
		}
	}
	return nil
}

// refundReason tells the customer why a paid order is refunded.
func refundReason(in OrderInput, cause error) string {
	reason := "the Microsoft 365 tenant could not be created"
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	var canceledErr *temporal.CanceledError
	switch {
	case errors.As(cause, &appErr) && appErr.Type() == ErrDomainTaken:
		reason = "domain " + in.DomainPrefix + ".onmicrosoft.com is already taken"
	case errors.As(cause, &appErr):
		reason += ": " + appErr.Message()
	case errors.As(cause, &timeoutErr):
		reason += ": the tenant API did not answer in time"
	case errors.As(cause, &canceledErr):
		reason += ": cancellation of the workflow requested"
	}
	return reason
}

func errorMessage(err error) string {
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	switch {
	case errors.As(err, &appErr):
		return appErr.Message()
	case errors.As(err, &timeoutErr):
		return "no success before the retry time ran out"
	}
	return err.Error()
}

// Undo steps are retried for a bounded time; past it an operator decides
// through the saga's own needs_attention (so they are caught, not parked).
func withUndo(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(caught(ctx), workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidOrder, ErrTenantAPI},
		},
	})
}

func withUndoDB(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(caught(ctx), workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 15 * time.Minute,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidOrder},
		},
	})
}
