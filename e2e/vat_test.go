package e2e

import (
	"testing"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

// germanBusiness is an order body for a business seated in Germany with a
// VAT number: billed without Polish VAT (reverse charge).
func germanBusiness(t *testing.T) map[string]any {
	o := newOrder(t)
	c := o["customer"].(map[string]any)
	c["company"], c["tax_id"], c["country"], c["city"], c["postal_code"], c["address_line1"] =
		"Beispiel GmbH", "DE123456789", "DE", "Berlin", "10117", "Friedrichstraße 10"
	o["language"] = "en"
	return o
}

// TestVATReverseChargeForAGermanBusiness: a German business's order is
// billed net = gross, VAT 0, through the whole saga: the pro-forma the
// order shows (GET /v1/orders/{id}), its billing email, and the pro-forma's
// and the VAT invoice's PDFs, which print "np" and "odwrotne obciążenie".
func TestVATReverseChargeForAGermanBusiness(t *testing.T) {
	o := germanBusiness(t)
	id := o["order_id"].(string)
	a := place(t, o)
	require.Equal(t, 202, a.Status, string(a.Raw))
	billing := waitMail(t, emailOf(o), "billing_access")
	require.Contains(t, billing.Text, "VAT (np):", billing.Text)
	require.Contains(t, billing.Text, "270.00 PLN", billing.Text)
	require.NotContains(t, billing.Text, "23%")

	g := getOrder(t, id)
	require.Equal(t, 200, g.Status, string(g.Raw))
	inv := g.Body["invoice"].(map[string]any)
	require.Equal(t, []any{"270.00", "0.00", "270.00", "PLN"}, []any{inv["net"], inv["vat"], inv["gross"], inv["currency"]}, string(g.Raw))

	docs := documentsOf(t, id)
	require.Len(t, docs, 1)
	_, _, pf := getPDF(t, docs[0]["pdf"].(string), shopKey)
	text := pdftest.Text(t, pf)
	for _, want := range []string{"Faktura pro forma nr " + docs[0]["number"].(string), "NIP: DE123456789", "Beispiel GmbH",
		"Razem (stawka np):", "Adnotacja: odwrotne obciążenie", "Do zapłaty: 270,00 PLN"} {
		require.Contains(t, text, want, text)
	}
	require.NotContains(t, text, "23%")

	n := notify(t, intake.Notification{OrderID: id, PaymentID: "pay-" + id, Status: "completed", Amount: "270.00", Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	docs = documentsOf(t, id)
	require.Len(t, docs, 2)
	require.Equal(t, []any{"invoice", "paid", "270.00", "0.00", "270.00"},
		[]any{docs[1]["kind"], docs[1]["status"], docs[1]["net"], docs[1]["vat"], docs[1]["gross"]})
	_, _, fv := getPDF(t, docs[1]["pdf"].(string), shopKey)
	text = pdftest.Text(t, fv)
	for _, want := range []string{"Faktura VAT nr " + docs[1]["number"].(string), "Razem (stawka np):", "Adnotacja: odwrotne obciążenie", "Zapłacono: 270,00 PLN"} {
		require.Contains(t, text, want, text)
	}
}

// TestVATBadGermanVATNumberIsRefused: a VAT number not of Germany's form is
// a 400 naming customer.tax_id, and nothing is made.
func TestVATBadGermanVATNumberIsRefused(t *testing.T) {
	for _, bad := range []string{"DE12345678", "FR123456789", "5260250995"} {
		o := germanBusiness(t)
		o["customer"].(map[string]any)["tax_id"] = bad
		a := place(t, o)
		require.Equal(t, 400, a.Status, "%s: %s", bad, a.Raw)
		require.Equal(t, "customer.tax_id", a.errField(), "%s", a.Raw)
		require.Contains(t, a.Body["error"].(map[string]any)["message"], "DE followed by 9 digits")
		id := o["order_id"].(string)
		require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1`, id))
	}
}
