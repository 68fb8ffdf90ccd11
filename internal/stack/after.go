package stack

import (
	"context"
	"errors"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// RegisterWorkflows registers every workflow under its public name.
func RegisterWorkflows(w worker.Registry) {
	w.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflow.RegisterOptions{Name: workflows.OrderWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.LicencesWorkflow, workflow.RegisterOptions{Name: workflows.LicencesWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.UserWorkflow, workflow.RegisterOptions{Name: workflows.UserWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.UserRemovalWorkflow, workflow.RegisterOptions{Name: workflows.UserRemovalWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.DomainWorkflow, workflow.RegisterOptions{Name: workflows.DomainWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.SubscriptionWorkflow, workflow.RegisterOptions{Name: workflows.SubscriptionWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.PanelLinkWorkflow, workflow.RegisterOptions{Name: workflows.PanelLinkWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.PaymentCheckWorkflow, workflow.RegisterOptions{Name: workflows.PaymentCheckWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.RefundWorkflow, workflow.RegisterOptions{Name: workflows.RefundWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.KSeFWorkflow, workflow.RegisterOptions{Name: workflows.KSeFWorkflowName})
}

// Timing is the renewal calendar from the configuration.
func Timing(cfg config.Config) workflows.SubscriptionTiming {
	t := workflows.DefaultTiming
	t.Notice, t.Grace, t.Suspension = cfg.After.RenewalNotice, cfg.After.RenewalGrace, cfg.After.SuspensionPeriod
	return t
}

// DomainSchedule is the DNS check schedule from the configuration.
func DomainSchedule(cfg config.Config) workflows.DomainSchedule {
	s := workflows.DefaultDomainSchedule
	s.First, s.Max, s.GiveUpAfter = cfg.After.DomainCheckFirst, cfg.After.DomainCheckMax, cfg.After.DomainCheckFor
	return s
}

// SubscriptionStarter starts an order's subscription workflow, once: the
// id is the order's, and a run that exists or existed counts as started.
// o is the order as FinishInstaller read it.
func SubscriptionStarter(c client.Client, cfg config.Config) func(ctx context.Context, o store.Order, period int, end time.Time) error {
	return func(ctx context.Context, o store.Order, period int, end time.Time) error {
		orderID := o.ID
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       workflows.SubscriptionWorkflowID(orderID),
			TaskQueue:                cfg.TaskQueue,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			TypedSearchAttributes:    workflows.AfterAttributes(orderID, o.Plan, o.Domain, o.Seats, store.ServiceActive),
			StaticSummary:            "Subscription of order " + orderID,
		}, workflows.SubscriptionWorkflowName, workflows.SubscriptionInput{OrderID: orderID, Period: period, PeriodEnd: end, Timing: Timing(cfg),
			PeriodStart: time.Now().UTC().Truncate(time.Second), TermPeriods: order.PeriodsPerTerm(o.Term, o.BillingCycle), HasWindows: true})
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return nil
		}
		return err
	}
}
