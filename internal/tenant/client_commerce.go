package tenant

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// ConfirmAgreement records a customer's acceptance of an agreement. A
// confirmation Partner Center holds already for the same contact (409,
// PartnerConfirmedAgreementAlreadyExists, code 600061) is what the caller
// wanted, so it is no error: a retry after a lost answer succeeds.
func (c *Client) ConfirmAgreement(ctx context.Context, customerID string, a Agreement, call Call) error {
	err := c.do(ctx, http.MethodPost, customerPath(customerID)+"/agreements", call, a, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict &&
		(apiErr.Code == CodeAgreementExists || apiErr.Code == "600061") {
		return nil
	}
	return err
}

// ListAgreements returns the customer's confirmed agreements of a type
// ("" for all).
func (c *Client) ListAgreements(ctx context.Context, customerID, agreementType string, call Call) ([]Agreement, error) {
	path := customerPath(customerID) + "/agreements"
	if agreementType != "" {
		path += "?agreementType=" + url.QueryEscape(agreementType)
	}
	return list[Agreement](ctx, c, path, call)
}

// CreateCart makes a cart of catalogue items; the answer carries its id.
func (c *Client) CreateCart(ctx context.Context, customerID string, cart Cart, call Call) (Cart, error) {
	var out Cart
	err := c.do(ctx, http.MethodPost, customerPath(customerID)+"/carts", call, cart, &out)
	return out, err
}

// CheckoutCart buys a cart. Partner Center answers a repeated checkout of
// a cart with the first one's result; each order's line items carry the
// subscriptions they made.
func (c *Client) CheckoutCart(ctx context.Context, customerID, cartID string, call Call) (CheckoutResult, error) {
	var out CheckoutResult
	err := c.do(ctx, http.MethodPost, customerPath(customerID)+"/carts/"+url.PathEscape(cartID)+"/checkout", call, nil, &out)
	return out, err
}

func customerPath(customerID string) string {
	return "/v1/customers/" + url.PathEscape(customerID)
}
