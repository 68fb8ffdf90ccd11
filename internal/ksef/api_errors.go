package ksef

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Exception codes of the API the client acts on or a Fake answers with.
const (
	CodeValidation   = 21405 // Błąd walidacji danych wejściowych.
	CodeUnknownKeyID = 21470 // the publicKeyId is unknown or of a withdrawn key
)

// APIError is one entry of the API's error answer: exceptionDetailList of
// ExceptionResponse, or errors of the problem-details format.
type APIError struct {
	Code        int      `json:"code"`
	Description string   `json:"description"`
	Details     []string `json:"details,omitempty"`
}

func (e APIError) String() string {
	s := strconv.Itoa(e.Code) + " " + e.Description
	if len(e.Details) > 0 {
		s += " (" + strings.Join(e.Details, "; ") + ")"
	}
	return s
}

// Refused is a 4xx answer other than 401, 408 and 429: KSeF understood the
// request and said no (a validation error, an unknown session, a challenge
// used twice). The same request will be refused again.
type Refused struct {
	Op     string     // "challenge", "ksef-token", "open session", "send invoice", ...
	Status int        // HTTP status
	Errors []APIError // the API's exception codes and descriptions
}

func (e *Refused) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, x := range e.Errors {
		msgs[i] = x.String()
	}
	return truncate(fmt.Sprintf("ksef: %s refused: %d: %s", e.Op, e.Status, strings.Join(msgs, "; ")))
}

// Code is the first of the API's exception codes, 0 when it gave none.
func (e *Refused) Code() int {
	if len(e.Errors) == 0 {
		return 0
	}
	return e.Errors[0].Code
}

// Unavailable is a failure to get an answer: no connection, a timeout, 5xx,
// 408, 429, 401 (the access token was no longer taken; the next call
// authenticates anew), 400 21470 (the key was rotated, ErrUnknownKey; the
// next call fetches the certificates anew), an unreadable answer, or an
// operation still in progress after the Client's polls. The request may
// have taken effect; the same call may succeed later, not before
// RetryAfter.
type Unavailable struct {
	Op         string
	Status     int           // HTTP status; 0 when there was no answer
	RetryAfter time.Duration // the API's Retry-After; 0 when it gave none
	Err        error
}

func (e *Unavailable) Error() string {
	s := fmt.Sprintf("ksef: %s: unavailable", e.Op)
	if e.Status != 0 {
		s += fmt.Sprintf(": %d", e.Status)
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s + fmt.Sprintf(": %v", e.Err)
}

func (e *Unavailable) Unwrap() error { return e.Err }

// Rejected is KSeF's final verdict on an invoice it took for processing:
// its status code (4xx, 500) and description, e.g. 450 "Błąd weryfikacji
// semantyki dokumentu faktury", 440 "Duplikat faktury" (Extensions then
// name the original's KSeF number). Sending the same XML again will be
// rejected again, except for 550 (cancelled by the system: send again).
type Rejected struct {
	InvoiceReferenceNumber string
	Status                 InvoiceStatus
}

func (e *Rejected) Error() string {
	s := fmt.Sprintf("ksef: invoice %s rejected: %d %s", e.InvoiceReferenceNumber, e.Status.Code, e.Status.Description)
	if len(e.Status.Details) > 0 {
		s += " (" + strings.Join(e.Status.Details, "; ") + ")"
	}
	return truncate(s)
}

// Duplicate is, for a rejection as a duplicate (440: the same seller, kind
// and number are in KSeF already), the KSeF number of the original. A
// sender whose first answer was lost learns this way that the invoice is
// in KSeF, under that number.
func (e *Rejected) Duplicate() (ksefNumber string, ok bool) {
	if e.Status.Code != 440 {
		return "", false
	}
	n := e.Status.Extensions["originalKsefNumber"]
	return n, ValidKsefNumber(n)
}

// ErrUnknownKey is wrapped by the *Unavailable of a 21470 refusal: KSeF
// no longer takes the public key the client encrypted with (rotated). The
// client fetches the certificates anew on the next call, as the guide
// says, so the same call will succeed.
var ErrUnknownKey = errors.New("the public key is unknown or withdrawn")

// ErrProcessing is wrapped by the *Unavailable of an invoice (or an
// authentication) KSeF was still processing after the Client's polls.
var ErrProcessing = errors.New("still processing")

// Retryable reports whether err is an *Unavailable: the same call may
// succeed later. Any other error (*Refused, *Rejected) will recur.
func Retryable(err error) bool {
	var u *Unavailable
	return errors.As(err, &u)
}

// RetryAfter is how long the API asked to wait before the next call (429's
// Retry-After), 0 when err says nothing of it.
func RetryAfter(err error) time.Duration {
	var u *Unavailable
	if errors.As(err, &u) {
		return u.RetryAfter
	}
	return 0
}

// retryAfter reads Retry-After: seconds (what KSeF sends) or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// errorResponse reads every error format of the API: ExceptionResponse,
// problem details (errors or detail) and 429's status.
type errorResponse struct {
	Exception *struct {
		ExceptionDetailList []struct {
			ExceptionCode        int      `json:"exceptionCode"`
			ExceptionDescription string   `json:"exceptionDescription"`
			Details              []string `json:"details"`
		} `json:"exceptionDetailList"`
	} `json:"exception"`
	Errors []APIError      `json:"errors"`
	Detail string          `json:"detail"`
	Status json.RawMessage `json:"status"`
}

func apiErrors(raw []byte) []APIError {
	var r errorResponse
	if json.Unmarshal(raw, &r) != nil {
		return nil
	}
	var out []APIError
	if r.Exception != nil {
		for _, x := range r.Exception.ExceptionDetailList {
			out = append(out, APIError{Code: x.ExceptionCode, Description: truncate(x.ExceptionDescription), Details: x.Details})
		}
	}
	for _, x := range r.Errors {
		x.Description = truncate(x.Description)
		out = append(out, x)
	}
	return out
}

// errorText is one line of what an error answer says; anything else (an
// HTML page of a proxy) is not quoted, since we cannot tell what it holds.
func errorText(raw []byte, status string) string {
	if errs := apiErrors(raw); len(errs) > 0 {
		return errs[0].String()
	}
	var r errorResponse
	if json.Unmarshal(raw, &r) == nil {
		if r.Detail != "" {
			return truncate(r.Detail)
		}
		var st StatusInfo
		if json.Unmarshal(r.Status, &st) == nil && st.Description != "" {
			return truncate(strings.TrimSpace(st.Description + " " + strings.Join(st.Details, "; ")))
		}
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
