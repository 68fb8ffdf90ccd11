package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/officeflow/officeflow/internal/codec"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

func key(t *testing.T, id string) codec.Key {
	t.Helper()
	k := codec.Key{ID: id, Secret: make([]byte, 32)}
	_, err := rand.Read(k.Secret)
	require.NoError(t, err)
	return k
}

type customer struct{ Email, Company string }

func TestRoundTripHidesThePlaintext(t *testing.T) {
	c, err := codec.New(key(t, "k1"))
	require.NoError(t, err)
	dc := c.DataConverter()
	p, err := dc.ToPayload(customer{Email: "jan@acme.pl", Company: "Acme sp. z o.o."})
	require.NoError(t, err)
	require.NotContains(t, string(p.Data), "acme", "ciphertext in history")
	require.Equal(t, codec.EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(p.Metadata[codec.MetadataKeyID]))

	var back customer
	require.NoError(t, dc.FromPayload(p, &back))
	require.Equal(t, "jan@acme.pl", back.Email)

	again, err := dc.ToPayload(customer{Email: "jan@acme.pl"})
	require.NoError(t, err)
	first, err := dc.ToPayload(customer{Email: "jan@acme.pl"})
	require.NoError(t, err)
	require.NotEqual(t, first.Data, again.Data, "a fresh nonce each time")
}

func TestRotationReadsOldKeysAndWritesTheNew(t *testing.T) {
	k1, k2 := key(t, "k1"), key(t, "k2")
	old, err := codec.New(k1)
	require.NoError(t, err)
	p, err := old.DataConverter().ToPayload("written under k1")
	require.NoError(t, err)

	rotated, err := codec.New(k2, k1)
	require.NoError(t, err)
	var s string
	require.NoError(t, rotated.DataConverter().FromPayload(p, &s))
	require.Equal(t, "written under k1", s)
	p2, err := rotated.DataConverter().ToPayload("new")
	require.NoError(t, err)
	require.Equal(t, "k2", string(p2.Metadata[codec.MetadataKeyID]))

	forgot, err := codec.New(k2)
	require.NoError(t, err)
	require.ErrorContains(t, forgot.DataConverter().FromPayload(p, &s), `unknown key "k1"`)
}

func TestTamperedOrRelabelledPayloadIsRefused(t *testing.T) {
	k1, k2 := key(t, "k1"), key(t, "k2")
	k2.Secret = k1.Secret // same secret, another id: the id is authenticated
	c, err := codec.New(k1, k2)
	require.NoError(t, err)
	enc, err := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	enc[0].Metadata[codec.MetadataKeyID] = []byte("k2")
	_, err = c.Decode(enc)
	require.Error(t, err)

	enc, err = c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	_, err = c.Decode(enc)
	require.Error(t, err)
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	c, err := codec.New(key(t, "k1"))
	require.NoError(t, err)
	plain, err := converter.GetDefaultDataConverter().ToPayload("before encryption")
	require.NoError(t, err)
	out, err := c.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.Equal(t, plain, out[0])
}

func TestParseKeys(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	keys, err := codec.ParseKeys("k2:" + secret + ", k1:" + secret)
	require.NoError(t, err)
	require.Equal(t, "k2", keys[0].ID)
	require.Len(t, keys, 2)
	for _, bad := range []string{"", "k1", "k1:%%%"} {
		_, err := codec.ParseKeys(bad)
		require.Error(t, err, bad)
	}
	_, err = codec.New(codec.Key{ID: "short", Secret: []byte("x")})
	require.ErrorContains(t, err, "want 32")
	_, err = codec.ParseKeys("k1:" + secret + "x")
	require.NotContains(t, err.Error(), secret, "no key material in errors")
}

func TestHandlerDecodesForTheUI(t *testing.T) {
	c, err := codec.New(key(t, "k1"))
	require.NoError(t, err)
	srv := httptest.NewServer(codec.Handler(c, "/codec", []string{"http://127.0.0.1:8233"}, "s3cret"))
	defer srv.Close()

	enc, err := c.DataConverter().ToPayloads("jan@acme.pl")
	require.NoError(t, err)
	body, err := protojson.Marshal(enc)
	require.NoError(t, err)

	post := func(path, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://127.0.0.1:8233")
		req.Header.Set("X-Namespace", "default")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := post("/codec/decode", "s3cret")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "http://127.0.0.1:8233", resp.Header.Get("Access-Control-Allow-Origin"))
	out, _ := io.ReadAll(resp.Body)
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(out, &decoded))
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded.Payloads[0], &s))
	require.Equal(t, "jan@acme.pl", s)

	require.Equal(t, http.StatusUnauthorized, post("/codec/decode", "").StatusCode)
	require.Equal(t, http.StatusUnauthorized, post("/codec/decode", "wrong").StatusCode)

	pre, _ := http.NewRequest(http.MethodOptions, srv.URL+"/codec/decode", nil)
	pre.Header.Set("Origin", "http://127.0.0.1:8233")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	presp, err := http.DefaultClient.Do(pre)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, presp.StatusCode, "preflight needs no token")
	require.Contains(t, presp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")

	evil, _ := http.NewRequest(http.MethodOptions, srv.URL+"/codec/decode", nil)
	evil.Header.Set("Origin", "http://evil.example")
	eresp, err := http.DefaultClient.Do(evil)
	require.NoError(t, err)
	require.Empty(t, eresp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, http.StatusForbidden, eresp.StatusCode, "a foreign origin's preflight is refused")
}

// TestHandlerRefusesForeignOrigins: a page on another origin must not make
// the operator's browser decrypt (or encrypt) for it, preflight or not, with
// the token or without; a caller with no Origin (the CLI) needs the token.
func TestHandlerRefusesForeignOrigins(t *testing.T) {
	c, err := codec.New(key(t, "k1"))
	require.NoError(t, err)
	srv := httptest.NewServer(codec.Handler(c, "/codec", []string{"http://127.0.0.1:8233"}, "s3cret"))
	defer srv.Close()
	enc, err := c.DataConverter().ToPayloads("jan@acme.pl")
	require.NoError(t, err)
	body, err := protojson.Marshal(enc)
	require.NoError(t, err)

	do := func(method, path, origin, token string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp, string(out)
	}
	for _, origin := range []string{"http://evil.example", "null", "http://127.0.0.1:8233.evil.example", "http://127.0.0.1:8234"} {
		for _, method := range []string{http.MethodOptions, http.MethodPost} {
			for _, path := range []string{"/codec/decode", "/codec/encode"} {
				resp, out := do(method, path, origin, "s3cret")
				require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s from %s", method, path, origin)
				require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), origin)
				require.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"), origin)
				require.NotContains(t, out, "jan@acme.pl")
			}
		}
	}
	resp, out := do(http.MethodPost, "/codec/decode", "", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no Origin still needs the token")
	require.NotContains(t, out, "jan@acme.pl")
	require.NotContains(t, out, "s3cret", "the answer does not echo the token")
	resp, _ = do(http.MethodPost, "/codec/decode", "", "s3cret")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the CLI sends no Origin")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	resp, _ = do(http.MethodPost, "/codec/decode", "", "S3CRET")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = do(http.MethodPost, "/codec/decode", "", "s3cret-and-more")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// No origins configured: no browser at all.
	closed := httptest.NewServer(codec.Handler(c, "/codec", nil, "s3cret"))
	defer closed.Close()
	req, _ := http.NewRequest(http.MethodOptions, closed.URL+"/codec/decode", nil)
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	cresp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	cresp.Body.Close()
	require.Equal(t, http.StatusForbidden, cresp.StatusCode)
	require.Empty(t, cresp.Header.Get("Access-Control-Allow-Origin"))
}

func TestKeyPrintsItsIDOnly(t *testing.T) {
	k := codec.Key{ID: "k7", Secret: []byte("0123456789abcdef0123456789abcdef")}
	js, err := json.Marshal([]codec.Key{k})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s %x", k, k, k, k, k), fmt.Sprint([]codec.Key{k}), string(js)} {
		require.Contains(t, out, "k7")
		require.NotContains(t, out, "0123456789abcdef")
		require.NotContains(t, out, "30313233") // the secret in hex
	}
}
