package activities

import (
	"context"
	"errors"
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/store"
	"go.temporal.io/sdk/temporal"
)

// Reduction is a request to lower an order's seats, as the intake records
// it; the subscription workflow admits it within a cancellation window.
type Reduction struct {
	OrderID, ChargeID, WorkflowID string
	Hash                          []byte
	Change                        int // negative
	Deadline                      time.Time
	Today                         time.Time // the date in Poland
}

// OpenReduction records a reduction of seats, once; it tells whether this
// call recorded it (false for a repeat of the same request). Licences in
// use, another request under the same id, or no active subscription are
// final refusals whose types the intake answers.
func (a *Activities) OpenReduction(ctx context.Context, r Reduction) (bool, error) {
	c, err := a.Store.OpenLicenceCharge(ctx, store.ChargeRequest{ID: r.ChargeID, OrderID: r.OrderID, WorkflowID: r.WorkflowID,
		Hash: r.Hash, Change: r.Change, Deadline: r.Deadline, Today: r.Today})
	var se *store.SeatsError
	switch {
	case errors.As(err, &se):
		return false, temporal.NewNonRetryableApplicationError(se.Message, fail.SeatsRefused, nil, se.InUse, se.Seats)
	case errors.Is(err, store.ErrConflict):
		return false, temporal.NewNonRetryableApplicationError(err.Error(), fail.OrderConflict, nil)
	case errors.Is(err, store.ErrNotActive):
		return false, temporal.NewNonRetryableApplicationError(err.Error(), fail.InvalidOrder, nil)
	}
	return c.Created, dbError(err)
}

// FreeSeats is how many of the order's seats hold no licence.
func (a *Activities) FreeSeats(ctx context.Context, orderID string) (int, error) {
	free, err := a.Store.FreeSeats(ctx, orderID)
	return free, dbError(err)
}
