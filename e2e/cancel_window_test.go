package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// Seats can be given back only within 168 hours of their purchase: the
// shop's API answers a reduction after that with 409 cancel_window naming
// when the window closed, and nothing changes. The subscription run is
// replaced with one whose purchase was 169 hours ago, which is what a run
// on its eighth day looks like.
func TestSeatsGivenBackOnlyWithinTheWindow(t *testing.T) {
	ctx := context.Background()
	id, _ := provisioned(t, 5)
	within := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "down-early", "add_seats": -1})
	require.Equal(t, 202, within.Status, string(within.Raw))
	require.Equal(t, 4, waitAfter(t, within.Body["workflow_id"].(string)).Seats)

	wid := workflows.SubscriptionWorkflowID(id)
	require.NoError(t, st.Client.TerminateWorkflow(ctx, wid, "", "the test moves the purchase back"))
	sv, err := st.Store.GetService(ctx, id)
	require.NoError(t, err)
	bought := time.Now().Add(-169 * time.Hour).UTC().Truncate(time.Second)
	_, err = st.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: wid, TaskQueue: cfg.TaskQueue,
		TypedSearchAttributes: workflows.AfterAttributes(id, "business-standard", "", sv.Seats, "active"),
	}, workflows.SubscriptionWorkflowName, workflows.SubscriptionInput{OrderID: id, Period: sv.Period, PeriodEnd: sv.PeriodEnd,
		Timing: workflows.DefaultTiming, PeriodStart: bought})
	require.NoError(t, err)

	late := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "down-late", "add_seats": -1})
	require.Equal(t, 409, late.Status, string(late.Raw))
	e := late.Body["error"].(map[string]any)
	require.Equal(t, "cancel_window", e["code"])
	require.Equal(t, "add_seats", e["field"])
	require.Contains(t, e["message"], "the window closed at "+bought.Add(workflows.CancelWindow).Format(time.RFC3339))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM charges WHERE id = $1`, id+":licences:down-late"), "a refused reduction records nothing")
	_, s := atTenant(t, id)
	require.Equal(t, 4, s.Quantity)

	// The early request again is answered as before: it was recorded.
	again := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "down-early", "add_seats": -1})
	require.Equal(t, 202, again.Status, string(again.Raw))
	// More seats can be bought at any time, and open a window of their own.
	more := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "up-2", "add_seats": 2})
	require.Equal(t, 202, more.Status, string(more.Raw))
	require.Equal(t, 200, payCharge(t, id, more.Body["charge_id"].(string), "completed").Status)
	require.Equal(t, 6, waitAfter(t, more.Body["workflow_id"].(string)).Seats)
	var open workflows.SeatWindow
	require.Eventually(t, func() bool {
		v, err := st.Client.QueryWorkflow(ctx, wid, "", workflows.QueryWindow)
		return err == nil && v.Get(&open) == nil && open.Seats == 2
	}, 30*time.Second, 50*time.Millisecond, "the subscription learns of the seats bought")
	require.WithinDuration(t, time.Now().Add(workflows.CancelWindow), open.Ends, time.Minute)
	require.Eventually(t, func() bool {
		r := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "down-bought", "add_seats": -2})
		return r.Status == 202
	}, 30*time.Second, 50*time.Millisecond, "the seats just bought can be given back")
	tooMany := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "down-more", "add_seats": -1})
	require.Equal(t, 409, tooMany.Status, string(tooMany.Raw))
	require.Equal(t, "cancel_window", tooMany.Body["error"].(map[string]any)["code"])
	recordRun(t, more.Body["workflow_id"].(string), "", "licences_paid_window")
	recordRun(t, wid, "", "subscription_window")
}
