package order_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// customerText sets one of the free-text customer fields by its API name.
func customerText(r *order.Request, field, v string) {
	c := &r.Customer
	*map[string]*string{
		"customer.company": &c.Company, "customer.first_name": &c.FirstName, "customer.last_name": &c.LastName,
		"customer.city": &c.City, "customer.address_line1": &c.AddressLine1, "customer.postal_code": &c.PostalCode,
	}[field] = v
}

var textFields = []string{"customer.company", "customer.first_name", "customer.last_name", "customer.city", "customer.address_line1"}

func TestControlAndBidiCharactersAreRefusedNamingTheField(t *testing.T) {
	bad := map[string]rune{
		"ESC": 0x1b, "DEL": 0x7f, "tab": '\t', "BEL": 0x07, "C1 NEL": 0x85, "C1 CSI": 0x9b,
		"RLO": 0x202e, "LRO": 0x202d, "RLE": 0x202b, "LRE": 0x202a, "PDF": 0x202c,
		"LRM": 0x200e, "RLM": 0x200f, "ALM": 0x061c, "LRI": 0x2066, "RLI": 0x2067, "FSI": 0x2068, "PDI": 0x2069,
		"line separator": 0x2028, "paragraph separator": 0x2029,
		"zero-width space": 0x200b, "word joiner": 0x2060, "BOM": 0xfeff, "soft hyphen": 0xad,
		"tag A": 0xe0041, "private use": 0xe000, "plane 15 private use": 0xf0000, "noncharacter": 0xfffe, "noncharacter FDD0": 0xfdd0,
	}
	for _, field := range textFields {
		for name, r := range bad {
			t.Run(field+"/"+name, func(t *testing.T) {
				req := sample(t)
				customerText(&req, field, "Acme "+string(r)+"Corp")
				req.Normalize()
				fe := req.Validate()
				require.NotNil(t, fe, "%U accepted in %s", r, field)
				require.Equal(t, field, fe.Field)
				require.Equal(t, "invalid", fe.Code)
				require.Contains(t, fe.Message, fmt.Sprintf("U+%04X", r))
			})
		}
	}
	// Also in a foreign postal code, where no pattern guards it.
	req := sample(t)
	req.Customer.Country, req.Customer.PostalCode = "DE", "10115\u202e"
	req.Normalize()
	fe := req.Validate()
	require.NotNil(t, fe)
	require.Equal(t, "customer.postal_code", fe.Field)
}

func TestEuropeanNamesEmojiAndRightToLeftScriptsAreAccepted(t *testing.T) {
	for _, s := range []string{
		"Zażółć Gęślą Jaźń sp. z o.o.", "ĄĘŁÓŚŻŹĆŃ ąęłóśżźćń", "Müller & Söhne GmbH", "Straße 5/7",
		"Ærø Øst Åsa AB", "Ελληνική Εταιρεία Α.Ε.", "Български търговски ЕООД", "Žluťoučký kůň s.r.o.",
		"Őrült Ügyvéd Kft.", "Știință și Țară S.R.L.", "O'Brien's Ltd.", "„Cudowna” spółka", `"Acme" & Co.`,
		"Jean-Luc d’Arc", "Ísland ehf.", "Çağrı Ltd. Şti.", "Ľudovít Štúr", "Łódź 90-001", "Nº 12 · 3½",
		"Acme 🚀", "👩‍💻 Dev ❤️", "שלום בע״מ", "شركة أكمي", "株式会社", "Niño S.L.", "Zoë", "ﬁrma",
	} {
		for _, field := range textFields {
			req := sample(t)
			customerText(&req, field, s)
			req.Normalize()
			require.Nil(t, req.Validate(), "%s %q", field, s)
		}
	}
}

func TestNormalizeComposesCombiningMarks(t *testing.T) {
	a, b := sample(t), sample(t)
	a.Customer.Company, b.Customer.Company = "Zażółć", "Zaz\u0307o\u0301\u0142c\u0301" // decomposed, as some systems send it
	a.Normalize()
	b.Normalize()
	require.Equal(t, "Zażółć", b.Customer.Company)
	require.Equal(t, a.Hash(), b.Hash())
}

func TestStrictEmail(t *testing.T) {
	for _, e := range []string{
		"it@acme.pl", "jan.kowalski@acme.com.pl", "j+faktury@acme-group.eu", "o'brien@example.ie",
		"a@b.co", "x_y-z@sub.domain.example", "1234@123.pl", "it@xn--d1acufc.xn--p1ai.pl",
		strings.Repeat("a", 64) + "@acme.pl", "jan@" + strings.Repeat("a", 63) + ".pl",
	} {
		req := sample(t)
		req.Customer.Email = e
		req.Normalize()
		require.Nil(t, req.Validate(), e)
	}
	for _, e := range []string{
		"j@[127.0.0.1]", "j@[IPv6:::1]", "j@127.0.0.1", "j@-acme.pl", "j@acme-.pl", "j@acme..pl", "j@.acme.pl", "j@acme.pl.",
		strings.Repeat("a", 65) + "@acme.pl", strings.Repeat("a", 190) + "@acme.pl",
		"jan@" + strings.Repeat("a", 64) + ".pl", "j@" + strings.Repeat("abcdefghi.", 26) + "pl", // over 254
		`"jan kowalski"@acme.pl`, `"j"@acme.pl`, "j@localhost", "j@acme", "j@acme.p", "j@acme.123", "j@acme.p1",
		".jan@acme.pl", "jan.@acme.pl", "ja..n@acme.pl", "jan@acme.pl (Jan)", "Jan <jan@acme.pl>", "jan@acme@acme.pl",
		"jan kowalski@acme.pl", "jan@acme_pl.com", "żółw@acme.pl", "jan@żółw.pl", "@acme.pl", "jan@",
		"jan\u202e@acme.pl",
	} {
		req := sample(t)
		req.Customer.Email = e
		req.Normalize()
		fe := req.Validate()
		require.NotNil(t, fe, e)
		require.Equal(t, "customer.email", fe.Field, e)
	}
}

func TestReservedDomainPrefixes(t *testing.T) {
	for _, p := range []string{"admin", "administrator", "microsoft", "office", "office365", "outlook", "www", "localhost",
		"root", "support", "billing", "test", "postmaster", "hostmaster", "webmaster", "abuse", "123", "0000", "Admin", " WWW "} {
		req := sample(t)
		req.DomainPrefix = p
		req.Normalize()
		fe := req.Validate()
		require.NotNil(t, fe, p)
		require.Equal(t, "domain_prefix", fe.Field, p)
		require.Equal(t, "reserved", fe.Code, p)
	}
	for _, p := range []string{"acme", "acme123", "123acme", "adminacme", "wwwacme", "officeflow", "testowa"} {
		req := sample(t)
		req.DomainPrefix = p
		req.Normalize()
		require.Nil(t, req.Validate(), p)
	}
	require.False(t, order.ReservedPrefix(""))
}
