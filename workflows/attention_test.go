package workflows

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// brokenFor makes every call of one activity fail with an error no retry fixes.
func brokenFor(name string) func(env *testsuite.TestWorkflowEnvironment, _ *activities.Activities) {
	return func(env *testsuite.TestWorkflowEnvironment, _ *activities.Activities) {
		m, ok := reflect.TypeOf(&activities.Activities{}).MethodByName(name)
		if !ok {
			panic("no activity " + name)
		}
		args := make([]any, m.Type.NumIn()-1) // the context and the arguments
		for i := range args {
			args[i] = mock.Anything
		}
		var out []any
		for i := 0; i < m.Type.NumOut()-1; i++ {
			out = append(out, reflect.Zero(m.Type.Out(i)).Interface())
		}
		out = append(out, temporal.NewNonRetryableApplicationError(name+" is broken for good", "Broken", nil))
		env.OnActivity(name, args...).Return(out...)
	}
}

// parkWatch answers every park of a run with resolve, after checking that
// the workflow shows it in its status attribute and names the broken step.
type parkWatch struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	shown  func() string // the workflow's status attribute now
	status func() string // its own status, read by query
	broken string
	parks  int
}

// every answers, twice a day of workflow time, for 100 days.
func (w *parkWatch) every() {
	for day := 1; day <= 200; day++ {
		w.env.RegisterDelayedCallback(w.answer, time.Duration(day)*12*time.Hour)
	}
}

func (w *parkWatch) answer() {
	if w.env.IsWorkflowCompleted() {
		return
	}
	v, err := w.env.QueryWorkflow(QueryAttention)
	require.NoError(w.t, err)
	var a *Attention
	require.NoError(w.t, v.Get(&a))
	switch {
	case a != nil:
		require.True(w.t, strings.HasPrefix(a.Step, w.broken), "the parked step %q is the broken one %q", a.Step, w.broken)
		require.Contains(w.t, a.Reason, "broken for good")
	case w.status() == string(order.NeedsAttention):
		// An undo step that failed: the saga's own needs_attention.
	default:
		return
	}
	w.parks++
	require.Equal(w.t, "needs_attention", w.shown(), "listed by its status attribute while %s waits", w.broken)
	w.env.UpdateWorkflow(UpdateResolve, "resolve-"+time.Duration(w.parks).String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { w.t.Errorf("resolve refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
	}, Decision{Actor: "ops", Reason: "given up in a test"})
}

// finished requires a run that ended without failing: done, or continued as new.
func finished(t *testing.T, env *testsuite.TestWorkflowEnvironment, broken string, calls any) {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted(), "%s: the run ended", broken)
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if errors.As(err, &can) {
		return
	}
	require.NoError(t, err, "%s broken: no workflow ends FAILED; activities run: %v", broken, calls)
}

// activityNames is each activity a clean run called, once, in order.
func activityNames[T any](calls []T, name func(T) string) []string {
	var out []string
	for _, c := range calls {
		if n := strings.SplitN(name(c), ":", 2)[0]; !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// Every activity of the order saga, on the paid path, the unpaid one and
// the refunded one, broken for good in turn: no run fails; each step that
// parks is listed by OrderStatus = "needs_attention" until resolved, and
// the order then ends compensated.
func TestOrderNeverEndsFailedWhateverStepBreaks(t *testing.T) {
	paths := map[string]func(h *harness){
		"paid":     func(h *harness) { h.payAfter(2*time.Hour, paid) },
		"unpaid":   func(h *harness) { h.payAfter(2*time.Hour, Payment{PaymentID: "p-1", Status: "failed"}) },
		"refunded": func(h *harness) { h.payAfter(2*time.Hour, paid) },
	}
	refusedTenant := func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.BuyPlan, mock.Anything, "shop-1").Return(final("no", ErrTenantAPI))
	}
	for _, path := range []string{"paid", "unpaid", "refunded"} {
		var pre []func(*testsuite.TestWorkflowEnvironment, *activities.Activities)
		if path == "refunded" {
			pre = append(pre, refusedTenant)
		}
		clean := newHarness(t, pre...)
		paths[path](clean)
		clean.run(t)
		names := activityNames(clean.calls, func(c string) string { return c })
		require.NotEmpty(t, names)
		for _, broken := range names {
			t.Run(path+"/"+broken, func(t *testing.T) {
				attr := string(order.Placed)
				capture := func(env *testsuite.TestWorkflowEnvironment, _ *activities.Activities) {
					env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
						if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(OrderStatusKey); ok {
							attr = v
						}
					}).Return(nil).Maybe()
				}
				h := newHarness(t, append([]func(*testsuite.TestWorkflowEnvironment, *activities.Activities){capture, brokenFor(broken)}, pre...)...)
				paths[path](h)
				w := &parkWatch{t: t, env: h.env, broken: broken, shown: func() string { return attr },
					status: func() string {
						v, err := h.env.QueryWorkflow(QueryStatus)
						require.NoError(t, err)
						var sv StatusView
						require.NoError(t, v.Get(&sv))
						return string(sv.Status)
					}}
				w.every()
				h.env.ExecuteWorkflow(OrderWorkflow, input)
				finished(t, h.env, broken, h.calls)
				var r Result
				require.NoError(t, h.env.GetWorkflowResult(&r))
				if w.parks == 0 {
					// Answered by the saga itself: a tenant step ends in a refund.
					require.Contains(t, []string{"CheckDomain", "CreateTenant", "BuyPlan"}, broken, "%s broken never parked", broken)
					require.Equal(t, order.Refunded, r.Status)
				}
			})
		}
	}
}

// The same for the workflows after the purchase, on each of their paths:
// Stage = "needs_attention" while a step waits, and no run fails.
func TestAfterPurchaseNeverEndsFailedWhateverStepBreaks(t *testing.T) {
	verified := func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDNS, mock.Anything, mock.Anything).Return(true, nil)
	}
	shortSchedule := DomainSchedule{First: 15 * time.Minute, Max: time.Hour, ChecksPerStep: 8, GiveUpAfter: 2 * time.Hour, ChecksPerRun: 96}
	paths := []struct {
		name  string
		stage string
		wf    any
		in    any
		pre   []func(*testsuite.TestWorkflowEnvironment, *activities.Activities)
		drive func(h *afterHarness)
	}{
		{name: "licences/paid", stage: StageAwaitingPayment, wf: LicencesWorkflow, in: licencesIn, drive: func(h *afterHarness) { h.pay(2*time.Hour, licencePaid) }},
		{name: "licences/unpaid", stage: StageAwaitingPayment, wf: LicencesWorkflow, in: licencesIn,
			drive: func(h *afterHarness) {
				h.pay(2*time.Hour, Payment{PaymentID: "p-9", Status: "failed", ChargeID: chargeID})
			}},
		{name: "licences/fewer", stage: StageApplying, wf: LicencesWorkflow, in: LicencesInput{OrderID: afterOrder, ChargeID: chargeID, Change: -2}},
		{name: "user", stage: StageCreating, wf: UserWorkflow, in: userIn},
		{name: "user/refused", stage: StageCreating, wf: UserWorkflow, in: userIn,
			pre: []func(*testsuite.TestWorkflowEnvironment, *activities.Activities){func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
				env.OnActivity(a.AssignLicence, mock.Anything, afterOrder, mock.Anything).Return(final("no seat", ErrTenantAPI))
			}}},
		{name: "domain/verified", stage: StageCheckingDNS, wf: DomainWorkflow, in: domainIn, pre: []func(*testsuite.TestWorkflowEnvironment, *activities.Activities){verified}},
		{name: "domain/never", stage: StageCheckingDNS, wf: DomainWorkflow, in: DomainInput{OrderID: afterOrder, Domain: domainName, Attempt: 1, Schedule: shortSchedule}},
		{name: "subscription/paid", stage: "active", wf: SubscriptionWorkflow, in: subIn,
			drive: func(h *afterHarness) { h.pay(after(noticeAt)+24*time.Hour, renewalPaid) }},
		{name: "subscription/unpaid", stage: "active", wf: SubscriptionWorkflow, in: subIn},
	}
	for _, p := range paths {
		clean := newAfterHarness(t, p.stage, p.pre...)
		if p.drive != nil {
			p.drive(clean)
		}
		clean.env.ExecuteWorkflow(p.wf, p.in)
		finished(t, clean.env, "nothing", clean.names())
		names := activityNames(clean.calls, func(c afterCall) string { return c.Name })
		require.NotEmpty(t, names, p.name)
		for _, broken := range names {
			t.Run(p.name+"/"+broken, func(t *testing.T) {
				h := newAfterHarness(t, p.stage, append([]func(*testsuite.TestWorkflowEnvironment, *activities.Activities){brokenFor(broken)}, p.pre...)...)
				if p.drive != nil {
					p.drive(h)
				}
				w := &parkWatch{t: t, env: h.env, broken: broken, status: h.stage,
					shown: func() string {
						if len(h.stages) == 0 {
							return p.stage
						}
						return h.stages[len(h.stages)-1]
					}}
				w.every()
				h.env.ExecuteWorkflow(p.wf, p.in)
				finished(t, h.env, broken, h.names())
				if w.parks == 0 {
					// Answered by the workflow itself: a refusal it undoes, or a
					// DNS check that is simply made again later.
					require.Contains(t, []string{"SetQuantity", "CreateUser", "AssignLicence", "AddDomain", "VerifyDomain", "CheckDNS", "CheckDomainRecords"}, broken,
						"%s broken never parked", broken)
				}
			})
		}
	}
}

// An operator's retry runs the broken step again: once it works, the order
// goes on from where it stopped, and OrderStatus shows where it is again.
func TestRetryRunsTheParkedStepAgain(t *testing.T) {
	attempts := 0
	var attrs []string
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
			if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(OrderStatusKey); ok {
				attrs = append(attrs, v)
			}
		}).Return(nil).Maybe()
		env.OnActivity(a.MarkPaid, mock.Anything, "shop-1", mock.Anything).Return(func(_ context.Context, _, _ string) error {
			attempts++
			if attempts == 1 {
				return temporal.NewNonRetryableApplicationError("renderer panicked", "Broken", nil)
			}
			return nil
		})
	})
	h.payAfter(2*time.Hour, paid)
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryAttention)
		require.NoError(t, err)
		var a *Attention
		require.NoError(t, v.Get(&a))
		require.NotNil(t, a, "parked at MarkPaid")
		require.Equal(t, "MarkPaid (Record payment p-1)", a.Step)
		h.env.UpdateWorkflow(UpdateResolve, "r-0", &testsuite.TestUpdateCallback{
			OnReject: func(error) {}, OnAccept: func() { t.Error("resolve without a reason accepted") }, OnComplete: func(any, error) {},
		}, Decision{Actor: "ops"})
		h.env.UpdateWorkflow(UpdateRetry, "r-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("retry refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, Decision{Actor: "ops", Reason: "renderer fixed and deployed"})
	}, 24*time.Hour)
	r := h.run(t)
	require.Equal(t, order.InstallerReady, r.Status)
	require.Equal(t, 2, attempts)
	require.Contains(t, h.calls, "Record:attention#1", "the park is in the order's log")
	require.Contains(t, h.calls, "Record:attention_resumed#1", "and the status it went back to")
	require.Contains(t, attrs, "needs_attention")
	require.Equal(t, "installer_ready", attrs[len(attrs)-1])
	i := slices.Index(attrs, "needs_attention")
	require.Equal(t, string(order.AwaitingPayment), attrs[i+1], "back where it stopped before going on")
}
