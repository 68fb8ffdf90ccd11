package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
)

// refundHold stands in front of the fake. The first refund call for one
// of the sessions it is told about is held before it reaches the fake,
// until let: meanwhile the worker that made it is killed, a new one
// retries the refund (the same request id), and only then does the held
// call go on, answered by the fake as the request it already did. It also
// counts the refund calls by request id.
type refundHold struct {
	next http.Handler

	mu      sync.Mutex
	of      map[string]bool  // sessions whose refund may be held
	heldID  string           // the held call's requestId
	calls   map[string]int   // refund calls by requestId
	answers map[string][]int // the fake's answers by requestId, in order
	lostFor map[string]bool  // sessions whose refund call was answered 500
	held    chan struct{}    // closed once a call is held
	retried chan struct{}    // closed once a call of heldID has been answered by the fake
	release chan struct{}    // closed to let the held call on
	once    sync.Once
	retry   sync.Once
}

func newRefundHold(next http.Handler) *refundHold {
	return &refundHold{next: next, of: map[string]bool{}, calls: map[string]int{}, answers: map[string][]int{}, lostFor: map[string]bool{},
		held: make(chan struct{}), retried: make(chan struct{}), release: make(chan struct{})}
}

// holdRefundOf makes the refund of session's payment one that may be held.
func (h *refundHold) holdRefundOf(session string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.of[session] = true
}

// let lets the held call on (and any later one: there is none).
func (h *refundHold) let() { h.once.Do(func() { close(h.release) }) }

func (h *refundHold) heldRequest() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.heldID
}

// refundCalls is how many refund calls came, and for how many request ids.
func (h *refundHold) refundCalls() (calls, ids int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.calls {
		calls += n
	}
	return calls, len(h.calls)
}

func (h *refundHold) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/api/v1/transaction/refund" {
		h.next.ServeHTTP(w, req)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var in p24.RefundRequest
	_ = json.Unmarshal(body, &in)
	h.mu.Lock()
	h.calls[in.RequestID]++
	hold := h.heldID == "" && len(in.Refunds) == 1 && h.of[in.Refunds[0].SessionID]
	again := h.heldID != "" && in.RequestID == h.heldID
	if hold {
		h.heldID = in.RequestID
	}
	h.mu.Unlock()
	if hold {
		close(h.held)
		<-h.release
		// The worker that made the call is dead; the answer goes nowhere.
	}
	sw := &statusWriter{ResponseWriter: w}
	h.next.ServeHTTP(sw, req)
	h.mu.Lock()
	h.answers[in.RequestID] = append(h.answers[in.RequestID], sw.status)
	if sw.status == http.StatusInternalServerError && len(in.Refunds) == 1 {
		h.lostFor[in.Refunds[0].SessionID] = true
	}
	h.mu.Unlock()
	if again {
		h.retry.Do(func() { close(h.retried) })
	}
}

// answerLost tells whether a refund call for session was answered 500.
func (h *refundHold) answerLost(session string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lostFor[session]
}

// resent is how many request ids were answered 500 and how many of them
// were called again and then answered as the first (201), with the ids
// that were not.
func (h *refundHold) resent() (lost, again int, not []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, codes := range h.answers {
		for i, c := range codes {
			if c != http.StatusInternalServerError {
				continue
			}
			lost++
			if slices.Contains(codes[i+1:], http.StatusCreated) {
				again++
			} else {
				not = append(not, fmt.Sprintf("%s answered %v", id, codes))
			}
			break
		}
	}
	sort.Strings(not)
	return lost, again, not
}

// refundNotices stands between the fake and the run's intake for the
// refunds' notifications. The fake notifies a refund the moment it is made,
// Przelewy24 minutes later; so that a refund whose answer was lost is sent
// again (the same request, which the fake answers as the first and does not
// refund twice) rather than closed by its notification before the retry,
// the notification of such a refund waits until the refund is recorded as
// sent (at most 8 s: the fake gives up on a notification after 10).
type refundNotices struct {
	next  http.Handler
	hold  *refundHold
	mu    sync.Mutex
	held  int // notifications that waited for the retry
	early int // ... that waited 8 s in vain
}

func (n *refundNotices) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost && req.URL.Path == "/v1/payments/p24/refund" {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var rn p24.RefundNotification
		if json.Unmarshal(body, &rn) == nil && n.hold.answerLost(rn.SessionID) {
			n.await(req.Context(), store.P24PaymentID(rn.OrderID))
		}
	}
	n.next.ServeHTTP(w, req)
}

// await waits until the payment's refund is no longer pending.
func (n *refundNotices) await(ctx context.Context, paymentID string) {
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var status string
		err := st.Store.Pool.QueryRow(ctx, `SELECT status FROM refunds WHERE payment_id = $1`, paymentID).Scan(&status)
		if err == nil && status != store.RefundPending {
			n.mu.Lock()
			n.held++
			n.mu.Unlock()
			return
		}
		select {
		case <-ctx.Done():
			n.mu.Lock()
			n.early++
			n.mu.Unlock()
			return
		case <-tick.C:
		}
	}
}
