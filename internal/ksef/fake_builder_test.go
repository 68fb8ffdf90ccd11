package ksef_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/stretchr/testify/require"
)

// The FA(3) builder's invoice and its correction, naming the invoice's
// KSeF number, pass every check of the Fake, the FA(3) schema included,
// and are accepted.
func TestFakeAcceptsTheBuildersInvoiceAndCorrection(t *testing.T) {
	ctx := context.Background()
	shared := apiShared(t)
	const nip = "5260250995"
	fake := ksef.NewFake(nip, apiToken)
	fake.Schema = filepath.Join(shared, "faktury", "schemy", "FA", "schemat_FA(3)_v1-0E.xsd")
	fake.Catalog = filepath.Join(shared, "catalog.xml")
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	c := &ksef.Client{BaseURL: srv.URL, NIP: nip, Token: apiToken, HTTP: srv.Client(), PollInterval: time.Millisecond}

	seller := document.Party{Name: "Officeflow sp. z o.o.", Address: "ul. Marszałkowska 1", PostalCode: "00-001",
		City: "Warszawa", Country: "PL", NIP: nip}
	buyer := document.Party{Name: "Acme sp. z o.o.", Address: "ul. Prosta 1", PostalCode: "00-850", City: "Warszawa",
		Country: "PL", NIP: "5213017228"}
	vat := billing.VATFor(buyer.Country, buyer.NIP)
	a := vat.Amounts(27000)
	paid := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	inv := document.Document{
		Kind: document.Invoice, Number: "FV/2026/000042", Issued: paid, SaleDate: paid, PaidOn: &paid,
		Seller: seller, Buyer: buyer,
		Lines: []document.Line{{Name: "Microsoft 365 Business Standard", Seats: 5, Period: "1 mies.",
			UnitNet: 5400, Net: a.Net, VAT: a.VAT, Gross: a.Gross}},
		Totals:        document.Totals{Net: a.Net, VAT: a.VAT, Gross: a.Gross},
		PaymentMethod: "przelew", Currency: "PLN",
	}
	invXML, err := ksef.FA3(inv, vat, ksef.Options{})
	require.NoError(t, err)

	s, err := c.OpenSession(ctx)
	require.NoError(t, err)
	sent, err := c.Send(ctx, s, invXML)
	require.NoError(t, err)
	st, err := c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	require.NoError(t, err)
	require.True(t, ksef.ValidKsefNumber(st.KsefNumber))

	before := inv.Totals
	diff := vat.Amounts(-before.Net)
	kor := document.Document{
		Kind: document.Correction, Number: "KOR/2026/000007", Issued: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC),
		SaleDate: inv.SaleDate, Refers: inv.Number, Reason: "anulowanie zamówienia", Seller: seller, Buyer: buyer,
		Lines: []document.Line{{Name: inv.Lines[0].Name, Seats: 5, Period: "1 mies.", UnitNet: 5400,
			Net: diff.Net, VAT: diff.VAT, Gross: diff.Gross}},
		Totals: document.Totals{Net: diff.Net, VAT: diff.VAT, Gross: diff.Gross},
		Before: &before, After: &document.Totals{}, PaymentMethod: inv.PaymentMethod, Currency: "PLN",
	}
	korXML, err := ksef.FA3(kor, vat, ksef.Options{Corrected: ksef.Corrected{Issued: inv.Issued, KSeFNumber: st.KsefNumber}})
	require.NoError(t, err)
	sent, err = c.Send(ctx, s, korXML)
	require.NoError(t, err)
	_, err = c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	require.NoError(t, err)

	acc := fake.Accepted()
	require.Len(t, acc, 2)
	require.Equal(t, invXML, acc[0].XML)
	require.Equal(t, korXML, acc[1].XML)
	require.Contains(t, string(acc[1].XML), st.KsefNumber, "the correction names the invoice's KSeF number")
}
