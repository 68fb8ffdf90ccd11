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

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

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
	docID, _ := strconv.ParseInt(fv["id"].(string), 10, 64)
	recordRun(t, workflows.KSeFWorkflowID(docID), "", "ksef_accepted")

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
	o, _, docs := refundedOrder(t)
	fv, kor := ksefDone(t, docs[1]["id"].(string)), ksefDone(t, docs[2]["id"].(string))
	require.Equal(t, store.KSeFAccepted, fv.Status)
	require.Equal(t, store.KSeFAccepted, kor.Status)
	n, _ := strconv.ParseInt(docs[2]["id"].(string), 10, 64)
	recordRun(t, workflows.KSeFWorkflowID(n), "", "ksef_correction")
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

// ksefOf is document id's KSeF state as the API shows it.
func ksefOf(t *testing.T, orderID, id string) map[string]any {
	t.Helper()
	for _, d := range documentsOf(t, orderID) {
		if d["id"] == id {
			k, _ := d["ksef"].(map[string]any)
			return k
		}
	}
	t.Fatalf("order %s has no document %s", orderID, id)
	return nil
}

// TestKSeFDownIssuesTheInvoiceOfflineThenSendsIt: with KSeF unreachable
// for KSEF_OFFLINE_AFTER the VAT invoice is issued offline: the customer
// gets it at once with KOD I (labelled OFFLINE) and KOD II, and the API
// shows it offline with its deadline, the end of the next working day.
// Once KSeF answers it is sent (in offline mode) and accepted, and the
// customer is not emailed again.
func TestKSeFDownIssuesTheInvoiceOfflineThenSendsIt(t *testing.T) {
	st.KSeFFake.Unavailable(1 << 30)
	defer st.KSeFFake.Unavailable(0)
	o := newOrder(t)
	id := placeAndPay(t, o, "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status, "KSeF down holds up nothing else")
	fv := documentsOf(t, id)[1]["id"].(string)
	require.Eventually(t, func() bool { return ksefOf(t, id, fv)["status"] == "offline" }, 90*time.Second, 50*time.Millisecond)
	k := ksefOf(t, id, fv)
	deadline, err := time.Parse(time.RFC3339, k["deadline"].(string))
	require.NoError(t, err)
	require.True(t, deadline.After(time.Now().Add(12*time.Hour)), "the end of the next working day: %s", deadline)

	m := waitMail(t, emailOf(o), "e_invoice#"+fv)
	require.Len(t, m.Attachments, 1)
	text := pdftest.Text(t, m.Attachments[0].Data)
	require.Contains(t, text, "OFFLINE")
	codes := pdftest.QRCodes(t, m.Attachments[0].Data)
	require.Len(t, codes, 2, "KOD I and KOD II")
	require.Contains(t, codes[0]+codes[1], "/invoice/5260250995/")
	require.Contains(t, codes[0]+codes[1], "/certificate/Nip/5260250995/5260250995/")

	st.KSeFFake.Unavailable(0)
	res := ksefDone(t, fv)
	require.Equal(t, store.KSeFAccepted, res.Status)
	n, _ := strconv.ParseInt(fv, 10, 64)
	recordRun(t, workflows.KSeFWorkflowID(n), "", "ksef_offline")
	sent := 0
	for _, a := range st.KSeFFake.Accepted() {
		if a.KsefNumber == res.KSeFNumber {
			sent++
			require.True(t, a.Offline, "sent as issued offline")
		}
	}
	require.Equal(t, 1, sent)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM sent_emails WHERE key = $1`, "e_invoice#"+fv), "emailed once")
	_, _, pdf := getPDF(t, "/v1/documents/"+fv+".pdf", shopKey)
	require.Contains(t, pdftest.Text(t, pdf), res.KSeFNumber, "the PDF now prints its KSeF number")
}

// TestKSeFRejectionWaitsForTheOperatorsResend: a document KSeF rejects is
// shown rejected with KSeF's reason, its workflow waits in needs_attention
// (never FAILED), and the operator's resend sends it again.
func TestKSeFRejectionWaitsForTheOperatorsResend(t *testing.T) {
	st.KSeFFake.Reject(1, 450, "Błąd weryfikacji semantyki dokumentu faktury")
	o := newOrder(t)
	id := placeAndPay(t, o, "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)
	fv := documentsOf(t, id)[1]["id"].(string)
	require.Eventually(t, func() bool { return ksefOf(t, id, fv)["status"] == "rejected" }, 90*time.Second, 50*time.Millisecond)
	require.Contains(t, ksefOf(t, id, fv)["reason"], "450")
	n, _ := strconv.ParseInt(fv, 10, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.Eventually(t, func() bool {
		d, err := st.Client.DescribeWorkflowExecution(ctx, workflows.KSeFWorkflowID(n), "")
		require.NoError(t, err)
		var stage string
		if p := d.WorkflowExecutionInfo.GetSearchAttributes().GetIndexedFields()[workflows.StageKey.GetName()]; p != nil {
			_ = converter.GetDefaultDataConverter().FromPayload(p, &stage)
		}
		return stage == workflows.StageNeedsAttention
	}, 30*time.Second, 50*time.Millisecond)
	h, err := st.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.KSeFWorkflowID(n), UpdateName: workflows.UpdateResend,
		Args:         []any{workflows.Decision{Actor: "ops", Reason: "checked the document"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	res := ksefDone(t, fv)
	require.Equal(t, store.KSeFAccepted, res.Status)
	recordRun(t, workflows.KSeFWorkflowID(n), "", "ksef_rejected_resent")
	_, _, sent := eInvoiceMail(t, emailOf(o), fv)
	require.Equal(t, 1, sent)
}
