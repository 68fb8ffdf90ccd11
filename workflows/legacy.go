package workflows

import (
	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// Orders started before the compensation stack (DefaultVersion of
// changeCompensation) end the way they were written to: one transaction that
// cancels or refunds, then the notice. Remove once no such run is open.

func (s *saga) legacyCancel(ctx workflow.Context, reason string) (Result, error) {
	s.set(ctx, order.Compensating, reason)
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Void pro-forma, revoke billing access"), a.CancelOrder, s.in.OrderID, reason).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := s.email(ctx, activities.EmailCancelled); err != nil {
		return Result{}, err
	}
	s.set(ctx, order.Cancelled, reason)
	return Result{Status: order.Cancelled, Reason: reason}, nil
}

func (s *saga) legacyRefund(ctx workflow.Context, cause error) (Result, error) {
	reason := refundReason(s.in, cause)
	s.set(ctx, order.Compensating, reason)
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Record refund"), a.RecordRefund, s.in.OrderID, reason).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := s.email(ctx, activities.EmailRefunded); err != nil {
		return Result{}, err
	}
	s.set(ctx, order.Refunded, reason)
	return Result{Status: order.Refunded, Reason: reason}, nil
}
