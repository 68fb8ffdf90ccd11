package intake

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// endedTemporal describes every workflow as terminated.
type endedTemporal struct{ *flakyTemporal }

func (endedTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Status: enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, CloseTime: timestamppb.Now()}}, nil
}

// An order whose start had no answer stays placed for the shop's retry; if
// the shop never retries, the sweep settles it: no workflow, no order, and
// its domain is free again. A running workflow's order is left alone.
func TestSweepSettlesPlacedOrdersNobodyMoves(t *testing.T) {
	tc := &flakyTemporal{startErr: lostAnswer, describeErr: serviceerror.NewUnavailable("connection refused")}
	st, post := startServer(t, tc)
	require.Equal(t, http.StatusServiceUnavailable, post().StatusCode)
	id := sampleRequest().OrderID
	srv := &Server{Store: st, Temporal: tc, Log: zap.NewNop()}
	ctx := context.Background()

	require.NoError(t, srv.SweepOnce(ctx, time.Now().Add(-time.Hour)), "too young to sweep")
	require.Error(t, srv.SweepOnce(ctx, time.Now().Add(time.Minute)), "Temporal away: nothing decided")
	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.Placed, o.Status)

	tc.describeErr = nil // running
	require.NoError(t, srv.SweepOnce(ctx, time.Now().Add(time.Minute)))
	_, err = st.GetOrder(ctx, id)
	require.NoError(t, err, "a running workflow keeps its order")

	tc.describeErr = serviceerror.NewNotFound("no such workflow")
	require.NoError(t, srv.SweepOnce(ctx, time.Now().Add(time.Minute)))
	_, err = st.GetOrder(ctx, id)
	require.Error(t, err, "no workflow, no order")
	var held int
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id).Scan(&held))
	require.Zero(t, held, "the domain is free")
}

func TestSweepCancelsAPlacedOrderWhoseWorkflowEnded(t *testing.T) {
	tc := &flakyTemporal{startErr: lostAnswer, describeErr: serviceerror.NewUnavailable("connection refused")}
	st, post := startServer(t, tc)
	require.Equal(t, http.StatusServiceUnavailable, post().StatusCode)
	id := sampleRequest().OrderID
	ctx := context.Background()
	srv := &Server{Store: st, Temporal: endedTemporal{tc}, Log: zap.NewNop()}
	require.NoError(t, srv.SweepOnce(ctx, time.Now().Add(time.Minute)))
	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.Cancelled, o.Status)
	require.Contains(t, o.Reason, "Terminated")
	var held int
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id).Scan(&held))
	require.Zero(t, held, "the domain is free")
}
