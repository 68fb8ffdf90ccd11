package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/stack"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// happyPathActivities is how many activities workflows/order_workflow.go's
// OrderWorkflow runs for an order that is paid and provisioned: RecordOrder
// (the placement, answering the intake's place update), OpenBilling,
// SendEmail x4 (billing_access, payment_received, credentials,
// installer_ready), Transition x2 (awaiting_payment, emailing_credentials),
// MarkPaid, CreateTenant (which checks the domain, a run since leanTenant),
// BuyPlan (the subscription and the admin's licence, since leanPlan),
// FinishInstaller. Recount it there when the saga changes.
const happyPathActivities = 12

// paymentAfter is how many of those run before the saga waits for payment.
const paymentAfter = 4

// ksefActivities is how many activities workflows/ksef_workflow.go's
// KSeFWorkflow runs for an invoice KSeF accepts at once: PrepareKSeF,
// SendKSeF, SendKSeFEmail. MarkPaid starts it (activities.toKSeF), one per
// paid order, and the order does not wait for it. Recount it there when the
// KSeF workflow changes.
const ksefActivities = 3

// finishStep is the floor step that starts the floor's subscription
// workflow, as FinishInstaller starts the order's SubscriptionWorkflow.
const finishStep = happyPathActivities - 1

// orderActivities is every activity a paid order runs, its invoice's KSeF
// workflow's included: the DB rows count them per activity.
const orderActivities = happyPathActivities + ksefActivities

// markPaidStep is the floor step that starts the floor's KSeF workflow, as
// MarkPaid starts the invoice's.
const markPaidStep = paymentAfter

const floorQueue = "bench-floor"

// parkedQueue is the accept phase's: its worker records each order and
// leaves it waiting, untouched.
const parkedQueue = "bench-parked"

// floorAmount makes the floor's payment signal as big as the saga's; the
// floor does not read it.
const floorAmount money.Grosze = 33210

// floorStep is one activity of the floor: local where the saga runs a local
// activity, so that the floor differs from the saga only in what the
// activities do, not in how Temporal schedules them.
type floorStep struct{ local bool }

// floorSteps is OrderWorkflow's happy path (a run since leanTenant), step
// for step; its length is checked by the compiler against
// happyPathActivities.
var floorSteps = [happyPathActivities]floorStep{
	{local: true}, // RecordOrder
	{local: true}, // OpenBilling
	{local: true}, // SendEmail billing_access
	{local: true}, // Transition awaiting_payment
	// the payment signal
	{local: true}, // MarkPaid
	{local: true}, // SendEmail payment_received
	{},            // CreateTenant
	{},            // BuyPlan
	{local: true}, // Transition emailing_credentials
	{local: true}, // SendEmail credentials
	{local: true}, // SendEmail installer_ready
	{local: true}, // FinishInstaller
}

// floorActivities are the no-op activities; c starts the floor's KSeF
// workflows. issued and accepted are when each floor order's MarkPaid step
// started its KSeF workflow and when that workflow's send step ended, by
// the floor order's id: the points in the saga's steps where the invoice's
// ksef_documents row is made and where KSeF's acceptance is recorded.
type floorActivities struct {
	c                client.Client
	issued, accepted sync.Map // string -> time.Time
}

// fa only names the activities in workflow code, as the saga's nil *Activities does.
var fa *floorActivities

// FloorStep does nothing; it is the cost of an activity to Temporal alone.
// The MarkPaid step starts the order's FloorKSeFWorkflow, as MarkPaid
// starts the invoice's KSeF workflow, and the FinishInstaller step its
// FloorSubscriptionWorkflow, as FinishInstaller starts the subscription.
func (f *floorActivities) FloorStep(ctx context.Context, i int) error {
	order := activity.GetInfo(ctx).WorkflowExecution.ID
	switch i {
	case markPaidStep:
		f.issued.LoadOrStore(order, time.Now())
		return f.startOnce(ctx, floorKSeFID(order), FloorKSeFWorkflow, order)
	case finishStep:
		return f.startOnce(ctx, order+"-subscription", FloorSubscriptionWorkflow)
	}
	return nil
}

// startOnce starts a floor workflow of that id unless one runs or ran, as
// the saga's starters do.
func (f *floorActivities) startOnce(ctx context.Context, id string, wf any, args ...any) error {
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: floorQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, wf, args...)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	return err
}

// FloorSubscriptionWorkflow is SubscriptionWorkflow's first period with the
// work taken out: it waits for the period's end and for the cancellation
// window's reminder, each on a timer of its own (a month and two weeks
// less a day away), and the bench never sees either fire.
func FloorSubscriptionWorkflow(ctx workflow.Context) error {
	notice := workflow.NewTimer(ctx, 30*24*time.Hour)
	window := workflow.NewTimer(ctx, 13*24*time.Hour)
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(notice, func(workflow.Future) {})
	sel.AddFuture(window, func(workflow.Future) {})
	sel.Select(ctx)
	return nil
}

// floorKSeFSend is the FloorKSeFStep that stands for SendKSeF.
const floorKSeFSend = 1

// FloorKSeFStep does nothing, for the floor's KSeF workflow of order; its
// send step notes when it ended.
func (f *floorActivities) FloorKSeFStep(_ context.Context, order string, i int) error {
	if i == floorKSeFSend {
		f.accepted.LoadOrStore(order, time.Now())
	}
	return nil
}

// ksefTook is how long the floor order id's KSeF workflow took from its
// start to the end of its send step.
func (f *floorActivities) ksefTook(id string) (time.Duration, error) {
	from, ok := f.issued.Load(id)
	to, ok2 := f.accepted.Load(id)
	if !ok || !ok2 {
		return 0, fmt.Errorf("floor order %s: its KSeF workflow did not run", id)
	}
	return to.(time.Time).Sub(from.(time.Time)), nil
}

// floorKSeFID names the floor's KSeF workflow of the floor order id.
func floorKSeFID(id string) string { return id + "-ksef" }

// FloorKSeFWorkflow is KSeFWorkflow with the work taken out: its activities
// on an invoice KSeF accepts at once (build the XML, send it, email it), as
// no-ops, one after the other, for the floor order of that id.
func FloorKSeFWorkflow(ctx workflow.Context, order string) error {
	rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	for i := range ksefActivities {
		if err := workflow.ExecuteActivity(rctx, fa.FloorKSeFStep, order, i).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// FloorWorkflow is OrderWorkflow with the work taken out: the same activities
// as no-ops, and the same wait for the payment signal under a deadline timer.
func FloorWorkflow(ctx workflow.Context, deadline time.Time) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
	for i, s := range floorSteps {
		if i == paymentAfter {
			if paid := awaitFloorPayment(ctx, deadline); !paid {
				return temporal.NewApplicationError("payment deadline passed", "Deadline")
			}
		}
		var f workflow.Future
		if s.local {
			f = workflow.ExecuteLocalActivity(lctx, fa.FloorStep, i)
		} else {
			f = workflow.ExecuteActivity(rctx, fa.FloorStep, i)
		}
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// awaitFloorPayment waits as the saga's awaitPayment does: the payment signal
// or the deadline timer, which is cancelled once paid.
func awaitFloorPayment(ctx workflow.Context, deadline time.Time) bool {
	timerCtx, stopTimer := workflow.WithCancel(ctx)
	defer stopTimer()
	timer := workflow.NewTimer(timerCtx, deadline.Sub(workflow.Now(ctx)))
	paid := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, workflows.SignalPayment), func(c workflow.ReceiveChannel, _ bool) {
		var p workflows.Payment
		c.Receive(ctx, &p)
		paid = true
	})
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.Select(ctx)
	return paid
}

// startFloorWorker runs the floor on the stack's client with the options
// stack.startWorker gives the saga's worker.
func startFloorWorker(c client.Client) (worker.Worker, *floorActivities, error) {
	o := stack.WorkerOptions()
	o.Interceptors = nil // the saga's catch its steps' failures for an operator; the floor has none
	w := worker.New(c, floorQueue, o)
	w.RegisterWorkflow(FloorWorkflow)
	w.RegisterWorkflow(FloorKSeFWorkflow)
	w.RegisterWorkflow(FloorSubscriptionWorkflow)
	acts := &floorActivities{c: c}
	w.RegisterActivity(acts)
	if err := w.Start(); err != nil {
		return nil, nil, fmt.Errorf("floor worker: %w", err)
	}
	return w, acts, nil
}

// startFloor starts one FloorWorkflow with the id given.
func startFloor(ctx context.Context, c client.Client, id string, deadline time.Time) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: floorQueue}, FloorWorkflow, deadline)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", id, err)
	}
	return run, nil
}

// floorOnce is one floor order end to end: start, pay at once, wait for the
// end. Its KSeF workflow may still run.
func floorOnce(ctx context.Context, c client.Client, id string, deadline time.Time) error {
	run, err := startFloor(ctx, c, id, deadline)
	if err != nil {
		return err
	}
	if err := c.SignalWorkflow(ctx, id, run.GetRunID(), workflows.SignalPayment,
		workflows.Payment{PaymentID: "p-" + id, Status: "completed", Amount: floorAmount, Currency: "PLN"}); err != nil {
		return fmt.Errorf("signal %s: %w", id, err)
	}
	if err := run.Get(ctx, nil); err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	return nil
}
