package store_test

import (
	"context"
	"testing"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// buyerRequest is request(id) for a buyer seated in country with taxID.
func buyerRequest(id, country, postal, taxID string) order.Request {
	r := request(id)
	r.Customer.Country, r.Customer.PostalCode, r.Customer.TaxID = country, postal, taxID
	r.Normalize()
	return r
}

func vatCode(t *testing.T, docID int64) (code, note string) {
	t.Helper()
	require.NoError(t, st.Pool.QueryRow(context.Background(), `SELECT vat_code, vat_note FROM invoices WHERE id = $1`, docID).Scan(&code, &note))
	return code, note
}

// Each document follows the buyer the order named: its pro-forma, the VAT
// invoice that settles it and the correction that takes it back all carry
// the buyer's VAT code, and bill net = gross where there is no Polish VAT.
func TestDocumentsFollowTheBuyersVAT(t *testing.T) {
	ctx := context.Background()
	const net = money.Grosze(27000) // business-standard, 5 seats, monthly
	for _, c := range []struct {
		name, country, postal, taxID string
		code, note                   string
		vat                          money.Grosze
	}{
		{"Polish business", "PL", "00-001", "5260250995", billing.VATCodeStandard, "", 6210},
		{"Polish consumer", "PL", "00-001", "", billing.VATCodeStandard, "", 6210},
		{"German business", "DE", "10115", "DE123456789", billing.VATCodeEUService, billing.NoteReverseCharge, 0},
		{"French consumer", "FR", "75004", "", billing.VATCodeStandard, "", 6210},
		{"US business", "US", "94105", "12-3456789", billing.VATCodeOutside, billing.VATFor("US", "x").Note, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			year := newYear()
			id := newID("vat")
			place(t, buyerRequest(id, c.country, c.postal, c.taxID))
			b := bill(t, id, issuedIn(year))
			pf := b.Invoice
			require.Equal(t, []money.Grosze{net, c.vat, net + c.vat}, []money.Grosze{pf.Net, pf.VAT, pf.Gross})
			require.Equal(t, c.code, pf.VATCode)
			code, note := vatCode(t, pf.ID)
			require.Equal(t, []string{c.code, c.note}, []string{code, note})

			pid := newID("p-vat")
			pay(t, id, pid, pf.Gross)
			fv, err := st.Settle(ctx, id, pid, issuedIn(year))
			require.NoError(t, err)
			require.Equal(t, []money.Grosze{pf.Net, pf.VAT, pf.Gross}, []money.Grosze{fv.Net, fv.VAT, fv.Gross}, "the invoice bills what was paid")
			require.Equal(t, c.code, fv.VATCode)
			code, note = vatCode(t, fv.ID)
			require.Equal(t, []string{c.code, c.note}, []string{code, note})

			kor, err := st.VoidInvoice(ctx, id, "tenant failed", issuedIn(year))
			require.NoError(t, err)
			require.Equal(t, []money.Grosze{-fv.Net, -fv.VAT, -fv.Gross}, []money.Grosze{kor.Net, kor.VAT, kor.Gross})
			require.Equal(t, c.code, kor.VATCode, "a correction takes its invoice's code")
			code, note = vatCode(t, kor.ID)
			require.Equal(t, []string{c.code, c.note}, []string{code, note})

			docs, err := st.Documents(ctx, id)
			require.NoError(t, err)
			require.Len(t, docs, 3)
			for _, d := range docs {
				require.Equal(t, c.code, d.VATCode, d.Number)
			}
		})
	}
}

// A later charge of a German business, more licences and the renewal, is
// billed without Polish VAT too, and so is its VAT invoice.
func TestLaterChargesFollowTheBuyersVAT(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	r := buyerRequest(newID("vat-later"), "DE", "10115", "DE123456789")
	place(t, r)
	id := r.OrderID
	b := bill(t, id, issuedIn(year))
	pid := newID("p-vat-later")
	pay(t, id, pid, b.Invoice.Gross)
	_, err := st.Settle(ctx, id, pid, paidOn(year))
	require.NoError(t, err)
	_, err = st.SaveSubscription(ctx, store.Subscription{ID: "sub-" + id, OrderID: id,
		OfferID: "CFQ7TTC0LDPB:0001", Quantity: r.Seats, Status: "active"})
	require.NoError(t, err)
	_, err = finishInstaller(ctx, st, id)
	require.NoError(t, err)

	c := openCharge(t, licences(id, 2, paidOn(year).AddDate(0, 0, 1)))
	pf := issueCharge(t, c.ID, issuedIn(year))
	require.Equal(t, billing.VATCodeEUService, pf.VATCode)
	require.Zero(t, pf.VAT)
	require.Equal(t, pf.Net, pf.Gross)
	fv, err := st.SettleCharge(ctx, c.ID, payCharge(t, c, pf.Gross), paidOn(year).AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Equal(t, billing.VATCodeEUService, fv.VATCode)
	require.Equal(t, []money.Grosze{pf.Net, 0, pf.Net}, []money.Grosze{fv.Net, fv.VAT, fv.Gross})

	rc, err := st.OpenRenewal(ctx, id, "subscription-"+id, paidOn(year).AddDate(0, 1, 0), paidOn(year).AddDate(0, 0, 20))
	require.NoError(t, err)
	require.NotNil(t, rc.Invoice)
	require.Equal(t, billing.VATCodeEUService, rc.Invoice.VATCode)
	require.Zero(t, rc.Invoice.VAT)
	require.Equal(t, rc.Invoice.Net, rc.Invoice.Gross)
	got, err := st.GetCharge(ctx, rc.ID)
	require.NoError(t, err)
	require.Equal(t, billing.VATCodeEUService, got.Invoice.VATCode, "GetCharge reads the code")
}

// The PDF the store renders prints the document's rate and annotation: a
// German business's documents "np" and "odwrotne obciążenie", a US
// buyer's the reason it is not taxable in Poland, a Polish one's 23%.
func TestDocumentPDFPrintsTheBuyersVAT(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		country, postal, taxID string
		rate                   string
		want                   []string
		not                    []string
	}{
		{"DE", "10115", "DE123456789", "np", []string{"Adnotacja: odwrotne obciążenie", "NIP: DE123456789"}, []string{"23%"}},
		{"US", "94105", "12-3456789", "np", []string{"Adnotacja: usługa niepodlegająca opodatkowaniu na terytorium kraju"}, []string{"23%", "odwrotne"}},
		{"PL", "00-001", "5260250995", "23%", []string{"23%"}, []string{"Adnotacja"}},
	} {
		t.Run(c.country, func(t *testing.T) {
			year := newYear()
			id := newID("vat-pdf")
			place(t, buyerRequest(id, c.country, c.postal, c.taxID))
			b := bill(t, id, issuedIn(year))
			pid := newID("p-vat-pdf")
			pay(t, id, pid, b.Invoice.Gross)
			fv, err := st.Settle(ctx, id, pid, issuedIn(year))
			require.NoError(t, err)
			kor, err := st.VoidInvoice(ctx, id, "tenant failed", issuedIn(year))
			require.NoError(t, err)
			for _, docID := range []int64{b.Invoice.ID, fv.ID, kor.ID} {
				_, pdf, err := st.DocumentPDF(ctx, docID)
				require.NoError(t, err)
				text := pdftest.Text(t, pdf)
				if docID != kor.ID { // a correction prints before, after and the difference instead
					require.Contains(t, text, "Razem (stawka "+c.rate+"):", "document %d:\n%s", docID, text)
				}
				for _, w := range c.want {
					require.Contains(t, text, w, "document %d:\n%s", docID, text)
				}
				for _, n := range c.not {
					require.NotContains(t, text, n, "document %d:\n%s", docID, text)
				}
			}
		})
	}
}
