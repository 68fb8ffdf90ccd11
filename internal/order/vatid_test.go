package order_test

import (
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

func euBuyer(t *testing.T, country, postal, taxID string) *order.Request {
	r := sample(t)
	r.Customer.Country, r.Customer.PostalCode, r.Customer.TaxID = country, postal, taxID
	r.Normalize()
	return &r
}

func TestValidateAcceptsEUVATNumbers(t *testing.T) {
	for _, c := range []struct{ country, taxID string }{
		{"DE", "DE123456789"}, {"DE", "123456789"}, {"DE", "de 123 456 789"},
		{"AT", "ATU12345678"}, {"FR", "FR40303265045"}, {"GR", "EL094014201"}, {"GR", "094014201"},
		{"NL", "NL123456789B01"}, {"IE", "IE6388047V"}, {"SE", "SE556677889901"}, {"ES", "ESB12345678"},
		{"IT", "IT12345678901"}, {"BE", "BE0123456789"}, {"CY", "CY12345678L"},
		{"FR", ""}, // a consumer: no tax id, nothing to check
	} {
		r := euBuyer(t, c.country, "10115", c.taxID)
		require.Nil(t, r.Validate(), "%s %q", c.country, c.taxID)
	}
}

func TestValidateRefusesAMalformedEUVATNumber(t *testing.T) {
	for _, c := range []struct{ country, taxID string }{
		{"DE", "DE12345678"},   // 8 digits, not 9
		{"DE", "DE1234567890"}, // 10
		{"DE", "FR123456789"},  // another country's prefix
		{"DE", "5260250995"},   // a Polish NIP
		{"AT", "AT12345678"},   // no U
		{"NL", "NL123456789"},  // no B01
		{"GR", "GR09401420"},
		{"SE", "SE5566778899"},
	} {
		r := euBuyer(t, c.country, "10115", c.taxID)
		fe := r.Validate()
		require.NotNil(t, fe, "%s %q", c.country, c.taxID)
		require.Equal(t, "customer.tax_id", fe.Field)
		require.Equal(t, "invalid", fe.Code)
		require.Contains(t, fe.Message, c.country)
	}
	fe := euBuyer(t, "DE", "10115", "DE12345678").Validate()
	require.Equal(t, "customer.tax_id is not a VAT number of DE: it must be DE followed by 9 digits", fe.Message)
}

// Outside the EU a tax id is any country's own number: only its
// characters are checked.
func TestValidateLeavesNonEUTaxIDsFree(t *testing.T) {
	require.Nil(t, euBuyer(t, "US", "94105", "12-3456789").Validate())
	require.Nil(t, euBuyer(t, "CH", "8001", "CHE-123.456.789").Validate())
}
