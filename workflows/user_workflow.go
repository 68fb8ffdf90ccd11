package workflows

import (
	"github.com/officeflow/officeflow/activities"
	"go.temporal.io/sdk/workflow"
)

// UserWorkflow makes one user in the customer's tenant, assigns the plan's
// licence when asked (the seat was taken when the request was accepted),
// and emails the first-login details to the customer's admin address. The
// temporary password stays in the database, sealed, until that email is out:
// it never enters history. A user whose licence cannot be assigned is
// removed again, so nothing half-made stays in the tenant.
func UserWorkflow(ctx workflow.Context, in UserInput) (AfterResult, error) {
	r, err := user(ctx, in)
	return givenUp(ctx, r, err, func(reason string) (AfterResult, error) {
		cur := ""
		return failUser(ctx, in, &cur, reason)
	})
}

func user(ctx workflow.Context, in UserInput) (AfterResult, error) {
	cur := ""
	if attrs := workflow.GetTypedSearchAttributes(ctx); attrs.Size() > 0 {
		cur, _ = attrs.GetKeyword(StageKey)
	}
	if err := workflow.SetQueryHandler(ctx, QueryStage, func() (AfterResult, error) { return AfterResult{Stage: cur}, nil }); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, &cur, StageCreating)
	if err := workflow.ExecuteActivity(withTenant(caught(ctx), "Create user "+in.UserName), a.CreateUser, in.OrderID, in.UserName).Get(ctx, nil); err != nil {
		return failUser(ctx, in, &cur, "the tenant API did not create the user: "+message(err))
	}
	if in.Licensed {
		if err := workflow.ExecuteActivity(withTenant(caught(ctx), "Assign licence to "+in.UserName), a.AssignLicence, in.OrderID, in.UserName).Get(ctx, nil); err != nil {
			return failUser(ctx, in, &cur, "the licence could not be assigned: "+message(err))
		}
	}
	n := activities.Notice{OrderID: in.OrderID, Kind: activities.EmailUserCreated, Key: activities.EmailUserCreated + ":" + in.UserName, UserName: in.UserName}
	if err := notify(ctx, n); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, &cur, StageDone)
	return AfterResult{Stage: StageDone}, nil
}

// UserRemovalWorkflow deletes the user at the tenant API and gives its
// seat back. A step that fails for good waits for an operator, as every
// step does; the user stays 'removing', holding its seat, meanwhile.
func UserRemovalWorkflow(ctx workflow.Context, in UserInput) (AfterResult, error) {
	cur := StageRemoving
	if err := workflow.ExecuteActivity(withTenant(ctx, "Remove user "+in.UserName+" at the customer's request"), a.DeleteUser, in.OrderID, in.UserName).Get(ctx, nil); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, &cur, StageDone)
	return AfterResult{Stage: StageDone}, nil
}

// failUser removes what was made of the user at the tenant and gives its
// seat back.
func failUser(ctx workflow.Context, in UserInput, cur *string, reason string) (AfterResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	if err := workflow.ExecuteActivity(withTenant(ctx, "Remove user "+in.UserName), a.RemoveUser, in.OrderID, in.UserName, reason).Get(ctx, nil); err != nil {
		return AfterResult{}, err
	}
	stage(ctx, cur, StageFailed)
	return AfterResult{Stage: StageFailed, Reason: reason}, nil
}
