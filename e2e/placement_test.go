package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
)

// An order's run whose place update was lost: the worker died inside the
// run's first task after its local activities had recorded the order, and
// the shop's repeat is answered from the database, without the update. The
// run is made here as such a retried task finds it: started by hand (no
// update), its first task held back by a start delay while the order is
// recorded under its run id. The run finds the order and carries it on at
// once: billing email, payment, provisioning; nothing waits ten minutes.
func TestOrderWhosePlacementDiedWithItsTaskIsCarriedOn(t *testing.T) {
	ctx := context.Background()
	o := newOrder(t)
	raw, err := json.Marshal(o)
	require.NoError(t, err)
	var req order.Request
	require.NoError(t, json.Unmarshal(raw, &req))
	req.Normalize()
	req.Shop = intake.ShopID(shopKey)
	require.Nil(t, req.Validate())
	placedAt := time.Now().UTC().Truncate(time.Microsecond)
	p := order.Placement{Request: req, Shop: req.Shop, Hash: req.Hash(), PlacedAt: placedAt,
		Deadline: placedAt.Add(cfg.PaymentDeadline).Truncate(time.Second)}
	opts, in := intake.StartOptions(p, cfg.TaskQueue, cfg.PaymentReminders)
	const delay = 3 * time.Second
	opts.StartDelay = delay
	begun := time.Now()
	run, err := st.Client.ExecuteWorkflow(ctx, opts, workflows.OrderWorkflowName, in)
	require.NoError(t, err)
	_, err = st.Store.PlaceOrderAt(ctx, req, p.PlacedAt, p.Deadline, run.GetRunID())
	require.NoError(t, err)
	require.Less(t, time.Since(begun), delay, "the order must be recorded before the run's first task")

	waitMail(t, emailOf(o), "billing_access")
	again := place(t, o)
	require.Equal(t, 202, again.Status, string(again.Raw))
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "the shop's repeat is answered from the database")
	id := req.OrderID
	n := notify(t, intake.Notification{OrderID: id, PaymentID: "completed-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	require.Equal(t, 1, runsOf(t, id), "the run that recorded the order carried it")
	record(t, id, "placement_found")

	// The run started no timer for a placement.
	it := st.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	timers := 0
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if a := e.GetTimerStartedEventAttributes(); a != nil && a.GetStartToFireTimeout().AsDuration() == 10*time.Minute {
			timers++
		}
	}
	require.Zero(t, timers, "no wait for a placement")
}
