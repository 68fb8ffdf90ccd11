package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// recordsReady is the mail records' phase whose first check sees them all.
var recordsReady = []string{"FetchDomainRecords(shop-1," + domainName + ")", "SendNotice(domain_records:" + domainName + "#1)",
	"CheckDomainRecords(" + domainName + ")", "DomainRecordsDone(" + domainName + ")", "SendNotice(domain_ready:" + domainName + "#1)"}

// verifiedAtOnce is a domain whose TXT record is seen at the first check.
func verifiedAtOnce(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
	env.OnActivity(a.CheckDNS, mock.Anything, domainName).Return(true, nil)
}

// The records are checked on the TXT phase's schedule, from the
// verification on; once all are seen the domain is ready for mail.
func TestDomainRecordsAllPublishedMakeTheDomainReady(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, verifiedAtOnce, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDomainRecords, mock.Anything, domainName).Return([]string{"MX " + domainName, "CNAME autodiscover." + domainName}, nil).Times(10)
		env.OnActivity(a.CheckDomainRecords, mock.Anything, domainName).Return(nil, errors.New("i/o timeout")).Times(5)
		env.OnActivity(a.CheckDomainRecords, mock.Anything, domainName).Return([]string{"MX " + domainName}, nil).Times(5)
	})
	h.env.RegisterDelayedCallback(func() { require.Equal(t, StageCheckingRecords, h.stage()) }, 3*time.Hour)
	r := h.run(DomainWorkflow, domainIn)
	require.Equal(t, AfterResult{Stage: StageReady}, r)
	checks := h.times("CheckDomainRecords")
	require.Len(t, checks, 21)
	require.Equal(t, afterStart, checks[0], "the first check right after the records email")
	require.Equal(t, append(append(repeat(7, 15*time.Minute), repeat(8, 30*time.Minute)...), repeat(5, time.Hour)...), gaps(checks),
		"the TXT phase's back-off; a failed lookup is not an answer")
	require.Equal(t, []time.Time{checks[20]}, h.times("DomainRecordsDone"))
	require.Equal(t, []string{activities.EmailDomainDNS, activities.EmailDomainVerified, activities.EmailDomainRecords, activities.EmailDomainReady}, h.kinds())
	records := h.email(activities.EmailDomainRecords).Notice
	require.Equal(t, domainName, records.Domain)
	require.Equal(t, afterStart.Add(14*24*time.Hour), records.Until.UTC(), "checked for 14 days from the verification")
	require.Equal(t, []string{StageVerified, StageCheckingRecords, StageReady}, h.stages)
	require.Empty(t, h.times("GiveUpDomain"), "a verified domain is never removed")
}

// An MX record never published: reminders at days 3 and 10 of the
// records' checks, and at 14 days the domain ends records_missing naming
// it, the customer told; it stays at the tenant and the run completes.
func TestDomainRecordsMXNeverPublishedIsReported(t *testing.T) {
	missing := []string{"MX " + domainName}
	h := newAfterHarness(t, StageCheckingDNS, verifiedAtOnce, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDomainRecords, mock.Anything, domainName).Return(missing, nil)
		env.OnActivity(a.DomainRecordsDone, mock.Anything, domainName).Return(missing, nil)
	})
	r := h.run(DomainWorkflow, oneRun(domainIn))
	require.Equal(t, AfterResult{Stage: StageRecordsMissing, Reason: "the mail records were not all seen within 14 days: missing MX " + domainName}, r)
	checks := h.times("CheckDomainRecords")
	require.Equal(t, scheduleFrom(afterStart), checks, "the TXT phase's schedule")
	require.Equal(t, []time.Time{domainGiveUp}, h.times("DomainRecordsDone"))
	require.Empty(t, h.times("GiveUpDomain"), "the domain stays verified at the tenant")

	var reminders []afterCall
	for _, c := range h.calls {
		if c.Name == "SendNotice" && c.Notice.Kind == activities.EmailDomainRecords && c.Notice.Day > 0 {
			reminders = append(reminders, c)
		}
	}
	require.Len(t, reminders, 2)
	for i, day := range []int{3, 10} {
		due := afterStart.Add(time.Duration(day) * 24 * time.Hour)
		require.Equal(t, day, reminders[i].Notice.Day)
		require.False(t, reminders[i].At.Before(due))
		require.Less(t, reminders[i].At.Sub(due), time.Hour, "at the first check on or after day %d", day)
		require.Equal(t, "domain_records:"+domainName+"#1/reminder/"+itoa(i+1), reminders[i].Notice.Key, "once each")
	}
	told := h.email(activities.EmailDomainRecordsMissing)
	require.Equal(t, "MX "+domainName, told.Notice.Reason)
	require.Equal(t, domainGiveUp, told.At)
	require.Equal(t, []string{StageVerified, StageCheckingRecords, StageRecordsMissing}, h.stages)
}

// The records' checks continue as new like the TXT checks, carrying their
// own schedule: the next run neither adds, verifies nor fetches again.
func TestDomainRecordsContinueAsNewInTheirPhase(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, verifiedAtOnce, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDomainRecords, mock.Anything, domainName).Return([]string{"MX " + domainName}, nil)
	})
	var next DomainInput
	h.continued(DomainWorkflow, domainIn, &next)
	require.Len(t, h.times("CheckDomainRecords"), 96, "a run makes at most ChecksPerRun records checks")
	require.NotNil(t, next.Records)
	require.True(t, next.Records.Started.Equal(afterStart))
	require.Equal(t, 96, next.Records.Checks)
	require.Equal(t, 1, next.Records.Reminded, "the day 3 reminder is out")

	hn := newAfterHarness(t, StageCheckingRecords, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CheckDomainRecords, mock.Anything, domainName).Return([]string{"MX " + domainName}, nil).Once()
	})
	hn.env.SetStartTime(h.env.Now())
	hn.env.ExecuteWorkflow(DomainWorkflow, next)
	require.True(t, hn.env.IsWorkflowCompleted())
	require.NoError(t, hn.env.GetWorkflowError())
	var r AfterResult
	require.NoError(t, hn.env.GetWorkflowResult(&r))
	require.Equal(t, StageReady, r.Stage)
	require.Equal(t, []string{"CheckDomainRecords(" + domainName + ")", "CheckDomainRecords(" + domainName + ")",
		"DomainRecordsDone(" + domainName + ")", "SendNotice(domain_ready:" + domainName + "#1)"}, hn.names())
}

// An operator who resolves a parked step of the records' phase ends the
// checks; the verified domain is not removed.
func TestDomainRecordsResolvedByAnOperatorEndMissingNotRemoved(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, verifiedAtOnce, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.FetchDomainRecords, mock.Anything, afterOrder, domainName).Return(false, final("500", ErrTenantAPI))
		env.OnActivity(a.DomainRecordsDone, mock.Anything, domainName).Return([]string{"MX " + domainName}, nil)
	})
	h.env.RegisterDelayedCallback(func() {
		require.Equal(t, StageNeedsAttention, h.stages[len(h.stages)-1])
		h.update(UpdateResolve, Decision{Actor: "ops@example.com", Reason: "the tenant has no records for it"}, nil)
	}, time.Hour)
	r := h.run(DomainWorkflow, domainIn)
	require.Equal(t, StageRecordsMissing, r.Stage)
	require.Contains(t, r.Reason, "an operator ended the checks")
	require.Empty(t, h.times("GiveUpDomain"))
	require.Equal(t, "MX "+domainName, h.email(activities.EmailDomainRecordsMissing).Notice.Reason)
}

// A plan without a mailbox (Apps for business) has no mail records: the
// domain ends verified, with no records emailed or checked, so its MX keeps
// pointing where the customer's mail already goes.
func TestDomainOfAPlanWithoutMailboxEndsVerified(t *testing.T) {
	h := newAfterHarness(t, StageCheckingDNS, verifiedAtOnce, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.FetchDomainRecords, mock.Anything, afterOrder, domainName).Return(false, nil)
	})
	r := h.run(DomainWorkflow, domainIn)
	require.Equal(t, AfterResult{Stage: StageVerified}, r)
	require.Empty(t, h.times("CheckDomainRecords"))
	require.Equal(t, []string{activities.EmailDomainDNS, activities.EmailDomainVerified}, h.kinds())
	require.Equal(t, []string{StageVerified}, h.stages)
}
