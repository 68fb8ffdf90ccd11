package e2e

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// TestCancelBeforePaymentOnRealServer: the shop cancels while the order
// waits; the pro-forma is voided, billing access revoked, the customer told.
func TestCancelBeforePaymentOnRealServer(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	email := o["customer"].(map[string]any)["email"].(string)
	require.Equal(t, 202, place(t, o).Status)
	waitStatus(t, id, "awaiting_payment")

	a := call(t, "POST", "/v1/orders/"+id+"/cancel", shopKey, map[string]string{"reason": "customer changed mind"})
	require.Equal(t, 202, a.Status, string(a.Raw))
	r := waitDone(t, id)
	require.Equal(t, order.Cancelled, r.Status)
	require.Contains(t, r.Reason, "customer changed mind")
	require.Contains(t, waitMail(t, email, "cancelled").Text, "customer changed mind")

	g := getOrder(t, id)
	require.Equal(t, "cancelled", g.Body["status"])
	require.Equal(t, "void", g.Body["invoice"].(map[string]any)["status"])
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))
	require.Equal(t, "cancelled", searchAttribute(t, id))
	require.Equal(t, 202, call(t, "POST", "/v1/orders/"+id+"/cancel", shopKey, nil).Status, "a repeated cancel is answered the same")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenants WHERE order_id = $1`, id))
	creditNote(t, id, false)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, 1, mailsOfKind(email, "cancelled"))
	require.Equal(t, keys(billedKeys, "compensating", undoBilling, "cancelled"), eventKeys(t, id))
	record(t, id, "cancel_by_shop")
}

func TestCancelAfterProvisioningIsConflict(t *testing.T) {
	id := placeAndPay(t, newOrder(t), "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	a := call(t, "POST", "/v1/orders/"+id+"/cancel", shopKey, nil)
	require.Equal(t, 409, a.Status, string(a.Raw))
	require.Equal(t, "installer_ready", getOrder(t, id).Body["status"])
	require.Equal(t, 404, call(t, "POST", "/v1/orders/no-such-order/cancel", shopKey, nil).Status)
	record(t, id, "cancel_rejected_after_provisioning")
}

// TestPaymentDeadlineOnRealServer: with a short deadline the durable timer
// fires on the real server and the order is cancelled: billing is undone
// (the pro-forma void, with no correction), and the customer told once.
func TestPaymentDeadlineOnRealServer(t *testing.T) {
	old := st.Intake.Deadline
	st.Intake.Deadline = 2 * time.Second
	t.Cleanup(func() { st.Intake.Deadline = old })
	o := newOrder(t)
	id := o["order_id"].(string)
	require.Equal(t, 202, place(t, o).Status)
	r := waitDone(t, id)
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, "payment deadline passed", r.Reason)
	require.Equal(t, "cancelled", getOrder(t, id).Body["status"])
	waitMail(t, emailOf(o), "cancelled")
	require.Equal(t, 1, mailsOfKind(emailOf(o), "cancelled"))
	require.Equal(t, 0, mailsOfKind(emailOf(o), "payment_reminder"), "no reminder falls inside a two-second wait")
	creditNote(t, id, false)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, keys(billedKeys, "compensating", undoBilling, "cancelled"), eventKeys(t, id))
	record(t, id, "payment_deadline")
}

// TestTakenDomainIsRefunded: the tenant API says the domain is taken after
// payment; the order ends refunded with the reason, and no tenant is made.
func TestTakenDomainIsRefunded(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	domain := o["domain_prefix"].(string) + ".onmicrosoft.com"
	st.Fake.TakeDomain(domain)
	placeAndPay(t, o, "completed")
	r := waitDone(t, id)
	require.Equal(t, order.Refunded, r.Status)
	require.Contains(t, r.Reason, domain+" is already taken")
	require.Contains(t, waitMail(t, o["customer"].(map[string]any)["email"].(string), "refunded").Text, domain)
	require.Equal(t, []string{"completed-" + id}, refundsOf(t, id))
	require.Equal(t, "refunded", getOrder(t, id).Body["status"])
	creditNote(t, id, true)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenants WHERE order_id = $1`, id))
	// No tenant was made, so there is nothing to suspend.
	require.Equal(t, keys(paidKeys, "compensating", "undo:refund_payment", undoBilling, "refunded"), eventKeys(t, id))
	record(t, id, "domain_taken_refund")
}
