package workflows

import (
	"strconv"
	"time"

	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DomainWorkflow adds the customer's own domain to the tenant, emails the
// DNS TXT record to publish, and checks the DNS on a durable schedule (every
// 15 minutes at first, backing off to hourly) until the record is seen or
// 14 days pass. Seen: the tenant verifies the domain and, if asked, makes it
// the default. Never seen: the domain is removed from the tenant and the
// customer told; they may start again. Reminders go out at days 3 and 10.
// Every ChecksPerRun checks the run continues as new, carrying its schedule.
// Verified, the domain's mail records follow (see mailRecords).
func DomainWorkflow(ctx workflow.Context, in DomainInput) (AfterResult, error) {
	r, err := domain(ctx, &in)
	return givenUp(ctx, r, err, func(reason string) (AfterResult, error) {
		cur := ""
		if in.Records != nil {
			// Verified at the tenant: the domain stays, only the checks
			// of its mail records end.
			return recordsEnd(ctx, in, &cur, "an operator ended the checks: "+reason)
		}
		return giveUpDomain(ctx, in, &cur, reason, true)
	})
}

func domain(ctx workflow.Context, in *DomainInput) (AfterResult, error) {
	sc := in.Schedule
	cur := StageCheckingDNS
	if in.Records != nil {
		cur = StageCheckingRecords
	}
	if err := workflow.SetQueryHandler(ctx, QueryStage, func() (AfterResult, error) { return AfterResult{Stage: cur}, nil }); err != nil {
		return AfterResult{}, err
	}
	if in.Records != nil {
		return mailRecords(ctx, in, &cur)
	}
	key := func(kind string) string { return kind + ":" + in.Domain + "#" + itoa(in.Attempt) }
	if in.Started.IsZero() {
		if err := workflow.ExecuteActivity(withTenant(caught(ctx), "Add domain "+in.Domain), a.AddDomain, in.OrderID, in.Domain).Get(ctx, nil); err != nil {
			return giveUpDomain(ctx, *in, &cur, "the tenant API did not add the domain: "+message(err), false)
		}
		in.Started = workflow.Now(ctx)
		if err := notify(ctx, activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainDNS, Key: key(activities.EmailDomainDNS), Domain: in.Domain}); err != nil {
			return AfterResult{}, err
		}
	}
	giveUpAt := in.Started.Add(sc.GiveUpAfter)
	for run := 0; ; run++ {
		var seen bool
		if err := workflow.ExecuteLocalActivity(withDNS(ctx), a.CheckDNS, in.Domain).Get(ctx, &seen); err != nil {
			// A resolver that does not answer is not an answer: check later.
			workflow.GetLogger(ctx).Warn("DNS check failed", "Domain", in.Domain, "Error", err)
		}
		in.Checks++
		if seen {
			err := workflow.ExecuteActivity(withTenant(caught(ctx), "Verify domain "+in.Domain), a.VerifyDomain, in.OrderID, in.Domain).Get(ctx, nil)
			if err == nil {
				stage(ctx, &cur, StageVerified)
				if err := notify(ctx, activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainVerified, Key: key(activities.EmailDomainVerified), Domain: in.Domain}); err != nil {
					return AfterResult{}, err
				}
				// Runs recorded before the mail records were checked end
				// here, as they did.
				if workflow.GetVersion(ctx, "domain-records", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
					return AfterResult{Stage: StageVerified}, nil
				}
				return mailRecords(ctx, in, &cur)
			}
			// The tenant does not see the record yet (its resolvers lag
			// ours): keep checking.
			workflow.GetLogger(ctx).Info("domain not verified yet", "Domain", in.Domain, "Error", err)
		}
		now := workflow.Now(ctx)
		if !now.Before(giveUpAt) {
			return giveUpDomain(ctx, *in, &cur, "the DNS record was not seen within "+days(sc.GiveUpAfter), true)
		}
		sc.remind(ctx, in.Started, now, &in.Reminded, func(nth, day int) activities.Notice {
			return activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainReminder, Key: key(activities.EmailDomainReminder) + "/" + itoa(nth), Domain: in.Domain, Day: day}
		})
		if err := workflow.Sleep(ctx, sc.wait(in.Checks, now, giveUpAt)); err != nil {
			return AfterResult{}, err
		}
		// Continued after the wait, not before it: the next run begins
		// with the check that is due, so none is made twice at the seam.
		if run+1 >= sc.ChecksPerRun {
			return AfterResult{}, workflow.NewContinueAsNewError(ctx, DomainWorkflow, *in)
		}
	}
}

// interval is the wait after the n-th check: First, doubled every
// ChecksPerStep checks, up to Max.
func (sc DomainSchedule) interval(n int) time.Duration {
	d := sc.First
	for i := sc.ChecksPerStep; i <= n && d < sc.Max && sc.ChecksPerStep > 0; i += sc.ChecksPerStep {
		d *= 2
	}
	return min(d, sc.Max)
}

func giveUpDomain(ctx workflow.Context, in DomainInput, cur *string, reason string, tell bool) (AfterResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	if err := workflow.ExecuteActivity(withTenant(ctx, "Remove domain "+in.Domain), a.GiveUpDomain, in.OrderID, in.Domain, reason).Get(ctx, nil); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, cur, StageFailed)
	if tell {
		n := activities.Notice{OrderID: in.OrderID, Kind: activities.EmailDomainFailed, Key: activities.EmailDomainFailed + ":" + in.Domain + "#" + itoa(in.Attempt), Domain: in.Domain, Reason: reason}
		if err := notify(ctx, n); err != nil {
			return AfterResult{}, err
		}
	}
	return AfterResult{Stage: StageFailed, Reason: reason}, nil
}

func withDNS(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(caught(ctx), workflow.LocalActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		Summary:             "Check DNS",
		// One attempt: the schedule is the retry.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
