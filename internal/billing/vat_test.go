package billing_test

import (
	"testing"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/stretchr/testify/require"
)

func TestVATForByBuyer(t *testing.T) {
	standard := billing.VAT{Code: "23", Rate: 23}
	for _, c := range []struct {
		name, country, taxID string
		want                 billing.VAT
	}{
		{"Polish business", "PL", "5260250995", standard},
		{"Polish consumer", "PL", "", standard},
		{"country in lower case", "pl", "", standard},
		{"German business: reverse charge", "DE", "DE123456789",
			billing.VAT{Code: "np II", ReverseCharge: true, Note: "odwrotne obciążenie"}},
		{"Greek business, ISO code GR", "GR", "EL123456789",
			billing.VAT{Code: "np II", ReverseCharge: true, Note: "odwrotne obciążenie"}},
		{"French consumer: Polish VAT, OSS out of scope", "FR", "", standard},
		{"US business: not taxable in Poland", "US", "12-3456789",
			billing.VAT{Code: "np I", Note: "usługa niepodlegająca opodatkowaniu na terytorium kraju (art. 28b ustawy o VAT)"}},
		{"British consumer: not taxable in Poland", "GB", "",
			billing.VAT{Code: "np I", Note: "usługa niepodlegająca opodatkowaniu na terytorium kraju (art. 28k ustawy o VAT)"}},
		{"Northern Ireland is outside the EU for services", "XI", "GB123456789",
			billing.VAT{Code: "np I", Note: "usługa niepodlegająca opodatkowaniu na terytorium kraju (art. 28b ustawy o VAT)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, billing.VATFor(c.country, c.taxID))
		})
	}
}

func TestVATPrefixAndEU(t *testing.T) {
	require.Equal(t, "EL", billing.VATPrefix("GR"))
	require.Equal(t, "DE", billing.VATPrefix("de"))
	require.Equal(t, "", billing.VATPrefix("NO"))
	require.True(t, billing.InEU("PL"))
	require.False(t, billing.InEU("CH"))
}

func TestVATAmountsPerTreatment(t *testing.T) {
	pl := billing.VATFor("PL", "")
	require.Equal(t, billing.Amounts(27000), pl.Amounts(27000), "23% is billing.Amounts")
	require.Equal(t, billing.Amounts(12345), pl.Amounts(12345))
	require.Equal(t, billing.Amounts(27000).Negated(), pl.Amounts(-27000), "a correction takes back exactly the invoice")
	require.Equal(t, billing.Totals{Net: -5, VAT: -1, Gross: -6}, pl.Amounts(-5), "rounded as the positive amount: 1.15 -> 1")
	for _, v := range []billing.VAT{billing.VATFor("DE", "DE123456789"), billing.VATFor("US", "")} {
		require.Equal(t, billing.Totals{Net: 27000, VAT: 0, Gross: 27000}, v.Amounts(27000), v.Code)
		require.Equal(t, billing.Totals{Net: -27000, VAT: 0, Gross: -27000}, v.Amounts(-27000), v.Code)
	}
	require.Equal(t, billing.Totals{Net: 1000, VAT: 80, Gross: 1080}, billing.VAT{Code: "8", Rate: 8}.Amounts(1000))
	require.Equal(t, money.Grosze(0), billing.VAT{}.Amounts(0).Gross)
}

func TestVATOfCodeGivesBackTheTreatment(t *testing.T) {
	for _, v := range []billing.VAT{billing.VATFor("PL", "5260250995"), billing.VATFor("DE", "DE123456789"),
		billing.VATFor("US", "12-3456789"), billing.VATFor("US", "")} {
		got, ok := billing.VATOfCode(v.Code, v.Note)
		require.True(t, ok, v.Code)
		require.Equal(t, v, got)
	}
	_, ok := billing.VATOfCode("8", "")
	require.False(t, ok)
}

func TestVATLabel(t *testing.T) {
	require.Equal(t, "23%", billing.VATFor("PL", "").Label())
	require.Equal(t, "23%", billing.VATLabel(""), "a document from before codes were kept is 23%")
	require.Equal(t, "np", billing.VATLabel(billing.VATCodeEUService))
	require.Equal(t, "np", billing.VATLabel(billing.VATCodeOutside))
}

// German business: net = gross, no VAT, np II; a US buyer np I; a Polish
// one 23%, and a negative net (a correction) is the positive one negated.
func TestVATAmountsPerBuyer(t *testing.T) {
	net := money.Grosze(27000)
	de := billing.VATFor("DE", "DE123456789")
	require.Equal(t, billing.VATCodeEUService, de.Code)
	require.Equal(t, billing.Totals{Net: net, VAT: 0, Gross: net}, de.Amounts(net))
	us := billing.VATFor("US", "")
	require.Equal(t, billing.VATCodeOutside, us.Code)
	require.Equal(t, billing.Totals{Net: net, VAT: 0, Gross: net}, us.Amounts(net))
	pl := billing.VATFor("PL", "5260250995")
	require.Equal(t, billing.Amounts(net), pl.Amounts(net))
	require.Equal(t, billing.Amounts(8650).Negated(), pl.Amounts(-8650))
}
