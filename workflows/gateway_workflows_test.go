package workflows

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

func refundEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *activities.Activities) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: Interceptors()})
	env.RegisterWorkflow(RefundWorkflow)
	var a *activities.Activities
	env.RegisterActivity(a)
	return env, a
}

// A sent refund ends when its notification's signal comes, long before
// the confirmation window, and its state is read once then.
func TestRefundEndsWhenItsNotificationCloses(t *testing.T) {
	env, a := refundEnv(t)
	env.OnActivity(a.SendRefund, mock.Anything, "p24-1").Return(activities.RefundSent, nil).Once()
	env.OnActivity(a.RefundConfirmed, mock.Anything, "p24-1").Return("refunded", nil).Once()
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalRefundClosed, nil) }, time.Minute)
	start := env.Now()
	env.ExecuteWorkflow(RefundWorkflow, "p24-1")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var r AfterResult
	require.NoError(t, env.GetWorkflowResult(&r))
	require.Equal(t, AfterResult{Stage: StageDone, Reason: "refund refunded"}, r)
	require.Less(t, env.Now().Sub(start), RefundConfirmWithin, "ended at the signal, not the window")
	env.AssertExpectations(t)
}

// Without the signal the refund's state is read when the window ends: a
// notification whose signal was lost still closed the row.
func TestRefundIsAskedAfterTheWindowWithoutASignal(t *testing.T) {
	env, a := refundEnv(t)
	env.OnActivity(a.SendRefund, mock.Anything, "p24-2").Return(activities.RefundSent, nil).Once()
	env.OnActivity(a.RefundConfirmed, mock.Anything, "p24-2").Return("refunded", nil).Once()
	start := env.Now()
	env.ExecuteWorkflow(RefundWorkflow, "p24-2")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.GreaterOrEqual(t, env.Now().Sub(start), RefundConfirmWithin)
	env.AssertExpectations(t)
}

// A refund closed before the send was recorded (its notification raced the
// answer) ends at once.
func TestRefundAlreadyClosedEndsAtOnce(t *testing.T) {
	env, a := refundEnv(t)
	env.OnActivity(a.SendRefund, mock.Anything, "p24-3").Return("refunded", nil).Once()
	env.ExecuteWorkflow(RefundWorkflow, "p24-3")
	require.True(t, env.IsWorkflowCompleted())
	var r AfterResult
	require.NoError(t, env.GetWorkflowResult(&r))
	require.Equal(t, "refund refunded", r.Reason)
	env.AssertExpectations(t)
}
