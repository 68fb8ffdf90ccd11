package document_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/stretchr/testify/require"
)

func sample() document.Document {
	issued := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	paid := issued
	return document.Document{
		Kind: document.Invoice, Number: "FV/2026/000042", Issued: issued, SaleDate: issued, PaidOn: &paid,
		Refers: "PF/2026/000041",
		Seller: document.Party{Name: "Officeflow sp. z o.o.", Address: "ul. Marszałkowska 1", PostalCode: "00-001", City: "Warszawa",
			Country: "Polska", NIP: "5260250995", BankAccount: "PL61 1090 1014 0000 0712 1981 2874"},
		Buyer: document.Party{Name: "Zażółć Gęślą Jaźń sp. z o.o.", Address: "ul. Żwirowa Łąka 5, Gęsiówka Ścieżka", PostalCode: "90-001", City: "Łódź",
			Country: "Polska", NIP: "7680002466"},
		Lines: []document.Line{{Name: "Microsoft 365 Business Standard", Seats: 5, Period: "1 mies.",
			UnitNet: 5400, Net: 27000, VAT: 6210, Gross: 33210}},
		Totals:        document.Totals{Net: 27000, VAT: 6210, Gross: 33210},
		PaymentMethod: "przelew (bramka płatności)", Currency: "PLN",
	}
}

func TestInvoiceTextAsPdftotextReadsIt(t *testing.T) {
	d := sample()
	pdf, err := document.Render(d)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationStrict
	require.NoError(t, api.Validate(bytes.NewReader(pdf), conf), "pdfcpu validate (strict)")
	text := pdftest.Text(t, pdf)
	for _, want := range []string{
		"Faktura VAT nr FV/2026/000042", "Data wystawienia: 2026-11-25", "Rozlicza fakturę pro forma nr PF/2026/000041",
		"NIP: 5260250995", "NIP: 7680002466",
		"Zażółć Gęślą Jaźń sp. z o.o.", "ul. Żwirowa Łąka 5, Gęsiówka Ścieżka", "90-001 Łódź",
		"Microsoft 365 Business Standard", "270,00", "62,10", "332,10", "23%",
		"Słownie: trzysta trzydzieści dwa złote 10/100",
	} {
		require.Contains(t, text, want, "the PDF's text:\n%s", text)
	}
	require.Equal(t, 1, strings.Count(text, "\f"), "one page")
}

// -sample FILE writes the sample VAT invoice, for scripts/invoice-png.sh:
// as KSeF accepted it, with its KSeF number and KOD I.
var sampleFile = flag.String("sample", "", "write the sample VAT invoice PDF to `FILE`")

func TestSampleInvoice(t *testing.T) {
	d := sample()
	n := "5260250995-20261125-0100A7F3B21C"
	n += "-" + ksef.KsefNumberChecksum(n)
	d.KSeF = &document.KSeF{Number: n,
		VerifyURL: ksef.VerifyURL(ksef.QRTest, d.Seller.NIP, d.Issued, ksef.InvoiceHash([]byte("the sample's FA(3) XML")))}
	pdf, err := document.Render(d)
	require.NoError(t, err)
	require.Greater(t, len(pdf), 1000)
	require.Contains(t, pdftest.Text(t, pdf), "Numer KSeF: "+n)
	if *sampleFile != "" {
		require.NoError(t, os.WriteFile(*sampleFile, pdf, 0o644))
	}
}

func TestSameDocumentSameBytes(t *testing.T) {
	a, err := document.Render(sample())
	require.NoError(t, err)
	b, err := document.Render(sample())
	require.NoError(t, err)
	require.Equal(t, a, b, "a document rendered again is byte for byte the one stored")
	other := sample()
	other.Number = "FV/2026/000043"
	c, err := document.Render(other)
	require.NoError(t, err)
	require.NotEqual(t, a, c)
}

func TestProformaAndCorrectionSayWhatTheyAre(t *testing.T) {
	pf := sample()
	pf.Kind, pf.Number, pf.PaidOn, pf.Refers = document.Proforma, "PF/2026/000041", nil, ""
	due := pf.Issued.AddDate(0, 0, 7)
	pf.Due = &due
	pdf, err := document.Render(pf)
	require.NoError(t, err)
	text := pdftest.Text(t, pdf)
	require.Contains(t, text, "Faktura pro forma nr PF/2026/000041")
	require.Contains(t, text, "nie jest fakturą VAT")
	require.Contains(t, text, "Termin płatności: 2026-12-02")
	require.Contains(t, text, "Do zapłaty: 332,10 PLN")

	kor := sample()
	kor.Kind, kor.Number, kor.Refers, kor.Reason = document.Correction, "KOR/2026/000007", "FV/2026/000042", "zwrot zapłaty"
	kor.Before = &document.Totals{Net: 27000, VAT: 6210, Gross: 33210}
	kor.After = &document.Totals{}
	kor.Totals = document.Totals{Net: -27000, VAT: -6210, Gross: -33210}
	for i := range kor.Lines {
		kor.Lines[i].Net, kor.Lines[i].VAT, kor.Lines[i].Gross = -kor.Lines[i].Net, -kor.Lines[i].VAT, -kor.Lines[i].Gross
	}
	pdf, err = document.Render(kor)
	require.NoError(t, err)
	text = pdftest.Text(t, pdf)
	for _, want := range []string{"Faktura korygująca nr KOR/2026/000007", "Korekta dokumentu nr FV/2026/000042",
		"Przed korektą:", "Po korekcie:", "Różnica:", "-332,10", "Do zwrotu: 332,10 PLN", money.Grosze(33210).Words()} {
		require.Contains(t, text, want, "the PDF's text:\n%s", text)
	}
}
