package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// ksefDone waits for the KSeF workflow of document id (the API's id) to end.
func ksefDone(t *testing.T, id string) workflows.KSeFState {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out workflows.KSeFState
	require.NoError(t, st.Client.GetWorkflow(ctx, workflows.KSeFWorkflowID(n), "").Get(ctx, &out))
	return out
}

// eInvoiceMail waits for the e-invoice email of document id, and for its
// KSeF workflow to end (by which the email is recorded as sent): the
// email's subject and PDF, and how many times it is recorded.
func eInvoiceMail(t *testing.T, to, id string) (subject string, pdf []byte, n int) {
	t.Helper()
	ksefDone(t, id)
	d, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	key := activities.EInvoiceEmail(d)
	m := waitMail(t, to, key)
	require.Len(t, m.Attachments, 1, "the document goes with it")
	return m.Subject, m.Attachments[0].Data, dbCount(t, `SELECT count(*) FROM sent_emails WHERE key = $1`, key)
}

// validXML checks an FA(3) document against the Ministry's schema.
func validXML(t *testing.T, xml []byte) {
	t.Helper()
	shared := sharedKSeF()
	f := filepath.Join(t.TempDir(), "fa3.xml")
	require.NoError(t, os.WriteFile(f, xml, 0o600))
	cmd := exec.Command("xmllint", "--noout", "--nonet", "--schema", filepath.Join(shared, "faktury", "schemy", "FA", "schemat_FA(3)_v1-0E.xsd"), f)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(shared, "catalog.xml"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
}

// TestKSeFIssuesThePaidOrdersVATInvoice: the happy path ends with the VAT
// invoice accepted by KSeF: a KSeF number in the real format, the XML
// served as sent and valid against the schema, the UPO, and a PDF that
// prints the number under KOD I, whose link names the seller, the issue
// day and the XML's hash. The customer gets that PDF once, by email.
func TestKSeFIssuesThePaidOrdersVATInvoice(t *testing.T) {
	o := newOrder(t)
	id := placeAndPay(t, o, "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	docs := documentsOf(t, id)
	require.Len(t, docs, 2)
	require.Nil(t, docs[0]["ksef"], "a pro-forma never goes to KSeF")
	fv := docs[1]
	res := ksefDone(t, fv["id"].(string))
	require.Equal(t, store.KSeFAccepted, res.Status)
	require.True(t, ksef.ValidKsefNumber(res.KSeFNumber), res.KSeFNumber)

	k := documentsOf(t, id)[1]["ksef"].(map[string]any)
	require.Equal(t, "accepted", k["status"])
	require.Equal(t, res.KSeFNumber, k["number"])
	status, ctype, xml := getPDF(t, k["xml"].(string), shopKey)
	require.Equal(t, 200, status)
	require.Equal(t, "application/xml", ctype)
	validXML(t, xml)
	sent := st.KSeFFake.Accepted()
	found := 0
	for _, a := range sent {
		if a.KsefNumber == res.KSeFNumber {
			found++
			require.Equal(t, xml, a.XML, "stored byte for byte as sent")
		}
	}
	require.Equal(t, 1, found, "sent once")
	status, _, upo := getPDF(t, k["upo"].(string), shopKey)
	require.Equal(t, 200, status)
	require.Contains(t, string(upo), res.KSeFNumber)

	_, _, pdf := getPDF(t, fv["pdf"].(string), shopKey)
	require.Contains(t, pdftest.Text(t, pdf), res.KSeFNumber)
	sum := sha256.Sum256(xml)
	issued, err := time.Parse("2006-01-02", fv["issued_at"].(string))
	require.NoError(t, err)
	want := ksef.VerifyURL(ksef.QRBase(st.KSeFFakeURL), "5260250995", issued, base64.RawURLEncoding.EncodeToString(sum[:]))
	require.Equal(t, []string{want}, pdftest.QRCodes(t, pdf), "KOD I")

	_, attached, n := eInvoiceMail(t, emailOf(o), fv["id"].(string))
	require.Equal(t, pdf, attached, "the numbered PDF goes to the customer")
	require.Equal(t, 1, n, "once")
	confirmation := waitMail(t, emailOf(o), "payment_received")
	require.Empty(t, confirmation.Attachments, "the invoice goes once, with its KSeF number")
}

// TestKSeFCorrectionRefersToTheInvoicesKSeFNumber: a paid order refunded
// gets a correction, sent to KSeF once its invoice has a KSeF number, and
// naming that number; both are accepted.
func TestKSeFCorrectionRefersToTheInvoicesKSeFNumber(t *testing.T) {
	o := newOrder(t)
	st.Fake.TakeDomain(o["domain_prefix"].(string) + ".onmicrosoft.com")
	id := placeAndPay(t, o, "completed")
	require.Equal(t, order.Refunded, waitDone(t, id).Status)
	docs := documentsOf(t, id)
	require.Len(t, docs, 3)
	fv, kor := ksefDone(t, docs[1]["id"].(string)), ksefDone(t, docs[2]["id"].(string))
	require.Equal(t, store.KSeFAccepted, fv.Status)
	require.Equal(t, store.KSeFAccepted, kor.Status)
	_, _, xml := getPDF(t, "/v1/documents/"+docs[2]["id"].(string)+".xml", shopKey)
	validXML(t, xml)
	require.Contains(t, string(xml), "<NrKSeFFaKorygowanej>"+fv.KSeFNumber+"</NrKSeFFaKorygowanej>")
	require.Contains(t, string(xml), "<RodzajFaktury>KOR</RodzajFaktury>")
	_, attached, _ := eInvoiceMail(t, emailOf(o), docs[2]["id"].(string))
	require.Contains(t, pdftest.Text(t, attached), kor.KSeFNumber)
}

// documentOf is the id of a charge's document of kind, as the API names it.
func documentOf(t *testing.T, chargeID, kind string) string {
	t.Helper()
	var id int64
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(), `SELECT id FROM invoices WHERE charge_id = $1 AND kind = $2`, chargeID, kind).Scan(&id))
	return strconv.FormatInt(id, 10)
}
