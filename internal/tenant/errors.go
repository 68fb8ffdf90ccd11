package tenant

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CodeDomainTaken is Partner Center's error code for a domain in use.
const CodeDomainTaken = "DomainTaken"

// APIError is a non-2xx answer from Partner Center.
type APIError struct {
	Status      int
	Code        string // Partner Center error code, e.g. "DomainTaken"; may be empty
	Description string
	RetryAfter  time.Duration // from the Retry-After header; 0 when absent
	Method      string
	Path        string
}

// Error deliberately leaves out bodies and headers: only the server's own
// code and description are echoed, never request data or tokens.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("partner center: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Temporary reports whether the same call may succeed later: timeouts,
// throttling and server-side failures.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusRequestTimeout ||
		e.Status == http.StatusTooManyRequests ||
		e.Status >= 500
}

// maxDescription bounds what a misbehaving server can push into our logs.
const maxDescription = 512

// newAPIError builds an APIError from an answer. Bodies that are empty or not
// Partner Center JSON (e.g. a gateway's HTML page) are ignored rather than
// quoted, since we cannot tell what they contain.
func newAPIError(method, path string, status int, h http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{
		Status:     status,
		Method:     method,
		Path:       path,
		RetryAfter: parseRetryAfter(h.Get("Retry-After"), now),
	}
	var pc struct {
		// Partner Center sends numeric codes on some endpoints, strings on others.
		Code        json.RawMessage `json:"code"`
		Description string          `json:"description"`
	}
	if len(body) == 0 || json.Unmarshal(body, &pc) != nil {
		return e
	}
	var s string
	var n json.Number
	if json.Unmarshal(pc.Code, &s) == nil {
		e.Code = s
	} else if json.Unmarshal(pc.Code, &n) == nil {
		e.Code = n.String()
	}
	e.Description = truncate(pc.Description, maxDescription)
	return e
}

// parseRetryAfter accepts both forms of RFC 9110: delay-seconds and an
// HTTP-date. Unparseable or past values mean "no hint".
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so the message stays valid UTF-8.
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
