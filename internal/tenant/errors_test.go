package tenant

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRequestIDIsStableVersion5UUID(t *testing.T) {
	id := RequestID("order-42", "create-customer")
	require.Equal(t, id, RequestID("order-42", "create-customer"))
	require.Regexp(t, uuidRe, id)
	require.Equal(t, byte('5'), id[14], "version 5")

	require.NotEqual(t, id, RequestID("order-42", "create-order"))
	require.NotEqual(t, RequestID("ab", "c"), RequestID("a", "bc"), "parts must not run together")
	require.NotEqual(t, RequestID("a"), RequestID("a", ""))
}

func TestNewAPIErrorParsesBodies(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, tc := range map[string]struct {
		body       string
		code, desc string
	}{
		"string code":   {`{"code":"DomainTaken","description":"in use"}`, "DomainTaken", "in use"},
		"numeric code":  {`{"code":600041,"description":"bad"}`, "600041", "bad"},
		"empty body":    {``, "", ""},
		"html":          {`<html>Bad Gateway</html>`, "", ""},
		"json no code":  {`{"message":"x"}`, "", ""},
		"json not obj":  {`"oops"`, "", ""},
		"null code":     {`{"code":null}`, "", ""},
		"long descript": {`{"code":"X","description":"` + strings.Repeat("é", 600) + `"}`, "X", strings.Repeat("é", 256) + "…"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newAPIError(http.MethodPost, "/v1/customers", 502, http.Header{}, []byte(tc.body), now)
			require.Equal(t, 502, e.Status)
			require.Equal(t, tc.code, e.Code)
			require.Equal(t, tc.desc, e.Description)
			require.True(t, e.Temporary())
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":     0,
		"7":    7 * time.Second,
		" 2 ":  2 * time.Second,
		"0":    0,
		"-3":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		require.Equal(t, want, parseRetryAfter(in, now), "Retry-After %q", in)
	}
}

func TestAPIErrorTemporary(t *testing.T) {
	for status, want := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 409: false,
		408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		require.Equal(t, want, (&APIError{Status: status}).Temporary(), "status %d", status)
	}
}

func TestAPIErrorMessage(t *testing.T) {
	e := &APIError{Status: 409, Code: "DomainTaken", Description: "in use", Method: "POST", Path: "/v1/customers"}
	require.Equal(t, "partner center: POST /v1/customers: 409 DomainTaken: in use", e.Error())

	e = &APIError{Status: 503, RetryAfter: 2 * time.Second}
	require.Equal(t, "partner center: 503 Service Unavailable (retry after 2s)", e.Error())
}
