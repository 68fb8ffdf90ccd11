package workflows

import (
	"errors"
	"fmt"

	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// LicencesWorkflow changes an order's seats. More seats: a pro-forma for
// them, prorated by day to the end of the period, then the payment wait with
// the order's rules; once paid, the VAT invoice, the new quantity at the
// tenant and an email. A payment that fails or never comes ends in a credit
// note, with nothing changed at the tenant. Fewer seats cost nothing and are
// applied at once, as far as no assigned licence is lost.
func LicencesWorkflow(ctx workflow.Context, in LicencesInput) (AfterResult, error) {
	r, err := licences(ctx, in)
	return givenUp(ctx, r, err, func(reason string) (AfterResult, error) {
		cur := ""
		return voidLicences(ctx, in, &cur, reason)
	})
}

func licences(ctx workflow.Context, in LicencesInput) (AfterResult, error) {
	defer drainSignals(ctx)
	cur := ""
	if attrs := workflow.GetTypedSearchAttributes(ctx); attrs.Size() > 0 {
		cur, _ = attrs.GetKeyword(StageKey)
	}
	var inv activities.Invoice
	if err := workflow.SetQueryHandler(ctx, QueryStage, func() (AfterResult, error) { return AfterResult{Stage: cur}, nil }); err != nil {
		return AfterResult{}, err
	}
	notice := func(kind string) activities.Notice {
		return activities.Notice{OrderID: in.OrderID, Kind: kind, Key: kind + ":" + in.ChargeID, ChargeID: in.ChargeID}
	}
	if in.Change > 0 {
		if err := workflow.ExecuteLocalActivity(withDB(ctx, "Pro-forma for "+fmt.Sprint(in.Change)+" more licences"), a.IssueCharge, in.ChargeID).Get(ctx, &inv); err != nil {
			return AfterResult{}, err
		}
		stage(ctx, &cur, StageAwaitingPayment)
		if err := notify(ctx, notice(activities.EmailLicencesInvoice)); err != nil {
			return AfterResult{}, err
		}
		w := &chargeWait{orderID: in.OrderID, chargeID: in.ChargeID, invoice: inv, reminders: in.Reminders}
		p, why := w.until(ctx, in.Deadline)
		if p == nil {
			reason := "payment deadline passed"
			switch why {
			case waitFailed:
				reason = "payment failed"
			case waitCancelled:
				reason = "cancellation of the workflow requested"
			}
			return voidLicences(ctx, in, &cur, reason)
		}
		if err := workflow.ExecuteLocalActivity(withDB(ctx, "Record payment "+p.PaymentID), a.SettleCharge, in.ChargeID, p.PaymentID).Get(ctx, &inv); err != nil {
			return AfterResult{}, err
		}
	}
	stage(ctx, &cur, StageApplying)
	var seats int
	err := workflow.ExecuteLocalActivity(withDB(ctx, "Apply the seats"), a.ApplySeats, in.ChargeID).Get(ctx, &seats)
	if isType(err, ErrSeats) {
		return voidLicences(ctx, in, &cur, "the change of seats is no longer possible: "+message(err))
	}
	if err != nil {
		return AfterResult{}, err
	}
	err = workflow.ExecuteActivity(withTenant(caught(ctx), fmt.Sprintf("Subscription quantity %d", seats)), a.SetQuantity, in.OrderID, in.ChargeID).Get(ctx, nil)
	if err != nil {
		// The tenant refused for good: the seats go back and money paid
		// for them is owed back with the credit note.
		return voidLicences(ctx, in, &cur, "the tenant API refused the new quantity: "+message(err))
	}
	kind := activities.EmailLicencesAdded
	if in.Change < 0 {
		kind = activities.EmailLicencesReduced
	} else if workflow.GetVersion(ctx, cancelWindowVersion, workflow.DefaultVersion, 1) == 1 {
		// Seats bought mid-term have 168 hours of their own in which they
		// can be given back; the subscription keeps that window.
		b := SeatsBought{ChargeID: in.ChargeID, Seats: in.Change}
		if err := workflow.SignalExternalWorkflow(ctx, SubscriptionWorkflowID(in.OrderID), "", SignalSeatsBought, b).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("the subscription did not learn of the seats bought", "Error", err)
		}
	}
	if err := notify(ctx, notice(kind)); err != nil {
		return AfterResult{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, SeatsKey.ValueSet(int64(seats))); err != nil {
		workflow.GetLogger(ctx).Error("search attribute not updated", "Error", err)
	}
	stage(ctx, &cur, StageDone)
	return AfterResult{Stage: StageDone, Seats: seats}, nil
}

// voidLicences ends a purchase that will not happen: credit note, seats
// back if they were applied, money owed back, and the customer told.
func voidLicences(ctx workflow.Context, in LicencesInput, cur *string, reason string) (AfterResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Credit note: "+reason), a.VoidCharge, in.ChargeID, reason).Get(ctx, nil); err != nil {
		return AfterResult{}, err
	}
	if in.Change > 0 {
		n := activities.Notice{OrderID: in.OrderID, Kind: activities.EmailLicencesCancelled, Key: activities.EmailLicencesCancelled + ":" + in.ChargeID,
			ChargeID: in.ChargeID, Reason: reason}
		if err := notify(ctx, n); err != nil {
			return AfterResult{}, err
		}
	}
	stage(ctx, cur, StageCancelled)
	return AfterResult{Stage: StageCancelled, Reason: reason}, nil
}

func isType(err error, typ string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == typ
}

// message is an activity error's own text, without the SDK's wrapping.
func message(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
