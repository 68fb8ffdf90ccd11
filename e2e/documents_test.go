package e2e

import (
	"io"
	"net/http"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

// getPDF fetches a document's PDF with a shop key.
func getPDF(t *testing.T, path, key string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+st.HTTPAddr+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func documentsOf(t *testing.T, id string) []map[string]any {
	t.Helper()
	a := call(t, "GET", "/v1/orders/"+id+"/documents", shopKey, nil)
	require.Equal(t, 200, a.Status, string(a.Raw))
	var out []map[string]any
	for _, d := range a.Body["documents"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// TestPaidOrderDocumentsDownloadAsPDF: a paid order lists its pro-forma and
// its VAT invoice, both paid, and each PDF shows its number, both NIPs, the
// totals and the buyer's address with its Polish letters as written. Another
// shop and an unknown id get 404.
func TestPaidOrderDocumentsDownloadAsPDF(t *testing.T) {
	o := newOrder(t)
	c := o["customer"].(map[string]any)
	c["company"], c["address_line1"], c["city"] = "Żółta Łąka sp. z o.o.", "ul. Żwirowa Łąka 5, Gęsiówka Ścieżka", "Łódź"
	id := placeAndPay(t, o, "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)

	docs := documentsOf(t, id)
	require.Len(t, docs, 2)
	// Its PDF is final once KSeF numbered it.
	require.Equal(t, "accepted", ksefDone(t, docs[1]["id"].(string)).Status)
	require.Equal(t, []any{"proforma", "paid"}, []any{docs[0]["kind"], docs[0]["status"]})
	require.Equal(t, []any{"invoice", "paid"}, []any{docs[1]["kind"], docs[1]["status"]})
	for _, d := range docs {
		require.Equal(t, "332.10", d["gross"])
		require.Equal(t, "/v1/documents/"+d["id"].(string)+".pdf", d["pdf"])
		status, ctype, pdf := getPDF(t, d["pdf"].(string), shopKey)
		require.Equal(t, 200, status)
		require.Equal(t, "application/pdf", ctype)
		text := pdftest.Text(t, pdf)
		for _, want := range []string{d["number"].(string), "NIP: 5260250995", "332,10", "270,00", "62,10",
			"Żółta Łąka sp. z o.o.", "ul. Żwirowa Łąka 5, Gęsiówka Ścieżka", "Łódź"} {
			require.Contains(t, text, want, "%s:\n%s", d["number"], text)
		}
		again := func() []byte { _, _, b := getPDF(t, d["pdf"].(string), shopKey); return b }()
		require.Equal(t, pdf, again, "served as stored")
		status, _, _ = getPDF(t, d["pdf"].(string), "other-key")
		require.Equal(t, 404, status, "another shop's document does not exist for it")
	}
	_, _, fv := getPDF(t, docs[1]["pdf"].(string), shopKey)
	require.Contains(t, pdftest.Text(t, fv), "Rozlicza fakturę pro forma nr "+docs[0]["number"].(string))
	// The VAT invoice goes to the customer once KSeF numbered it, the same
	// bytes; the payment confirmation does not carry it a second time.
	confirmation := waitMail(t, emailOf(o), "payment_received")
	require.Empty(t, confirmation.Attachments)
	subject, attached, _ := eInvoiceMail(t, emailOf(o), docs[1]["id"].(string))
	require.Contains(t, subject, docs[1]["number"].(string))
	require.Equal(t, fv, attached)
	status, _, _ := getPDF(t, "/v1/documents/999999999.pdf", shopKey)
	require.Equal(t, 404, status)
	require.Equal(t, 404, call(t, "GET", "/v1/orders/no-such-order/documents", shopKey, nil).Status)
}

// TestRefundedOrderHasOneCorrectionForTheFullGross: paid, provisioning
// fails for good, refunded: one correcting invoice for the whole gross,
// referring to the VAT invoice, whose PDF says what is returned.
func TestRefundedOrderHasOneCorrectionForTheFullGross(t *testing.T) {
	o, _, docs := refundedOrder(t)
	require.Equal(t, []any{"proforma", "invoice", "correction"}, []any{docs[0]["kind"], docs[1]["kind"], docs[2]["kind"]})
	require.Equal(t, []any{"void", "void", "unpaid"}, []any{docs[0]["status"], docs[1]["status"], docs[2]["status"]})
	require.Equal(t, "-332.10", docs[2]["gross"])
	require.Equal(t, "accepted", ksefDone(t, docs[2]["id"].(string)).Status)
	_, _, pdf := getPDF(t, docs[2]["pdf"].(string), shopKey)
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"Faktura korygująca nr " + docs[2]["number"].(string), "Korekta dokumentu nr " + docs[1]["number"].(string),
		"Przed korektą:", "Po korekcie:", "Różnica:", "Do zwrotu: 332,10 PLN"} {
		require.Contains(t, text, want, text)
	}
	// The refund notice names the correction, which goes to the customer
	// once KSeF numbered it.
	notice := waitMail(t, emailOf(o), "refunded")
	require.Empty(t, notice.Attachments)
	require.Contains(t, notice.Text, docs[2]["number"].(string))
	_, attached, _ := eInvoiceMail(t, emailOf(o), docs[2]["id"].(string))
	require.Equal(t, pdf, attached)
}

// refundedOrder is a paid order whose tenant cannot be made (its domain is
// taken), so it ends refunded, and its three documents: the pro-forma, the
// VAT invoice and the correction.
func refundedOrder(t *testing.T) (map[string]any, string, []map[string]any) {
	t.Helper()
	o := newOrder(t)
	st.Fake.TakeDomain(o["domain_prefix"].(string) + ".onmicrosoft.com")
	id := placeAndPay(t, o, "completed")
	require.Equal(t, order.Refunded, waitDone(t, id).Status)
	docs := documentsOf(t, id)
	require.Len(t, docs, 3)
	return o, id, docs
}
