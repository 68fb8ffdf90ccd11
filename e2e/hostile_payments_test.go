package e2e

import (
	"context"
	"testing"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// Issue 15, findings 3 to 5: every payment that arrives is recorded, and is
// then taken or refunded exactly once.

const hpGross = "332.10" // business-standard, 5 seats, monthly

// hpWaiting places an order and waits until it waits for payment.
func hpWaiting(t *testing.T) (string, map[string]any) {
	t.Helper()
	o := newOrder(t)
	id := o["order_id"].(string)
	a := place(t, o)
	require.Equal(t, 202, a.Status, string(a.Raw))
	waitMail(t, emailOf(o), "billing_access")
	waitStatus(t, id, "awaiting_payment")
	return id, o
}

func hpPayment(orderID, paymentID, status, amount, currency string) intake.Notification {
	return intake.Notification{OrderID: orderID, PaymentID: paymentID, Status: status, Amount: amount, Currency: currency}
}

func hpErrCode(a answer) string {
	e, _ := a.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// hpRefunded tells whether a refunds row exists for the payment.
func hpRefunded(t *testing.T, paymentID string) bool {
	return dbCount(t, `SELECT count(*) FROM refunds WHERE payment_id = $1`, paymentID) == 1
}

// TestCompletedAfterFailedSameIDIsRecorded (finding 3): the gateway reports
// an attempt failed, then the money comes under the same payment id. The
// failed notification ends the order; the money is recorded (the row is
// upgraded to completed, the failed status kept in failed_at) and refunded,
// not answered as a duplicate and lost.
func TestCompletedAfterFailedSameIDIsRecorded(t *testing.T) {
	id, _ := hpWaiting(t)
	pid := "flip-" + id
	require.Equal(t, 200, notify(t, hpPayment(id, pid, "failed", hpGross, "PLN")).Status)
	require.Equal(t, order.Cancelled, waitDone(t, id).Status)

	done := notify(t, hpPayment(id, pid, "completed", hpGross, "PLN"))
	require.Equal(t, 200, done.Status, string(done.Raw))
	require.Equal(t, false, done.Body["duplicate"], "the completed one is news: %s", done.Raw)
	require.Equal(t, true, done.Body["refund"], "the order was cancelled: the money goes back")
	again := notify(t, hpPayment(id, pid, "completed", hpGross, "PLN"))
	require.Equal(t, 200, again.Status)
	require.Equal(t, true, again.Body["duplicate"])
	require.Equal(t, true, again.Body["refund"])
	require.Equal(t, 200, notify(t, hpPayment(id, pid, "failed", hpGross, "PLN")).Status, "failed after completed changes nothing")

	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND status = 'completed' AND failed_at IS NOT NULL`, pid))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM refunds WHERE payment_id = $1 AND order_id = $2`, pid, id), "refunded once")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = $2`, id, "payment_upgraded:"+pid))

	// The pair back to back, while the order still waits: however the saga
	// takes them, the order ends and the money is refunded.
	id2, _ := hpWaiting(t)
	pid2 := "flip-" + id2
	require.Equal(t, 200, notify(t, hpPayment(id2, pid2, "failed", hpGross, "PLN")).Status)
	require.Equal(t, 200, notify(t, hpPayment(id2, pid2, "completed", hpGross, "PLN")).Status)
	require.Equal(t, order.Cancelled, waitDone(t, id2).Status)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND status = 'completed'`, pid2))
	require.True(t, hpRefunded(t, pid2), "the money of a cancelled order is refunded")
}

// TestForeignPaymentIDIsAPermanentConflict (finding 4): a payment id that is
// already another order's payment is refused with 409 payment_conflict,
// every time and without Retry-After, and recorded for an operator; the
// owner's payment is untouched and the order keeps waiting.
func TestForeignPaymentIDIsAPermanentConflict(t *testing.T) {
	owner := placeAndPay(t, newOrder(t), "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, owner).Status)
	owned := "completed-" + owner

	id, _ := hpWaiting(t)
	for range 2 {
		a := notify(t, hpPayment(id, owned, "completed", hpGross, "PLN"))
		require.Equal(t, 409, a.Status, string(a.Raw))
		require.Equal(t, "payment_conflict", hpErrCode(a))
		require.Equal(t, "payment_id", a.errField())
		require.Empty(t, a.Header.Get("Retry-After"), "permanent: not to be retried")
	}
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payment_conflicts WHERE payment_id = $1 AND order_id = $2 AND owner_order_id = $3`, owned, id, owner))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = $2`, id, "payment_conflict:"+owned))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND order_id = $2 AND status = 'completed'`, owned, owner))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id IN ($1, $2)`, owner, id))
	require.Equal(t, "installer_ready", getOrder(t, owner).Body["status"], "the owner is untouched")
	waitStatus(t, id, "awaiting_payment")

	paid := notify(t, hpPayment(id, "own-"+id, "completed", hpGross, "PLN"))
	require.Equal(t, 200, paid.Status, string(paid.Raw))
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
}

// TestWrongAmountWhileWaitingIsRecordedAndRefunded (finding 5): the gateway
// took money that does not match the invoice. The intake still refuses it
// for the order (422 amount_mismatch, the order keeps waiting) but records
// it and marks it for refund; the right payment then completes the order.
func TestWrongAmountWhileWaitingIsRecordedAndRefunded(t *testing.T) {
	id, _ := hpWaiting(t)
	under, eur, right := "under-"+id, "eur-"+id, "right-"+id
	for _, n := range []intake.Notification{
		hpPayment(id, under, "completed", "332.09", "PLN"),
		hpPayment(id, eur, "completed", hpGross, "EUR"),
		hpPayment(id, under, "completed", "332.09", "PLN"), // a repeat answers the same
	} {
		a := notify(t, n)
		require.Equal(t, 422, a.Status, string(a.Raw))
		require.Equal(t, "amount_mismatch", hpErrCode(a))
	}
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM refunds WHERE payment_id = $1 AND amount_grosze = 33209`, under), "marked for refund")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM refunds WHERE payment_id = $1 AND currency = 'EUR'`, eur), "marked for refund")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND amount_grosze = 33209 AND mismatch`, under))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND currency = 'EUR' AND mismatch`, eur))
	waitStatus(t, id, "awaiting_payment")
	require.Equal(t, "unpaid", getOrder(t, id).Body["invoice"].(map[string]any)["status"], "the order keeps waiting")

	paid := notify(t, hpPayment(id, right, "completed", hpGross, "PLN"))
	require.Equal(t, 200, paid.Status, string(paid.Raw))
	require.Nil(t, paid.Body["refund"])
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	require.False(t, hpRefunded(t, right))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice' AND status = 'paid' AND payment_id = $2`, id, right),
		"the right payment is the one taken")
	require.Equal(t, 2, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, id))
}

// TestNoMoneyThatArrivesIsLost: the README's promise, over every kind of
// notification across a few orders. When they have ended, every completed
// payment is either taken (a paid VAT invoice names it) or refunded, never
// both and never neither, so the money in is the money taken plus the money
// refunded.
func TestNoMoneyThatArrivesIsLost(t *testing.T) {
	var ids []string
	pay := func(n intake.Notification, want int) answer {
		t.Helper()
		a := notify(t, n)
		require.Equal(t, want, a.Status, "%+v: %s", n, a.Raw)
		return a
	}

	// The right payment, and its repeat.
	right, _ := hpWaiting(t)
	pay(hpPayment(right, "pay-"+right, "completed", hpGross, "PLN"), 200)
	pay(hpPayment(right, "pay-"+right, "completed", hpGross, "PLN"), 200)
	// Paid twice under two ids.
	twice, _ := hpWaiting(t)
	pay(hpPayment(twice, "one-"+twice, "completed", hpGross, "PLN"), 200)
	pay(hpPayment(twice, "two-"+twice, "completed", hpGross, "PLN"), 200)
	// Wrong amount, wrong currency, then the right payment.
	wrong, _ := hpWaiting(t)
	pay(hpPayment(wrong, "under-"+wrong, "completed", "1.00", "PLN"), 422)
	pay(hpPayment(wrong, "eur-"+wrong, "completed", hpGross, "EUR"), 422)
	pay(hpPayment(wrong, "over-"+wrong, "completed", "999.99", "PLN"), 422)
	pay(hpPayment(wrong, "pay-"+wrong, "completed", hpGross, "PLN"), 200)
	// Failed, then completed under the same id.
	flip, _ := hpWaiting(t)
	pay(hpPayment(flip, "flip-"+flip, "failed", hpGross, "PLN"), 200)
	pay(hpPayment(flip, "flip-"+flip, "completed", hpGross, "PLN"), 200)
	// A payment with another order's id, then its own.
	foreign, _ := hpWaiting(t)
	pay(hpPayment(foreign, "pay-"+right, "completed", hpGross, "PLN"), 409)
	pay(hpPayment(foreign, "pay-"+foreign, "completed", hpGross, "PLN"), 200)
	// Cancelled by the shop, then paid late, in any amount.
	late, _ := hpWaiting(t)
	require.Equal(t, 202, call(t, "POST", "/v1/orders/"+late+"/cancel", shopKey, map[string]string{"reason": "changed mind"}).Status)
	require.Equal(t, order.Cancelled, waitDone(t, late).Status)
	require.Equal(t, true, pay(hpPayment(late, "late-"+late, "completed", hpGross, "PLN"), 200).Body["refund"])
	require.Equal(t, true, pay(hpPayment(late, "late-small-"+late, "completed", "5.00", "PLN"), 200).Body["refund"])
	// Failed only: no money moved.
	failedOnly, _ := hpWaiting(t)
	pay(hpPayment(failedOnly, "failed-"+failedOnly, "failed", hpGross, "PLN"), 200)
	ids = append(ids, right, twice, wrong, flip, foreign, late, failedOnly)

	for id, want := range map[string]order.Status{right: order.InstallerReady, twice: order.InstallerReady, wrong: order.InstallerReady,
		flip: order.Cancelled, foreign: order.InstallerReady, late: order.Cancelled, failedOnly: order.Cancelled} {
		require.Equal(t, want, waitDone(t, id).Status, "order %s", id)
	}
	// After the orders ended: paid twice more, once in the wrong amount.
	pay(hpPayment(right, "again-"+right, "completed", hpGross, "PLN"), 200)
	pay(hpPayment(twice, "three-"+twice, "completed", "7.00", "PLN"), 200)

	// A licence charge of a finished order: a wrong amount, the payment,
	// and the payment again under another id.
	pf := func() string {
		a := call(t, "POST", "/v1/orders/"+right+"/licences", shopKey, map[string]any{"request_id": "hp-more-1", "add_seats": 1})
		require.Equal(t, 202, a.Status, string(a.Raw))
		chargeID := a.Body["charge_id"].(string)
		gross := chargeProforma(t, right, chargeID).Gross.String()
		pay(intake.Notification{OrderID: right, PaymentID: "c-wrong-" + chargeID, Status: "completed", Amount: "0.01", Currency: "PLN", ChargeID: chargeID}, 422)
		pay(intake.Notification{OrderID: right, PaymentID: "c-pay-" + chargeID, Status: "completed", Amount: gross, Currency: "PLN", ChargeID: chargeID}, 200)
		require.Equal(t, workflows.StageDone, waitAfter(t, workflows.LicencesWorkflowID(right, "hp-more-1")).Stage)
		pay(intake.Notification{OrderID: right, PaymentID: "c-again-" + chargeID, Status: "completed", Amount: gross, Currency: "PLN", ChargeID: chargeID}, 200)
		return chargeID
	}()
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'invoice' AND status = 'paid' AND payment_id = $2`, pf, "c-pay-"+pf))

	ctx := context.Background()
	lost, err := st.Store.UnsettledPayments(ctx, ids...)
	require.NoError(t, err)
	require.Empty(t, lost, "completed payments neither taken nor refunded")
	double, err := st.Store.DoublySettledPayments(ctx, ids...)
	require.NoError(t, err)
	require.Empty(t, double, "completed payments both taken and refunded")

	// The same with the sums, per currency.
	rows, err := st.Store.Pool.Query(ctx, `
		WITH p AS (
			SELECT p.currency, p.amount_grosze,
				EXISTS (SELECT 1 FROM invoices i WHERE i.payment_id = p.payment_id AND i.kind = 'invoice' AND i.status = 'paid') AS taken,
				EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.payment_id) AS refunded
			FROM payments p WHERE p.status = 'completed' AND p.order_id = ANY ($1))
		SELECT currency, sum(amount_grosze),
			coalesce(sum(amount_grosze) FILTER (WHERE taken), 0),
			coalesce(sum(amount_grosze) FILTER (WHERE refunded), 0),
			count(*) FILTER (WHERE taken AND refunded), count(*) FILTER (WHERE NOT taken AND NOT refunded), count(*)
		FROM p GROUP BY currency ORDER BY currency`, ids)
	require.NoError(t, err)
	seen := map[string]bool{}
	for rows.Next() {
		var currency string
		var in, taken, refunded, both, neither, n int64
		require.NoError(t, rows.Scan(&currency, &in, &taken, &refunded, &both, &neither, &n))
		t.Logf("%s: %d payments, in %d = taken %d + refunded %d", currency, n, in, taken, refunded)
		require.Equal(t, in, taken+refunded, "%s: money in = money taken + money refunded", currency)
		require.Zero(t, both, currency)
		require.Zero(t, neither, currency)
		seen[currency] = true
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]bool{"PLN": true, "EUR": true}, seen)
	// 5 taken: four orders and one charge; the 11 other completed payments refunded.
	require.Equal(t, 5, dbCount(t, `SELECT count(*) FROM invoices WHERE kind = 'invoice' AND status = 'paid' AND payment_id IS NOT NULL AND order_id = ANY ($1)`, ids))
	require.Equal(t, 11, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id = ANY ($1)`, ids))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payment_conflicts WHERE order_id = $1`, foreign), "the foreign id waits for an operator")
}
