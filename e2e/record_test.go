package e2e

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// recordHistories rewrites the replay fixtures: run
//
//	go test ./e2e -args -record
//
// after a deliberate, versioned workflow change, and commit what changed in
// workflows/testdata/histories. The replay test there fails for any change
// that would break orders already running.
var recordHistories = flag.Bool("record", false, "write the histories of the end-to-end paths to workflows/testdata/histories/"+generation)

// generation is the directory of the current code's histories; start a new
// one (and keep the old) when a versioned change makes new runs differ.
const generation = "v7"

// record keeps the finished order's history as the named fixture when
// -record is given.
func record(t *testing.T, orderID, name string) {
	t.Helper()
	recordRun(t, workflows.WorkflowID(orderID), "", name)
}

// recordRun keeps one run of any workflow (the latest for runID "") as the
// named fixture when -record is given.
func recordRun(t *testing.T, workflowID, runID, name string) {
	t.Helper()
	if !*recordHistories {
		return
	}
	it := st.Client.GetWorkflowHistory(context.Background(), workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	dir := filepath.Join("..", "workflows", "testdata", "histories", generation)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644))
}
