package intake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Licences asks for more (AddSeats > 0) or fewer seats:
// POST /v1/orders/{id}/licences. The same request id again is safe.
func (c *Client) Licences(ctx context.Context, orderID string, req LicencesRequest) (ChargeView, error) {
	var v ChargeView
	return v, c.post(ctx, orderID, "/licences", req, &v)
}

// AddUser asks for a user in the order's tenant: POST /v1/orders/{id}/users.
func (c *Client) AddUser(ctx context.Context, orderID string, req UserRequest) (UserView, error) {
	var v UserView
	return v, c.post(ctx, orderID, "/users", req, &v)
}

// AddDomain asks to add the customer's own domain to the tenant:
// POST /v1/orders/{id}/domains.
func (c *Client) AddDomain(ctx context.Context, orderID string, req DomainRequest) (DomainView, error) {
	var v DomainView
	return v, c.post(ctx, orderID, "/domains", req, &v)
}

// Domain reads the order's own domain with its mail records:
// GET /v1/orders/{id}/domains/{domain}.
func (c *Client) Domain(ctx context.Context, orderID, domain string) (DomainView, error) {
	var v DomainView
	path, err := orderPath(orderID, "/domains/"+url.PathEscape(domain))
	if err != nil {
		return v, err
	}
	return v, c.do(ctx, http.MethodGet, path, nil, nil, &v)
}

// CancelSubscription ends the order's subscription when its paid period
// ends: POST /v1/orders/{id}/subscription/cancel.
func (c *Client) CancelSubscription(ctx context.Context, orderID, reason string) (SubscriptionView, error) {
	var v SubscriptionView
	return v, c.post(ctx, orderID, "/subscription/cancel", cancelBody{Reason: reason}, &v)
}

func (c *Client) post(ctx context.Context, orderID, suffix string, in, out any) error {
	path, err := orderPath(orderID, suffix)
	if err != nil {
		return err
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, body, nil, out)
}
