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
