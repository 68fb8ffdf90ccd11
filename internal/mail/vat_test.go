package mail

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A document without Polish VAT shows "np" where a Polish one shows 23%,
// in every mail that names a pro-forma's amounts, in both languages.
func TestRenderShowsTheDocumentsVATRate(t *testing.T) {
	for _, lang := range Languages() {
		for _, kind := range []Kind{KindBillingAccess, KindLicencesInvoice, KindRenewalInvoice} {
			d := sampleData(lang)
			d.VATRate, d.VAT = "np", "0,00"
			_, text, html, err := Render(kind, d)
			require.NoError(t, err)
			for _, part := range []string{text, html} {
				require.Contains(t, part, "VAT (np)", "%s %s", lang, kind)
				require.NotContains(t, part, "23%", "%s %s", lang, kind)
			}
			d.VATRate = ""
			_, text, _, err = Render(kind, d)
			require.NoError(t, err)
			require.Contains(t, text, "VAT (23%)", "no rate given is 23%: %s %s", lang, kind)
		}
	}
}
