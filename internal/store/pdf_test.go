package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/officeflow/officeflow/internal/billing"
	doc "github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// storedPDF is the PDF kept with a document's row, nil if none yet.
func storedPDF(t *testing.T, id int64) []byte {
	t.Helper()
	var pdf []byte
	require.NoError(t, st.Pool.QueryRow(context.Background(), `SELECT pdf FROM invoices WHERE id = $1`, id).Scan(&pdf))
	return pdf
}

// With KSeF on, the VAT invoice issued with the payment is not rendered in
// the paying transaction: its PDF is rendered once KSeF accepts it, with
// the KSeF number, and that is the one kept. A read before then renders it
// from the row, to the bytes it would have had at issue, and keeps it
// until the accepted one replaces it. The pro-forma (no KSeF) is rendered
// when issued, as before.
func TestKSeFInvoiceRenderedWhenAccepted(t *testing.T) {
	ctx := context.Background()
	k := *st
	k.KSeF = true
	year := newYear()
	for _, readFirst := range []bool{false, true} {
		id, b := placeBilled(t, "pdf-ksef", year)
		require.NotNil(t, storedPDF(t, b.Invoice.ID), "the pro-forma's PDF is made with it")
		pid := newID("p-pdf-ksef")
		pay(t, id, pid, b.Invoice.Gross)
		fv, err := k.Settle(ctx, id, pid, paidOn(year))
		require.NoError(t, err)
		require.Nil(t, storedPDF(t, fv.ID), "not rendered in the paying transaction")

		if readFirst {
			_, pdf, err := k.DocumentPDF(ctx, fv.ID)
			require.NoError(t, err)
			src, err := k.Source(ctx, fv.ID)
			require.NoError(t, err)
			require.Nil(t, src.Doc.KSeF)
			want, err := doc.Render(src.Doc)
			require.NoError(t, err)
			require.Equal(t, want, pdf)
			require.Equal(t, pdf, storedPDF(t, fv.ID), "kept once read")
			require.NotContains(t, pdftest.Text(t, pdf), "Numer KSeF")
		}

		number := fmt.Sprintf("5260250995-20261125-%012X-AF", fv.ID) // KSeF numbers are unique
		toSend, err := k.KSeFDocumentToSend(ctx, fv.ID)
		require.NoError(t, err)
		require.False(t, toSend.HasXML)
		require.Nil(t, toSend.XML)
		_, err = k.SetKSeFXML(ctx, fv.ID, []byte("<Faktura/>"), "hash", "https://qr-test.ksef.mf.gov.pl/invoice/x")
		require.NoError(t, err)
		toSend, err = k.KSeFDocumentToSend(ctx, fv.ID)
		require.NoError(t, err)
		plain, err := k.KSeFDocument(ctx, fv.ID)
		require.NoError(t, err)
		require.Equal(t, []byte("<Faktura/>"), toSend.XML, "read with the document")
		toSend.XML = nil
		require.Equal(t, plain, toSend, "and the rest as KSeFDocument reads it")
		require.NoError(t, k.KSeFAccept(ctx, fv.ID, number, []byte("<UPO/>"), paidOn(year)))
		_, pdf, err := k.DocumentPDF(ctx, fv.ID)
		require.NoError(t, err)
		require.Contains(t, pdftest.Text(t, pdf), "Numer KSeF: "+number)
		require.Equal(t, pdf, storedPDF(t, fv.ID))
	}
}

// Attachment reads in one round trip what an email of a document carries:
// the document, and its PDF unless KSeF issues it (then only the flag). It
// agrees with the separate reads it replaced.
func TestAttachmentIsTheDocumentAndItsPDF(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "attach", year)

	_, _, _, err := st.Attachment(ctx, store.OrderCharge(id), billing.KindInvoice)
	require.ErrorIs(t, err, store.ErrNotFound, "no VAT invoice before the payment")

	pro, inKSeF, pdf, err := st.Attachment(ctx, store.OrderCharge(id), billing.KindProforma)
	require.NoError(t, err)
	require.False(t, inKSeF)
	want, err := st.ChargeDocument(ctx, store.OrderCharge(id), billing.KindProforma)
	require.NoError(t, err)
	require.Equal(t, want, pro)
	require.Equal(t, b.Invoice.ID, pro.ID)
	require.Equal(t, storedPDF(t, pro.ID), pdf)
	require.NotEmpty(t, pdf)

	k := *st
	k.KSeF = true
	pid := newID("p-attach")
	pay(t, id, pid, b.Invoice.Gross)
	fv, err := k.Settle(ctx, id, pid, paidOn(year))
	require.NoError(t, err)
	got, inKSeF, pdf, err := k.Attachment(ctx, store.OrderCharge(id), billing.KindInvoice)
	require.NoError(t, err)
	require.True(t, inKSeF, "issued through KSeF")
	require.Nil(t, pdf, "its own email carries it")
	require.Equal(t, fv.ID, got.ID)
	require.Nil(t, storedPDF(t, fv.ID), "and nothing was rendered for it")
}
