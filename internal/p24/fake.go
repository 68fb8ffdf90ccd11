//go:build !production

package p24

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/officeflow/officeflow/internal/secret"
)

// Fake is an in-memory Przelewy24 speaking the REST API v1 as Client does,
// with the payer's page, signed notifications and injectable faults. Mount
// Handler on an httptest server or a listener and give its URL to a Client
// as BaseURL. It needs no address of its own: the payer page's forms post
// to a relative URL, and notifications go to the URLs the merchant gave.
type Fake struct {
	HTTP     *http.Client  // sends notifications; nil: one with a 10 s timeout
	Attempts int           // tries per notification when the merchant answers non-2xx; 0: 3
	Backoff  time.Duration // wait before the second try, doubled after; 0: 100 ms

	merchantID, posID int
	apiKey, crc       string

	ctx    context.Context // cancelled by Close, stops deliveries in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup // refund notifications in flight

	mu        sync.Mutex
	all       []*Record // in registration order
	byToken   map[string]*Record
	bySession map[string]*Record
	nextOrder int64
	refunded  map[string][]byte // refund requestId -> the first (successful) answer
	refunds   []RefundNotification
	sent      []Notification

	// Faults still to inject: how many of the next calls each one hits.
	lose, dup, failVerify, refuse, loseRefundAnswer int
}

// Record is the Fake's view of one registered transaction.
type Record struct {
	Token       string
	SessionID   string
	OrderID     int64 // assigned at payment, as Przelewy24 does
	Amount      int64
	Refunded    int64
	Currency    string
	Description string
	Email       string
	Language    string
	URLReturn   string
	URLStatus   string
	State       State
	Failed      bool // the payer chose "failed" last and has not paid
	MethodID    int
	Statement   string
}

// Outcome is what the payer chooses on the Fake's payer page.
type Outcome string

const (
	Paid   Outcome = "paid"
	Failed Outcome = "failed"
)

// NewFake returns a Fake of the merchant account merchantID/posID; it
// accepts Basic auth posID:apiKey and signs with crc.
func NewFake(merchantID, posID int, apiKey, crc string) *Fake {
	if posID == 0 {
		posID = merchantID
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Fake{
		merchantID: merchantID, posID: posID, apiKey: apiKey, crc: crc,
		ctx: ctx, cancel: cancel,
		byToken: map[string]*Record{}, bySession: map[string]*Record{},
		refunded: map[string][]byte{}, nextOrder: 300000000,
	}
}

// String keeps the keys out of anything that prints a Fake.
func (f *Fake) String() string {
	return fmt.Sprintf("p24.Fake{MerchantID: %d, PosID: %d}", f.merchantID, f.posID)
}

// Close stops notification retries and waits for deliveries in flight.
func (f *Fake) Close() {
	f.cancel()
	f.wg.Wait()
}

// LoseNotifications makes the next n paid notifications not be sent.
func (f *Fake) LoseNotifications(n int) { f.add(&f.lose, n) }

// DuplicateNotifications makes each of the next n paid notifications be
// sent twice.
func (f *Fake) DuplicateNotifications(n int) { f.add(&f.dup, n) }

// FailVerify makes the next n verify calls answer 500.
func (f *Fake) FailVerify(n int) { f.add(&f.failVerify, n) }

// RefuseRefunds makes the next n refund calls (not repeats of a request
// already done) answer 400 with a refusal.
func (f *Fake) RefuseRefunds(n int) { f.add(&f.refuse, n) }

// LoseRefundAnswers makes the next n refunds happen but answers each with a
// 500, as if the caller died before reading the answer: the same request
// again must be answered as the first and refund nothing more.
func (f *Fake) LoseRefundAnswers(n int) { f.add(&f.loseRefundAnswer, n) }

func (f *Fake) add(counter *int, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*counter += n
}

// take uses up one of a fault's count; f.mu is held.
func take(counter *int) bool {
	if *counter > 0 {
		*counter--
		return true
	}
	return false
}

// Transactions returns a copy of every registered transaction, oldest first.
func (f *Fake) Transactions() []Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Record, len(f.all))
	for i, r := range f.all {
		out[i] = *r
	}
	return out
}

// Refunds returns every refund done, as the (signed) notification that was
// or is being sent for it, in order. A refund is listed as soon as the
// refund call has answered, before its notification arrives.
func (f *Fake) Refunds() []RefundNotification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]RefundNotification(nil), f.refunds...)
}

// Notifications returns every paid notification sent (each copy of a
// duplicate; none that was lost), in order.
func (f *Fake) Notifications() []Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Notification(nil), f.sent...)
}

// Pay does what the payer page's forms do, without a browser: Paid marks
// the transaction paid and sends the notification (synchronously, so it has
// arrived, or failed after its retries, when Pay returns); Failed sends
// nothing, as Przelewy24 does not notify failures. Paying a paid
// transaction again does nothing. The error is an unknown token or outcome,
// or a notification the merchant did not take.
func (f *Fake) Pay(token string, outcome Outcome) error {
	_, err := f.pay(f.ctx, token, outcome)
	return err
}

var errUnknownToken = errors.New("p24 fake: unknown token")

// pay returns the transaction's urlReturn.
func (f *Fake) pay(ctx context.Context, token string, outcome Outcome) (string, error) {
	f.mu.Lock()
	r := f.byToken[token]
	if r == nil {
		f.mu.Unlock()
		return "", errUnknownToken
	}
	back := r.URLReturn
	switch {
	case outcome == Failed:
		if r.State == NoPayment {
			r.Failed = true
		}
		f.mu.Unlock()
		return back, nil
	case outcome != Paid:
		f.mu.Unlock()
		return "", fmt.Errorf("p24 fake: outcome %q: want %q or %q", outcome, Paid, Failed)
	case r.State != NoPayment:
		f.mu.Unlock()
		return back, nil
	}
	f.nextOrder++
	r.OrderID, r.State, r.Failed = f.nextOrder, Advance, false
	r.MethodID = 25
	r.Statement = fmt.Sprintf("p24-%03X-%03X-%03X", r.OrderID>>24&0xFFF, r.OrderID>>12&0xFFF, r.OrderID&0xFFF)
	n := f.notification(r)
	copies := 1
	if take(&f.lose) {
		copies = 0
	} else if take(&f.dup) {
		copies = 2
	}
	if r.URLStatus == "" {
		copies = 0 // Przelewy24 would use the panel's default address; the Fake has none
	}
	for range copies {
		f.sent = append(f.sent, n)
	}
	target := r.URLStatus
	f.mu.Unlock()

	var errs []error
	for range copies {
		errs = append(errs, f.deliver(ctx, target, n))
	}
	return back, errors.Join(errs...)
}

// notification is r's signed status notification; f.mu is held.
func (f *Fake) notification(r *Record) Notification {
	return Notification{
		MerchantID: f.merchantID, PosID: f.posID, SessionID: r.SessionID,
		Amount: r.Amount, OriginAmount: r.Amount, Currency: r.Currency,
		OrderID: r.OrderID, MethodID: r.MethodID, Statement: r.Statement,
	}.Signed(f.crc)
}

// Renotify sends a paid, unverified transaction's notification again, as
// Przelewy24 does minutes later until the payment is verified.
func (f *Fake) Renotify(sessionID string) error {
	f.mu.Lock()
	r := f.bySession[sessionID]
	if r == nil || r.State != Advance || r.URLStatus == "" {
		f.mu.Unlock()
		return fmt.Errorf("p24 fake: session %q has no unverified payment to notify", sessionID)
	}
	n := f.notification(r)
	f.sent = append(f.sent, n)
	target := r.URLStatus
	f.mu.Unlock()
	return f.deliver(f.ctx, target, n)
}

// deliver POSTs v as JSON to target, retrying a few times on a non-2xx
// answer or a transport error, as Przelewy24 retries (though within
// milliseconds here, not minutes).
func (f *Fake) deliver(ctx context.Context, target string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	hc := f.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	attempts, wait := f.Attempts, f.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if wait <= 0 {
		wait = 100 * time.Millisecond
	}
	for i := 1; ; i++ {
		err = post(ctx, hc, target, body)
		if err == nil || i >= attempts {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	if err != nil {
		return fmt.Errorf("p24 fake: notification to %s: %w", target, err)
	}
	return nil
}

func post(ctx context.Context, hc *http.Client, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// Handler serves the API under /api/v1/ and the payer page under
// /trnRequest/{token}.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, f.auth(h)) }
	api("POST /api/v1/transaction/register", f.register)
	api("PUT /api/v1/transaction/verify", f.verify)
	api("POST /api/v1/transaction/refund", f.refund)
	api("GET /api/v1/transaction/by/sessionId/{sessionId}", f.transaction)
	api("GET /api/v1/testAccess", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": true, "error": ""})
	})
	mux.HandleFunc("GET /trnRequest/{token}", f.page)
	mux.HandleFunc("POST /trnRequest/{token}", f.submit)
	return mux
}

// auth checks Basic auth posId:apiKey, answering 401 as Przelewy24 does.
func (f *Fake) auth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != strconv.Itoa(f.posID) || !secret.Equal(pass, f.apiKey) {
			fail(w, http.StatusUnauthorized, "Incorrect authentication")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// fail answers Przelewy24's error body.
func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v, answering 400 when it is not JSON.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "Invalid input data")
		return false
	}
	return true
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:10] + "-" + h[10:16] + "-" + h[16:22] + "-" + h[22:]
}
