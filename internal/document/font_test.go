package document_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/stretchr/testify/require"
)

// A document in Windows-1250 characters (every Polish one) is set in the
// font prepared once per process: a TrueType font with a one-byte
// encoding, not the UTF-8 font fpdf parses per document (a Type0 font).
// Its text reads back as it was, the no-break space of amounts included.
func TestPolishDocumentUsesThePreparedFont(t *testing.T) {
	d := sample()
	d.Buyer.Name = "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ „Straße” Žluťoučký Őrült – €"
	d.Lines[0].Gross, d.Totals.Gross = 123456, 123456
	pdf, err := document.Render(d)
	require.NoError(t, err)
	require.Contains(t, string(pdf), "/Subtype /TrueType")
	require.NotContains(t, string(pdf), "/Type0")
	valid(t, pdf)
	text := pdftest.Text(t, pdf)
	// pdftotext reads the no-break space of amounts as a space, from
	// either font.
	for _, want := range []string{d.Buyer.Name, "brutto 1 234,56", "Zapłacono: 1 234,56 PLN", "Słownie: tysiąc dwieście"} {
		require.Contains(t, text, want, "the PDF's text:\n%s", text)
	}
}

// A character outside Windows-1250 that the Go font has (Greek, Cyrillic,
// Romanian ș and ț) sends the document to the UTF-8 font: it prints.
func TestOtherScriptsUseTheUTF8Font(t *testing.T) {
	for _, name := range []string{"Ελλάδα Α.Ε.", "България ЕООД", "Știință și Țară SRL"} {
		d := sample()
		d.Buyer.Name = name
		pdf, err := document.Render(d)
		require.NoError(t, err)
		require.Contains(t, string(pdf), "/Type0", name)
		valid(t, pdf)
		text := pdftest.Text(t, pdf)
		require.Contains(t, text, name, "the PDF's text:\n%s", text)
		require.Contains(t, text, "ul. Żwirowa Łąka 5, Gęsiówka Ścieżka", "the Polish next to it")
	}
}

func valid(t *testing.T, pdf []byte) {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationStrict
	require.NoError(t, api.Validate(bytes.NewReader(pdf), conf), "pdfcpu validate (strict)")
	require.True(t, strings.HasPrefix(string(pdf), "%PDF-"))
}
