package workflows

import (
	"errors"
	"strings"
	"time"

	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/workflow"
)

// SubscriptionWorkflow runs one billing period of a provisioned order; the
// next period is the same workflow continued as new, so the history of
// each run stays small however long the customer stays.
//
// Some days before the period ends, a renewal pro-forma goes out and the
// subscription is renewal_due. Paid (within the grace period after the end)
// it is active for the next period. Not paid: suspended at the tenant, and a
// later payment reactivates it; 30 days after suspension it is terminated
// and the unpaid pro-forma corrected to zero. A customer's cancellation ends
// it when the paid period ends.
func SubscriptionWorkflow(ctx workflow.Context, in SubscriptionInput) (AfterResult, error) {
	// Given up, a period ends as it stands: the operator settles it by hand.
	r, err := subscriptionPeriod(ctx, in)
	return givenUp(ctx, r, err, nil)
}

func subscriptionPeriod(ctx workflow.Context, in SubscriptionInput) (AfterResult, error) {
	defer drainSignals(ctx)
	s := &subscription{in: in, cancel: in.Cancel, wake: workflow.NewBufferedChannel(ctx, 1)}
	if attrs := workflow.GetTypedSearchAttributes(ctx); attrs.Size() > 0 {
		s.stage, _ = attrs.GetKeyword(StageKey)
	}
	if err := s.register(ctx); err != nil {
		return AfterResult{}, err
	}
	if err := s.openWindows(ctx); err != nil {
		return AfterResult{}, err
	}
	t, end := in.Timing, in.PeriodEnd
	// A cancellation takes effect at the end of the term: mid-term, the
	// period renews as usual and the cancellation goes with the next run.
	stopped := func() bool { return s.cancel != nil && s.termEnds() }
	stage(ctx, &s.stage, activities.ServiceActive)

	sleepUntil(ctx, end.Add(-t.Notice), s.wake, stopped)
	if ctx.Err() != nil {
		// An operator cancelled the workflow: nothing is done for it.
		return AfterResult{}, ctx.Err()
	}
	if stopped() {
		return s.endOfPeriod(ctx)
	}
	var r activities.Renewal
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Renewal pro-forma"), a.OpenRenewal, in.OrderID, end.Add(t.Grace)).Get(ctx, &r); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, &s.stage, activities.ServiceRenewalDue)
	if err := notify(ctx, s.notice(activities.EmailRenewalInvoice, r.ChargeID)); err != nil {
		return AfterResult{}, err
	}
	var reminders []time.Time
	for _, d := range t.Reminders {
		reminders = append(reminders, end.Add(d))
	}
	w := &chargeWait{orderID: in.OrderID, chargeID: r.ChargeID, invoice: r.Invoice, reminders: reminders,
		wake: s.wake, stop: stopped, keepFailed: true}
	p, why := w.until(ctx, end.Add(t.Grace))
	switch why {
	case waitCancelled:
		return AfterResult{}, ctx.Err()
	case waitStopped:
		// Not renewed: the pro-forma is corrected to zero, and the period
		// already paid for runs to its end.
		if err := s.void(ctx, r.ChargeID, "not renewed: cancelled at the customer's request"); err != nil {
			return AfterResult{}, err
		}
		return s.endOfPeriod(ctx)
	}
	if p != nil {
		return s.renewed(ctx, r, p, activities.EmailRenewalPaid, false)
	}

	// Unpaid past the grace period: suspended, data kept.
	if err := s.tenantStatus(ctx, activities.TenantSuspended); err != nil {
		return AfterResult{}, err
	}
	suspendedAt := workflow.Now(ctx)
	terminateAt := suspendedAt.Add(t.Suspension)
	if err := s.service(ctx, "suspended:"+itoa(in.Period), activities.ServiceSuspended, "renewal "+r.Invoice.Number+" unpaid"); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, &s.stage, activities.ServiceSuspended)
	n := s.notice(activities.EmailSubscriptionSuspended, r.ChargeID)
	n.TerminateOn = terminateAt
	if err := notify(ctx, n); err != nil {
		return AfterResult{}, err
	}
	w.reminders = nil
	p, why = w.until(ctx, terminateAt)
	if p != nil {
		return s.renewed(ctx, r, p, activities.EmailSubscriptionReactivated, true)
	}
	if why == waitCancelled {
		return AfterResult{}, ctx.Err()
	}
	reason := "renewal " + r.Invoice.Number + " unpaid " + days(t.Suspension) + " after suspension"
	if why == waitStopped {
		reason = "cancelled while suspended: " + s.cancel.Reason
	}
	return s.terminate(ctx, r.ChargeID, reason)
}

type subscription struct {
	in      SubscriptionInput
	stage   string
	cancel  *PeriodCancel
	wake    workflow.Channel
	ended   bool
	windows windows
	voided  string // the renewal corrected to zero: its credit note goes with the end
}

func (s *subscription) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStage, func() (AfterResult, error) { return AfterResult{Stage: s.stage}, nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancelAtPeriodEnd,
		func(ctx workflow.Context, c PeriodCancel) (AfterResult, error) {
			if s.cancel != nil {
				return AfterResult{Stage: s.stage}, nil
			}
			if err := workflow.ExecuteLocalActivity(withDB(ctx, "Cancel at period end"), a.CancelAtPeriodEnd, s.in.OrderID, c.Actor, c.Reason).Get(ctx, nil); err != nil {
				return AfterResult{}, err
			}
			s.cancel = &c
			s.wake.SendAsync(true)
			n := activities.Notice{OrderID: s.in.OrderID, Kind: activities.EmailSubscriptionEnding, Key: activities.EmailSubscriptionEnding}
			if err := notify(ctx, n); err != nil {
				workflow.GetLogger(ctx).Warn("cancellation confirmation not sent", "Error", err)
			}
			if !s.termEnds() {
				return AfterResult{Stage: s.stage, Reason: "ends with the term, after period " + itoa(s.termLast())}, nil
			}
			return AfterResult{Stage: s.stage, Reason: "ends " + s.in.PeriodEnd.UTC().Format(time.DateOnly)}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, c PeriodCancel) error {
			switch {
			case s.ended:
				return errors.New("the subscription has ended")
			case strings.TrimSpace(c.Actor) == "":
				return errors.New("actor is required: who asks")
			}
			return nil
		}})
}

// termEnds tells whether the run's period is the last of its term.
func (s *subscription) termEnds() bool { return s.in.Period%max(s.in.TermPeriods, 1) == 0 }

// termLast is the number of the last period of the run's term.
func (s *subscription) termLast() int {
	n := max(s.in.TermPeriods, 1)
	return s.in.Period + (n-s.in.Period%n)%n
}

func (s *subscription) notice(kind, chargeID string) activities.Notice {
	return activities.Notice{OrderID: s.in.OrderID, Kind: kind, Key: kind + ":" + chargeID, ChargeID: chargeID}
}

// renewed settles the renewal and goes on with the next period as a new run.
func (s *subscription) renewed(ctx workflow.Context, r activities.Renewal, p *Payment, kind string, reactivate bool) (AfterResult, error) {
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Record payment "+p.PaymentID), a.SettleCharge, r.ChargeID, p.PaymentID).Get(ctx, nil); err != nil {
		return AfterResult{}, err
	}
	if reactivate {
		if err := s.tenantStatus(ctx, activities.TenantActive); err != nil {
			return AfterResult{}, err
		}
	}
	stage(ctx, &s.stage, activities.ServiceActive)
	if err := notify(ctx, s.notice(kind, r.ChargeID)); err != nil {
		return AfterResult{}, err
	}
	// A cancellation accepted meanwhile finishes first and goes with the
	// next run: the period just paid for is then the last.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return AfterResult{}, err
	}
	next := s.in
	next.Period, next.PeriodEnd, next.Cancel = r.Period, r.PeriodEnd, s.cancel
	if s.windows.on {
		next.PeriodStart, next.Windows = s.in.PeriodEnd, stillOpen(s.windows.list, workflow.Now(ctx))
	}
	return AfterResult{}, workflow.NewContinueAsNewError(ctx, SubscriptionWorkflow, next)
}

// endOfPeriod ends a cancelled subscription when its paid period ends.
func (s *subscription) endOfPeriod(ctx workflow.Context) (AfterResult, error) {
	sleepUntil(ctx, s.in.PeriodEnd, nil, nil)
	if ctx.Err() != nil {
		return AfterResult{}, ctx.Err()
	}
	return s.terminate(ctx, "", "cancelled at the customer's request: "+s.cancel.Reason)
}

// terminate ends the subscription at the tenant and in the database; an
// unpaid renewal (chargeID) is corrected to zero first.
func (s *subscription) terminate(ctx workflow.Context, chargeID, reason string) (AfterResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	s.ended = true
	if chargeID != "" {
		if err := s.void(ctx, chargeID, reason); err != nil {
			return AfterResult{}, err
		}
	}
	if err := s.tenantStatus(ctx, activities.TenantDeleted); err != nil {
		return AfterResult{}, err
	}
	if err := s.service(ctx, "terminated", activities.ServiceTerminated, reason); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, &s.stage, activities.ServiceTerminated)
	n := s.notice(activities.EmailSubscriptionTerminated, s.voided)
	n.Key, n.Reason = activities.EmailSubscriptionTerminated, reason
	if err := notify(ctx, n); err != nil {
		return AfterResult{}, err
	}
	return AfterResult{Stage: activities.ServiceTerminated, Reason: reason}, nil
}

func (s *subscription) void(ctx workflow.Context, chargeID, reason string) error {
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Credit note: "+reason), a.VoidCharge, chargeID, reason).Get(ctx, nil); err != nil {
		return err
	}
	s.voided = chargeID
	return nil
}

func (s *subscription) service(ctx workflow.Context, key, status, reason string) error {
	return workflow.ExecuteLocalActivity(withDB(ctx, "Subscription "+status), a.SetService, s.in.OrderID, key, status, reason).Get(ctx, nil)
}

func (s *subscription) tenantStatus(ctx workflow.Context, status string) error {
	return workflow.ExecuteActivity(withTenantForever(ctx, "Tenant subscription "+status), a.SetTenantStatus, s.in.OrderID, status).Get(ctx, nil)
}

// withTenantForever retries a change of the subscription's state at the
// tenant until it is done: a suspension or termination that is due must
// not be dropped because the API was away for a while. Final refusals stop it.
func withTenantForever(ctx workflow.Context, summary string) workflow.Context {
	ctx = withTenant(ctx, summary)
	opts := workflow.GetActivityOptions(ctx)
	opts.ScheduleToCloseTimeout = 0
	return workflow.WithActivityOptions(ctx, opts)
}
