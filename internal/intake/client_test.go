package intake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// fakeAPI serves h on a test server and returns a client of it with key
// "shop-key"; the real Server needs PostgreSQL and Temporal.
func fakeAPI(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return NewClient(srv.URL+"/", "shop-key", srv.Client())
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func sampleRequest() order.Request {
	return order.Request{
		OrderID: "shop-123", Plan: "business-standard", Seats: 5, DomainPrefix: "acme", BillingCycle: "monthly", Language: "pl",
		Customer: order.Customer{Company: "Acme sp. z o.o.", Email: "it@acme.pl", Country: "PL"},
	}
}

// The client waits longer than the server takes to give up on a placement
// (placeTimeout, then 503), so a slow placement is answered, not abandoned.
func TestNewClientOutwaitsThePlacement(t *testing.T) {
	c := NewClient("http://127.0.0.1:1", "k", nil)
	require.Equal(t, 60*time.Second, c.hc.Timeout)
	require.Greater(t, c.hc.Timeout, placeTimeout)
	require.Less(t, placeTimeout, WriteTimeout)
}

func TestClientSendsBearerKeyToOrders(t *testing.T) {
	var auth []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{order_id}", func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		answer(w, 200, OrderView{OrderID: r.PathValue("order_id"), Status: "awaiting_payment",
			Invoice: &InvoiceView{Number: "PF/2026/000001", Gross: "332.10", Currency: "PLN"}})
	})
	mux.HandleFunc("POST /v1/orders", func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		answer(w, 202, Placed{OrderID: "shop-123", Status: "placed"})
	})
	mux.HandleFunc("POST /v1/orders/{order_id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		answer(w, 202, map[string]string{"order_id": r.PathValue("order_id"), "status": "compensating"})
	})
	c := fakeAPI(t, mux)
	ctx := context.Background()

	v, err := c.Get(ctx, "shop-123")
	require.NoError(t, err)
	require.Equal(t, "shop-123", v.OrderID)
	require.Equal(t, "332.10", v.Invoice.Gross)
	_, err = c.Place(ctx, sampleRequest())
	require.NoError(t, err)
	require.NoError(t, c.Cancel(ctx, "shop-123", ""))
	require.Equal(t, []string{"Bearer shop-key", "Bearer shop-key", "Bearer shop-key"}, auth)
}

func TestPlaceDecodesPlaced(t *testing.T) {
	placedAt := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var got order.Request
	c := fakeAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "POST /v1/orders", r.Method+" "+r.URL.Path)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields() // as strict as the real server
		require.NoError(t, dec.Decode(&got))
		answer(w, http.StatusAccepted, Placed{OrderID: got.OrderID, Status: "placed", WorkflowID: "order-" + got.OrderID,
			PlacedAt: placedAt, PaymentDeadline: placedAt.Add(168 * time.Hour)})
	}))

	p, err := c.Place(context.Background(), sampleRequest())
	require.NoError(t, err)
	require.Equal(t, sampleRequest(), got)
	require.Equal(t, Placed{OrderID: "shop-123", Status: "placed", WorkflowID: "order-shop-123",
		PlacedAt: placedAt, PaymentDeadline: placedAt.Add(168 * time.Hour)}, p)
}

func TestPlaceJSONSendsTheBodyAsIs(t *testing.T) {
	body := []byte(`{"order_id":"shop-9","extra":true}`)
	c := fakeAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.Equal(t, string(body), string(raw))
		answer(w, 400, ErrorBody{Error: ErrorDetail{Code: "unknown_field", Field: "extra", Message: "unknown field extra"}})
	}))
	_, err := c.PlaceJSON(context.Background(), body)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "extra", apiErr.Field)
}

func TestValidationErrorIsAPIErrorWithField(t *testing.T) {
	c := fakeAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, 400, ErrorBody{Error: ErrorDetail{Code: "invalid", Field: "seats", Message: "seats must be between 1 and 300"}})
	}))
	req := sampleRequest()
	req.Seats = 301
	_, err := c.Place(context.Background(), req)

	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, APIError{Status: 400, Code: "invalid", Field: "seats", Message: "seats must be between 1 and 300"}, *apiErr)
	require.Equal(t, "400 invalid seats: seats must be between 1 and 300", err.Error())
}

func TestUnknownOrderIs404APIError(t *testing.T) {
	c := fakeAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, 404, ErrorBody{Error: ErrorDetail{Code: "not_found", Field: "order_id", Message: "no order nope"}})
	}))
	_, err := c.Get(context.Background(), "nope")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 404, apiErr.Status)
	require.Equal(t, "not_found", apiErr.Code)
	require.Equal(t, "404 not_found order_id: no order nope", err.Error())
}

func TestNonJSONErrorBodyKeepsStatus(t *testing.T) {
	for body, want := range map[string]string{
		"<html>\n<h1>Bad Gateway</h1>\n</html>\n": "502 Bad Gateway: <html> <h1>Bad Gateway</h1> </html>",
		"": "502 Bad Gateway",
	} {
		c := fakeAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, body)
		}))
		_, err := c.Get(context.Background(), "shop-1")
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, 502, apiErr.Status)
		require.Equal(t, want, err.Error())
	}
}

func TestNotifySignsTheExactBody(t *testing.T) {
	secret := []byte("s3cret")
	seen := map[string]bool{}
	var got []Notification
	c := fakeAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "POST /v1/payments/notifications", r.Method+" "+r.URL.Path)
		require.Empty(t, r.Header.Get("Authorization"), "the shop's key is not for the gateway's endpoint")
		raw, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		if !Verify(secret, raw, r.Header.Get("X-Signature")) {
			answer(w, 401, ErrorBody{Error: ErrorDetail{Code: "bad_signature", Field: "X-Signature", Message: "missing or wrong signature"}})
			return
		}
		var n Notification
		require.NoError(t, json.Unmarshal(raw, &n))
		got = append(got, n)
		dup := seen[n.PaymentID]
		seen[n.PaymentID] = true
		answer(w, 200, map[string]any{"order_id": n.OrderID, "payment_id": n.PaymentID, "duplicate": dup})
	}))
	ctx := context.Background()
	n := Notification{OrderID: "shop-123", PaymentID: "p-1", Status: "completed", Amount: "332.10", Currency: "PLN"}

	dup, err := c.Notify(ctx, secret, n)
	require.NoError(t, err)
	require.False(t, dup)
	dup, err = c.Notify(ctx, secret, n)
	require.NoError(t, err)
	require.True(t, dup)
	require.Equal(t, []Notification{n, n}, got)

	_, err = c.Notify(ctx, []byte("wrong"), n)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 401, apiErr.Status)
	require.Len(t, got, 2)
}

func TestOddOrderIDsArePathEscaped(t *testing.T) {
	type hit struct{ route, id, escaped, reason string }
	var hits []hit
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{order_id}", func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, hit{"get", r.PathValue("order_id"), r.URL.EscapedPath(), ""})
		answer(w, 200, OrderView{OrderID: r.PathValue("order_id")})
	})
	mux.HandleFunc("POST /v1/orders/{order_id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		var b struct{ Reason string }
		require.NoError(t, json.NewDecoder(r.Body).Decode(&b))
		hits = append(hits, hit{"cancel", r.PathValue("order_id"), r.URL.EscapedPath(), b.Reason})
		answer(w, 202, map[string]string{"status": "compensating"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 404, ErrorBody{Error: ErrorDetail{Code: "not_found", Message: r.URL.EscapedPath()}})
	})
	c := fakeAPI(t, mux)
	ctx := context.Background()

	for _, id := range []string{"a/b", "a b?c=d#e", "100%", "zażółć", "x/../cancel"} {
		hits = nil
		v, err := c.Get(ctx, id)
		require.NoError(t, err, id)
		require.Equal(t, id, v.OrderID)
		require.NoError(t, c.Cancel(ctx, id, "changed my mind"))
		require.Len(t, hits, 2, id)
		require.Equal(t, hit{"get", id, hits[0].escaped, ""}, hits[0])
		require.Equal(t, hit{"cancel", id, hits[1].escaped, "changed my mind"}, hits[1])
		require.Equal(t, hits[0].escaped+"/cancel", hits[1].escaped)
	}
	for _, id := range []string{"", ".", ".."} {
		_, err := c.Get(ctx, id)
		require.Error(t, err)
		require.False(t, errors.As(err, new(*APIError)), "refused before any request")
	}
}
