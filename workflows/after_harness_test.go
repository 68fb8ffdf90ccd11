package workflows

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// afterHarness runs one post-purchase workflow with every activity mocked
// to succeed (overrides first: testify takes the first matching
// expectation) and records each activity attempt with its arguments and
// the workflow time it began, and each value the Stage attribute took.
type afterHarness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	calls   []afterCall
	stages  []string
	seats   []int64
	updates int
	// signalled: the signals sent to other workflows, "<workflow id> <name>".
	signalled []string
}

type afterCall struct {
	Name   string
	Args   []string
	Notice activities.Notice // SendNotice's argument
	At     time.Time
}

// String is the call as the tests compare it: emails by their key, which
// begins with their kind; the rest with their arguments.
func (c afterCall) String() string {
	if c.Name == "SendNotice" {
		return "SendNotice(" + c.Notice.Key + ")"
	}
	return c.Name + "(" + strings.Join(c.Args, ",") + ")"
}

// The order every post-purchase test uses, and a period that ends at a
// Polish midnight, as activities.Renewal gives them.
const afterOrder = "shop-1"

var (
	afterStart = time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
	chargeID   = "shop-1:licences:r-1"
	licenceInv = activities.Invoice{Number: "PF/2027/000007", Net: pln("100.00"), VAT: pln("23.00"), Gross: pln("123.00"), Currency: "PLN", DueDate: "2027-01-17"}
)

func newAfterHarness(t *testing.T, stage string, overrides ...func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities)) *afterHarness {
	var s testsuite.WorkflowTestSuite
	h := &afterHarness{t: t, env: s.NewTestWorkflowEnvironment()}
	h.env.SetStartTime(afterStart)
	h.env.SetWorkerOptions(worker.Options{Interceptors: Interceptors()})
	h.env.RegisterWorkflow(LicencesWorkflow)
	h.env.RegisterWorkflow(UserWorkflow)
	h.env.RegisterWorkflow(DomainWorkflow)
	h.env.RegisterWorkflow(SubscriptionWorkflow)
	h.env.RegisterActivity(&activities.Activities{})
	// Started as the intake and the stack start them.
	require.NoError(t, h.env.SetTypedSearchAttributesOnStart(AfterAttributes(afterOrder, "business-standard", "acme.onmicrosoft.com", 5, stage)))
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, ok := sa.GetKeyword(StageKey); ok {
			h.stages = append(h.stages, v)
		}
		if v, ok := sa.GetInt64(SeatsKey); ok {
			h.seats = append(h.seats, v)
		}
	}).Return(nil).Maybe()
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		c := afterCall{Name: info.ActivityType.Name, At: h.env.Now().UTC()}
		if c.Name == "SendNotice" {
			require.NoError(t, args.Get(&c.Notice))
			require.True(t, strings.HasPrefix(c.Notice.Key, c.Notice.Kind), "email key %q names its kind %q", c.Notice.Key, c.Notice.Kind)
			require.Equal(t, afterOrder, c.Notice.OrderID)
		} else {
			ptrs := make([]any, argCount(c.Name))
			for i := range ptrs {
				ptrs[i] = new(string)
			}
			require.NoError(t, args.Get(ptrs...))
			for _, p := range ptrs {
				c.Args = append(c.Args, *p.(*string))
			}
		}
		h.calls = append(h.calls, c)
	})
	h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, args []any) {
		c := afterCall{Name: info.ActivityType.Name, At: h.env.Now().UTC()}
		for _, a := range args {
			if tm, ok := a.(time.Time); ok {
				a = tm.UTC().Format(time.RFC3339)
			}
			c.Args = append(c.Args, fmt.Sprint(a))
		}
		h.calls = append(h.calls, c)
	})
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		h.signalled = append(h.signalled, args.String(1)+" "+args.String(3))
	}).Return(nil).Maybe()
	var a *activities.Activities
	for _, o := range overrides {
		o(h.env, a)
	}
	m := mock.Anything
	h.env.OnActivity(a.SendNotice, m, m).Return(nil).Maybe()
	h.env.OnActivity(a.IssueCharge, m, chargeID).Return(licenceInv, nil).Maybe()
	h.env.OnActivity(a.SettleCharge, m, m, m).Return(activities.Invoice{Number: "FV/2027/000003"}, nil).Maybe()
	h.env.OnActivity(a.ApplySeats, m, chargeID).Return(8, nil).Maybe()
	h.env.OnActivity(a.SetQuantity, m, afterOrder, chargeID).Return(nil).Maybe()
	h.env.OnActivity(a.VoidCharge, m, m, m).Return(nil).Maybe()
	h.env.OnActivity(a.CreateUser, m, afterOrder, m).Return(nil).Maybe()
	h.env.OnActivity(a.AssignLicence, m, afterOrder, m).Return(nil).Maybe()
	h.env.OnActivity(a.RemoveUser, m, afterOrder, m, m).Return(nil).Maybe()
	h.env.OnActivity(a.AddDomain, m, afterOrder, m).Return(nil).Maybe()
	h.env.OnActivity(a.CheckDNS, m, m).Return(false, nil).Maybe()
	h.env.OnActivity(a.VerifyDomain, m, afterOrder, m).Return(nil).Maybe()
	h.env.OnActivity(a.GiveUpDomain, m, afterOrder, m, m).Return(nil).Maybe()
	h.env.OnActivity(a.FetchDomainRecords, m, afterOrder, m).Return(true, nil).Maybe()
	h.env.OnActivity(a.CheckDomainRecords, m, m).Return([]string(nil), nil).Maybe()
	h.env.OnActivity(a.DomainRecordsDone, m, m).Return([]string(nil), nil).Maybe()
	h.env.OnActivity(a.OpenRenewal, m, afterOrder, m).Return(renewal, nil).Maybe()
	h.env.OnActivity(a.SetService, m, afterOrder, m, m, m).Return(nil).Maybe()
	h.env.OnActivity(a.SetTenantStatus, m, afterOrder, m).Return(nil).Maybe()
	h.env.OnActivity(a.CancelAtPeriodEnd, m, afterOrder, m, m).Return(nil).Maybe()
	h.env.OnActivity(a.OpenReduction, m, m).Return(true, nil).Maybe()
	h.env.OnActivity(a.FreeSeats, m, afterOrder).Return(0, nil).Maybe()
	return h
}

// argCount is how many arguments an activity takes after its context.
func argCount(name string) int {
	m, ok := reflect.TypeOf(&activities.Activities{}).MethodByName(name)
	if !ok {
		panic("no activity " + name)
	}
	return m.Type.NumIn() - 2 // the receiver and the context
}

// run runs the workflow to its end and returns its result.
func (h *afterHarness) run(wf any, in any) AfterResult {
	h.t.Helper()
	h.env.ExecuteWorkflow(wf, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError(), "activities run: %v", h.calls)
	var r AfterResult
	require.NoError(h.t, h.env.GetWorkflowResult(&r))
	return r
}

// continued runs the workflow until it continues as new and decodes the
// next run's input into next.
func (h *afterHarness) continued(wf any, in any, next any) {
	h.t.Helper()
	h.env.ExecuteWorkflow(wf, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(h.t, errors.As(err, &can), "continued as new, not %v; activities run: %v", err, h.calls)
	require.NoError(h.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, next))
}

// names is the calls as strings, leaving out the given activities and the
// cancellation window's count of unassigned seats, which the window's own
// tests follow (cancel_window_test.go).
func (h *afterHarness) names(skip ...string) []string {
	var out []string
	skip = append(skip, "FreeSeats")
	for _, c := range h.calls {
		if !contains(skip, c.Name) {
			out = append(out, c.String())
		}
	}
	return out
}

// times is when each call of an activity began.
func (h *afterHarness) times(name string) []time.Time {
	var out []time.Time
	for _, c := range h.calls {
		if c.Name == name {
			out = append(out, c.At)
		}
	}
	return out
}

// emails is the emails sent, in order.
func (h *afterHarness) emails() []activities.Notice {
	var out []activities.Notice
	for _, c := range h.calls {
		if c.Name == "SendNotice" {
			out = append(out, c.Notice)
		}
	}
	return out
}

// email is the one email of kind; it fails the test unless there is exactly one.
func (h *afterHarness) email(kind string) afterCall {
	h.t.Helper()
	var found []afterCall
	for _, c := range h.calls {
		if c.Name == "SendNotice" && c.Notice.Kind == kind {
			found = append(found, c)
		}
	}
	require.Len(h.t, found, 1, "one %s email in %v", kind, h.names())
	return found[0]
}

func (h *afterHarness) kinds() []string {
	var out []string
	for _, n := range h.emails() {
		out = append(out, n.Kind)
	}
	return out
}

func (h *afterHarness) pay(at time.Duration, p Payment) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalPayment, p) }, at)
}

// update sends an update; a rejection goes to onReject (nil: the test fails).
func (h *afterHarness) update(name string, arg any, onReject func(error)) {
	h.updates++
	if onReject == nil {
		onReject = func(err error) { h.t.Errorf("%s rejected: %v", name, err) }
	}
	h.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, h.updates), &testsuite.TestUpdateCallback{
		OnReject:   onReject,
		OnAccept:   func() {},
		OnComplete: func(any, error) {},
	}, arg)
}

func (h *afterHarness) stage() string {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryStage)
	require.NoError(h.t, err)
	var r AfterResult
	require.NoError(h.t, v.Get(&r))
	return r.Stage
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// final is a refusal retrying cannot fix, as the activities return them.
func final(msg, typ string) error { return temporal.NewNonRetryableApplicationError(msg, typ, nil) }
