package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

// Issue 15, finding 2: customer data was shared across orders and shops by
// email. A later order with the same email, from any shop, overwrote the
// stored customer, and shop A's paid order got its VAT invoice made out to
// shop B's "Attacker Ltd".

// buyerParty is what an order names as its buyer, as documents print it.
type buyerParty struct{ company, address, postalCity, nip string }

var (
	acmeBuyer     = buyerParty{"Acme sp. z o.o.", "ul. Prosta 1", "00-001 Warszawa", "5260250995"}
	attackerBuyer = buyerParty{"Attacker Ltd", "ul. Obca 6", "30-001 Kraków", "1234563218"}
)

// TestTwoShopsSameEmailEachInvoiceNamesItsOwnBuyer: shop A places and pays
// an order; shop A places a second one, and before it is paid shop B places
// an order with the same email (other case) for "Attacker Ltd" with its own
// NIP, and pays it. Each order's pro-forma and VAT invoice name the order's
// own buyer and NIP, A's tenant and mail name A's company, and neither shop
// sees the other's order.
func TestTwoShopsSameEmailEachInvoiceNamesItsOwnBuyer(t *testing.T) {
	a1, a2, b := newOrder(t), newOrder(t), newOrder(t)
	email := emailOf(a1)
	a2["customer"].(map[string]any)["email"] = email
	bc := b["customer"].(map[string]any)
	bc["email"] = strings.ToUpper(email)
	bc["company"], bc["tax_id"], bc["first_name"], bc["last_name"] = attackerBuyer.company, attackerBuyer.nip, "Eve", "Mallory"
	bc["address_line1"], bc["postal_code"], bc["city"] = "ul. Obca 6", "30-001", "Kraków"
	id1, id2, idB := a1["order_id"].(string), a2["order_id"].(string), b["order_id"].(string)

	// Shop A's first order is paid and done before B comes.
	placeAs(t, shopKey, a1)
	payFor(t, id1)
	require.Equal(t, order.InstallerReady, waitDone(t, id1).Status)

	// Shop A's second order waits for payment while B places its own.
	placeAs(t, shopKey, a2)
	placeAs(t, "other-key", b)
	payFor(t, id2)
	payFor(t, idB)
	require.Equal(t, order.InstallerReady, waitDone(t, id2).Status)
	require.Equal(t, order.InstallerReady, waitDone(t, idB).Status)

	for _, c := range []struct {
		id, key     string
		want, other buyerParty
	}{
		{id1, shopKey, acmeBuyer, attackerBuyer},
		{id2, shopKey, acmeBuyer, attackerBuyer},
		{idB, "other-key", attackerBuyer, acmeBuyer},
	} {
		a := call(t, "GET", "/v1/orders/"+c.id+"/documents", c.key, nil)
		require.Equal(t, 200, a.Status, string(a.Raw))
		docs := a.Body["documents"].([]any)
		require.Len(t, docs, 2, c.id)
		for i, kind := range []string{"proforma", "invoice"} {
			d := docs[i].(map[string]any)
			require.Equal(t, kind, d["kind"], c.id)
			status, _, pdf := getPDF(t, d["pdf"].(string), c.key)
			require.Equal(t, 200, status)
			text := pdftest.Text(t, pdf)
			col := buyerColumnOf(t, text)
			for _, s := range []string{c.want.company, c.want.address, c.want.postalCity, "NIP: " + c.want.nip} {
				require.Contains(t, col, s, "%s %s names its order's buyer:\n%s", c.id, d["number"], text)
			}
			require.NotContains(t, text, c.other.company, "%s %s", c.id, d["number"])
			require.NotContains(t, col, c.other.nip, "%s %s", c.id, d["number"])
		}
		// The tenant was made for the order's own company.
		tn, err := st.Store.Tenant(context.Background(), c.id)
		require.NoError(t, err)
		found := false
		for _, fc := range st.Fake.Customers() {
			if fc.ID == tn.PartnerCustomer {
				found = true
				require.Equal(t, c.want.company, fc.CompanyProfile.CompanyName, c.id)
				require.Equal(t, c.want.company, fc.BillingProfile.CompanyName, c.id)
			}
		}
		require.True(t, found, "tenant of %s", c.id)
		// Mail of the order, sent after B was placed for A's second order,
		// names the order's company.
		require.Contains(t, waitOrderMail(t, c.id, "installer_ready").Text, c.want.company, c.id)
	}

	// Shop A's API shows A's order as it was; shop B cannot see it, nor A B's.
	a := call(t, "GET", "/v1/orders/"+id2, shopKey, nil)
	require.Equal(t, 200, a.Status, string(a.Raw))
	require.Equal(t, string(order.InstallerReady), a.Body["status"])
	require.Equal(t, 404, call(t, "GET", "/v1/orders/"+id2, "other-key", nil).Status)
	require.Equal(t, 404, call(t, "GET", "/v1/orders/"+id2+"/documents", "other-key", nil).Status)
	require.Equal(t, 404, call(t, "GET", "/v1/orders/"+idB, shopKey, nil).Status)

	// One customer row per order, none rewritten.
	require.Equal(t, 3, dbCount(t, `SELECT count(DISTINCT customer_id) FROM orders WHERE order_id IN ($1, $2, $3)`, id1, id2, idB))
	require.Equal(t, 2, dbCount(t, `SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE o.order_id IN ($1, $2) AND c.company = $3 AND c.tax_id = $4`, id1, id2, acmeBuyer.company, acmeBuyer.nip))
}

// placeAs places an order with a shop's key and waits until it waits for
// payment (its pro-forma is issued).
func placeAs(t *testing.T, key string, o map[string]any) {
	t.Helper()
	a := call(t, "POST", "/v1/orders", key, o)
	require.Equal(t, 202, a.Status, string(a.Raw))
	waitStatus(t, o["order_id"].(string), string(order.AwaitingPayment))
}

// payFor sends the signed notification of a completed payment of the
// pro-forma's gross.
func payFor(t *testing.T, id string) {
	t.Helper()
	n := notify(t, intake.Notification{OrderID: id, PaymentID: "completed-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
}

// waitOrderMail waits for an order's email of kind: orders here share one
// address, so the Message-ID (the order id's hash, then the kind) tells them
// apart.
func waitOrderMail(t *testing.T, orderID, kind string) mail.Received {
	t.Helper()
	h := sha256.Sum256([]byte(orderID))
	id := hex.EncodeToString(h[:10]) + "." + kind + "@officeflow"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := st.Sink.WaitFor(ctx, func(m mail.Received) bool { return strings.Contains(m.MessageID, id) })
	require.NoError(t, err, "no %s email of %s", kind, orderID)
	return m
}

// buyerColumnOf is the "Nabywca" column of a document's text: seller and
// buyer are printed side by side, and the seller's NIP may be the buyer's.
func buyerColumnOf(t *testing.T, text string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		at := strings.Index(l, "Nabywca")
		if at < 0 {
			continue
		}
		col := len([]rune(l[:at]))
		var out []string
		for _, next := range lines[i+1 : min(i+6, len(lines))] {
			if r := []rune(next); len(r) > col-3 {
				out = append(out, strings.TrimSpace(string(r[max(col-3, 0):])))
			}
		}
		return strings.Join(out, "\n")
	}
	t.Fatalf("no Nabywca in:\n%s", text)
	return ""
}
