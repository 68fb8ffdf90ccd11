package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

const domainName = "acme.pl"

var (
	domainIn     = DomainInput{OrderID: afterOrder, Domain: domainName, Attempt: 1, MakeDefault: true, Schedule: DefaultDomainSchedule}
	domainGiveUp = afterStart.Add(14 * 24 * time.Hour)
	domainAdded  = []string{"AddDomain(shop-1," + domainName + ")", "SendNotice(domain_dns:" + domainName + "#1)"}
)

// oneRun is the default schedule in a single run.
func oneRun(in DomainInput) DomainInput {
	in.Schedule.ChecksPerRun = 1 << 20
	return in
}

// gaps are the waits between consecutive times.
func gaps(at []time.Time) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(at); i++ {
		out = append(out, at[i].Sub(at[i-1]))
	}
	return out
}

// repeat is n times d.
func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// scheduleFrom is when the default schedule checks: 8 checks 15 minutes
// apart (the first at once), 8 more 30 minutes apart, then hourly, the
// last exactly when the 14 days are up.
func scheduleFrom(start time.Time) []time.Time {
	at := []time.Time{start}
	for n := 1; ; n++ {
		wait := time.Hour
		switch {
		case n < 8:
			wait = 15 * time.Minute
		case n < 16:
			wait = 30 * time.Minute
		}
		next := at[len(at)-1].Add(wait)
		if !next.Before(domainGiveUp) {
			return append(at, domainGiveUp)
		}
		at = append(at, next)
	}
}

func TestDomainSeenAtTheFirstCheckIsVerified(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(true, nil)
	})
	r := h.run(DomainWorkflow, domainIn)
	require.Equal(t, AfterResult{Stage: StageReady}, r, "verified, then its mail records seen at once")
	require.Equal(t, join(domainAdded, []string{"CheckDNS(" + domainName + ")", "VerifyDomain(shop-1," + domainName + ")",
		"SendNotice(domain_verified:" + domainName + "#1)"}, recordsReady), h.names())
	for _, n := range h.emails() {
		require.Equal(t, domainName, n.Domain, "the email reads the domain and its TXT record")
	}
	require.Equal(t, []string{StageVerified, StageCheckingRecords, StageReady}, h.stages)
	require.Equal(t, afterStart, h.env.Now().UTC())
}

// The DNS is checked every 15 minutes at first, backing off to hourly.
func TestDomainSeenLaterFollowsTheBackoff(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(false, nil).Times(20)
		env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(true, nil)
	})
	h.env.RegisterDelayedCallback(func() { require.Equal(t, StageCheckingDNS, h.stage()) }, 3*time.Hour)
	r := h.run(DomainWorkflow, domainIn)
	require.Equal(t, StageReady, r.Stage)
	checks := h.times("CheckDNS")
	require.Len(t, checks, 21)
	require.Equal(t, afterStart, checks[0], "the first check right after the DNS email")
	require.Equal(t, append(append(repeat(7, 15*time.Minute), repeat(8, 30*time.Minute)...), repeat(5, time.Hour)...), gaps(checks))
	require.Equal(t, []time.Time{checks[20]}, h.times("VerifyDomain"))
	require.Equal(t, []string{activities.EmailDomainDNS, activities.EmailDomainVerified, activities.EmailDomainRecords, activities.EmailDomainReady}, h.kinds(), "no reminder before day 3")
}

// The tenant's resolvers may lag ours: a refused verification is tried
// again at the next check, as is a check whose resolver did not answer.
func TestDomainVerificationRefusedOnceSucceedsLater(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(false, errors.New("i/o timeout")).Once()
		env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(true, nil)
		env.OnActivity(a.VerifyDomain, mock.Anything, afterOrder, domainName).Return(
			final("400 Bad Request: DomainVerificationFailed", ErrTenantAPI)).Once()
	})
	r := h.run(DomainWorkflow, domainIn)
	require.Equal(t, StageReady, r.Stage)
	check, verify := "CheckDNS("+domainName+")", "VerifyDomain(shop-1,"+domainName+")"
	require.Equal(t, join(domainAdded, []string{check, check, verify, check, verify, "SendNotice(domain_verified:" + domainName + "#1)"}, recordsReady), h.names())
	require.Equal(t, []time.Time{afterStart, afterStart.Add(15 * time.Minute), afterStart.Add(30 * time.Minute)}, h.times("CheckDNS"))
	require.Equal(t, []time.Time{afterStart.Add(15 * time.Minute), afterStart.Add(30 * time.Minute)}, h.times("VerifyDomain"))
}

// Never seen: reminders on days 3 and 10, once each, at the first check
// on or after the day; at 14 days the domain is removed and the customer told.
func TestDomainNeverSeenRemindsThenGivesUp(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS)
	r := h.run(DomainWorkflow, oneRun(domainIn))
	reason := "the DNS record was not seen within 14 days"
	require.Equal(t, AfterResult{Stage: StageFailed, Reason: reason}, r)
	checks := h.times("CheckDNS")
	require.Equal(t, scheduleFrom(afterStart), checks)
	require.Len(t, checks, 347)
	require.Equal(t, domainGiveUp, checks[len(checks)-1], "the last check when the 14 days are up")
	requireReminders(t, h.calls, checks)
	names := h.names("CheckDNS")
	require.Equal(t, join(domainAdded, []string{
		"SendNotice(domain_reminder:" + domainName + "#1/1)", "SendNotice(domain_reminder:" + domainName + "#1/2)",
		"GiveUpDomain(shop-1," + domainName + "," + reason + ")", "SendNotice(domain_failed:" + domainName + "#1)"}), names)
	require.Equal(t, []time.Time{domainGiveUp}, h.times("GiveUpDomain"))
	require.Equal(t, reason, h.email(activities.EmailDomainFailed).Notice.Reason)
	require.Equal(t, []string{StageFailed}, h.stages)
}

// requireReminders checks the day 3 and day 10 reminders: one each, sent
// right after the first check on or after the day.
func requireReminders(t *testing.T, calls []afterCall, checks []time.Time) {
	t.Helper()
	var sent []afterCall
	for _, c := range calls {
		if c.Name == "SendNotice" && c.Notice.Kind == activities.EmailDomainReminder {
			sent = append(sent, c)
		}
	}
	require.Len(t, sent, 2)
	for i, day := range []int{3, 10} {
		due := afterStart.Add(time.Duration(day) * 24 * time.Hour)
		first := checks[0]
		for _, c := range checks {
			if !c.Before(due) {
				first = c
				break
			}
		}
		require.Equal(t, day, sent[i].Notice.Day)
		require.Equal(t, domainName, sent[i].Notice.Domain)
		require.Equal(t, first, sent[i].At, "day %d reminder", day)
		require.Less(t, first.Sub(due), time.Hour)
	}
}

// Each run makes at most ChecksPerRun checks, then continues as new with
// what it knows; across the runs the schedule is the one of a single run.
func TestDomainContinuesAsNewAfterChecksPerRun(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS)
	var next DomainInput
	h.continued(DomainWorkflow, domainIn, &next)
	first := h.times("CheckDNS")
	require.Len(t, first, 96)
	want := domainIn
	want.Checks, want.Reminded, want.Started = 96, 1, afterStart
	require.True(t, next.Started.Equal(afterStart))
	next.Started = afterStart
	require.Equal(t, want, next, "the day 3 reminder is out (check 96 is at day 3 + 13h45m)")

	calls := h.calls
	runs := 1
	var r AfterResult
	for in := next; ; {
		runs++
		require.Less(t, runs, 10)
		hn := newAfterHarness(t, StageCheckingDNS)
		hn.env.SetStartTime(h.env.Now())
		hn.env.ExecuteWorkflow(DomainWorkflow, in)
		require.True(t, hn.env.IsWorkflowCompleted())
		calls = append(calls, hn.calls...)
		var can *workflow.ContinueAsNewError
		if err := hn.env.GetWorkflowError(); errors.As(err, &can) {
			require.Len(t, hn.times("CheckDNS"), 96)
			require.Empty(t, filter(hn.names(), "AddDomain"), "added once")
			in = DomainInput{}
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
			require.Equal(t, 96*runs, in.Checks)
			h = hn
			continue
		}
		require.NoError(t, hn.env.GetWorkflowError())
		require.NoError(t, hn.env.GetWorkflowResult(&r))
		break
	}
	require.Equal(t, 4, runs, "347 checks: 96 + 96 + 96 + 59")
	require.Equal(t, StageFailed, r.Stage)
	all := &afterHarness{t: t, calls: calls}
	checks := all.times("CheckDNS")
	require.NotContains(t, gaps(checks), time.Duration(0), "no check twice at a seam")
	require.Equal(t, scheduleFrom(afterStart), checks, "the schedule of a single run")
	requireReminders(t, calls, checks)
	require.Equal(t, []string{activities.EmailDomainDNS, activities.EmailDomainReminder, activities.EmailDomainReminder,
		activities.EmailDomainFailed}, all.kinds())
	require.Equal(t, []time.Time{domainGiveUp}, all.times("GiveUpDomain"))
}

// A domain the tenant will not take is given up at once; the customer
// hears it from the request's answer, not by email.
func TestDomainRefusedByTheTenantIsGivenUpQuietly(t *testing.T) {
	msg := "409 Conflict: DomainTaken"
	h := newAfterHarness(t, StageCheckingDNS, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.AddDomain, mock.Anything, afterOrder, domainName).Return(final(msg, ErrDomainTaken))
	})
	r := h.run(DomainWorkflow, domainIn)
	reason := "the tenant API did not add the domain: " + msg
	require.Equal(t, AfterResult{Stage: StageFailed, Reason: reason}, r)
	require.Equal(t, []string{"AddDomain(shop-1," + domainName + ")", "GiveUpDomain(shop-1," + domainName + "," + reason + ")"}, h.names())
	require.Empty(t, h.emails())
	require.Equal(t, []string{StageFailed}, h.stages)
}

// A reminder that cannot be sent does not stop the checks.
func TestDomainReminderThatFailsIsSkipped(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.SendNotice, mock.Anything, mock.MatchedBy(func(n activities.Notice) bool {
			return n.Kind == activities.EmailDomainReminder
		})).Return(final("no such domain", ErrInvalidOrder))
		env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(false, nil).Times(90) // past day 3
		env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(true, nil)
	})
	r := h.run(DomainWorkflow, oneRun(domainIn))
	require.Equal(t, StageReady, r.Stage)
	require.Equal(t, []string{activities.EmailDomainDNS, activities.EmailDomainReminder, activities.EmailDomainVerified,
		activities.EmailDomainRecords, activities.EmailDomainReady}, h.kinds())
}
