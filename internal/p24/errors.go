package p24

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Refused is a 4xx answer: the gateway understood the request and said no
// (bad sign or credentials, amount mismatch, refund over the paid amount,
// unknown transaction). The same request will be refused again.
type Refused struct {
	Op      string // "register", "verify", "transaction", "refund", "test access"
	Code    int    // HTTP status
	Message string // the gateway's error text
}

func (e *Refused) Error() string {
	return fmt.Sprintf("p24: %s refused: %d %s", e.Op, e.Code, e.Message)
}

// ErrNotFound matches (errors.Is) a Refused with code 404: no transaction
// with that session id.
var ErrNotFound = errors.New("p24: not found")

func (e *Refused) Is(target error) bool {
	return target == ErrNotFound && e.Code == http.StatusNotFound
}

// Unavailable is a failure to get an answer: transport error, timeout, 5xx,
// 408, 429 or an unreadable answer. The request may have taken effect; the
// same call may succeed later.
type Unavailable struct {
	Op     string
	Status int // HTTP status; 0 when there was no answer
	Err    error
}

func (e *Unavailable) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("p24: %s: gateway unavailable: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("p24: %s: gateway unavailable: %d: %v", e.Op, e.Status, e.Err)
}

func (e *Unavailable) Unwrap() error { return e.Err }

// Retryable reports whether err is an *Unavailable: the same call may
// succeed later. Any other error will recur.
func Retryable(err error) bool {
	var u *Unavailable
	return errors.As(err, &u)
}

// errorText is the gateway's error text: {"error":"...","code":400}, or for a
// refund {"error":[{...,"message":"..."}],"code":409}. Anything else (an HTML
// page of a proxy) is not quoted, since we cannot tell what it holds.
func errorText(raw []byte, status string) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || len(e.Error) == 0 {
		return status
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil && s != "" {
		return truncate(s)
	}
	var items []refundResult
	if json.Unmarshal(e.Error, &items) == nil && len(items) > 0 {
		msgs := make([]string, len(items))
		for i, it := range items {
			msgs[i] = it.String()
		}
		return truncate(strings.Join(msgs, "; "))
	}
	return status
}

// truncate bounds what a misbehaving server can push into our logs.
func truncate(s string) string {
	const max = 512
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
