package workflows

import (
	"errors"
	"fmt"
	"strings"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Operator actions on a running order, as Workflow Updates: the validator
// refuses what makes no sense in the order's state before anything is
// written to history, and each accepted action goes to the order's log
// with who and why.

func (s *saga) registerOperatorActions(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateMarkPaid,
		func(ctx workflow.Context, m ManualPayment) (StatusView, error) {
			s.manual = &m
			s.wake.SendAsync(true)
			// Answer with the order as the payment left it.
			err := workflow.Await(ctx, func() bool { return s.view.Status != order.AwaitingPayment })
			return s.view, err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, m ManualPayment) error {
			if err := s.awaiting(UpdateMarkPaid, m.Actor); err != nil {
				return err
			}
			if strings.TrimSpace(m.Reference) == "" {
				return errors.New("reference is required: the bank's reference of the transfer")
			}
			return nil
		}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateExtendDeadline,
		func(ctx workflow.Context, e Extension) (StatusView, error) {
			s.extension = &e
			s.wake.SendAsync(true)
			// Answer with the new deadline (or the order as it ended the wait).
			err := workflow.Await(ctx, func() bool { return s.extension == nil || s.view.WaitingFor != "payment" })
			return s.view, err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, e Extension) error {
			if err := s.awaiting(UpdateExtendDeadline, e.Actor); err != nil {
				return err
			}
			if s.view.Until == nil || !e.Until.After(*s.view.Until) {
				return fmt.Errorf("until must be after the current deadline %s", s.view.Until)
			}
			return nil
		}})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRetryProvisioning,
		func(ctx workflow.Context, d Decision) (StatusView, error) {
			s.retryProvision = &d
			s.stopProvision()
			return s.view, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error {
			switch {
			case !s.provisioning || s.retryProvision != nil:
				return fmt.Errorf("order is %s: only a tenant being provisioned can be retried", s.view.Status)
			case strings.TrimSpace(d.Actor) == "":
				return errors.New("actor is required: who decides")
			}
			return nil
		}})
}

// awaiting refuses an action on an order that no longer waits for payment.
func (s *saga) awaiting(action, actor string) error {
	switch {
	case s.view.Status != order.AwaitingPayment || s.paid || s.manual != nil || s.cancel != nil:
		return fmt.Errorf("%s: order is %s, not waiting for payment", action, s.view.Status)
	case strings.TrimSpace(actor) == "":
		return errors.New("actor is required: who decides")
	}
	return nil
}

// provisionUntilDone provisions the tenant; an operator's retry_provisioning
// stops the step that is waiting out its backoff and starts again at once
// (every step finds what an earlier attempt made).
func (s *saga) provisionUntilDone(ctx workflow.Context) error {
	for n := 1; ; n++ {
		pctx, stop := workflow.WithCancel(ctx)
		s.provisioning, s.stopProvision = true, stop
		// Its failures end in a refund (OrderWorkflow), not with an operator.
		err := s.provision(caught(pctx))
		s.provisioning = false
		stop()
		r := s.retryProvision
		if r == nil || err == nil || !temporal.IsCanceledError(err) {
			return err
		}
		s.retryProvision = nil
		if err := s.record(ctx, activities.Event{Key: fmt.Sprintf("retry_provisioning#%d", n), Status: order.ProvisioningTenant,
			Actor: r.Actor, Reason: "provisioning retried at once: " + r.Reason}); err != nil {
			return err
		}
	}
}
