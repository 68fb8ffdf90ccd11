package ksef

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The KSeF API 2.0 environments (Client.BaseURL), as srodowiska.md lists
// them. Test takes self-made tokens and certificates; Demo is configured as
// production; Production issues invoices with legal effect.
const (
	Test       = "https://api-test.ksef.mf.gov.pl/v2"
	Demo       = "https://api-demo.ksef.mf.gov.pl/v2"
	Production = "https://api.ksef.mf.gov.pl/v2"
)

// DefaultTimeout bounds a call when Client.HTTP is nil.
const DefaultTimeout = 30 * time.Second

// Defaults of the Client's polling (authentication status, invoice status).
const (
	DefaultPollInterval = 500 * time.Millisecond
	DefaultMaxPolls     = 20
)

// maxBody bounds what we buffer of an answer (an UPO is a few kB).
const maxBody = 4 << 20

// Client calls the KSeF API 2.0 as the seller NIP, authenticated with a
// KSeF token (tokeny-ksef.md). It never retries a failed call on its own:
// the caller is a Temporal activity whose retry policy decides, and a
// hidden retry would hide attempts (and 429s) from it. What it does do on
// its own is the protocol: it fetches the Ministry's public key
// certificates, authenticates when it holds no access token, refreshes the
// access token when it has expired, and polls an operation the API answers
// asynchronously (authentication, an invoice's status) a bounded number of
// times.
//
// Token (the KSeF token) and the access and refresh tokens never appear in
// errors or when the Client is printed or logged. Use a *Client: it holds
// the tokens it obtained and is safe for concurrent use.
type Client struct {
	BaseURL string       // Test, Demo, Production or a Fake's URL
	NIP     string       // the seller, the authentication's context
	Token   string       // the KSeF token
	HTTP    *http.Client // nil: one with DefaultTimeout

	PollInterval time.Duration    // between two status polls; 0: DefaultPollInterval
	MaxPolls     int              // status polls before giving up; 0: DefaultMaxPolls
	Now          func() time.Time // nil: time.Now; when tokens expire

	mu      sync.Mutex // guards what follows; held while authenticating
	certs   []PublicKeyCertificate
	access  tokenInfo
	refresh tokenInfo
}

// String, GoString and LogValue show the Client without its tokens, so that
// printing or logging one (even by %#v) leaks nothing.
func (c *Client) String() string {
	return fmt.Sprintf("ksef.Client{BaseURL: %q, NIP: %q, Token: [redacted]}", c.BaseURL, c.NIP)
}

func (c *Client) GoString() string { return c.String() }

func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("nip", c.NIP))
}

// tokenInfo is TokenInfo of the API: a JWT and when it stops being valid.
type tokenInfo struct {
	Token      string    `json:"token"`
	ValidUntil time.Time `json:"validUntil"`
}

func (t tokenInfo) String() string { return "[redacted]" }

// call is one request: Bearer is the token it is authorised with ("" for
// none), Accept what it takes back ("" for JSON).
type call struct {
	op, method, path string
	bearer           string
	in, out          any
	accept           string
	raw              *[]byte     // the answer's body, when out is not JSON
	header           http.Header // filled with the answer's headers when set
}

// do sends one request and sorts its answer: 2xx decodes into out, 429, 408
// and 5xx (and no answer) are *Unavailable, any other 4xx *Refused.
func (c *Client) do(ctx context.Context, k call) error {
	var body io.Reader
	if k.in != nil {
		b, err := json.Marshal(k.in)
		if err != nil {
			return fmt.Errorf("ksef: %s: %w", k.op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, strings.TrimRight(c.BaseURL, "/")+k.path, body)
	if err != nil {
		return fmt.Errorf("ksef: %s: %w", k.op, err)
	}
	req.Header.Set("Accept", orElse(k.accept, "application/json"))
	if k.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+k.bearer)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &Unavailable{Op: k.op, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &Unavailable{Op: k.op, Status: resp.StatusCode, Err: err}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		return &Unavailable{Op: k.op, Status: code, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()),
			Err: errors.New(errorText(raw, resp.Status))}
	case code >= 500 || code == http.StatusRequestTimeout:
		return &Unavailable{Op: k.op, Status: code, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()),
			Err: errors.New(errorText(raw, resp.Status))}
	case code == http.StatusUnauthorized && k.bearer != "":
		// The token was not taken (revoked, or expired before we thought):
		// the caller forgets it, and the next call authenticates anew.
		return &Unavailable{Op: k.op, Status: code, Err: errors.New(errorText(raw, resp.Status))}
	case code >= 300:
		r := &Refused{Op: k.op, Status: code, Errors: apiErrors(raw)}
		if len(r.Errors) == 0 {
			r.Errors = []APIError{{Description: errorText(raw, resp.Status)}}
		}
		if r.Code() == CodeUnknownKeyID {
			// The key was rotated: the next call, with the certificates
			// fetched anew, will go through.
			return &Unavailable{Op: k.op, Status: code, Err: fmt.Errorf("%w: %s", ErrUnknownKey, r.Errors[0])}
		}
		return r
	}
	if k.header != nil {
		for h, v := range resp.Header {
			k.header[h] = v
		}
	}
	if k.raw != nil {
		*k.raw = raw
		return nil
	}
	if k.out != nil {
		if err := json.Unmarshal(raw, k.out); err != nil {
			return &Unavailable{Op: k.op, Status: resp.StatusCode, Err: fmt.Errorf("unreadable answer: %w", err)}
		}
	}
	return nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) pollInterval() time.Duration {
	if c.PollInterval > 0 {
		return c.PollInterval
	}
	return DefaultPollInterval
}

func (c *Client) maxPolls() int {
	if c.MaxPolls > 0 {
		return c.MaxPolls
	}
	return DefaultMaxPolls
}

// wait sleeps d or until ctx is done.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
