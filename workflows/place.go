package workflows

import (
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The intake starts an order with Update-with-Start: the start carries the
// OrderInput (no personal data), the place update the validated request.
// Runs started before (DefaultVersion) found their order recorded by the
// intake; later ones record it themselves, first thing.
const changeUpdateWithStart = "update-with-start"

// changeLean marks runs that take every change before it (update-with-
// start, the compensation stack, the admin's licence) without a marker of
// their own, send their emails as local activities and skip the attributes
// and the timer no one sees (saga.lean, awaitPlacement): 21 history events
// and two visibility writes fewer a happy-path order than before.
const changeLean = "lean-saga"

// leanPlan is changeLean's second version: the subscription and the
// admin's licence are bought by one activity (BuyPlan) instead of two, a
// workflow task and an activity task fewer between the payment and the
// credentials. A version of the same change, so that a run still records
// one marker and one TemporalChangeVersion upsert.
const leanPlan workflow.Version = 2

// leanTenant is changeLean's third version: CreateTenant checks the domain
// itself, so the run schedules no CheckDomain, another workflow task and
// activity task fewer between the payment and the credentials.
const leanTenant workflow.Version = 3

// changeFoundPlacement: a lean run whose first task brought no placement
// reads its order from the database before it waits for one. The worker
// killed inside an order's first task, after its local activities recorded
// the order and sent the billing email, loses the place update with the
// task; the shop's repeat is then answered from the database, and the run
// used to wait placementTimeout and end with the order left unattended
// (TestFaultWorkerKilled, FAULT_SEED=1796325211549428152). Only such runs
// take the marker.
const changeFoundPlacement = "placement-found"

// UpdatePlace is the update the intake starts an order with.
const UpdatePlace = "place"

// ErrOrderConflict is the place update's refusal of an order id placed
// before with another request (HTTP 409 order_id_conflict).
const ErrOrderConflict = fail.OrderConflict

// placementTimeout bounds the wait for the place update of a run started
// without one (by hand): Update-with-Start delivers it with the first task.
const placementTimeout = 10 * time.Minute

// PlaceAnswer is the place update's answer.
type PlaceAnswer struct {
	Outcome string // order.OutcomePlaced or order.OutcomeDomainTaken
	// Created: this update placed the order; false for a repeat.
	Created  bool
	PlacedAt time.Time
	Deadline time.Time
}

// placing is the state of the place update: the first placement, and the
// answer every update gets once it is recorded.
type placing struct {
	first  *order.Placement
	answer *PlaceAnswer
	err    error
}

func conflictError(orderID string) error {
	return temporal.NewNonRetryableApplicationError("order "+orderID+" was placed before with different content", ErrOrderConflict, nil)
}

// place registers the place handler, waits for the placement, records it
// (a local activity: customer, order and domain reservation in one
// transaction) and answers the update. ok is false when the run has no
// order to carry: the domain is taken, the id was placed with another
// request, or an earlier run of this id placed it and moved on; the run
// then ends with r, completed.
func place(ctx workflow.Context, in OrderInput, lean bool) (ok bool, r Result, err error) {
	p := &placing{}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdatePlace,
		func(ctx workflow.Context, req order.Placement) (PlaceAnswer, error) {
			first := p.first == nil
			if first {
				p.first = &req
			} else if !p.first.Same(req) {
				return PlaceAnswer{}, conflictError(in.OrderID)
			}
			if err := workflow.Await(ctx, func() bool { return p.answer != nil || p.err != nil }); err != nil {
				return PlaceAnswer{}, err
			}
			if p.err != nil {
				return PlaceAnswer{}, p.err
			}
			a := *p.answer
			a.Created = a.Created && first
			return a, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req order.Placement) error {
			if req.Request.OrderID != in.OrderID {
				return temporal.NewNonRetryableApplicationError("placement of order "+req.Request.OrderID+" sent to order "+in.OrderID, ErrInvalidOrder, nil)
			}
			if p.first != nil && !p.first.Same(req) {
				return conflictError(in.OrderID)
			}
			return nil
		}})
	if err != nil {
		return false, Result{}, err
	}
	placed := func() bool { return p.first != nil }
	var got bool
	var found *PlaceAnswer
	if lean {
		got, found, err = awaitPlacement(ctx, in.OrderID, placed)
	} else {
		got, err = workflow.AwaitWithTimeout(ctx, placementTimeout, placed)
	}
	if err != nil {
		return false, Result{}, err
	}
	if found != nil {
		// Recorded by this run's first task, whose update died with it: the
		// run carries the order; a repeat placement is answered as one.
		p.answer = found
		return true, Result{}, nil
	}
	if !got {
		return false, noOrder(ctx, p, "no placement arrived"), nil
	}
	var rec activities.Recorded
	if err := workflow.ExecuteLocalActivity(withDB(caught(ctx), "Record order "+in.OrderID), a.RecordOrder, *p.first).Get(ctx, &rec); err != nil {
		p.err = err
		return false, noOrder(ctx, p, "not recorded: "+message(err)), nil
	}
	switch {
	case rec.Outcome == order.OutcomeConflict:
		p.err = conflictError(in.OrderID)
		return false, noOrder(ctx, p, "order id placed before with different content"), nil
	case rec.Outcome == order.OutcomeDomainTaken:
		p.answer = &PlaceAnswer{Outcome: order.OutcomeDomainTaken}
		return false, noOrder(ctx, p, "domain "+in.DomainPrefix+".onmicrosoft.com is held by another order"), nil
	case !rec.Created && rec.Status != order.Placed && rec.Run != workflow.GetInfo(ctx).WorkflowExecution.RunID:
		// An earlier run of this id recorded the order and moved it on (the
		// intake's read of the database raced with it): that run owns it.
		// This run's own order, moved on by local activities of a task
		// that died before it completed, is carried on below.
		p.answer = &PlaceAnswer{Outcome: order.OutcomePlaced, PlacedAt: rec.PlacedAt, Deadline: rec.Deadline}
		return false, noOrder(ctx, p, "placed before by an earlier run"), nil
	}
	// Created now, or recorded by an attempt of this run (or a run that
	// ended before moving it): this run carries the order.
	p.answer = &PlaceAnswer{Outcome: order.OutcomePlaced, Created: true, PlacedAt: rec.PlacedAt, Deadline: rec.Deadline}
	return true, Result{}, nil
}

// awaitPlacement is AwaitWithTimeout without its timer when the placement
// came with the run's first task (update-with-start, the intake's way): it
// first yields once, so that the place handler takes the buffered update,
// and only a run still without a placement starts the timer. One event and
// one timer task fewer an order.
//
// A run without a placement then looks for its order in the database
// (changeFoundPlacement), before the wait and again at its end, should a
// task of this run on a stalled worker have recorded it after the first
// look: found, recorded by this run, it is returned as the answer and the
// run carries it on.
func awaitPlacement(ctx workflow.Context, orderID string, placed func() bool) (bool, *PlaceAnswer, error) {
	turns := 0
	if err := workflow.Await(ctx, func() bool { turns++; return placed() || turns > 1 }); err != nil {
		return false, nil, err
	}
	if placed() {
		return true, nil, nil
	}
	if workflow.GetVersion(ctx, changeFoundPlacement, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		got, err := workflow.AwaitWithTimeout(ctx, placementTimeout, placed)
		return got, nil, err
	}
	for look := 1; ; look++ {
		if found := ownPlacement(ctx, orderID); found != nil {
			return true, found, nil
		}
		if placed() || look == 2 {
			return placed(), nil, nil
		}
		if got, err := workflow.AwaitWithTimeout(ctx, placementTimeout, placed); got || err != nil {
			return got, nil, err
		}
	}
}

// ownPlacement is the answer to the run's order as recorded by this run,
// nil when it is not recorded or was recorded by another.
func ownPlacement(ctx workflow.Context, orderID string) *PlaceAnswer {
	var rec activities.Recorded
	err := workflow.ExecuteLocalActivity(withDB(caught(ctx), "Find order "+orderID), a.FindPlacement, orderID).Get(ctx, &rec)
	switch {
	case err != nil:
		workflow.GetLogger(ctx).Error("recorded placement not read", "Error", err)
	case rec.Outcome == order.OutcomePlaced && rec.Run == workflow.GetInfo(ctx).WorkflowExecution.RunID:
		return &PlaceAnswer{Outcome: order.OutcomePlaced, PlacedAt: rec.PlacedAt, Deadline: rec.Deadline}
	}
	return nil
}

// noOrder ends a run that carries no order: every place update is answered
// first, and the run drops the OrderStatus it was started with.
func noOrder(ctx workflow.Context, p *placing, reason string) Result {
	if err := workflow.UpsertTypedSearchAttributes(ctx, OrderStatusKey.ValueUnset()); err != nil {
		workflow.GetLogger(ctx).Error("search attribute not updated", "Error", err)
	}
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return Result{Reason: reason}
}

// ParkedOrderWorkflow places its order as OrderWorkflow does (the same
// place update and RecordOrder) and then waits, untouched, until it is
// terminated: the bench measures what accepting an order costs with it,
// without the rest of the saga on the same CPUs.
func ParkedOrderWorkflow(ctx workflow.Context, in OrderInput) (Result, error) {
	if ok, r, err := place(ctx, in, true); !ok {
		return r, err
	}
	return Result{Status: order.Placed}, workflow.Await(ctx, func() bool { return false })
}
