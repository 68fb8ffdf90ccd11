package workflows

import (
	"path/filepath"
	"testing"

	"github.com/officeflow/officeflow/internal/codec"
	"github.com/officeflow/officeflow/internal/config"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays the histories of real runs (recorded
// by `go test ./e2e -args -record`). A change to OrderWorkflow that would
// break orders already running fails here; guard such changes with
// workflow.GetVersion and keep the old histories: each directory under
// testdata/histories holds the runs of one generation of the code (v0:
// before the compensation stack), and every generation must still replay.
func TestReplayRecordedHistories(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "histories", "v*"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(dirs), 2)
	var files []string
	for _, d := range dirs {
		fs, err := filepath.Glob(filepath.Join(d, "*.json"))
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(fs), 5, "histories of every path are kept in %s", d)
		files = append(files, fs...)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			// Histories recorded with -dev's payload key decode with it; plain
			// ones (v0) pass through the codec.
			cd, err := codec.New(config.DevPayloadKeys()...)
			require.NoError(t, err)
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: cd.DataConverter(), Interceptors: Interceptors()})
			require.NoError(t, err)
			r.RegisterWorkflowWithOptions(OrderWorkflow, workflow.RegisterOptions{Name: OrderWorkflowName})
			r.RegisterWorkflowWithOptions(LicencesWorkflow, workflow.RegisterOptions{Name: LicencesWorkflowName})
			r.RegisterWorkflowWithOptions(UserWorkflow, workflow.RegisterOptions{Name: UserWorkflowName})
			r.RegisterWorkflowWithOptions(UserRemovalWorkflow, workflow.RegisterOptions{Name: UserRemovalWorkflowName})
			r.RegisterWorkflowWithOptions(DomainWorkflow, workflow.RegisterOptions{Name: DomainWorkflowName})
			r.RegisterWorkflowWithOptions(SubscriptionWorkflow, workflow.RegisterOptions{Name: SubscriptionWorkflowName})
			r.RegisterWorkflowWithOptions(PanelLinkWorkflow, workflow.RegisterOptions{Name: PanelLinkWorkflowName})
			r.RegisterWorkflowWithOptions(PaymentCheckWorkflow, workflow.RegisterOptions{Name: PaymentCheckWorkflowName})
			r.RegisterWorkflowWithOptions(RefundWorkflow, workflow.RegisterOptions{Name: RefundWorkflowName})
			r.RegisterWorkflowWithOptions(KSeFWorkflow, workflow.RegisterOptions{Name: KSeFWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
