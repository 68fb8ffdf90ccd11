package p24_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/p24"
	"github.com/stretchr/testify/require"
)

const (
	merchantID = 1001
	apiKey     = "api-key-1001"
	crc        = "crc-key-1001"
)

// merchant is our side: it receives the Fake's notifications.
type merchant struct {
	URL      string
	statuses chan []byte // status notification bodies it took
	refunds  chan []byte // refund notification bodies it took
	failing  atomic.Int32
}

func (m *merchant) handler(ch chan []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if m.failing.Add(-1) >= 0 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		ch <- body
	}
}

// failNext makes the merchant answer 503 to its next n notifications.
func (m *merchant) failNext(n int) { m.failing.Store(int32(n)) }

type env struct {
	fake   *p24.Fake
	client *p24.Client
	m      *merchant
	gw     *httptest.Server
}

func setup(t *testing.T) *env {
	t.Helper()
	fake := p24.NewFake(merchantID, merchantID, apiKey, crc)
	fake.Backoff = time.Millisecond
	m := &merchant{statuses: make(chan []byte, 16), refunds: make(chan []byte, 16)}
	mux := http.NewServeMux()
	mux.Handle("POST /status", m.handler(m.statuses))
	mux.Handle("POST /refund", m.handler(m.refunds))
	shop := httptest.NewServer(mux)
	t.Cleanup(shop.Close)
	m.URL = shop.URL
	gw := httptest.NewServer(fake.Handler())
	t.Cleanup(gw.Close)
	t.Cleanup(fake.Close) // runs first: deliveries end before the servers close
	return &env{
		fake: fake, m: m, gw: gw,
		client: &p24.Client{BaseURL: gw.URL, MerchantID: merchantID, APIKey: apiKey, CRC: crc, HTTP: gw.Client()},
	}
}

func (e *env) register(t *testing.T, sessionID string, amount int64) string {
	t.Helper()
	token, err := e.client.Register(context.Background(), p24.Transaction{
		SessionID: sessionID, Amount: amount, Description: "Microsoft 365 Business Standard, 5 seats",
		Email: "it@acme.pl", Language: "pl",
		URLReturn: e.m.URL + "/back/" + sessionID, URLStatus: e.m.URL + "/status",
	})
	require.NoError(t, err)
	require.NotEmpty(t, token)
	return token
}

// paidAndVerified registers, pays and verifies a transaction; it returns
// the notification.
func (e *env) paidAndVerified(t *testing.T, sessionID string, amount int64) p24.Notification {
	t.Helper()
	require.NoError(t, e.fake.Pay(e.register(t, sessionID, amount), p24.Paid))
	n, err := p24.ParseNotification(next(t, e.m.statuses), crc)
	require.NoError(t, err)
	require.NoError(t, e.client.Verify(context.Background(), p24.Verification{
		SessionID: n.SessionID, OrderID: n.OrderID, Amount: n.Amount, Currency: n.Currency}))
	return n
}

// next takes a body that has arrived or is on its way. Status notifications
// are sent before Pay returns; refund notifications right after Refund
// returns.
func next(t *testing.T, ch chan []byte) []byte {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
		return nil
	}
}

// none asserts nothing has arrived. Status notifications are synchronous
// and, after Fake.Close, so are refund ones: nothing can arrive later.
func none(t *testing.T, ch chan []byte) {
	t.Helper()
	select {
	case b := <-ch:
		t.Fatalf("unexpected notification %s", b)
	default:
	}
}

func TestPayerPagePaysAndNotifies(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	token := e.register(t, "order-1", 12345)
	pay := e.client.PayURL(token)
	require.Equal(t, e.gw.URL+"/trnRequest/"+token, pay)

	resp, err := http.Get(pay)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), "123,45 PLN")
	require.Contains(t, string(page), "Microsoft 365 Business Standard, 5 seats")
	require.Equal(t, 2, strings.Count(string(page), "<form method=\"post\""))
	require.Contains(t, string(page), `name="outcome" value="paid"`)
	require.Contains(t, string(page), `name="outcome" value="failed"`)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.PostForm(pay, url.Values{"outcome": {"paid"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, e.m.URL+"/back/order-1", resp.Header.Get("Location"))

	n, err := p24.ParseNotification(next(t, e.m.statuses), crc)
	require.NoError(t, err)
	require.Equal(t, "order-1", n.SessionID)
	require.Equal(t, int64(12345), n.Amount)
	require.Equal(t, int64(12345), n.OriginAmount)
	require.Equal(t, "PLN", n.Currency)
	require.Equal(t, merchantID, n.MerchantID)
	require.NotZero(t, n.OrderID)

	st, err := e.client.Transaction(ctx, "order-1")
	require.NoError(t, err)
	require.Equal(t, p24.Advance, st.State, "paid, not yet verified")
	require.True(t, st.Paid())

	require.NoError(t, e.client.Verify(ctx, p24.Verification{SessionID: n.SessionID, OrderID: n.OrderID, Amount: n.Amount, Currency: n.Currency}))
	st, err = e.client.Transaction(ctx, "order-1")
	require.NoError(t, err)
	require.Equal(t, p24.Completed, st.State)
	require.Equal(t, n.OrderID, st.OrderID)

	// Paying again (a second click) sends nothing more.
	require.NoError(t, e.fake.Pay(token, p24.Paid))
	none(t, e.m.statuses)
	require.Len(t, e.fake.Notifications(), 1)
}

func TestFailedPaymentIsNotNotified(t *testing.T) {
	e := setup(t)
	token := e.register(t, "order-2", 5000)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(e.client.PayURL(token), url.Values{"outcome": {"failed"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, e.m.URL+"/back/order-2", resp.Header.Get("Location"))
	none(t, e.m.statuses)

	st, err := e.client.Transaction(context.Background(), "order-2")
	require.NoError(t, err)
	require.Equal(t, p24.NoPayment, st.State)
	require.False(t, st.Paid())
	require.True(t, e.fake.Transactions()[0].Failed)

	resp, err = noFollow.PostForm(e.client.PayURL(token), url.Values{"outcome": {"maybe"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, err = http.Get(e.client.PayURL("no-such-token"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestParseNotificationRejectsBadSign(t *testing.T) {
	e := setup(t)
	require.NoError(t, e.fake.Pay(e.register(t, "order-3", 9900), p24.Paid))
	body := next(t, e.m.statuses)
	_, err := p24.ParseNotification(body, crc)
	require.NoError(t, err)

	_, err = p24.ParseNotification(body, "another-crc")
	require.ErrorIs(t, err, p24.ErrBadSign)

	var fields map[string]any
	require.NoError(t, json.Unmarshal(body, &fields))
	fields["amount"] = 1
	tampered, _ := json.Marshal(fields)
	_, err = p24.ParseNotification(tampered, crc)
	require.ErrorIs(t, err, p24.ErrBadSign)

	delete(fields, "sign")
	unsigned, _ := json.Marshal(fields)
	_, err = p24.ParseNotification(unsigned, crc)
	require.ErrorIs(t, err, p24.ErrBadSign)

	_, err = p24.ParseNotification([]byte("orderId=1"), crc)
	require.ErrorIs(t, err, p24.ErrMalformed)
}

func TestVerify(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	require.NoError(t, e.fake.Pay(e.register(t, "order-4", 20000), p24.Paid))
	n, err := p24.ParseNotification(next(t, e.m.statuses), crc)
	require.NoError(t, err)
	v := p24.Verification{SessionID: n.SessionID, OrderID: n.OrderID, Amount: n.Amount, Currency: n.Currency}

	short := v
	short.Amount = 19999
	err = e.client.Verify(ctx, short)
	var refused *p24.Refused
	require.ErrorAs(t, err, &refused)
	require.Equal(t, http.StatusBadRequest, refused.Code)
	require.Contains(t, refused.Message, "amount")
	require.False(t, p24.Retryable(err))

	e.fake.FailVerify(1)
	err = e.client.Verify(ctx, v)
	var down *p24.Unavailable
	require.ErrorAs(t, err, &down)
	require.Equal(t, http.StatusInternalServerError, down.Status)
	require.True(t, p24.Retryable(err))

	require.NoError(t, e.client.Verify(ctx, v))
	require.NoError(t, e.client.Verify(ctx, v), "verifying again is harmless")
	st, err := e.client.Transaction(ctx, "order-4")
	require.NoError(t, err)
	require.Equal(t, p24.Completed, st.State)

	// Przelewy24 stops re-notifying a verified payment.
	require.Error(t, e.fake.Renotify("order-4"))
}

func TestLostNotificationIsRecoveredByTransaction(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.fake.LoseNotifications(1)
	require.NoError(t, e.fake.Pay(e.register(t, "order-5", 4321), p24.Paid))
	none(t, e.m.statuses)
	require.Empty(t, e.fake.Notifications())

	st, err := e.client.Transaction(ctx, "order-5")
	require.NoError(t, err)
	require.True(t, st.Paid())
	require.Equal(t, p24.Advance, st.State)
	require.Equal(t, int64(4321), st.Amount)
	require.Equal(t, "PLN", st.Currency)
	require.NotZero(t, st.OrderID)
	require.NoError(t, e.client.Verify(ctx, p24.Verification{SessionID: st.SessionID, OrderID: st.OrderID, Amount: st.Amount, Currency: st.Currency}))

	_, err = e.client.Transaction(ctx, "never-registered")
	require.ErrorIs(t, err, p24.ErrNotFound)
	require.False(t, p24.Retryable(err))
}

func TestNotificationFaults(t *testing.T) {
	e := setup(t)

	e.fake.DuplicateNotifications(1)
	require.NoError(t, e.fake.Pay(e.register(t, "order-6", 100), p24.Paid))
	first, second := next(t, e.m.statuses), next(t, e.m.statuses)
	require.JSONEq(t, string(first), string(second))
	require.NoError(t, e.fake.Pay(e.register(t, "order-7", 100), p24.Paid))
	next(t, e.m.statuses)
	none(t, e.m.statuses)

	// The merchant fails twice; the third try gets through.
	e.m.failNext(2)
	require.NoError(t, e.fake.Pay(e.register(t, "order-8", 100), p24.Paid))
	n, err := p24.ParseNotification(next(t, e.m.statuses), crc)
	require.NoError(t, err)
	require.Equal(t, "order-8", n.SessionID)
	none(t, e.m.statuses)

	// Retries are bounded; Przelewy24 tries again later.
	e.m.failNext(3)
	require.Error(t, e.fake.Pay(e.register(t, "order-9", 100), p24.Paid))
	none(t, e.m.statuses)
	require.NoError(t, e.fake.Renotify("order-9"))
	n, err = p24.ParseNotification(next(t, e.m.statuses), crc)
	require.NoError(t, err)
	require.Equal(t, "order-9", n.SessionID)
}
