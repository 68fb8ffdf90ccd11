package activities

import (
	"context"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// OrderSubscription buys the plan for the order's seats the new-commerce
// way, all in this one activity (so the workflow's commands are those of
// before): it confirms the customer's acceptance of the Microsoft Customer
// Agreement recorded with the order (who and when), then makes a cart of
// the plan's catalogue item with the order's term and billing cycle, and
// checks it out. Each call carries a request id of its own per order, so a
// retry is a repeat (the tenant API answers a repeated MS-RequestId with
// its first answer, so a purchase whose answer was lost is not made
// twice); an Agreement the tenant API holds already is no error, and a
// cart checked out before answers with its first result.
func (a *Activities) OrderSubscription(ctx context.Context, orderID string) error {
	o, err := a.Store.GetOrder(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	return a.orderSubscription(ctx, o)
}

func (a *Activities) orderSubscription(ctx context.Context, o store.Order) error {
	orderID := o.ID
	offer := o.OfferID // read with the order, and whether it is bought
	if o.Subscribed {
		return nil
	}
	t := o.Tenant
	if t == nil {
		return temporal.NewNonRetryableApplicationError("no tenant made for "+orderID, fail.InvalidOrder, nil)
	}
	item, ok := tenant.CatalogItemID(offer)
	if !ok {
		return temporal.NewNonRetryableApplicationError("no catalogue item sells offer "+offer, fail.TenantRejected, nil)
	}
	cust := t.PartnerCustomer
	ag := o.Agreement
	if err := a.Tenant.ConfirmAgreement(ctx, cust, tenant.Agreement{
		PrimaryContact: tenant.Contact{FirstName: ag.FirstName, LastName: ag.LastName, Email: ag.Email},
		DateAgreed:     ag.AcceptedAt.UTC(), TemplateID: tenant.MCATemplateID, Type: tenant.AgreementTypeMCA, AgreementLink: tenant.MCALink,
	}, call(orderID, "agreement")); err != nil {
		return tenantError(err)
	}
	cart, err := a.Tenant.CreateCart(ctx, cust, tenant.Cart{LineItems: []tenant.CartLineItem{{
		ID: 0, CatalogItemID: item, Quantity: o.Seats, TermDuration: o.Term, BillingCycle: o.BillingCycle,
	}}}, call(orderID, "cart"))
	if err != nil {
		return tenantError(err)
	}
	res, err := a.Tenant.CheckoutCart(ctx, cust, cart.ID, call(orderID, "checkout"))
	if err != nil {
		return tenantError(err)
	}
	if len(res.OrderErrors) > 0 {
		oe := res.OrderErrors[0]
		return temporal.NewNonRetryableApplicationError("tenant API refused the cart: "+oe.Code+" "+oe.Description, fail.TenantRejected, nil)
	}
	for _, po := range res.Orders {
		for _, li := range po.LineItems {
			if tenant.OfferOf(li.OfferID) == offer && li.SubscriptionID != "" {
				activity.GetLogger(ctx).Info("subscription bought", "OrderID", orderID, "Term", o.Term, "BillingCycle", o.BillingCycle)
				return a.saveSubscription(ctx, orderID, offer, li.SubscriptionID, li.Quantity)
			}
		}
	}
	return temporal.NewNonRetryableApplicationError("tenant API order has no subscription for "+offer, fail.TenantRejected, nil)
}

// BuyPlan buys the plan (OrderSubscription) and then gives the tenant's
// first admin one of its licences (AssignAdminLicence), in one activity:
// each half records what it did and skips it when run again, so a retry
// after the purchase only licenses the admin, and the purchase's undo
// (suspending the subscriptions) takes the licence back with it.
//
// The order is read once for both halves: the purchase changes nothing
// the licence's half reads (the tenant, the offer, whether the admin holds
// a licence).
func (a *Activities) BuyPlan(ctx context.Context, orderID string) error {
	o, err := a.Store.GetOrder(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	if err := a.orderSubscription(ctx, o); err != nil {
		return err
	}
	return a.assignAdminLicence(ctx, o)
}

func (a *Activities) saveSubscription(ctx context.Context, orderID, offer, id string, seats int) error {
	_, err := a.Store.SaveSubscription(ctx, store.Subscription{
		ID: id, OrderID: orderID, OfferID: offer, Quantity: seats, Status: tenant.StatusActive,
	})
	return err
}
