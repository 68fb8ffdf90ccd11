package workflows

import (
	"errors"
	"testing"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

const userName = "jan.kowalski@acme.pl"

var userIn = UserInput{OrderID: afterOrder, UserName: userName, Licensed: true}

func TestUserLicensedIsCreatedAssignedAndAnnounced(t *testing.T) {
	h := newAfterHarness(t, StageCreating)
	r := h.run(UserWorkflow, userIn)
	require.Equal(t, AfterResult{Stage: StageDone}, r)
	require.Equal(t, []string{"CreateUser(shop-1," + userName + ")", "AssignLicence(shop-1," + userName + ")",
		"SendNotice(user_created:" + userName + ")"}, h.names())
	n := h.email(activities.EmailUserCreated).Notice
	require.Equal(t, userName, n.UserName, "the email reads the user (and its sealed password)")
	require.Empty(t, n.ChargeID)
	require.Equal(t, []string{StageDone}, h.stages)
	require.Equal(t, StageDone, h.stage())
}

func TestUserUnlicensedGetsNoLicence(t *testing.T) {
	h := newAfterHarness(t, StageCreating)
	in := userIn
	in.Licensed = false
	require.Equal(t, AfterResult{Stage: StageDone}, h.run(UserWorkflow, in))
	require.Equal(t, []string{"CreateUser(shop-1," + userName + ")", "SendNotice(user_created:" + userName + ")"}, h.names())
}

func TestUserRefusedByTheTenantIsRemovedAgain(t *testing.T) {
	msg := "400 Bad Request: InvalidUserPrincipalName"
	h := newAfterHarness(t, StageCreating, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CreateUser, mock.Anything, afterOrder, userName).Return(final(msg, ErrTenantAPI))
	})
	r := h.run(UserWorkflow, userIn)
	reason := "the tenant API did not create the user: " + msg
	require.Equal(t, AfterResult{Stage: StageFailed, Reason: reason}, r)
	require.Equal(t, []string{"CreateUser(shop-1," + userName + ")", "RemoveUser(shop-1," + userName + "," + reason + ")"}, h.names(),
		"not retried, no licence, no email; the seat goes back")
	require.Equal(t, []string{StageFailed}, h.stages)
}

// A tenant API that stays away is retried (10 attempts in the test
// environment), then the user is given up the same way.
func TestUserTenantAPIThatNeverAnswersEndsFailed(t *testing.T) {
	h := newAfterHarness(t, StageCreating, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CreateUser, mock.Anything, afterOrder, userName).Return(errors.New("503 Service Unavailable"))
	})
	r := h.run(UserWorkflow, userIn)
	require.Equal(t, StageFailed, r.Stage)
	require.Len(t, h.times("CreateUser"), 10)
	require.Equal(t, []string{"RemoveUser(shop-1," + userName + "," + r.Reason + ")"}, filter(h.names(), "RemoveUser"))
	require.Empty(t, h.emails())
}

func TestUserWhoseLicenceIsRefusedIsRemoved(t *testing.T) {
	msg := "409 Conflict: InsufficientLicenses: 0 free"
	h := newAfterHarness(t, StageCreating, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.AssignLicence, mock.Anything, afterOrder, userName).Return(final(msg, ErrTenantAPI))
	})
	r := h.run(UserWorkflow, userIn)
	reason := "the licence could not be assigned: " + msg
	require.Equal(t, AfterResult{Stage: StageFailed, Reason: reason}, r)
	require.Equal(t, []string{"CreateUser(shop-1," + userName + ")", "AssignLicence(shop-1," + userName + ")",
		"RemoveUser(shop-1," + userName + "," + reason + ")"}, h.names(), "nothing half-made stays in the tenant")
	require.Empty(t, h.emails())
}
