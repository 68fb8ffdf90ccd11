package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// No workflow ends FAILED. A step whose activity fails for good (its retries
// ran out, or it refused with an error retrying cannot fix) does not fail
// its workflow: the workflow waits in needs_attention, shown in its status
// search attribute (OrderStatus for orders, Stage for the others) and in the
// attention query, until an operator sends the Workflow Update "retry" (the
// step runs again, e.g. once the cause is fixed and deployed) or "resolve"
// (the step is given up: the workflow compensates what it made, or ends, as
// its state demands). This is one interceptor, so every activity of every
// workflow, also of the ones to come, is covered without a wrapper at each
// call site. A call whose failure the workflow itself answers (provisioning
// ends in a refund, an undo step in the saga's own needs_attention) is made
// on a context marked with caught.

// Names of the operator's answers to a step that failed for good, and of the
// query that shows it.
const (
	UpdateRetry    = "retry"
	QueryAttention = "attention"
	// ErrResolved is the failure a resolved step gives its caller.
	ErrResolved = fail.ResolvedByOperator
	// StageNeedsAttention is the Stage of a post-purchase workflow that waits for an operator.
	StageNeedsAttention = "needs_attention"
)

// Attention is what a parked workflow waits on; the attention query answers it.
type Attention struct {
	Step   string // the activity and its summary
	Reason string // its last failure
	Since  time.Time
	Round  int
}

// Interceptors are the worker interceptors every worker (and test) of these
// workflows runs with.
func Interceptors() []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&attentionWorker{}}
}

type caughtKey struct{}
type attentionKey struct{}

// caught marks calls whose failure the caller answers itself; they are never parked.
func caught(ctx workflow.Context) workflow.Context { return workflow.WithValue(ctx, caughtKey{}, true) }

// attentionHook shows a parked workflow to operators. The order saga keeps
// its own (the database row and its timeline move too); the others move Stage.
type attentionHook interface {
	park(ctx workflow.Context, a Attention)
	resume(ctx workflow.Context, a Attention, d Decision)
}

// attention is one workflow run's parking state.
type attention struct {
	hook     attentionHook
	parked   *Attention
	decision *Decision
	rounds   int
}

// attentionOf is the run's state; the interceptor puts it in the root context.
func attentionOf(ctx workflow.Context) *attention {
	a, _ := ctx.Value(attentionKey{}).(*attention)
	return a
}

// waiting tells whether a step waits for an operator's answer not yet given.
func (t *attention) waiting() bool { return t != nil && t.parked != nil && t.decision == nil }

// validate refuses an answer when nothing waits for one, or without who and why.
func (t *attention) validate(action string, d Decision) error {
	switch {
	case !t.waiting():
		return errors.New("no step is waiting for an operator")
	case strings.TrimSpace(d.Actor) == "":
		return errors.New("actor is required: who decides")
	case action == UpdateResolve && strings.TrimSpace(d.Reason) == "":
		return errors.New("reason is required: what was done instead")
	}
	return nil
}

func (t *attention) decide(action string, d Decision) {
	d.action = action
	t.decision = &d
}

// register lets operators answer; the order saga registers its own resolve
// later (it also answers a failed undo step) and passes a parked step here.
func (t *attention) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryAttention, func() (*Attention, error) { return t.parked, nil }); err != nil {
		return err
	}
	for _, action := range []string{UpdateRetry, UpdateResolve} {
		err := workflow.SetUpdateHandlerWithOptions(ctx, action,
			func(ctx workflow.Context, d Decision) (Attention, error) {
				a := *t.parked
				t.decide(action, d)
				return a, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error { return t.validate(action, d) }})
		if err != nil {
			return err
		}
	}
	return nil
}

// parks tells a failure an operator must answer from one the workflow
// answers as part of its business (a refused email, no free seat) or a
// cancellation.
func parks(err error) bool {
	var appErr *temporal.ApplicationError
	switch {
	case err == nil, temporal.IsCanceledError(err):
		return false
	case errors.As(err, &appErr):
		switch appErr.Type() {
		case ErrEmailRejected, ErrSeats, ErrResolved:
			return false
		}
	}
	return true
}

// watch stands between a step's activity and its caller: a failure that
// parks waits for the operator, then runs the step again or gives it up.
// The first attempt is scheduled by the caller's own call, so the commands
// of a run that never parks are the same as without the interceptor.
func (t *attention) watch(ctx workflow.Context, step string, first workflow.Future, again func() workflow.Future) workflow.Future {
	outer, settable := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(gctx workflow.Context) {
		f := first
		for {
			err := f.Get(gctx, nil)
			if !parks(err) || gctx.Err() != nil {
				settable.Chain(f)
				return
			}
			d := t.park(gctx, step, err)
			if d.action == UpdateResolve {
				settable.SetError(temporal.NewNonRetryableApplicationError(
					"step "+step+" given up by "+d.Actor+": "+d.Reason, ErrResolved, err))
				return
			}
			f = again()
		}
	})
	return outer
}

// park shows the workflow as needing attention and waits for the answer.
// One step waits at a time; a second one that fails meanwhile queues.
func (t *attention) park(ctx workflow.Context, step string, cause error) Decision {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	_ = workflow.Await(ctx, func() bool { return t.parked == nil })
	t.rounds++
	a := Attention{Step: step, Reason: errorMessage(cause), Since: workflow.Now(ctx), Round: t.rounds}
	t.parked = &a
	workflow.GetLogger(ctx).Error("step failed for good: waiting for an operator's retry or resolve", "Step", step, "Error", cause)
	t.hook.park(ctx, a)
	_ = workflow.Await(ctx, func() bool { return t.decision != nil })
	d := *t.decision
	t.parked, t.decision = nil, nil
	t.hook.resume(ctx, a, d)
	return d
}

// stageHook shows a post-purchase workflow's parking in its Stage.
type stageHook struct{ before string }

func (h *stageHook) park(ctx workflow.Context, a Attention) {
	h.before, _ = workflow.GetTypedSearchAttributes(ctx).GetKeyword(StageKey)
	upsertStage(ctx, StageNeedsAttention)
}

func (h *stageHook) resume(ctx workflow.Context, a Attention, d Decision) {
	workflow.GetLogger(ctx).Info("operator answered", "Step", a.Step, "Action", d.action, "Actor", d.Actor, "Reason", d.Reason)
	if h.before != "" {
		upsertStage(ctx, h.before)
	}
}

func upsertStage(ctx workflow.Context, st string) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(st)); err != nil {
		workflow.GetLogger(ctx).Error("search attribute not updated", "Error", err)
	}
}

type attentionWorker struct {
	interceptor.WorkerInterceptorBase
}

func (*attentionWorker) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &attentionInbound{t: &attention{hook: &stageHook{}}}
	i.Next = next
	return i
}

type attentionInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	t *attention
}

func (i *attentionInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &attentionOutbound{t: i.t}
	o.Next = outbound
	return i.Next.Init(o)
}

func (i *attentionInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	if err := i.t.register(ctx); err != nil {
		return nil, err
	}
	return i.Next.ExecuteWorkflow(workflow.WithValue(ctx, attentionKey{}, i.t), in)
}

type attentionOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	t *attention
}

func (o *attentionOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	return o.t.guard(ctx, stepName(activityType, workflow.GetActivityOptions(ctx).Summary),
		func() workflow.Future { return o.Next.ExecuteActivity(ctx, activityType, args...) })
}

func (o *attentionOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	return o.t.guard(ctx, stepName(activityType, workflow.GetLocalActivityOptions(ctx).Summary),
		func() workflow.Future { return o.Next.ExecuteLocalActivity(ctx, activityType, args...) })
}

// guard runs a step once and watches it, unless its caller catches its failures.
func (t *attention) guard(ctx workflow.Context, step string, run func() workflow.Future) workflow.Future {
	f := run()
	if ctx.Value(caughtKey{}) != nil {
		return f
	}
	return t.watch(ctx, step, f, run)
}

func stepName(activityType, summary string) string {
	if summary == "" {
		return activityType
	}
	return fmt.Sprintf("%s (%s)", activityType, summary)
}

// StageResolved ends a post-purchase workflow whose step an operator gave up.
const StageResolved = "resolved"

// givenUp ends a post-purchase run whose step an operator gave up: undo (if
// any) takes back what the run made, once; when the undo is what was given
// up, the run ends as it stands.
func givenUp(ctx workflow.Context, r AfterResult, err error, undo func(reason string) (AfterResult, error)) (AfterResult, error) {
	if !isType(err, ErrResolved) {
		return r, err
	}
	reason := message(err)
	if undo != nil {
		if r, err = undo(reason); !isType(err, ErrResolved) {
			return r, err
		}
		reason = message(err)
	}
	upsertStage(ctx, StageResolved)
	return AfterResult{Stage: StageResolved, Reason: reason}, nil
}
