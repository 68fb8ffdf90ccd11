package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/order"
)

// Client calls the intake API for a web shop. It is safe for concurrent use.
type Client struct {
	base string
	key  string
	hc   *http.Client
}

// NewClient returns a client of the API at baseURL (such as
// http://127.0.0.1:8080) that sends key as the shop's bearer key. With hc nil
// every call gives up after 60 s: the server's own bound (placeTimeout, then
// 503) comes first.
func NewClient(baseURL, key string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, hc: hc}
}

// APIError is a non-2xx answer, decoded from the server's
// {"error":{code,field,message}} body when it has one.
type APIError struct {
	Status  int
	Code    string
	Field   string
	Message string
}

// Error is one line, so that a CLI can print it as the reason.
func (e *APIError) Error() string {
	s := strconv.Itoa(e.Status)
	switch {
	case e.Code != "":
		s += " " + e.Code
	case http.StatusText(e.Status) != "":
		s += " " + http.StatusText(e.Status)
	}
	if e.Field != "" {
		s += " " + e.Field
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return oneLine(s)
}

// Place places an order: POST /v1/orders. Repeating the same request is
// safe and gives the same answer.
func (c *Client) Place(ctx context.Context, req order.Request) (Placed, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Placed{}, err
	}
	return c.PlaceJSON(ctx, body)
}

// PlaceJSON is Place with the body as given, so that the server judges
// exactly what a shop wrote (unknown fields included).
func (c *Client) PlaceJSON(ctx context.Context, body []byte) (Placed, error) {
	var p Placed
	err := c.do(ctx, http.MethodPost, "/v1/orders", body, nil, &p)
	return p, err
}

// Get reads an order with its invoice: GET /v1/orders/{id}.
func (c *Client) Get(ctx context.Context, orderID string) (OrderView, error) {
	var v OrderView
	path, err := orderPath(orderID, "")
	if err != nil {
		return v, err
	}
	err = c.do(ctx, http.MethodGet, path, nil, nil, &v)
	return v, err
}

// Cancel asks to cancel an order that has not been provisioned yet:
// POST /v1/orders/{id}/cancel. An empty reason leaves the server's default.
func (c *Client) Cancel(ctx context.Context, orderID, reason string) error {
	path, err := orderPath(orderID, "/cancel")
	if err != nil {
		return err
	}
	body, err := json.Marshal(cancelBody{Reason: reason})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, body, nil, nil)
}

// Documents lists an order's billing documents, oldest first.
func (c *Client) Documents(ctx context.Context, orderID string) ([]DocumentView, error) {
	path, err := orderPath(orderID, "/documents")
	if err != nil {
		return nil, err
	}
	var out Documents
	err = c.do(ctx, http.MethodGet, path, nil, nil, &out)
	return out.Documents, err
}

// PDF downloads a document's PDF by its id.
func (c *Client) PDF(ctx context.Context, documentID string) ([]byte, error) {
	return c.documentFile(ctx, documentID, ".pdf")
}

// DocumentXML downloads the FA(3) XML of a VAT invoice or correction, as it
// was (or will be) sent to KSeF; a 404 APIError when it has none.
func (c *Client) DocumentXML(ctx context.Context, documentID string) ([]byte, error) {
	return c.documentFile(ctx, documentID, ".xml")
}

// DocumentUPO downloads KSeF's receipt (UPO) of a document; a 404 APIError
// until KSeF has accepted it.
func (c *Client) DocumentUPO(ctx context.Context, documentID string) ([]byte, error) {
	return c.documentFile(ctx, documentID, "/upo.xml")
}

func (c *Client) documentFile(ctx context.Context, documentID, suffix string) ([]byte, error) {
	// The id is one path segment: a "/", "?", "#" or "." in it would name
	// another resource.
	if documentID == "" || strings.ContainsAny(documentID, "/?#.") {
		return nil, fmt.Errorf("invalid document id %q", documentID)
	}
	var b []byte
	err := c.do(ctx, http.MethodGet, "/v1/documents/"+documentID+suffix, nil, nil, &b)
	return b, err
}

// Notify sends a payment notification as the payment gateway does, signed
// with secret. duplicate tells that the server had it already.
func (c *Client) Notify(ctx context.Context, secret []byte, n Notification) (duplicate bool, err error) {
	body, err := json.Marshal(n)
	if err != nil {
		return false, err
	}
	// The signature covers these exact bytes, so they are sent as they are.
	var ans struct {
		Duplicate bool `json:"duplicate"`
	}
	err = c.do(ctx, http.MethodPost, "/v1/payments/notifications", body, http.Header{"X-Signature": {Sign(secret, body)}}, &ans)
	return ans.Duplicate, err
}

func orderPath(orderID, suffix string) (string, error) {
	// "." and ".." would be cleaned away by the server's router and name
	// another resource; no valid order id looks like that.
	if orderID == "" || orderID == "." || orderID == ".." {
		return "", fmt.Errorf("invalid order id %q", orderID)
	}
	return "/v1/orders/" + url.PathEscape(orderID) + suffix, nil
}

// maxAnswer bounds what is read of an answer; the API's are a few KiB, a
// document's PDF or XML some tens. A longer answer is an error, not cut
// short: a truncated PDF or FA(3) XML would be a wrong document, quietly.
const maxAnswer = 1 << 20

func (c *Client) do(ctx context.Context, method, path string, body []byte, header http.Header, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	// Payment notifications are authenticated by their signature; the shop's
	// key has no business travelling with them.
	if strings.HasPrefix(path, "/v1/orders") || strings.HasPrefix(path, "/v1/documents") {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp.StatusCode, raw)
	}
	if len(raw) > maxAnswer {
		return fmt.Errorf("%s %s: answer %d is larger than %d bytes", method, path, resp.StatusCode, maxAnswer)
	}
	if out == nil {
		return nil
	}
	if b, ok := out.(*[]byte); ok {
		*b = raw
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: answer %d is not the expected JSON: %w", method, path, resp.StatusCode, err)
	}
	return nil
}

// apiError keeps the status even when the body is not the API's (a proxy's
// HTML page, say), and then shows the start of the body as the message.
func apiError(status int, raw []byte) *APIError {
	e := &APIError{Status: status}
	var eb ErrorBody
	if err := json.Unmarshal(raw, &eb); err == nil && (eb.Error.Code != "" || eb.Error.Message != "") {
		e.Code, e.Field, e.Message = eb.Error.Code, eb.Error.Field, eb.Error.Message
		return e
	}
	msg := strings.Join(strings.Fields(string(raw)), " ")
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "..."
	}
	e.Message = msg
	return e
}

var newlines = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

func oneLine(s string) string { return newlines.Replace(s) }
