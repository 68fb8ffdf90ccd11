package codec

import (
	"net/http"
	"slices"
	"strings"

	"github.com/officeflow/officeflow/internal/secret"
	"go.temporal.io/sdk/converter"
)

// Handler serves the codec endpoint under prefix (e.g. "/codec"):
// POST prefix/encode and prefix/decode with the Payloads protobuf JSON, as
// the Web UI and the temporal CLI send them. Browsers from origins get CORS
// answers; with a non-empty token every request must carry
// "Authorization: Bearer <token>" (the UI forwards the operator's token
// when configured to).
func Handler(c *Codec, prefix string, origins []string, token string) http.Handler {
	inner := http.StripPrefix(prefix, converter.NewPayloadCodecHTTPHandler(c))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && slices.Contains(origins, o) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !secret.Equal(got, token) {
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, "codec: bearer token required", http.StatusUnauthorized)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
		inner.ServeHTTP(w, r)
	})
}
