package workflows

import (
	"time"

	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// PanelLinkWorkflowName is the type the billing panel starts to mail
// sign-in links; its id comes from order.PanelLinkWorkflowID.
const PanelLinkWorkflowName = "PanelLink"

// PanelLinkInput names the links to mail: one per order of the address
// that asked. It carries nonces, not tokens (see activities.PanelLink).
type PanelLinkInput struct {
	Links []activities.PanelLink
}

// panelLinkFor bounds how long a link is tried: one that has not left
// within the hour is no use to the customer waiting for it, who asks again.
const panelLinkFor = time.Hour

// PanelLinkWorkflow mails billing panel sign-in links the customer asked
// for on the panel: the intake, which serves the panel, has no mail server,
// the worker has. A link that cannot be sent is given up without an
// operator (the calls are caught): the customer asks again.
func PanelLinkWorkflow(ctx workflow.Context, in PanelLinkInput) (AfterResult, error) {
	ctx = workflow.WithActivityOptions(caught(ctx), workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: panelLinkFor,
		Summary:                "Email billing panel sign-in link",
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidOrder, ErrEmailRejected},
		},
	})
	res := AfterResult{Stage: StageDone}
	for _, l := range in.Links {
		if err := workflow.ExecuteActivity(ctx, a.SendPanelLink, l).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("panel link not sent", "OrderID", l.OrderID, "Error", err)
			res = AfterResult{Stage: StageFailed, Reason: message(err)}
		}
	}
	return res, nil
}
