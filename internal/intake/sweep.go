package intake

import (
	"context"
	"errors"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"
)

// Sweep settles, every interval, the orders still placed after grace whose
// start had no answer: an order whose workflow does not exist is forgotten
// (its domain freed; the shop never had a 202 for it), and one whose
// workflow ended without taking it up is cancelled with its domain freed.
// No order is left placed with its domain reserved and nobody to move it.
// Intake replicas may all sweep: each step is idempotent.
func (s *Server) Sweep(ctx context.Context, interval, grace time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.SweepOnce(ctx, time.Now().Add(-grace)); err != nil && ctx.Err() == nil {
			s.Log.Warn("intake: sweep of placed orders", zap.Error(err))
		}
	}
}

// SweepOnce settles the orders placed before the given time and still placed.
func (s *Server) SweepOnce(ctx context.Context, before time.Time) error {
	ids, err := s.Store.StalePlaced(ctx, before)
	if err != nil {
		return err
	}
	for _, id := range ids {
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
		var missing *serviceerror.NotFound
		switch {
		case errors.As(err, &missing):
			s.Log.Warn("intake: placed order without a workflow forgotten", zap.String("order_id", id))
			err = s.Store.ForgetOrder(ctx, id)
		case err != nil:
		case d.GetWorkflowExecutionInfo().GetCloseTime() != nil:
			s.Log.Warn("intake: placed order whose workflow ended cancelled", zap.String("order_id", id))
			reason := "its workflow ended (" + d.GetWorkflowExecutionInfo().GetStatus().String() + ") before taking it up"
			if err = s.Store.ReleaseReservation(ctx, id); err == nil {
				err = s.Store.Record(ctx, id, store.Event{Key: "swept", Status: order.Cancelled, Reason: reason, Actor: "intake"}, true)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
