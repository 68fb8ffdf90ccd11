package workflows

import (
	"testing"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

// Every link is tried; one that cannot be sent ends the run as failed,
// never FAILED and never parked for an operator: the customer asks again.
func TestPanelLinkMailsEachLinkAndGivesUpWithoutAnOperator(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: Interceptors()})
	env.RegisterWorkflow(PanelLinkWorkflow)
	var a *activities.Activities
	env.RegisterActivity(a)
	good, bad := activities.PanelLink{OrderID: "o1", Nonce: "n1"}, activities.PanelLink{OrderID: "o2", Nonce: "n2"}
	env.OnActivity(a.SendPanelLink, mock.Anything, bad).
		Return(temporal.NewNonRetryableApplicationError("550 mailbox unavailable", fail.EmailRejected, nil)).Once()
	env.OnActivity(a.SendPanelLink, mock.Anything, good).Return(nil).Once()

	env.ExecuteWorkflow(PanelLinkWorkflow, PanelLinkInput{Links: []activities.PanelLink{bad, good}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var r AfterResult
	require.NoError(t, env.GetWorkflowResult(&r))
	require.Equal(t, StageFailed, r.Stage)
	require.Contains(t, r.Reason, "mailbox unavailable")
	env.AssertExpectations(t)
}
