package workflows

import (
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The Przelewy24 workflows: asking the gateway about a payment whose
// notification did not come, and sending a refund. Neither ends failed:
// what the gateway refuses for good is in the store (the refund rejected,
// in the order's log) for an operator, and the result says so.

const (
	// PaymentCheckWorkflowName is started by the panel's pay button for
	// each transaction, under PaymentCheckWorkflowID.
	PaymentCheckWorkflowName = "PaymentCheck"
	// RefundWorkflowName sends one refund, under RefundWorkflowID.
	RefundWorkflowName = "Refund"
	// SignalRefundClosed tells a Refund workflow that Przelewy24's
	// notification closed its refund (refunded or rejected).
	SignalRefundClosed = "refund_closed"
	// RefundConfirmWithin is how long a sent refund waits for its
	// notification before an operator is asked to look.
	RefundConfirmWithin = 72 * time.Hour
	// changeRefundConfirmation: a sent refund waits for its notification
	// (runs recorded before it ended once the refund was sent).
	changeRefundConfirmation = "refund-confirmation"
)

// PaymentCheckWorkflowID is the check of one Przelewy24 transaction.
func PaymentCheckWorkflowID(sessionID string) string { return "payment-check-" + sessionID }

// RefundWorkflowID is the refund of one payment: one per payment, ever.
func RefundWorkflowID(paymentID string) string { return "refund-" + paymentID }

// PaymentCheckInput is one registered transaction to watch.
type PaymentCheckInput struct {
	SessionID string
	// WorkflowID waits for the payment: the order's, or its charge's.
	WorkflowID string
	// After is the first wait; each next one is twice the last, until
	// For has passed since the start.
	After, For time.Duration
}

// PaymentCheckWorkflow asks Przelewy24 about a transaction after a while,
// and again at growing intervals, until it is paid (by then its notification
// has normally come, and the first question ends the check) or For has
// passed. A payment it finds is verified and recorded by the activity and
// handed to the waiting workflow as the notification would have been.
func PaymentCheckWorkflow(ctx workflow.Context, in PaymentCheckInput) (AfterResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		Summary:                "Ask Przelewy24 about transaction " + in.SessionID,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{fail.GatewayRefused, fail.InvalidOrder},
		},
	})
	end := workflow.Now(ctx).Add(in.For)
	for wait := in.After; wait > 0 && !workflow.Now(ctx).Add(wait).After(end); wait *= 2 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return AfterResult{Stage: StageDone, Reason: "check cancelled"}, nil
		}
		var ans activities.GatewayAnswer
		if err := workflow.ExecuteActivity(ctx, a.AskGateway, in.SessionID).Get(ctx, &ans); err != nil {
			workflow.GetLogger(ctx).Warn("Przelewy24 not asked", "SessionID", in.SessionID, "Error", err)
			return AfterResult{Stage: StageFailed, Reason: message(err)}, nil
		}
		switch {
		case ans.Settled:
			return AfterResult{Stage: StageDone, Reason: "notified"}, nil
		case !ans.Paid:
			continue
		case ans.Tell:
			p := Payment{PaymentID: ans.PaymentID, Status: "completed", Amount: ans.Amount, Currency: ans.Currency, ChargeID: ans.ChargeID}
			if err := workflow.SignalExternalWorkflow(ctx, in.WorkflowID, "", SignalPayment, p).Get(ctx, nil); err != nil {
				// The order stopped waiting meanwhile; the store decided
				// what the payment is when it recorded it.
				workflow.GetLogger(ctx).Warn("payment recorded, its workflow not told", "WorkflowID", in.WorkflowID, "Error", err)
			}
		}
		return AfterResult{Stage: StageDone, Reason: "payment " + ans.PaymentID + " recovered"}, nil
	}
	return AfterResult{Stage: StageDone, Reason: "not paid"}, nil
}

// RefundWorkflow sends the refund owed for a Przelewy24 payment. Its
// notification, at the intake, closes it.
func RefundWorkflow(ctx workflow.Context, paymentID string) (AfterResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 7 * 24 * time.Hour,
		Summary:                "Refund payment " + paymentID + " through Przelewy24",
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
			NonRetryableErrorTypes: []string{fail.GatewayRefused, fail.InvalidOrder},
		},
	})
	closed := workflow.GetSignalChannel(ctx, SignalRefundClosed)
	var state string
	if err := workflow.ExecuteActivity(ctx, a.SendRefund, paymentID).Get(ctx, &state); err != nil {
		workflow.GetLogger(ctx).Error("refund not sent: an operator's to settle", "PaymentID", paymentID, "Error", err)
		return AfterResult{Stage: StageFailed, Reason: message(err)}, nil
	}
	if workflow.GetVersion(ctx, changeRefundConfirmation, workflow.DefaultVersion, 1) == workflow.DefaultVersion || state != activities.RefundSent {
		return AfterResult{Stage: StageDone, Reason: "refund " + state}, nil
	}
	// Sent: the money goes back when Przelewy24 says so. Its notification
	// (the intake) closes the row and signals here; without it the row is
	// asked after RefundConfirmWithin, and one still open waits for an
	// operator (the activity fails for good and the run parks).
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, RefundConfirmWithin)
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(closed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.Select(ctx)
	if err := workflow.ExecuteActivity(ctx, a.RefundConfirmed, paymentID).Get(ctx, &state); err != nil {
		return AfterResult{Stage: StageFailed, Reason: message(err)}, nil
	}
	return AfterResult{Stage: StageDone, Reason: "refund " + state}, nil
}
