package e2e

import (
	"encoding/json"
	"testing"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// TestBadInputIsRefusedNamingTheField sends one broken field at a time and
// checks the 400 names it, and that nothing was made: no row, no workflow.
func TestBadInputIsRefusedNamingTheField(t *testing.T) {
	cases := []struct {
		field string
		edit  func(o, c map[string]any)
	}{
		{"order_id", func(o, c map[string]any) { delete(o, "order_id") }},
		{"order_id", func(o, c map[string]any) { o["order_id"] = "has space" }},
		{"customer.company", func(o, c map[string]any) { c["company"] = "" }},
		{"customer.email", func(o, c map[string]any) { c["email"] = "not-an-email" }},
		{"customer.email", func(o, c map[string]any) { c["email"] = "Jan <jan@acme.pl>" }},
		{"customer.first_name", func(o, c map[string]any) { delete(c, "first_name") }},
		{"customer.last_name", func(o, c map[string]any) { c["last_name"] = "   " }},
		{"customer.tax_id", func(o, c map[string]any) { c["tax_id"] = "5260250994" }},
		{"customer.country", func(o, c map[string]any) { c["country"] = "XX" }},
		{"customer.country", func(o, c map[string]any) { c["country"] = "Poland" }},
		{"customer.city", func(o, c map[string]any) { c["city"] = "" }},
		{"customer.postal_code", func(o, c map[string]any) { c["postal_code"] = "00001" }},
		{"customer.address_line1", func(o, c map[string]any) { c["address_line1"] = "a\nb" }},
		{"plan", func(o, c map[string]any) { o["plan"] = "business-ultimate" }},
		{"plan", func(o, c map[string]any) { delete(o, "plan") }},
		{"seats", func(o, c map[string]any) { o["seats"] = 0 }},
		{"seats", func(o, c map[string]any) { o["seats"] = 301 }},
		{"seats", func(o, c map[string]any) { o["seats"] = "5" }},
		{"seats", func(o, c map[string]any) { o["seats"] = 2.5 }},
		{"domain_prefix", func(o, c map[string]any) { o["domain_prefix"] = "ab" }},
		{"domain_prefix", func(o, c map[string]any) { o["domain_prefix"] = "acme-corp" }},
		{"domain_prefix", func(o, c map[string]any) { o["domain_prefix"] = "abcdefghijklmnopqrstuvwxyz12" }},
		{"billing_cycle", func(o, c map[string]any) { o["billing_cycle"] = "weekly" }},
		{"language", func(o, c map[string]any) { o["language"] = "de" }},
		{"coupon", func(o, c map[string]any) { o["coupon"] = "FREE" }},
	}
	for _, tc := range cases {
		o := newOrder(t)
		tc.edit(o, o["customer"].(map[string]any))
		a := place(t, o)
		require.Equal(t, 400, a.Status, "%s: %s", tc.field, a.Raw)
		require.Equal(t, tc.field, a.errField(), "%s", a.Raw)
		require.NotEmpty(t, a.Body["error"].(map[string]any)["message"])
		if id, ok := o["order_id"].(string); ok {
			require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1`, id))
			require.False(t, workflowExists(t, id), "no workflow for bad input")
		}
	}
	for _, body := range []string{"", "{", "[]", `{"order_id":"x"} {"order_id":"y"}`, "null"} {
		a := call(t, "POST", "/v1/orders", shopKey, body)
		require.Equal(t, 400, a.Status, "body %q: %s", body, a.Raw)
	}
}

func TestShopKeyIsRequired(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	for _, key := range []string{"", "wrong-key", shopKey + "x"} {
		a := call(t, "POST", "/v1/orders", key, o)
		require.Equal(t, 401, a.Status, "key %q", key)
		require.Equal(t, 401, call(t, "GET", "/v1/orders/"+id, key, nil).Status)
		require.Equal(t, 401, call(t, "POST", "/v1/orders/"+id+"/cancel", key, nil).Status)
	}
	raw, _ := json.Marshal(o)
	require.Equal(t, 401, call(t, "POST", "/v1/orders", "", raw, "Authorization", "Basic "+shopKey).Status)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1`, id))
	require.False(t, workflowExists(t, id))
	require.Equal(t, 202, call(t, "POST", "/v1/orders", "other-key", o).Status, "every configured key is accepted")
	require.Equal(t, 200, call(t, "GET", "/v1/orders/"+id, "other-key", nil).Status)
	require.Equal(t, 404, getOrder(t, id).Status, "a shop sees only its own orders")
	require.Equal(t, 404, call(t, "POST", "/v1/orders/"+id+"/cancel", shopKey, nil).Status, "nor cancels another's")
	require.Equal(t, 409, place(t, o).Status, "another shop's order id is taken")
}

// TestRepeatedOrderAndNotificationHaveNoSecondEffect: the same body is the same
// order, another body under the same id is a conflict, and a notification
// sent twice is recorded and acted on once.
func TestRepeatedOrderAndNotificationHaveNoSecondEffect(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	email := o["customer"].(map[string]any)["email"].(string)
	first := place(t, o)
	require.Equal(t, 202, first.Status, string(first.Raw))
	again := place(t, o)
	require.Equal(t, 202, again.Status)
	require.Equal(t, first.Body, again.Body, "the same answer")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))

	other := newOrder(t)
	other["order_id"] = id
	conflict := place(t, other)
	require.Equal(t, 409, conflict.Status)
	require.Equal(t, "order_id", conflict.errField())

	waitMail(t, email, "billing_access")
	n := intake.Notification{OrderID: id, PaymentID: "pay-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"}
	require.Equal(t, 200, notify(t, n).Status)
	dup := notify(t, n)
	require.Equal(t, 200, dup.Status)
	require.Equal(t, true, dup.Body["duplicate"])
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	require.Equal(t, 200, notify(t, n).Status, "a repeat after the order finished is still answered")
	require.Equal(t, 202, place(t, o).Status, "a repeat of a finished order is answered, and starts nothing")

	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1`, id))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments WHERE order_id = $1`, id))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'proforma'`, id))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, id), "one VAT invoice for the one payment")
	require.Equal(t, 2, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1`, id))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM tenants WHERE order_id = $1`, id))
	require.Equal(t, 1, runsOf(t, id), "one workflow run")
	_, _, sent := eInvoiceMail(t, email, documentsOf(t, id)[1]["id"].(string))
	require.Equal(t, 1, sent)
	require.Equal(t, 5, mailsTo(email), "four of the saga's and the VAT invoice's")
}

// TestForgedNotificationsChangeNothing: without the right signature nothing
// is read, recorded or signalled.
func TestForgedNotificationsChangeNothing(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	require.Equal(t, 202, place(t, o).Status)
	waitMail(t, o["customer"].(map[string]any)["email"].(string), "billing_access")
	waitStatus(t, id, "awaiting_payment")

	body, _ := json.Marshal(intake.Notification{OrderID: id, PaymentID: "forged-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"})
	for _, sig := range []string{"", "sha256=", "sha256=00", intake.Sign([]byte("wrong-secret"), body), "md5=" + intake.Sign([]byte(secret), body)[7:], intake.Sign([]byte(secret), append(body, ' '))} {
		a := call(t, "POST", "/v1/payments/notifications", "", body, "X-Signature", sig)
		require.Equal(t, 401, a.Status, "signature %q", sig)
		require.Equal(t, "X-Signature", a.errField())
	}
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM payments WHERE order_id = $1`, id))
	g := getOrder(t, id)
	require.Equal(t, "awaiting_payment", g.Body["status"])
	require.Equal(t, "unpaid", g.Body["invoice"].(map[string]any)["status"])
}

func TestPaymentChecks(t *testing.T) {
	require.Equal(t, 404, notify(t, intake.Notification{OrderID: "no-such-order", PaymentID: "p-x", Status: "completed", Amount: "1.00", Currency: "PLN"}).Status)
	require.Equal(t, 404, getOrder(t, "no-such-order").Status)

	o := newOrder(t)
	id := o["order_id"].(string)
	require.Equal(t, 202, place(t, o).Status)
	waitMail(t, o["customer"].(map[string]any)["email"].(string), "billing_access")
	for _, bad := range []intake.Notification{
		{OrderID: id, PaymentID: "under-" + id, Status: "completed", Amount: "332.09", Currency: "PLN"},
		{OrderID: id, PaymentID: "eur-" + id, Status: "completed", Amount: "332.10", Currency: "EUR"},
	} {
		a := notify(t, bad)
		require.Equal(t, 422, a.Status, string(a.Raw))
	}
	for field, bad := range map[string]intake.Notification{
		"amount":     {OrderID: id, PaymentID: "p1", Status: "completed", Amount: "332.1.0", Currency: "PLN"},
		"status":     {OrderID: id, PaymentID: "p2", Status: "ok", Amount: "332.10", Currency: "PLN"},
		"payment_id": {OrderID: id, PaymentID: "", Status: "completed", Amount: "332.10", Currency: "PLN"},
		"currency":   {OrderID: id, PaymentID: "p3", Status: "completed", Amount: "332.10", Currency: "pln"},
	} {
		a := notify(t, bad)
		require.Equal(t, 400, a.Status, string(a.Raw))
		require.Equal(t, field, a.errField())
	}
	// The two refused payments are kept and owed back (the gateway took
	// that money); nothing else was recorded.
	require.Equal(t, 2, dbCount(t, `SELECT count(*) FROM payments WHERE order_id = $1`, id))
	require.Equal(t, 2, dbCount(t, `SELECT count(*) FROM payments p JOIN refunds r USING (payment_id) WHERE p.order_id = $1 AND p.mismatch`, id))
	waitStatus(t, id, "awaiting_payment")
	require.Equal(t, "unpaid", getOrder(t, id).Body["invoice"].(map[string]any)["status"], "the order keeps waiting")
}
