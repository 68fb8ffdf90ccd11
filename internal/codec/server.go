package codec

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/officeflow/officeflow/internal/secret"
	"go.temporal.io/sdk/converter"
)

// Handler serves the codec endpoint under prefix (e.g. "/codec"):
// POST prefix/encode and prefix/decode with the Payloads protobuf JSON, as
// the Web UI and the temporal CLI send them. The endpoint decrypts whatever
// it is sent, so it answers a browser only from origins (a request carrying
// any other Origin, preflight included, gets 403 and no CORS headers), and
// with a non-empty token every POST must carry "Authorization: Bearer
// <token>" (401 otherwise; compared in constant time). A request without an
// Origin (the temporal CLI, curl) needs only the token. The token is never
// written to a log or an answer.
func Handler(c *Codec, prefix string, origins []string, token string) http.Handler {
	inner := http.StripPrefix(prefix, converter.NewPayloadCodecHTTPHandler(c))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if o := r.Header.Get("Origin"); o != "" {
			if !slices.Contains(origins, o) {
				refuse(w, http.StatusForbidden, "origin_not_allowed", "codec: origin not allowed (CODEC_CORS_ORIGINS)")
				return
			}
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			h.Set("Allow", "POST, OPTIONS")
			refuse(w, http.StatusMethodNotAllowed, "method_not_allowed", "codec: POST only")
			return
		}
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			// Equal hashes both sides first: its time does not depend on
			// how much of the token a guess gets right, nor on its length.
			if !ok || !secret.Equal(got, token) {
				h.Set("WWW-Authenticate", "Bearer")
				refuse(w, http.StatusUnauthorized, "unauthorized", "codec: bearer token required")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
		inner.ServeHTTP(w, r)
	})
}

// refuse answers as the intake API does: {"error":{"code","message"}}.
func refuse(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
