package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// placeAt sends a place update at d and keeps its answer.
func (h *harness) placeAt(d time.Duration, id string, p order.Placement, ans *PlaceAnswer, errp *error) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdatePlace, id, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { *errp = err }, OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if a, ok := v.(PlaceAnswer); ok {
					*ans = a
				}
				*errp = err
			},
		}, p)
	}, d)
}

func recordedAs(r activities.Recorded) func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
	return func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.RecordOrder, mock.Anything, mock.Anything).Return(r, nil).Once()
	}
}

func isAppType(err error, t string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == t
}

// The place update records the order before anything else and answers
// placed; a repeat gets the same answer, not created; the same id with
// another request is refused, and the order goes on untouched.
func TestPlaceRecordsTheOrderThenAnswersRepeatsAndRefusesAConflict(t *testing.T) {
	h := newHarness(t)
	var repeat PlaceAnswer
	var repeatErr, conflictErr error
	h.placeAt(time.Hour, "place-2", placement, &repeat, &repeatErr)
	other := placement
	other.Hash = []byte("hash-2")
	var conflict PlaceAnswer
	h.placeAt(2*time.Hour, "place-3", other, &conflict, &conflictErr)
	r := h.run(t)
	require.Equal(t, order.Cancelled, r.Status, "the order went on to its deadline")

	require.NoError(t, h.placeErr)
	require.NotNil(t, h.placed)
	require.Equal(t, PlaceAnswer{Outcome: order.OutcomePlaced, Created: true, PlacedAt: start, Deadline: deadline}, *h.placed)
	h.env.AssertActivityNumberOfCalls(t, "RecordOrder", 1)

	require.NoError(t, repeatErr)
	require.Equal(t, PlaceAnswer{Outcome: order.OutcomePlaced, Created: false, PlacedAt: start, Deadline: deadline}, repeat)

	require.Error(t, conflictErr)
	require.True(t, isAppType(conflictErr, ErrOrderConflict), "typed, so that the intake answers 409: %v", conflictErr)
	require.Equal(t, "OpenBilling", h.calls[0])
}

// A domain another order holds: the update answers domain_taken and the run
// ends, completed, without an order: nothing billed, nothing to undo.
func TestPlaceOfATakenDomainEndsTheRunWithoutAnOrder(t *testing.T) {
	h := newHarness(t, recordedAs(activities.Recorded{Outcome: order.OutcomeDomainTaken}))
	h.env.ExecuteWorkflow(OrderWorkflow, input)
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var r Result
	require.NoError(t, h.env.GetWorkflowResult(&r))
	require.Empty(t, r.Status)
	require.Contains(t, r.Reason, "acme.onmicrosoft.com")
	require.NoError(t, h.placeErr)
	require.Equal(t, order.OutcomeDomainTaken, h.placed.Outcome)
	require.Empty(t, h.calls, "no step after the placement")
}

// The id was recorded with another request (the intake's read raced with
// it): the update is refused as a conflict and the run ends.
func TestPlaceConflictFoundInTheDatabaseEndsTheRun(t *testing.T) {
	h := newHarness(t, recordedAs(activities.Recorded{Outcome: order.OutcomeConflict}))
	h.env.ExecuteWorkflow(OrderWorkflow, input)
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	require.True(t, isAppType(h.placeErr, ErrOrderConflict), "%v", h.placeErr)
	require.Empty(t, h.calls)
}

// An earlier run of this id recorded the order and moved it on: this run
// answers the repeat (not created) and leaves the order alone.
func TestPlaceOfAnOrderAnEarlierRunMovedOnOnlyAnswers(t *testing.T) {
	h := newHarness(t, recordedAs(activities.Recorded{Outcome: order.OutcomePlaced, Status: order.Cancelled, PlacedAt: start, Deadline: deadline}))
	h.env.ExecuteWorkflow(OrderWorkflow, input)
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	require.NoError(t, h.placeErr)
	require.Equal(t, PlaceAnswer{Outcome: order.OutcomePlaced, PlacedAt: start, Deadline: deadline}, *h.placed)
	require.Empty(t, h.calls)
}

// This run's own first task died after its local activities had recorded
// the order and opened billing; the retried task finds the order moved on
// but recorded by this very run, and carries it on (found by the fault
// suite: such an order ended with no billing email, no payment taken).
func TestPlaceOfAnOrderThisRunMovedOnCarriesItOn(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.RecordOrder, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, _ order.Placement) (activities.Recorded, error) {
				return activities.Recorded{Outcome: order.OutcomePlaced, Status: order.BillingAccess, PlacedAt: start, Deadline: deadline,
					Run: activity.GetInfo(ctx).WorkflowExecution.RunID}, nil
			}).Once()
	})
	h.payAfter(time.Minute, paid)
	r := h.run(t)
	require.Equal(t, order.InstallerReady, r.Status)
	require.NoError(t, h.placeErr)
	require.Equal(t, order.OutcomePlaced, h.placed.Outcome)
	require.Equal(t, "OpenBilling", h.calls[0])
}

// foundAs has FindPlacement read r, with this run's id when own.
func foundAs(r activities.Recorded, own bool) func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
	return func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.FindPlacement, mock.Anything, "shop-1").Return(
			func(ctx context.Context, _ string) (activities.Recorded, error) {
				if own {
					r.Run = activity.GetInfo(ctx).WorkflowExecution.RunID
				}
				return r, nil
			}).Once()
	}
}

// The worker died inside the run's first task after its local activities
// had recorded the order: the place update died with the task, and the
// shop's repeat was answered from the database. The retried task finds the
// order recorded by this run and carries it on at once, with no timer
// (found by the fault suite: such an order waited ten minutes for a
// placement and ended unattended, its billing email sent).
func TestRunWhosePlacementDiedWithItsTaskFindsItsOrder(t *testing.T) {
	h := newUnplacedHarness(t, foundAs(activities.Recorded{Outcome: order.OutcomePlaced, Status: order.AwaitingPayment, PlacedAt: start, Deadline: deadline}, true))
	var repeat PlaceAnswer
	var repeatErr error
	h.placeAt(time.Minute, "place-2", placement, &repeat, &repeatErr)
	h.payAfter(time.Hour, paid)
	r := h.run(t)
	require.Equal(t, order.InstallerReady, r.Status)
	h.env.AssertActivityNumberOfCalls(t, "FindPlacement", 1)
	h.env.AssertActivityNumberOfCalls(t, "RecordOrder", 0)
	require.Equal(t, "OpenBilling", h.calls[0], "billing opened again, idempotently")
	require.NoError(t, repeatErr)
	require.Equal(t, PlaceAnswer{Outcome: order.OutcomePlaced, PlacedAt: start, Deadline: deadline}, repeat, "a repeat, not created")
}

// A run without a placement whose order is not in the database, or was
// recorded by another run, waits for the place update as before; without
// one it ends, completed, with no order.
func TestRunWithoutItsPlacementWaitsForIt(t *testing.T) {
	t.Run("nothing recorded, placed later", func(t *testing.T) {
		h := newUnplacedHarness(t)
		var ans PlaceAnswer
		var err error
		h.placeAt(time.Minute, "place-1", placement, &ans, &err)
		h.payAfter(time.Hour, paid)
		r := h.run(t)
		require.Equal(t, order.InstallerReady, r.Status)
		require.NoError(t, err)
		require.True(t, ans.Created)
		h.env.AssertActivityNumberOfCalls(t, "FindPlacement", 1)
		h.env.AssertActivityNumberOfCalls(t, "RecordOrder", 1)
	})
	t.Run("recorded by another run, never placed", func(t *testing.T) {
		h := newUnplacedHarness(t, foundAs(activities.Recorded{Outcome: order.OutcomePlaced, Status: order.AwaitingPayment, PlacedAt: start, Deadline: deadline, Run: "another-run"}, false))
		r := h.run(t)
		require.Empty(t, r.Status)
		require.Equal(t, "no placement arrived", r.Reason)
		require.Empty(t, h.calls, "another run's order is not touched")
		h.env.AssertActivityNumberOfCalls(t, "FindPlacement", 2)
	})
	// A task of this run on a stalled worker recorded the order after the
	// first look: the look at the wait's end finds it.
	t.Run("recorded by this run after the first look", func(t *testing.T) {
		h := newUnplacedHarness(t, foundAs(activities.Recorded{}, false),
			foundAs(activities.Recorded{Outcome: order.OutcomePlaced, Status: order.Placed, PlacedAt: start, Deadline: deadline}, true))
		h.payAfter(time.Hour, paid)
		r := h.run(t)
		require.Equal(t, order.InstallerReady, r.Status)
		h.env.AssertActivityNumberOfCalls(t, "FindPlacement", 2)
		h.env.AssertActivityNumberOfCalls(t, "RecordOrder", 0)
	})
}
