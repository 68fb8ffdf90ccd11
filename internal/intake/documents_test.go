package intake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDocumentsAreNotCachedOrSniffed: a customer's invoice must not stay in
// a shared or browser cache, and is never sniffed as something else.
func TestDocumentsAreNotCachedOrSniffed(t *testing.T) {
	st, h := newServer(t, &placingTemporal{})
	do := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer shop-key")
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	get := func(path string) *httptest.ResponseRecorder { return do(http.MethodGet, path, "") }
	placed := do(http.MethodPost, "/v1/orders", validOrder)
	require.Equal(t, http.StatusAccepted, placed.Code, placed.Body.String())
	b, err := st.OpenBilling(context.Background(), "shop-123", []byte("token-hash"), time.Now())
	require.NoError(t, err)

	pdf := get("/v1/documents/" + strconv.FormatInt(b.Invoice.ID, 10) + ".pdf")
	require.Equal(t, http.StatusOK, pdf.Code, pdf.Body.String())
	require.Equal(t, "application/pdf", pdf.Header().Get("Content-Type"))
	require.Equal(t, "no-store", pdf.Header().Get("Cache-Control"))
	require.Equal(t, "nosniff", pdf.Header().Get("X-Content-Type-Options"))
	require.True(t, len(pdf.Body.Bytes()) > 5 && string(pdf.Body.Bytes()[:5]) == "%PDF-")

	list := get("/v1/orders/shop-123/documents")
	require.Equal(t, http.StatusOK, list.Code, list.Body.String())
	require.Equal(t, "no-store", list.Header().Get("Cache-Control"))
	require.Equal(t, "nosniff", list.Header().Get("X-Content-Type-Options"))
	require.Contains(t, list.Body.String(), b.Invoice.Number)
}
