package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Call identifies one logical call. RequestID is stable per order and step so
// the server recognises a retry; CorrelationID ties the calls of one order.
type Call struct {
	RequestID     string
	CorrelationID string
}

// DefaultTimeout bounds a call when NewClient is given no http.Client.
const DefaultTimeout = 30 * time.Second

// maxResponseBody bounds what we buffer from the server.
const maxResponseBody = 4 << 20

// Client calls a Partner Center shaped API. It never retries on its own: the
// caller is a Temporal activity whose retry policy decides, and a hidden retry
// here would hide attempts from it. It never logs bodies, which carry
// passwords.
type Client struct {
	baseURL string
	token   string
	hc      *http.Client
}

// NewClient returns a client for baseURL (e.g. "https://api.partnercenter.microsoft.com").
// A nil hc means an http.Client with DefaultTimeout.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), token: token, hc: hc}
}

// DomainAvailable reports whether domain (e.g. "contoso.onmicrosoft.com") is
// still free.
func (c *Client) DomainAvailable(ctx context.Context, domain string, call Call) (bool, error) {
	path := "/v1/domains/" + url.PathEscape(domain)
	resp, body, err := c.roundTrip(ctx, http.MethodHead, path, call, nil)
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return true, nil
	case http.StatusOK:
		return false, nil
	}
	return false, newAPIError(http.MethodHead, path, resp.StatusCode, resp.Header, body, time.Now())
}

// CreateCustomer creates a customer. The answer carries the tenant id and the
// admin's initial credentials, which Partner Center never returns again.
func (c *Client) CreateCustomer(ctx context.Context, cust Customer, call Call) (Customer, error) {
	var out Customer
	err := c.do(ctx, http.MethodPost, "/v1/customers", call, cust, &out)
	return out, err
}

// GetCustomer fetches a customer by id.
func (c *Client) GetCustomer(ctx context.Context, id string, call Call) (Customer, error) {
	var out Customer
	err := c.do(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(id), call, nil, &out)
	return out, err
}

// CreateOrder places an order; each returned line item carries the id of the
// subscription it created.
func (c *Client) CreateOrder(ctx context.Context, customerID string, o Order, call Call) (Order, error) {
	var out Order
	err := c.do(ctx, http.MethodPost, "/v1/customers/"+url.PathEscape(customerID)+"/orders", call, o, &out)
	return out, err
}

// GetSubscription fetches one subscription of a customer.
func (c *Client) GetSubscription(ctx context.Context, customerID, subID string, call Call) (Subscription, error) {
	var out Subscription
	err := c.do(ctx, http.MethodGet, subscriptionPath(customerID, subID), call, nil, &out)
	return out, err
}

// ListSubscriptions returns all subscriptions of a customer.
func (c *Client) ListSubscriptions(ctx context.Context, customerID string, call Call) ([]Subscription, error) {
	return list[Subscription](ctx, c, "/v1/customers/"+url.PathEscape(customerID)+"/subscriptions", call)
}

// list fetches a collection. An answer whose totalCount promises more items
// than it carries (a paged answer, which this client does not follow) is an
// error rather than a silently short list. The result is never nil.
func list[T any](ctx context.Context, c *Client, path string, call Call) ([]T, error) {
	var out collection[T]
	if err := c.do(ctx, http.MethodGet, path, call, nil, &out); err != nil {
		return nil, err
	}
	if out.TotalCount > len(out.Items) {
		return nil, fmt.Errorf("tenant: %s %s: answer holds %d of %d items", http.MethodGet, path, len(out.Items), out.TotalCount)
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out.Items, nil
}

// UpdateSubscription applies a non-zero Quantity and a non-empty Status from
// patch; other fields are ignored.
func (c *Client) UpdateSubscription(ctx context.Context, customerID, subID string, patch Subscription, call Call) (Subscription, error) {
	// Only the changed fields go on the wire so a zero quantity is never read
	// as "set seats to 0".
	body := struct {
		Quantity int    `json:"quantity,omitempty"`
		Status   string `json:"status,omitempty"`
	}{patch.Quantity, patch.Status}
	var out Subscription
	err := c.do(ctx, http.MethodPatch, subscriptionPath(customerID, subID), call, body, &out)
	return out, err
}

func subscriptionPath(customerID, subID string) string {
	return "/v1/customers/" + url.PathEscape(customerID) + "/subscriptions/" + url.PathEscape(subID)
}

// do sends one request, turns non-2xx answers into *APIError and decodes a
// 2xx body into out.
func (c *Client) do(ctx context.Context, method, path string, call Call, in, out any) error {
	resp, body, err := c.roundTrip(ctx, method, path, call, in)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(method, path, resp.StatusCode, resp.Header, body, time.Now())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		// The json error may quote the body, which can hold a password.
		return fmt.Errorf("tenant: %s %s: malformed %d answer (%d bytes)", method, path, resp.StatusCode, len(body))
	}
	return nil
}

// remove sends a DELETE. A 404 means the thing is already gone, which is
// what the caller wanted: a retry after a lost answer must not fail.
func (c *Client) remove(ctx context.Context, path string, call Call) error {
	resp, body, err := c.roundTrip(ctx, http.MethodDelete, path, call, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound || (resp.StatusCode >= 200 && resp.StatusCode <= 299) {
		return nil
	}
	return newAPIError(http.MethodDelete, path, resp.StatusCode, resp.Header, body, time.Now())
}

// roundTrip returns any answer the server gave together with its body.
// Transport errors (refused, reset, timeouts) come back wrapped so callers can
// still errors.Is/As them.
func (c *Client) roundTrip(ctx context.Context, method, path string, call Call, in any) (*http.Response, []byte, error) {
	var reqBody io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, nil, fmt.Errorf("tenant: %s %s: encode request: %w", method, path, err)
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, reqBody)
	if err != nil {
		return nil, nil, fmt.Errorf("tenant: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if call.RequestID != "" {
		req.Header.Set("MS-RequestId", call.RequestID)
	}
	if call.CorrelationID != "" {
		req.Header.Set("MS-CorrelationId", call.CorrelationID)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("tenant: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		// A cut-off answer is as good as none: the effect may or may not have
		// happened, and only a retry with the same RequestID can tell.
		return nil, nil, fmt.Errorf("tenant: %s %s: read answer: %w", method, path, err)
	}
	return resp, body, nil
}
