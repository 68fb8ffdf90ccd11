package activities

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/temporal"
)

// States of the subscription, as the store keeps them.
const (
	ServiceActive     = store.ServiceActive
	ServiceRenewalDue = store.ServiceRenewalDue
	ServiceSuspended  = store.ServiceSuspended
	ServiceTerminated = store.ServiceTerminated
)

// States of the subscription at the tenant API.
const (
	TenantActive    = tenant.StatusActive
	TenantSuspended = tenant.StatusSuspended
	TenantDeleted   = tenant.StatusDeleted
)

// Renewal is what the subscription workflow keeps of a renewal charge.
type Renewal struct {
	ChargeID  string
	Invoice   Invoice
	Period    int
	PeriodEnd time.Time // the instant the renewed period ends
}

// IssueCharge issues the pro-forma of a licence purchase.
func (a *Activities) IssueCharge(ctx context.Context, chargeID string) (Invoice, error) {
	c, err := a.Store.IssueCharge(ctx, chargeID, time.Now().In(a.loc()))
	if err != nil {
		return Invoice{}, dbError(err)
	}
	if c.Invoice == nil {
		return Invoice{}, nil
	}
	return invoiceOf(*c.Invoice), nil
}

// SettleCharge records the payment of a charge and issues its VAT invoice.
func (a *Activities) SettleCharge(ctx context.Context, chargeID, paymentID string) (Invoice, error) {
	fv, err := a.Store.SettleCharge(ctx, chargeID, paymentID, time.Now().In(a.loc()))
	if err != nil {
		return Invoice{}, dbError(err)
	}
	return invoiceOf(fv), a.toKSeF(ctx, fv)
}

// ApplySeats makes a paid change of seats the service's and returns the
// seats the subscription must have. A change no longer possible is final.
func (a *Activities) ApplySeats(ctx context.Context, chargeID string) (int, error) {
	n, err := a.Store.ApplySeats(ctx, chargeID)
	var se *store.SeatsError
	if errors.As(err, &se) {
		return 0, temporal.NewNonRetryableApplicationError(se.Message, fail.SeatsRefused, nil)
	}
	return n, dbError(err)
}

// SetQuantity sets the subscription's quantity at the tenant to the seats
// the database holds now: absolute, so retries and concurrent purchases
// converge on the database's count.
func (a *Activities) SetQuantity(ctx context.Context, orderID, chargeID string) error {
	sv, err := a.Store.GetService(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	if sv.PartnerCustomer == "" || sv.SubscriptionID == "" {
		return temporal.NewNonRetryableApplicationError("no subscription made for "+orderID, fail.InvalidOrder, nil)
	}
	_, err = a.Tenant.UpdateSubscription(ctx, sv.PartnerCustomer, sv.SubscriptionID, tenant.Subscription{Quantity: sv.Seats},
		call(orderID, "quantity:"+chargeID))
	return tenantError(err)
}

// VoidCharge voids a charge's documents (a credit note only against a VAT
// invoice: an unpaid pro-forma is simply void) and owes back money paid.
func (a *Activities) VoidCharge(ctx context.Context, chargeID, reason string) error {
	kor, err := a.Store.VoidCharge(ctx, chargeID, reason, time.Now().In(a.loc()))
	if err != nil {
		return dbError(err)
	}
	return a.toKSeF(ctx, kor)
}

// OpenRenewal issues the renewal pro-forma for the period after the
// current one, payable until deadline.
func (a *Activities) OpenRenewal(ctx context.Context, orderID string, deadline time.Time) (Renewal, error) {
	wid := order.SubscriptionWorkflowID(orderID)
	c, err := a.Store.OpenRenewal(ctx, orderID, wid, deadline, time.Now().In(a.loc()))
	if err != nil {
		return Renewal{}, dbError(err)
	}
	r := Renewal{ChargeID: c.ID, Period: c.Period, PeriodEnd: a.midnight(c.PeriodEnd)}
	if c.Invoice != nil {
		r.Invoice = invoiceOf(*c.Invoice)
	}
	return r, nil
}

// midnight is the instant a date begins in Poland: periods end there.
func (a *Activities) midnight(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, a.loc())
}

// SetService moves the subscription's state in the database.
func (a *Activities) SetService(ctx context.Context, orderID, key, status, reason string) error {
	return dbError(a.Store.SetService(ctx, orderID, key, status, reason))
}

// CancelAtPeriodEnd records the customer's wish to end at the period's end.
func (a *Activities) CancelAtPeriodEnd(ctx context.Context, orderID, actor, reason string) error {
	_, _, err := a.Store.CancelAtPeriodEnd(ctx, orderID, actor, reason)
	return dbError(err)
}

// SetTenantStatus suspends, reactivates or deletes the order's
// subscriptions at the tenant. A subscription already deleted is done.
func (a *Activities) SetTenantStatus(ctx context.Context, orderID, status string) error {
	sv, err := a.Store.GetService(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	subs, err := a.Store.Subscriptions(ctx, orderID)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		_, err := a.Tenant.UpdateSubscription(ctx, sv.PartnerCustomer, sub.ID, tenant.Subscription{Status: status},
			call(orderID, "status:"+status+":"+itoa(sv.Period)+":"+sub.ID))
		var apiErr *tenant.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict && apiErr.Code == "SubscriptionDeleted" {
			continue
		}
		if err != nil {
			return tenantError(err)
		}
		if err := a.Store.MarkSubscription(ctx, orderID, sub.ID, status); err != nil {
			return err
		}
	}
	return nil
}
