package workflows

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

// ksefHarness runs the KSeF workflow of one document as the stack starts
// it (Stage "sending"), with the attention interceptor, and records each
// activity attempt (SendKSeF with online/offline), when it began, and each
// value the Stage attribute took. Activities are mocked by each test.
type ksefHarness struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	a      *activities.Activities
	start  time.Time
	calls  []ksefCall
	stages []string
}

type ksefCall struct {
	Name string // SendKSeF as SendKSeF(online) or SendKSeF(offline)
	At   time.Duration
	Note string // NoteKSeF's reason
}

const (
	ksefDoc    = int64(7)
	ksefNumber = "5265877635-20270110-0100001A2B3C-4D"
)

var ksefIn = KSeFInput{DocumentID: ksefDoc, OrderID: afterOrder, OnlineFor: time.Minute}

func newKSeFHarness(t *testing.T) *ksefHarness {
	var s testsuite.WorkflowTestSuite
	h := &ksefHarness{t: t, env: s.NewTestWorkflowEnvironment(), start: afterStart}
	h.env.SetStartTime(afterStart)
	h.env.SetWorkerOptions(worker.Options{Interceptors: Interceptors()})
	h.env.RegisterWorkflow(KSeFWorkflow)
	h.env.RegisterActivity(h.a)
	require.NoError(t, h.env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		OrderIDKey.ValueSet(afterOrder), StageKey.ValueSet(StageKSeFSending))))
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(StageKey); ok {
			h.stages = append(h.stages, v)
		}
	}).Return(nil).Maybe()
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		c := ksefCall{Name: info.ActivityType.Name, At: h.since()}
		var id int64
		if c.Name == "SendKSeF" {
			var offline bool
			require.NoError(t, args.Get(&id, &offline))
			c.Name = map[bool]string{false: "SendKSeF(online)", true: "SendKSeF(offline)"}[offline]
		} else {
			require.NoError(t, args.Get(&id))
		}
		require.Equal(t, ksefDoc, id, "%s is called for the workflow's document", c.Name)
		h.calls = append(h.calls, c)
	})
	h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, args []any) {
		c := ksefCall{Name: info.ActivityType.Name, At: h.since()}
		require.Equal(t, ksefDoc, args[0])
		if len(args) > 1 {
			c.Note, _ = args[1].(string)
		}
		h.calls = append(h.calls, c)
	})
	return h
}

// since is the workflow time since the run began.
func (h *ksefHarness) since() time.Duration { return h.env.Now().Sub(h.start) }

// run runs the workflow to its end: it must end without failing.
func (h *ksefHarness) run(in KSeFInput) KSeFState {
	h.t.Helper()
	h.env.ExecuteWorkflow(KSeFWorkflow, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError(), "no KSeF run ends FAILED; activities run: %v", h.names())
	var st KSeFState
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	h.env.AssertExpectations(h.t)
	return st
}

// names is the activities run, each run of attempts of one collapsed to one.
func (h *ksefHarness) names() []string {
	var out []string
	for _, c := range h.calls {
		if len(out) == 0 || out[len(out)-1] != c.Name {
			out = append(out, c.Name)
		}
	}
	return out
}

// of is every attempt of one activity.
func (h *ksefHarness) of(name string) []ksefCall {
	var out []ksefCall
	for _, c := range h.calls {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

func (h *ksefHarness) query() KSeFState {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryKSeF)
	require.NoError(h.t, err)
	var st KSeFState
	require.NoError(h.t, v.Get(&st))
	return st
}

// resend sends the operator's resend; accepted tells whether the
// validator let it in.
func (h *ksefHarness) resend(id string, d Decision, accepted func(bool, error)) {
	h.env.UpdateWorkflow(UpdateResend, id, &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { accepted(false, err) },
		OnAccept:   func() { accepted(true, nil) },
		OnComplete: func(_ any, err error) { require.NoError(h.t, err, "resend %s", id) },
	}, d)
}

var ksefOperator = Decision{Actor: "ops@example.com", Reason: "buyer's NIP corrected"}

func ksefAccepted() activities.KSeFResult {
	return activities.KSeFResult{Status: store.KSeFAccepted, KSeFNumber: ksefNumber}
}

func ksefUnreachable() error {
	return temporal.NewApplicationError("KSeF answered 503 Service Unavailable", fail.KSeFUnavailable)
}

// KSeF takes the document at once: it is numbered, the customer is
// emailed once, and it is never issued offline.
func TestKSeFAcceptedOnTheFirstSend(t *testing.T) {
	h := newKSeFHarness(t)
	m := mock.Anything
	h.env.OnActivity(h.a.PrepareKSeF, m, ksefDoc).Return(nil).Once()
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, false).Return(ksefAccepted(), nil).Once()
	h.env.OnActivity(h.a.SendKSeFEmail, m, ksefDoc).Return(nil).Once()

	st := h.run(ksefIn)
	require.Equal(t, KSeFState{Status: store.KSeFAccepted, KSeFNumber: ksefNumber, Emailed: true}, st)
	require.Equal(t, []string{"PrepareKSeF", "SendKSeF(online)", "SendKSeFEmail"}, h.names(), "never GoOffline, one email")
	require.Len(t, h.of("SendKSeFEmail"), 1)
	require.Equal(t, []string{StageKSeFAccepted}, h.stages)
}

// KSeF unreachable for OnlineFor: the document is issued offline and the
// customer emailed at once; the offline send goes on until KSeF answers,
// and its acceptance sends no second email.
func TestKSeFUnreachableGoesOfflineAndEmailsOnce(t *testing.T) {
	h := newKSeFHarness(t)
	m := mock.Anything
	deadline := afterStart.Add(36 * time.Hour)
	h.env.OnActivity(h.a.PrepareKSeF, m, ksefDoc).Return(nil).Once()
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, false).Return(activities.KSeFResult{}, ksefUnreachable())
	h.env.OnActivity(h.a.GoOffline, m, ksefDoc).Return(activities.KSeFResult{Status: store.KSeFOffline, Deadline: deadline}, nil).Once()
	h.env.OnActivity(h.a.SendKSeFEmail, m, ksefDoc).Return(nil).Once()
	// KSeF answers an hour later.
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, true).After(time.Hour).Return(ksefAccepted(), nil).Once()

	queried := false
	h.env.RegisterDelayedCallback(func() {
		queried = true
		st := h.query()
		require.Equal(t, store.KSeFOffline, st.Status)
		require.True(t, deadline.Equal(st.Deadline), "deadline %v, want %v", st.Deadline, deadline)
		require.True(t, st.Emailed, "the customer has it, with its offline codes")
		require.Contains(t, st.Reason, "KSeF unreachable")
		require.Contains(t, st.Reason, "503")
		require.Empty(t, st.KSeFNumber)
		require.Equal(t, []string{StageKSeFOffline}, h.stages)
	}, 30*time.Minute)

	st := h.run(ksefIn)
	require.True(t, queried, "queried while offline")
	require.Equal(t, store.KSeFAccepted, st.Status)
	require.Equal(t, ksefNumber, st.KSeFNumber)
	require.True(t, st.Emailed)
	require.Empty(t, st.Reason)
	require.Equal(t, []string{"PrepareKSeF", "SendKSeF(online)", "GoOffline", "SendKSeFEmail", "SendKSeF(offline)"}, h.names())
	require.Len(t, h.of("SendKSeFEmail"), 1, "no second email once accepted")
	require.Empty(t, h.of("NoteKSeF"), "accepted long before the alert")

	online, off := h.of("SendKSeF(online)"), h.of("GoOffline")[0]
	require.GreaterOrEqual(t, len(online), 2, "the online send is retried while KSeF is down")
	require.LessOrEqual(t, off.At, ksefIn.OnlineFor, "offline once OnlineFor is used up, not later")
	require.Equal(t, off.At, h.of("SendKSeFEmail")[0].At, "emailed right after going offline")
	require.LessOrEqual(t, h.of("SendKSeFEmail")[0].At, h.of("SendKSeF(offline)")[0].At)
	require.Equal(t, []string{StageKSeFOffline, StageKSeFAccepted}, h.stages)
}

// An offline document still not in KSeF AlertBefore its deadline alerts
// an operator (Stage needs_attention, the reason noted once), and is sent
// when KSeF answers.
func TestKSeFOfflineDeadlineAlertsAnOperator(t *testing.T) {
	h := newKSeFHarness(t)
	m := mock.Anything
	in := ksefIn
	deadline := afterStart.Add(2 * time.Hour)
	in.AlertBefore = 2*time.Hour - 2*time.Minute // the alert: 2 minutes into the run
	alertAt := deadline.Add(-in.AlertBefore).Sub(afterStart)
	backAt := 3 * time.Minute // KSeF answers after the alert

	h.env.OnActivity(h.a.PrepareKSeF, m, ksefDoc).Return(nil).Once()
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, false).Return(activities.KSeFResult{}, ksefUnreachable())
	h.env.OnActivity(h.a.GoOffline, m, ksefDoc).Return(activities.KSeFResult{Status: store.KSeFOffline, Deadline: deadline}, nil).Once()
	h.env.OnActivity(h.a.SendKSeFEmail, m, ksefDoc).Return(nil).Once()
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, true).Return(func(context.Context, int64, bool) (activities.KSeFResult, error) {
		if h.since() < backAt {
			return activities.KSeFResult{}, ksefUnreachable()
		}
		return ksefAccepted(), nil
	})
	h.env.OnActivity(h.a.NoteKSeF, m, ksefDoc, m).Return(nil).Once()

	queried := false
	h.env.RegisterDelayedCallback(func() {
		queried = true
		st := h.query()
		require.Equal(t, store.KSeFOffline, st.Status)
		require.Contains(t, st.Reason, "not yet sent")
		require.Contains(t, st.Reason, deadline.Format(time.RFC3339))
		require.Equal(t, []string{StageKSeFOffline, StageNeedsAttention}, h.stages)
	}, alertAt+10*time.Second)

	st := h.run(in)
	require.True(t, queried, "queried after the alert")
	require.Equal(t, store.KSeFAccepted, st.Status)
	require.Equal(t, ksefNumber, st.KSeFNumber)
	require.Empty(t, st.Reason)
	notes := h.of("NoteKSeF")
	require.Len(t, notes, 1, "the operator is alerted once")
	require.Equal(t, alertAt, notes[0].At, "AlertBefore the deadline")
	require.Contains(t, notes[0].Note, deadline.Format(time.RFC3339))
	offline := h.of("SendKSeF(offline)")
	require.Less(t, offline[0].At, alertAt, "offline sends before the alert")
	require.GreaterOrEqual(t, offline[len(offline)-1].At, backAt, "and after it, until KSeF answers")
	require.Len(t, h.of("SendKSeFEmail"), 1)
	require.Equal(t, []string{StageKSeFOffline, StageNeedsAttention, StageKSeFAccepted}, h.stages)
}

// A rejection waits with KSeF's reason for the operator's resend, which is
// refused unless the document is rejected; the resent document is
// accepted and emailed once.
func TestKSeFRejectionWaitsForTheOperatorsResend(t *testing.T) {
	h := newKSeFHarness(t)
	m := mock.Anything
	reason := "Błąd weryfikacji semantyki dokumentu faktury: nieprawidłowy NIP nabywcy"
	h.env.OnActivity(h.a.PrepareKSeF, m, ksefDoc).After(30 * time.Second).Return(nil).Once()
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, false).
		Return(activities.KSeFResult{}, temporal.NewNonRetryableApplicationError(reason, fail.KSeFRejected, nil)).Once()
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, false).Return(ksefAccepted(), nil).Once()
	h.env.OnActivity(h.a.SendKSeFEmail, m, ksefDoc).Return(nil).Once()

	var early, anonymous, late error
	var earlyDone, rejectedSeen, resent bool
	h.env.RegisterDelayedCallback(func() { // the XML still being built
		require.Equal(t, store.KSeFPending, h.query().Status)
		h.resend("early", ksefOperator, func(ok bool, err error) {
			earlyDone = true
			require.False(t, ok, "a pending document is not resent")
			early = err
		})
	}, 10*time.Second)
	h.env.RegisterDelayedCallback(func() {
		st := h.query()
		require.Equal(t, KSeFState{Status: store.KSeFRejected, Reason: reason}, st)
		require.Equal(t, []string{StageNeedsAttention}, h.stages, "listed for an operator")
		require.Len(t, h.of("SendKSeF(online)"), 1, "waits: not sent again on its own")
		rejectedSeen = true
		h.resend("anonymous", Decision{Reason: "fixed"}, func(ok bool, err error) {
			require.False(t, ok, "a resend names its operator")
			anonymous = err
		})
		h.resend("fixed", ksefOperator, func(ok bool, err error) {
			require.True(t, ok, "a rejected document is resent: %v", err)
			resent = true
		})
		// A second one is refused (the resent document is no longer
		// rejected, or its resend is already taken).
		h.resend("twice", ksefOperator, func(ok bool, err error) {
			require.False(t, ok, "one resend per rejection")
			late = err
		})
	}, 24*time.Hour)

	st := h.run(ksefIn)
	require.True(t, earlyDone && rejectedSeen && resent)
	require.Error(t, early)
	require.Contains(t, early.Error(), "only a rejected document is resent")
	require.Contains(t, early.Error(), store.KSeFPending)
	require.Error(t, anonymous)
	require.Contains(t, anonymous.Error(), "Actor")
	require.Error(t, late)
	require.Equal(t, KSeFState{Status: store.KSeFAccepted, KSeFNumber: ksefNumber, Emailed: true}, st)
	sends := h.of("SendKSeF(online)")
	require.Len(t, sends, 2)
	require.GreaterOrEqual(t, sends[1].At, 24*time.Hour, "sent again at the resend, not before")
	require.Equal(t, []string{"PrepareKSeF", "SendKSeF(online)", "SendKSeFEmail"}, h.names())
	require.Len(t, h.of("SendKSeFEmail"), 1)
	require.Empty(t, h.of("GoOffline"))
	require.Equal(t, []string{StageNeedsAttention, StageKSeFSending, StageKSeFAccepted}, h.stages)
}

// parkedPrepare makes PrepareKSeF fail for good the first time (an
// invoice FA(3) cannot be built from) and work after the operator's fix,
// and checks, a day in, that the run waits for the operator instead of
// failing: Stage needs_attention, the attention query naming the step.
func parkedPrepare(t *testing.T, h *ksefHarness, answer func()) *int {
	attempts := 0
	m := mock.Anything
	h.env.OnActivity(h.a.PrepareKSeF, m, ksefDoc).Return(func(context.Context, int64) error {
		attempts++
		if attempts == 1 {
			return temporal.NewNonRetryableApplicationError("the buyer has neither NIP nor address", fail.InvalidOrder, nil)
		}
		return nil
	})
	h.env.RegisterDelayedCallback(func() {
		require.False(t, h.env.IsWorkflowCompleted(), "parked, not ended")
		v, err := h.env.QueryWorkflow(QueryAttention)
		require.NoError(t, err)
		var a *Attention
		require.NoError(t, v.Get(&a))
		require.NotNil(t, a, "parked at PrepareKSeF")
		require.Equal(t, "PrepareKSeF (Build the FA(3) XML)", a.Step)
		require.Contains(t, a.Reason, "neither NIP nor address")
		require.Equal(t, []string{StageNeedsAttention}, h.stages)
		require.Equal(t, store.KSeFPending, h.query().Status)
		require.Equal(t, 1, attempts, "an InvalidOrder is not retried")
		answer()
	}, 24*time.Hour)
	return &attempts
}

func (h *ksefHarness) decide(action string, d Decision) {
	h.env.UpdateWorkflow(action, action+"-1", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { h.t.Errorf("%s refused: %v", action, err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
	}, d)
}

// A document whose XML cannot be built does not end the run FAILED: it
// waits for an operator, and their retry after the fix sends it.
func TestKSeFPrepareFailingForGoodParksUntilRetried(t *testing.T) {
	h := newKSeFHarness(t)
	m := mock.Anything
	attempts := parkedPrepare(t, h, func() {
		h.decide(UpdateRetry, Decision{Actor: "ops@example.com", Reason: "buyer's NIP added"})
	})
	h.env.OnActivity(h.a.SendKSeF, m, ksefDoc, false).Return(ksefAccepted(), nil).Once()
	h.env.OnActivity(h.a.SendKSeFEmail, m, ksefDoc).Return(nil).Once()

	st := h.run(ksefIn)
	require.Equal(t, 2, *attempts)
	require.Equal(t, KSeFState{Status: store.KSeFAccepted, KSeFNumber: ksefNumber, Emailed: true}, st)
	require.GreaterOrEqual(t, h.of("SendKSeF(online)")[0].At, 24*time.Hour, "sent only after the retry")
	require.Equal(t, []string{StageNeedsAttention, StageKSeFSending, StageKSeFAccepted}, h.stages)
}

// Given up by the operator, the run ends (not FAILED) with nothing sent
// and why in its state.
func TestKSeFPrepareFailingForGoodEndsWhenResolved(t *testing.T) {
	h := newKSeFHarness(t)
	parkedPrepare(t, h, func() {
		h.decide(UpdateResolve, Decision{Actor: "ops@example.com", Reason: "issued on paper"})
	})

	st := h.run(ksefIn)
	require.Equal(t, store.KSeFPending, st.Status)
	require.Contains(t, st.Reason, "given up by ops@example.com: issued on paper")
	require.False(t, st.Emailed)
	require.Equal(t, []string{"PrepareKSeF"}, h.names(), "nothing sent, no email")
	require.Equal(t, StageNeedsAttention, h.stages[0])
	require.NotContains(t, h.stages, StageKSeFAccepted, fmt.Sprint(h.stages))
}
