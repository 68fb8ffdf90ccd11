package document_test

import (
	"testing"

	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

// A reverse-charge invoice prints "np" for its rate, no Polish VAT, and
// the annotation the law requires.
func TestReverseChargePrintsNpAndTheAnnotation(t *testing.T) {
	d := sample()
	d.Buyer = document.Party{Name: "Beispiel GmbH", Address: "Friedrichstraße 10", PostalCode: "10117", City: "Berlin",
		Country: "DE", NIP: "DE123456789"}
	d.Lines[0].VAT, d.Lines[0].Gross, d.Lines[0].Rate = 0, 27000, "np"
	d.Totals.VAT, d.Totals.Gross = 0, 27000
	d.VATNote = "odwrotne obciążenie"
	pdf, err := document.Render(d)
	require.NoError(t, err)
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"Razem (stawka np):", "Adnotacja: odwrotne obciążenie", "Słownie: dwieście siedemdziesiąt złotych 00/100"} {
		require.Contains(t, text, want, "the PDF's text:\n%s", text)
	}
	require.NotContains(t, text, "23%")
}

// A Polish document prints 23% as before, with no annotation.
func TestStandardRatePrintsNoAnnotation(t *testing.T) {
	d := sample()
	d.Lines[0].Rate = "23%"
	pdf, err := document.Render(d)
	require.NoError(t, err)
	text := pdftest.Text(t, pdf)
	require.Contains(t, text, "Razem (stawka 23%):")
	require.NotContains(t, text, "Adnotacja")
	plain, err := document.Render(sample())
	require.NoError(t, err)
	require.Equal(t, plain, pdf, `Rate "23%" and "" print the same`)
}
