package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// ksefPaid is a new paid order whose VAT invoice was issued with KSeF on
// (its KSeF state pending, no PDF kept yet), read through k, a store with
// KSeF on.
func ksefPaid(t *testing.T, prefix string) (k *store.Store, orderID string, proforma, fv store.Invoice) {
	t.Helper()
	ks := *st
	ks.KSeF = true
	year := newYear()
	id, b := placeBilled(t, prefix, year)
	pid := newID("p-" + prefix)
	pay(t, id, pid, b.Invoice.Gross)
	fv, err := ks.Settle(context.Background(), id, pid, paidOn(year))
	require.NoError(t, err)
	return &ks, id, b.Invoice, fv
}

// paidWith is a new order placed, billed and paid in year and settled
// through s: its id, the payment's and its VAT invoice.
func paidWith(t *testing.T, s *store.Store, prefix string, year int) (id, pid string, fv store.Invoice) {
	t.Helper()
	id, b := placeBilled(t, prefix, year)
	pid = newID("p-" + prefix)
	pay(t, id, pid, b.Invoice.Gross)
	fv, err := s.Settle(context.Background(), id, pid, paidOn(year))
	require.NoError(t, err)
	return id, pid, fv
}

// requireWithSourceAsApart checks that KSeFDocumentWithSource reads what
// KSeFDocument and Source read apart.
func requireWithSourceAsApart(t *testing.T, k *store.Store, id int64) store.KSeFDoc {
	t.Helper()
	ctx := context.Background()
	doc, src, srcErr, err := k.KSeFDocumentWithSource(ctx, id)
	require.NoError(t, err)
	require.NoError(t, srcErr)
	wantDoc, err := k.KSeFDocument(ctx, id)
	require.NoError(t, err)
	wantSrc, err := k.Source(ctx, id)
	require.NoError(t, err)
	require.Equal(t, wantDoc, doc)
	require.Equal(t, wantSrc, src)
	return doc
}

// ksefCharge is the VAT invoice of a licence charge paid with KSeF on,
// whose Source has the charge's own line.
func ksefCharge(t *testing.T, k *store.Store, prefix string) store.Invoice {
	t.Helper()
	ctx := context.Background()
	year := newYear()
	id := provision(t, prefix, year, "monthly", 5)
	c, err := k.OpenLicenceCharge(ctx, licences(id, 2, paidOn(year).AddDate(0, 0, 1)))
	require.NoError(t, err)
	c, err = k.IssueCharge(ctx, c.ID, issuedIn(year))
	require.NoError(t, err)
	pid := payCharge(t, c, c.Invoice.Gross)
	fv, err := k.SettleCharge(ctx, c.ID, pid, paidOn(year).AddDate(0, 0, 2))
	require.NoError(t, err)
	return fv
}

// KSeFDocumentWithSource reads a document's KSeF state and Source as
// KSeFDocument and Source do, in every state PrepareKSeF meets: an invoice
// pending, with its XML kept, accepted, a correction of it, and a later
// charge's invoice.
func TestKSeFDocumentWithSourceReadsAsApart(t *testing.T) {
	ctx := context.Background()
	k, orderID, proforma, fv := ksefPaid(t, "ksef-with-source")
	charged := ksefCharge(t, k, "ksef-with-source-charge")
	requireWithSourceAsApart(t, k, charged.ID)
	_, src, _, err := k.KSeFDocumentWithSource(ctx, charged.ID)
	require.NoError(t, err)
	require.Equal(t, 2, src.Doc.Lines[0].Seats, "the charge's line")

	requireWithSourceAsApart(t, k, fv.ID)
	_, err = k.SetKSeFXML(ctx, fv.ID, []byte("<Faktura/>"), "hash", "https://qr-test.ksef.mf.gov.pl/invoice/x")
	require.NoError(t, err)
	require.True(t, requireWithSourceAsApart(t, k, fv.ID).HasXML)

	kor, err := k.VoidInvoice(ctx, orderID, "cancelled", fv.IssuedAt.Add(time.Hour))
	require.NoError(t, err)
	doc := requireWithSourceAsApart(t, k, kor.ID)
	require.Equal(t, fv.ID, doc.RefersTo)
	require.Empty(t, doc.RefersKSeFNumb)

	number := "5260250995-20261125-0000000000AA-" + orderID
	require.NoError(t, k.KSeFAccept(ctx, fv.ID, number, []byte("<UPO/>"), fv.IssuedAt))
	require.Equal(t, store.KSeFAccepted, requireWithSourceAsApart(t, k, fv.ID).Status)
	require.Equal(t, number, requireWithSourceAsApart(t, k, kor.ID).RefersKSeFNumb)
	_, src, _, err = k.KSeFDocumentWithSource(ctx, kor.ID)
	require.NoError(t, err)
	require.Equal(t, number, src.RefersKSeF)

	// A document without KSeF state (the pro-forma), or none at all.
	for _, id := range []int64{proforma.ID, -1} {
		_, _, _, err := k.KSeFDocumentWithSource(ctx, id)
		_, want := k.KSeFDocument(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.EqualError(t, err, want.Error())
	}
}

// requireForEmailAsApart checks that KSeFDocumentForEmail reads what
// KSeFDocument, OrderForEmail, Source and DocumentPDF read apart, and
// returns its PDF.
func requireForEmailAsApart(t *testing.T, k *store.Store, orderID string, id int64) []byte {
	t.Helper()
	ctx := context.Background()
	key := "einvoice#" + orderID
	m, err := k.KSeFDocumentForEmail(ctx, id, key)
	require.NoError(t, err)
	require.False(t, m.Sent)
	wantDoc, err := k.KSeFDocument(ctx, id)
	require.NoError(t, err)
	o, sent, err := k.OrderForEmail(ctx, wantDoc.OrderID, key)
	require.NoError(t, err)
	require.False(t, sent)
	wantSrc, err := k.Source(ctx, id)
	require.NoError(t, err)
	_, wantPDF, err := k.DocumentPDF(ctx, id)
	require.NoError(t, err)
	require.Equal(t, wantDoc, m.Doc)
	require.Equal(t, store.Order{ID: o.ID, Language: o.Language, PlanName: o.PlanName, Seats: o.Seats, BillingCycle: o.BillingCycle,
		Customer: order.Customer{Company: o.Customer.Company, FirstName: o.Customer.FirstName, LastName: o.Customer.LastName, Email: o.Customer.Email}},
		m.Order)
	require.Equal(t, wantSrc, m.Source)
	require.Equal(t, wantPDF, m.PDF)
	require.Equal(t, storedPDF(t, id), m.PDF, "kept")
	return m.PDF
}

// KSeFDocumentForEmail reads what the e-invoice email needs as the reads
// it replaces do: with the PDF rendered and kept when none was, as the
// stored one once KSeF accepted it, and only that the email was sent once
// it was.
func TestKSeFDocumentForEmailReadsAsApart(t *testing.T) {
	ctx := context.Background()
	k, orderID, proforma, fv := ksefPaid(t, "ksef-for-email")

	require.Nil(t, storedPDF(t, fv.ID))
	require.NotContains(t, pdftest.Text(t, requireForEmailAsApart(t, k, orderID, fv.ID)), "Numer KSeF")
	_, err := k.SetKSeFXML(ctx, fv.ID, []byte("<Faktura/>"), "hash", "https://qr-test.ksef.mf.gov.pl/invoice/x")
	require.NoError(t, err)
	number := "5260250995-20261125-0000000000AB-" + orderID
	require.NoError(t, k.KSeFAccept(ctx, fv.ID, number, []byte("<UPO/>"), fv.IssuedAt))
	require.Contains(t, pdftest.Text(t, requireForEmailAsApart(t, k, orderID, fv.ID)), "Numer KSeF: "+number)

	key := "einvoice#" + orderID
	_, err = k.RecordEmail(ctx, orderID, key, "x@acme.pl", "<msg>", false)
	require.NoError(t, err)
	m, err := k.KSeFDocumentForEmail(ctx, fv.ID, key)
	require.NoError(t, err)
	require.True(t, m.Sent)
	_, sent, err := k.OrderForEmail(ctx, orderID, key)
	require.NoError(t, err)
	require.True(t, sent)
	m, err = k.KSeFDocumentForEmail(ctx, fv.ID, key+"-other")
	require.NoError(t, err)
	require.False(t, m.Sent, "another email's key")

	for _, id := range []int64{proforma.ID, -1} {
		_, err := k.KSeFDocumentForEmail(ctx, id, key)
		_, want := k.KSeFDocument(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.EqualError(t, err, want.Error())
	}
}

// A document issued just now with KSeF on names its order and its KSeF row
// is there, pending, as NewInKSeF says; the same document returned by a
// second settle (a retried step) does not claim it, so that the step reads
// the row; with KSeF off no document claims it.
func TestNewInKSeFIsTheRowJustMade(t *testing.T) {
	ctx := context.Background()
	k := *st
	k.KSeF = true
	year := newYear()
	id, pid, fv := paidWith(t, &k, "newksef", year)
	orderID, ok := fv.NewInKSeF()
	require.True(t, ok)
	require.Equal(t, id, orderID)
	doc, err := k.KSeFDocument(ctx, fv.ID)
	require.NoError(t, err)
	require.Equal(t, store.KSeFPending, doc.Status)
	require.Equal(t, id, doc.OrderID)

	again, err := k.Settle(ctx, id, pid, paidOn(year))
	require.NoError(t, err)
	require.Equal(t, fv.ID, again.ID)
	_, ok = again.NewInKSeF()
	require.False(t, ok, "a document found issued must be read back")

	_, _, off := paidWith(t, st, "newksef-off", year)
	_, ok = off.NewInKSeF()
	require.False(t, ok)
}
