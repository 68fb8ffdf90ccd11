package activities

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/activity"
)

// The saga's undo steps. Each is safe to run again: it finds what an earlier
// run did (a credit note per order, a refund per payment, a suspended
// subscription) and only logs it again under the same key.

// Event is one line of an order's log, written by Record.
type Event struct {
	Key    string // unique per order: a retried write is a no-op
	Status order.Status
	Reason string
	Actor  string // "system" when empty; an operator's name otherwise
	Move   bool   // also move the order to Status
	// Deadline, when set, is the order's new payment deadline.
	Deadline time.Time `json:",omitempty"`
}

// Record writes a line of the order's log, and moves the order with Move.
func (a *Activities) Record(ctx context.Context, orderID string, e Event) error {
	ev := store.Event{Key: e.Key, Status: e.Status, Reason: e.Reason, Actor: e.Actor}
	if !e.Deadline.IsZero() {
		return dbError(a.Store.ExtendDeadline(ctx, orderID, e.Deadline, ev))
	}
	return dbError(a.Store.Record(ctx, orderID, ev, e.Move))
}

// RecordManualPayment records a payment an operator saw by hand, for the
// pro-forma's gross amount, and returns its payment id.
func (a *Activities) RecordManualPayment(ctx context.Context, orderID, reference, actor, reason string) (string, error) {
	id, err := a.Store.RecordManualPayment(ctx, orderID, reference, actor, reason)
	return id, dbError(err)
}

// VoidInvoice voids the order's documents, as VoidCharge does a later
// charge's: a paid order gets the credit note that corrects its VAT invoice,
// whose number it returns; an unpaid one only has its pro-forma made void
// (a pro-forma is never corrected), and the number is "".
func (a *Activities) VoidInvoice(ctx context.Context, orderID, reason string) (string, error) {
	kor, err := a.Store.VoidCharge(ctx, store.OrderCharge(orderID), reason, time.Now().In(a.loc()))
	if err != nil {
		return "", dbError(err)
	}
	return kor.Number, a.toKSeF(ctx, kor)
}

// RevokeBilling closes the customer's billing panel access.
func (a *Activities) RevokeBilling(ctx context.Context, orderID string) error {
	return dbError(a.Store.RevokeBilling(ctx, orderID))
}

// ReleaseReservation frees the order's domain prefix.
func (a *Activities) ReleaseReservation(ctx context.Context, orderID string) error {
	return dbError(a.Store.ReleaseReservation(ctx, orderID))
}

// RefundPayment marks the order's payments for refund by the gateway.
func (a *Activities) RefundPayment(ctx context.Context, orderID, reason string) error {
	return dbError(a.Store.RefundPayments(ctx, orderID, reason))
}

// SuspendSubscriptions suspends every subscription of the order's tenant at
// the tenant API and returns how many it suspended. The list comes from the
// API, not only from our database: a subscription whose creation answer was
// lost exists there all the same. The customer was made for this order
// alone, so all of its subscriptions are the order's.
func (a *Activities) SuspendSubscriptions(ctx context.Context, orderID string) (int, error) {
	t, err := a.Store.Tenant(ctx, orderID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil // no tenant, so nothing was ordered
	}
	if err != nil {
		return 0, err
	}
	// A read is safe to repeat; a fresh request id per attempt keeps a retry
	// from being answered with an older list.
	list := call(orderID, "list-subscriptions-"+strconv.Itoa(int(activity.GetInfo(ctx).Attempt)))
	subs, err := a.Tenant.ListSubscriptions(ctx, t.PartnerCustomer, list)
	if err != nil {
		return 0, tenantError(err)
	}
	n := 0
	for _, s := range subs {
		if s.Status != tenant.StatusSuspended {
			_, err := a.Tenant.UpdateSubscription(ctx, t.PartnerCustomer, s.ID, tenant.Subscription{Status: tenant.StatusSuspended},
				call(orderID, "suspend-"+s.ID))
			if err != nil {
				return n, tenantError(err)
			}
			n++
		}
		if err := a.Store.MarkSuspended(ctx, orderID, s.ID); err != nil {
			return n, dbError(err)
		}
	}
	activity.GetLogger(ctx).Info("subscriptions suspended", "OrderID", orderID, "Suspended", n, "Total", len(subs))
	return n, nil
}
