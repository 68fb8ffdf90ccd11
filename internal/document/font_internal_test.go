package document

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

// The prepared font is made (else every document would quietly take the
// slow UTF-8 font), and a document set in it reads back exactly as the
// same document set in the UTF-8 font: same characters, same places.
func TestPreparedFontReadsAsTheUTF8Font(t *testing.T) {
	f, err := prepared()
	require.NoError(t, err)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	d := Document{Kind: Invoice, Number: "FV/2026/000042", Issued: day, SaleDate: day, PaidOn: &day,
		Seller: Party{Name: "Officeflow sp. z o.o.", City: "Warszawa", NIP: "5260250995"},
		Buyer:  Party{Name: "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ", Address: "„Straße” – € ‰ ÄÖÜäöüß ČŘŠŽčřšž", City: "Łódź", NIP: "7680002466"},
		Lines: []Line{{Name: "Microsoft 365 Business Standard", Seats: 5, Period: "2026-11-25 – 2026-12-24",
			UnitNet: 100372, Net: 501860, VAT: 115428, Gross: 617288}},
		Totals: Totals{Net: 501860, VAT: 115428, Gross: 617288}, Currency: "PLN",
		KSeF: &KSeF{Number: "5260250995-20261125-0100001AF629-AF", VerifyURL: "https://qr-test.ksef.mf.gov.pl/invoice/x"}}
	fast, ok, err := render(d, f)
	require.NoError(t, err)
	require.True(t, ok)
	slow, ok, err := render(d, nil)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, pdftest.Text(t, slow), pdftest.Text(t, fast))
	require.Contains(t, pdftest.Text(t, fast), "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ")
	rs, rf := raster(t, slow), raster(t, fast)
	require.Greater(t, len(rs), 800*1100, "a page drawn")
	require.True(t, bytes.Equal(rs, rf), "the page looks the same, pixel for pixel")
}

// raster is the PDF's pages as pdftoppm draws them, in grey at 100 dpi.
func raster(t *testing.T, pdf []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	require.NoError(t, os.WriteFile(in, pdf, 0o644))
	out, err := exec.Command("pdftoppm", "-gray", "-r", "100", in).Output()
	require.NoError(t, err, "pdftoppm (poppler-utils)")
	return out
}

// BenchmarkFonts renders one Polish invoice with each font, side by side:
// what the prepared font saves, and what a document outside Windows-1250
// still costs.
func BenchmarkFonts(b *testing.B) {
	f, err := prepared()
	require.NoError(b, err)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	d := Document{Kind: Invoice, Number: "FV/2026/000042", Issued: day, SaleDate: day, PaidOn: &day,
		Seller: Party{Name: "Officeflow sp. z o.o.", Address: "ul. Marszałkowska 1", City: "Warszawa", NIP: "5260250995"},
		Buyer:  Party{Name: "Zażółć Gęślą Jaźń sp. z o.o.", Address: "ul. Żwirowa Łąka 5", City: "Łódź", NIP: "7680002466"},
		Lines: []Line{{Name: "Microsoft 365 Business Standard", Seats: 5, Period: "1 mies.",
			UnitNet: 5400, Net: 27000, VAT: 6210, Gross: 33210}},
		Totals: Totals{Net: 27000, VAT: 6210, Gross: 33210}, Currency: "PLN"}
	for _, c := range []struct {
		name string
		f    *font
	}{{"prepared", f}, {"utf8", nil}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := render(d, c.f); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
