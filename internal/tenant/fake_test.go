package tenant

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rawDo talks to the fake without the Client, to pin down wire behaviour the
// Client never provokes.
func rawDo(t *testing.T, srv *httptest.Server, method, path, body string) (*http.Response, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]string
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "body %q", raw)
	}
	return resp, out
}

func TestFakeUnknownRouteIsJSON404(t *testing.T) {
	srv := httptest.NewServer(NewFake(testToken))
	t.Cleanup(srv.Close)

	for _, path := range []string{"/v1/nope", "/", "/v1/customers/a/b/c"} {
		resp, body := rawDo(t, srv, http.MethodGet, path, "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Equal(t, "NotFound", body["code"])
		require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	}
}

func TestFakeWrongMethodIsJSON405(t *testing.T) {
	srv := httptest.NewServer(NewFake(testToken))
	t.Cleanup(srv.Close)

	resp, body := rawDo(t, srv, http.MethodDelete, "/v1/customers", "")
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "MethodNotAllowed", body["code"])
	require.Contains(t, resp.Header.Get("Allow"), http.MethodPost)

	resp, _ = rawDo(t, srv, http.MethodGet, "/v1/domains/contoso.onmicrosoft.com", "")
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestFakeRejectsMalformedJSON(t *testing.T) {
	fake := NewFake(testToken)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	resp, body := rawDo(t, srv, http.MethodPost, "/v1/customers", "{not json")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, "InvalidRequest", body["code"])
	require.Empty(t, fake.Customers())
}

func TestFakeEchoesRequestAndCorrelationIDs(t *testing.T) {
	srv := httptest.NewServer(NewFake(testToken))
	t.Cleanup(srv.Close)

	req, err := http.NewRequest(http.MethodHead, srv.URL+"/v1/domains/x.onmicrosoft.com", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("MS-RequestId", "r-1")
	req.Header.Set("MS-CorrelationId", "c-1")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, "r-1", resp.Header.Get("MS-RequestId"))
	require.Equal(t, "c-1", resp.Header.Get("MS-CorrelationId"))
}

func TestFaultMatchingAndTimes(t *testing.T) {
	fake := NewFake("")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	fake.Inject(Fault{Method: http.MethodHead, PathPrefix: "/v1/domains/", Status: http.StatusBadGateway, Times: 2})

	status := func(method, path string) int {
		resp, _ := rawDo(t, srv, method, path, "")
		return resp.StatusCode
	}
	require.Equal(t, http.StatusNotFound, status(http.MethodGet, "/v1/customers/x"), "other method and path")
	require.Equal(t, http.StatusBadGateway, status(http.MethodHead, "/v1/domains/a.onmicrosoft.com"))
	require.Equal(t, http.StatusBadGateway, status(http.MethodHead, "/v1/domains/b.onmicrosoft.com"))
	require.Equal(t, http.StatusNotFound, status(http.MethodHead, "/v1/domains/c.onmicrosoft.com"), "used up")
	require.Equal(t, 4, fake.Requests())
}

func TestFaultsApplyInInjectionOrder(t *testing.T) {
	fake := NewFake("")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	fake.Inject(Fault{Status: http.StatusServiceUnavailable})
	fake.Inject(Fault{Status: http.StatusTooManyRequests, Code: "Throttled"})

	resp, _ := rawDo(t, srv, http.MethodGet, "/v1/customers/x", "")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	resp, body := rawDo(t, srv, http.MethodGet, "/v1/customers/x", "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "Throttled", body["code"])
}

func TestFakePasswordsAreStrongAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := NewPassword()
		requireStrongPassword(t, pw)
		require.False(t, seen[pw])
		seen[pw] = true
	}
}

func TestFakeIDsAreRandomUUIDs(t *testing.T) {
	a, b := newUUID(), newUUID()
	require.Regexp(t, uuidRe, a)
	require.Equal(t, byte('4'), a[14], "version 4")
	require.NotEqual(t, a, b)
}

func TestFakeListSubscriptionsWireShape(t *testing.T) {
	fake := NewFake(testToken)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL, testToken, srv.Client())
	cust, err := c.CreateCustomer(t.Context(), testCustomer("contoso"), Call{})
	require.NoError(t, err)

	get := func() (int, string, []byte) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/"+cust.ID+"/subscriptions", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("MS-RequestId", "r-1")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("MS-RequestId"), raw
	}

	status, echoed, raw := get()
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "r-1", echoed)
	require.JSONEq(t, `{"totalCount":0,"items":[],"attributes":{"objectType":"Collection"}}`, string(raw))

	_, err = c.CreateOrder(t.Context(), cust.ID, Order{LineItems: []LineItem{{OfferID: "a", Quantity: 1}, {OfferID: "b", Quantity: 2}}}, Call{})
	require.NoError(t, err)
	subs := fake.Subscriptions(cust.ID)
	want, err := json.Marshal(map[string]any{"totalCount": 2, "items": subs, "attributes": map[string]string{"objectType": "Collection"}})
	require.NoError(t, err)
	_, _, raw = get()
	require.JSONEq(t, string(want), string(raw))
}
