package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestCodecRefusesWithoutTokenAndForeignOrigins (issue 15, finding 6): the
// codec endpoint decrypts any workflow's payloads and encrypts forged ones
// for its caller. On the running intake it answers only with the bearer
// token (401 without it or with a wrong one), and a browser only from the
// Web UI's origin: a page on any other origin gets 403 and no CORS header,
// so the operator's browser neither sends it the plaintext nor lets it
// read it. The token reaches no log.
func TestCodecRefusesWithoutTokenAndForeignOrigins(t *testing.T) {
	require.NotEmpty(t, cfg.CodecToken, "the e2e stack sets CODEC_TOKEN")
	require.Equal(t, st.HTTPAddr, st.CodecAddr, "without CODEC_ADDR the intake serves the codec itself")

	// A real order's memo, which names the company, as it is in history:
	// ciphertext.
	o := newOrder(t)
	company := fmt.Sprintf("Hostile Codec %d sp. z o.o.", seq.Add(1))
	o["customer"].(map[string]any)["company"] = company
	placed := call(t, http.MethodPost, "/v1/orders", shopKey, o)
	require.Equal(t, http.StatusAccepted, placed.Status, string(placed.Raw))
	it := st.Client.GetWorkflowHistory(context.Background(), workflows.WorkflowID(idOf(o)), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := it.Next()
	require.NoError(t, err)
	memo := first.GetWorkflowExecutionStartedEventAttributes().GetMemo().GetFields()["company"]
	require.NotNil(t, memo, "the memo names the company")
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{memo}})
	require.NoError(t, err)
	require.NotContains(t, string(body), company, "history holds ciphertext")

	const ui, evil = "http://127.0.0.1:8233", "http://evil.example"
	codecCall := func(method, path, origin, token string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+st.CodecAddr+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", cfg.TemporalNamespace)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(raw)
	}

	// No token, or a wrong one: 401, and nothing decrypted.
	for _, c := range []struct{ origin, token string }{{"", ""}, {ui, ""}, {"", "wrong"}, {ui, cfg.CodecToken + "x"}} {
		status, h, out := codecCall(http.MethodPost, "/codec/decode", c.origin, c.token)
		require.Equal(t, http.StatusUnauthorized, status, "origin %q token %q", c.origin, c.token)
		require.Equal(t, "Bearer", h.Get("WWW-Authenticate"))
		require.NotContains(t, out, company)
	}

	// A foreign origin: 403 and no CORS header, even with the token, for
	// the preflight, decode and encode alike.
	for _, method := range []string{http.MethodOptions, http.MethodPost} {
		for _, path := range []string{"/codec/decode", "/codec/encode"} {
			for _, token := range []string{"", cfg.CodecToken} {
				status, h, out := codecCall(method, path, evil, token)
				require.Equal(t, http.StatusForbidden, status, "%s %s from %s", method, path, evil)
				require.Empty(t, h.Get("Access-Control-Allow-Origin"), "%s %s", method, path)
				require.Empty(t, h.Get("Access-Control-Allow-Credentials"), "%s %s", method, path)
				require.NotContains(t, out, company)
			}
		}
	}

	// The Web UI's origin, preflight then the call with the token: 200 and
	// the plaintext, with the CORS answer the browser needs.
	status, h, _ := codecCall(http.MethodOptions, "/codec/decode", ui, "")
	require.Equal(t, http.StatusNoContent, status)
	require.Equal(t, ui, h.Get("Access-Control-Allow-Origin"))
	require.Contains(t, h.Get("Access-Control-Allow-Headers"), "Authorization")
	status, h, out := codecCall(http.MethodPost, "/codec/decode", ui, cfg.CodecToken)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, ui, h.Get("Access-Control-Allow-Origin"))
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(out), &decoded))
	require.Len(t, decoded.Payloads, 1)
	require.Contains(t, string(decoded.Payloads[0].GetData()), company)

	// The token is in no log line of the whole stack.
	for _, e := range logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += " " + k + "=" + fmt.Sprint(v)
		}
		require.NotContains(t, line, cfg.CodecToken, "a log entry carries CODEC_TOKEN")
	}
}
