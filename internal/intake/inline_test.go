package intake

import (
	"context"
	"encoding/json"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// startOp is a stand-in's Update-with-Start start operation: what the
// intake asked to start.
type startOp struct {
	client.WithStartWorkflowOperation // nil: Get is not called by the intake
	opts                              client.StartWorkflowOptions
	args                              []any
}

func newStartOp(o client.StartWorkflowOptions, args []any) client.WithStartWorkflowOperation {
	return &startOp{opts: o, args: args}
}

// placeInline answers a place update as OrderWorkflow does, in process:
// the real RecordOrder activity on st, its outcome mapped to the update's
// answer (a conflict is the update's typed error).
func placeInline(ctx context.Context, st *store.Store, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	p, _ := o.UpdateOptions.Args[0].(order.Placement)
	rec, err := (&activities.Activities{Store: st}).RecordOrder(ctx, p)
	if err != nil {
		return nil, err
	}
	switch rec.Outcome {
	case order.OutcomeConflict:
		return answered{err: temporal.NewApplicationError("placed before with different content", fail.OrderConflict)}, nil
	case order.OutcomeDomainTaken:
		return answered{ans: workflows.PlaceAnswer{Outcome: rec.Outcome}}, nil
	}
	return answered{ans: workflows.PlaceAnswer{Outcome: rec.Outcome, Created: rec.Created, PlacedAt: rec.PlacedAt, Deadline: rec.Deadline}}, nil
}

// answered is an update handle with its outcome at hand.
type answered struct {
	ans workflows.PlaceAnswer
	err error
}

func (answered) WorkflowID() string { return "" }
func (answered) RunID() string      { return "" }
func (answered) UpdateID() string   { return "" }
func (a answered) Get(_ context.Context, v any) error {
	if a.err != nil {
		return a.err
	}
	b, _ := json.Marshal(a.ans)
	return json.Unmarshal(b, v)
}
