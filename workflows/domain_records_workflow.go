package workflows

import (
	"strings"
	"time"

	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// mailRecords is the domain's second phase, once verified: the tenant's
// mail records (MX, autodiscover CNAME, SPF) are kept and emailed, and the
// DNS is checked for all of them on the TXT phase's schedule, with its
// reminders, from the verification on. All seen: ready for mail. Some not
// seen when the checks end: records_missing, the customer told which; the
// domain stays verified (users may live in it), so nothing is undone.
func mailRecords(ctx workflow.Context, in *DomainInput, cur *string) (AfterResult, error) {
	sc := in.Schedule
	key := func(kind string) string { return kind + ":" + in.Domain + "#" + itoa(in.Attempt) }
	if in.Records == nil {
		in.Records = &RecordsPhase{Started: workflow.Now(ctx)}
		// Not caught: a tenant that never gives the records parks the run
		// for an operator rather than reporting records it never had.
		var forMail bool
		if err := workflow.ExecuteActivity(withTenant(ctx, "Fetch mail records of "+in.Domain), a.FetchDomainRecords, in.OrderID, in.Domain).Get(ctx, &forMail); err != nil {
			return AfterResult{}, err
		}
		if !forMail {
			// A plan without a mailbox: verified is as far as it goes.
			return AfterResult{Stage: StageVerified}, nil
		}
		stage(ctx, cur, StageCheckingRecords)
		n := activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainRecords, Key: key(activities.EmailDomainRecords), Domain: in.Domain,
			Until: in.Records.Started.Add(sc.GiveUpAfter)}
		if err := notify(ctx, n); err != nil {
			return AfterResult{}, err
		}
	}
	rp := in.Records
	giveUpAt := rp.Started.Add(sc.GiveUpAfter)
	for run := 0; ; run++ {
		var missing []string
		err := workflow.ExecuteLocalActivity(withRecordsDNS(ctx), a.CheckDomainRecords, in.Domain).Get(ctx, &missing)
		if err != nil {
			// A resolver that does not answer is not an answer: check later.
			workflow.GetLogger(ctx).Warn("mail records check failed", "Domain", in.Domain, "Error", err)
		}
		rp.Checks++
		if err == nil && len(missing) == 0 {
			return recordsEnd(ctx, *in, cur, "")
		}
		now := workflow.Now(ctx)
		if !now.Before(giveUpAt) {
			return recordsEnd(ctx, *in, cur, "the mail records were not all seen within "+days(sc.GiveUpAfter))
		}
		sc.remind(ctx, rp.Started, now, &rp.Reminded, func(nth, day int) activities.Notice {
			return activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainRecords, Key: key(activities.EmailDomainRecords) + "/reminder/" + itoa(nth),
				Domain: in.Domain, Day: day, Until: giveUpAt}
		})
		if err := workflow.Sleep(ctx, sc.wait(rp.Checks, now, giveUpAt)); err != nil {
			return AfterResult{}, err
		}
		// As in the TXT phase: continued after the wait, so the next run
		// begins with the check that is due.
		if run+1 >= sc.ChecksPerRun {
			return AfterResult{}, workflow.NewContinueAsNewError(ctx, DomainWorkflow, *in)
		}
	}
}

// recordsEnd records how the mail records' checks ended, as the last check
// the database holds saw them: all published is ready for mail; otherwise
// records_missing, the customer told which are missing. reason says why the
// checks end when some may be missing ("" after a check that saw them all).
func recordsEnd(ctx workflow.Context, in DomainInput, cur *string, reason string) (AfterResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	var missing []string
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Mail records of "+in.Domain+" checked"), a.DomainRecordsDone, in.Domain).Get(ctx, &missing); err != nil {
		return AfterResult{}, err
	}
	key := func(kind string) string { return kind + ":" + in.Domain + "#" + itoa(in.Attempt) }
	if len(missing) == 0 {
		stage(ctx, cur, StageReady)
		if err := notify(ctx, activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainReady, Key: key(activities.EmailDomainReady), Domain: in.Domain}); err != nil {
			return AfterResult{}, err
		}
		return AfterResult{Stage: StageReady}, nil
	}
	stage(ctx, cur, StageRecordsMissing)
	list := strings.Join(missing, ", ")
	if reason == "" {
		reason = "mail records missing"
	}
	var until time.Time
	if in.Records != nil {
		until = in.Records.Started.Add(in.Schedule.GiveUpAfter)
	}
	n := activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainRecordsMissing, Key: key(activities.EmailDomainRecordsMissing), Domain: in.Domain,
		Reason: list, Until: until}
	if err := notify(ctx, n); err != nil {
		return AfterResult{}, err
	}
	return AfterResult{Stage: StageRecordsMissing, Reason: reason + ": missing " + list}, nil
}

// withRecordsDNS is withDNS for the records check, which makes a lookup
// per record (each bounded by the checker's timeout).
func withRecordsDNS(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(caught(ctx), workflow.LocalActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             "Check mail records",
		// One attempt: the schedule is the retry.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

// remind sends the reminders whose day has come since started, counting
// them in reminded (carried across runs); a reminder that cannot be sent
// does not stop the checks.
func (sc DomainSchedule) remind(ctx workflow.Context, started, now time.Time, reminded *int, notice func(nth, day int) activities.Notice) {
	for *reminded < len(sc.Reminders) && !now.Before(started.Add(sc.Reminders[*reminded])) {
		day := int(sc.Reminders[*reminded] / (24 * time.Hour))
		*reminded++
		n := notice(*reminded, day)
		if err := notify(caught(ctx), n); err != nil {
			workflow.GetLogger(ctx).Warn("domain reminder not sent", "Kind", n.Kind, "Domain", n.Domain, "Error", err)
		}
	}
}

// wait is how long until the next check: the schedule's interval, never
// past the moment the checks give up.
func (sc DomainSchedule) wait(checks int, now, giveUpAt time.Time) time.Duration {
	return min(sc.interval(checks), giveUpAt.Sub(now))
}
