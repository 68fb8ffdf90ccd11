package e2e

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHealthEndpoints: liveness and readiness on the intake and on the
// worker's METRICS_ADDR, with PostgreSQL and Temporal up.
func TestHealthEndpoints(t *testing.T) {
	require.NotEmpty(t, st.MetricsAddr)
	for _, base := range []string{"http://" + st.HTTPAddr, "http://" + st.MetricsAddr} {
		code, body := get(t, base+"/healthz")
		require.Equal(t, 200, code, body)
		code, body = get(t, base+"/readyz")
		require.Equal(t, 200, code, body)
		require.Contains(t, body, "ready")
	}
}
