package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// Przelewy24 against its fake over HTTP: the panel's Payer registers the
// transaction, the fake's payer pays, its notification (or the workflow's
// question after a lost one) records the payment; refunds go back through
// the fake's refund API.

const p24Gross = 33210 // hpGross in grosze

// p24Register presses the pay button for the order (the panel's Payer) and
// returns the transaction's session id and token.
func p24Register(t *testing.T, orderID string) (sessionID, token string) {
	t.Helper()
	u, err := st.Intake.Pay(context.Background(), orderID, "pl")
	require.NoError(t, err)
	_, token, ok := strings.Cut(u, "/trnRequest/")
	require.True(t, ok, u)
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(),
		`SELECT session_id FROM p24_transactions WHERE token = $1 AND order_id = $2`, token, orderID).Scan(&sessionID))
	return sessionID, token
}

// p24Record is the fake's record of a transaction.
func p24Record(t *testing.T, sessionID string) p24.Record {
	t.Helper()
	for _, r := range st.P24Fake.Transactions() {
		if r.SessionID == sessionID {
			return r
		}
	}
	t.Fatalf("the fake has no transaction %s", sessionID)
	return p24.Record{}
}

// p24Post sends a status notification as Przelewy24 does.
func p24Post(t *testing.T, n p24.Notification) answer {
	raw, err := json.Marshal(n)
	require.NoError(t, err)
	return call(t, "POST", "/v1/payments/p24/status", "", raw)
}

func p24Notification(r p24.Record, crc string) p24.Notification {
	c := st.Gateway.Client
	return p24.Notification{MerchantID: c.MerchantID, PosID: c.PosID, SessionID: r.SessionID, Amount: r.Amount,
		OriginAmount: r.Amount, Currency: r.Currency, OrderID: r.OrderID, MethodID: r.MethodID, Statement: r.Statement}.Signed(crc)
}

// waitRefund waits until the payment's refund is in state.
func waitRefund(t *testing.T, paymentID, state string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for dbCount(t, `SELECT count(*) FROM refunds WHERE payment_id = $1 AND status = $2`, paymentID, state) == 0 {
		if time.Now().After(deadline) {
			var got string
			_ = st.Store.Pool.QueryRow(context.Background(), `SELECT status || ' ' || detail FROM refunds WHERE payment_id = $1`, paymentID).Scan(&got)
			t.Fatalf("refund of %s never %s (it is %q)", paymentID, state, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// p24PaidTwice places an order and pays two transactions of it: the first
// provisions it, the second, paid with fault set on the fake just before,
// is owed back. It returns the order and the two sessions.
func p24PaidTwice(t *testing.T, fault func()) (id, first, second string) {
	t.Helper()
	id, _ = hpWaiting(t)
	first, token1 := p24Register(t, id)
	second, token2 := p24Register(t, id)
	require.NoError(t, st.P24Fake.Pay(token1, p24.Paid))
	waitStatus(t, id, "installer_ready")
	fault()
	require.NoError(t, st.P24Fake.Pay(token2, p24.Paid))
	return id, first, second
}

// TestP24BadSignIsRefused: a notification under another CRC is answered 401
// and records nothing; the order keeps waiting.
func TestP24BadSignIsRefused(t *testing.T) {
	id, _ := hpWaiting(t)
	session, _ := p24Register(t, id)
	forged := p24Notification(p24.Record{SessionID: session, Amount: p24Gross, Currency: "PLN", OrderID: 777001}, "not-the-crc")
	a := p24Post(t, forged)
	require.Equal(t, http.StatusUnauthorized, a.Status, string(a.Raw))
	require.Equal(t, "sign", a.errField())
	a = p24Post(t, p24.Notification{SessionID: session, OrderID: 777001, Amount: p24Gross, Currency: "PLN"})
	require.Equal(t, http.StatusUnauthorized, a.Status, "no sign at all: %s", a.Raw)
	require.Zero(t, dbCount(t, `SELECT count(*) FROM payments WHERE order_id = $1`, id))
	require.Zero(t, dbCount(t, `SELECT count(*) FROM p24_transactions WHERE session_id = $1 AND verified_at IS NOT NULL`, session))
	waitStatus(t, id, "awaiting_payment")
}

// TestP24FiftyCopiesOfOneNotification: the same notification 50 times at
// once makes one payment, one VAT invoice and one confirmation email.
func TestP24FiftyCopiesOfOneNotification(t *testing.T) {
	id, o := hpWaiting(t)
	session, token := p24Register(t, id)
	st.P24Fake.LoseNotifications(1) // the copies below are the only ones
	require.NoError(t, st.P24Fake.Pay(token, p24.Paid))
	n := p24Notification(p24Record(t, session), st.Gateway.Client.CRC)
	raw, err := json.Marshal(n)
	require.NoError(t, err)
	codes := make([]int, 50)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			resp, err := http.Post("http://"+st.HTTPAddr+"/v1/payments/p24/status", "application/json", bytes.NewReader(raw))
			if err == nil {
				codes[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, http.StatusOK, c, "copy %d", i)
	}
	waitStatus(t, id, "installer_ready")
	pid := store.P24PaymentID(n.OrderID)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE order_id = $1`, id))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND status = 'completed'`, pid))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice' AND payment_id = $2`, id, pid))
	require.Zero(t, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, id))
	require.Equal(t, 1, noticesTo(emailOf(o), "payment_received"))
}

// TestP24LostNotificationIsRecovered: the gateway's notification never
// comes; the payment check workflow asks Przelewy24, verifies and records
// the payment, and the order goes on.
func TestP24LostNotificationIsRecovered(t *testing.T) {
	id, _ := hpWaiting(t)
	session, token := p24Register(t, id)
	st.P24Fake.LoseNotifications(1)
	require.NoError(t, st.P24Fake.Pay(token, p24.Paid))
	for _, n := range st.P24Fake.Notifications() {
		require.NotEqual(t, session, n.SessionID, "the notification was to be lost")
	}
	waitStatus(t, id, "installer_ready")
	r := p24Record(t, session)
	require.Equal(t, p24.Completed, r.State, "verified with the gateway")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND order_id = $2`, store.P24PaymentID(r.OrderID), id))
	var res workflows.AfterResult
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, st.Client.GetWorkflow(ctx, workflows.PaymentCheckWorkflowID(session), "").Get(ctx, &res))
	require.Contains(t, res.Reason, "recovered")
	recordRun(t, workflows.PaymentCheckWorkflowID(session), "", "p24_lost_notification_check")
	waitDone(t, id)
	record(t, id, "p24_lost_notification_order")
}

// TestP24DoublePaymentIsRefundedOnce: the customer pays two transactions of
// one order. The second payment is owed back, sent through the refund API
// once although the first answer is lost (the activity retries the same
// request), and closed by the refund's notification.
func TestP24DoublePaymentIsRefundedOnce(t *testing.T) {
	id, first, second := p24PaidTwice(t, func() { st.P24Fake.LoseRefundAnswers(1) })
	paid := store.P24PaymentID(p24Record(t, first).OrderID)
	twice := store.P24PaymentID(p24Record(t, second).OrderID)
	waitRefund(t, twice, store.RefundRefunded)
	n := 0
	for _, r := range st.P24Fake.Refunds() {
		if r.SessionID == second {
			n++
			require.Equal(t, int64(p24Gross), r.Amount)
		}
		require.NotEqual(t, first, r.SessionID, "the payment taken is not refunded")
	}
	require.Equal(t, 1, n, "one refund of the second payment")
	require.Equal(t, p24.Returned, p24Record(t, second).State)
	require.Zero(t, dbCount(t, `SELECT count(*) FROM refunds WHERE payment_id = $1`, paid))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = $2`, id, "refund_refunded:"+twice))
	waitAfter(t, workflows.RefundWorkflowID(twice))
	recordRun(t, workflows.RefundWorkflowID(twice), "", "p24_refund_answer_lost")
}

// TestP24RefusedRefundWaitsForAnOperator: Przelewy24 refuses the refund;
// it is marked rejected with the reason, in the order's log, and its
// workflow waits for an operator, whose retry sends it once.
func TestP24RefusedRefundWaitsForAnOperator(t *testing.T) {
	id, _, second := p24PaidTwice(t, func() { st.P24Fake.RefuseRefunds(1) })
	twice := store.P24PaymentID(p24Record(t, second).OrderID)
	waitRefund(t, twice, store.RefundRejected)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = $2`, id, "refund_rejected:"+twice))
	waitListed(t, `WorkflowId = "`+workflows.RefundWorkflowID(twice)+`" AND Stage = "needs_attention"`, 1)
	for _, r := range st.P24Fake.Refunds() {
		require.NotEqual(t, second, r.SessionID)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := st.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.RefundWorkflowID(twice), UpdateName: workflows.UpdateRetry,
		Args: []any{workflows.Decision{Actor: "ops", Reason: "Przelewy24 support fixed it"}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	waitRefund(t, twice, store.RefundRefunded)
	var res workflows.AfterResult
	require.NoError(t, st.Client.GetWorkflow(ctx, workflows.RefundWorkflowID(twice), "").Get(ctx, &res))
	require.Equal(t, workflows.StageDone, res.Stage)
	recordRun(t, workflows.RefundWorkflowID(twice), "", "p24_refund_refused_then_retried")
	n := 0
	for _, r := range st.P24Fake.Refunds() {
		if r.SessionID == second {
			n++
		}
	}
	require.Equal(t, 1, n)
}

// TestP24PaidOrderWhoseTenantCannotBeMadeIsRefunded: the saga compensates
// an order paid through Przelewy24 (the subscription order answers 409);
// the payment it marks for refund goes back through the refund API, once,
// and the refund's notification closes it.
func TestP24PaidOrderWhoseTenantCannotBeMadeIsRefunded(t *testing.T) {
	id, _ := hpWaiting(t)
	session, token := p24Register(t, id)
	conflictOnSubscriptionOrder(0)
	require.NoError(t, st.P24Fake.Pay(token, p24.Paid))
	require.Equal(t, "refunded", string(waitDone(t, id).Status))
	pid := store.P24PaymentID(p24Record(t, session).OrderID)
	require.Equal(t, []string{pid}, refundsOf(t, id))
	waitRefund(t, pid, store.RefundRefunded)
	require.Equal(t, p24.Returned, p24Record(t, session).State)
	n := 0
	for _, r := range st.P24Fake.Refunds() {
		if r.SessionID == session {
			n++
		}
	}
	require.Equal(t, 1, n, "refunded once")
}
