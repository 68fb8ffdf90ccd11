package order

import (
	"regexp"
	"strings"
)

// euVATFormat is one EU member state's VAT number (numer VAT-UE): its
// prefix and the form of what follows, as the European Commission's VIES
// describes them. Only the form is checked, offline: whether the number
// is registered and active is VIES's to say, which the intake does not ask.
type euVATFormat struct {
	prefix string
	re     *regexp.Regexp
	form   string // what follows the prefix, for the error message
}

func vatFormat(prefix, re, form string) euVATFormat {
	return euVATFormat{prefix: prefix, re: regexp.MustCompile(`^(?:` + re + `)$`), form: form}
}

// euVATFormats are the formats of the EU member states other than Poland
// (whose buyers give a NIP, checked by ValidNIP), by ISO 3166 code.
var euVATFormats = map[string]euVATFormat{
	"AT": vatFormat("AT", `U[0-9]{8}`, "U and 8 digits"),
	"BE": vatFormat("BE", `[01][0-9]{9}`, "10 digits starting with 0 or 1"),
	"BG": vatFormat("BG", `[0-9]{9,10}`, "9 or 10 digits"),
	"CY": vatFormat("CY", `[0-9]{8}[A-Z]`, "8 digits and a letter"),
	"CZ": vatFormat("CZ", `[0-9]{8,10}`, "8 to 10 digits"),
	"DE": vatFormat("DE", `[0-9]{9}`, "9 digits"),
	"DK": vatFormat("DK", `[0-9]{8}`, "8 digits"),
	"EE": vatFormat("EE", `[0-9]{9}`, "9 digits"),
	"ES": vatFormat("ES", `[0-9A-Z][0-9]{7}[0-9A-Z]`, "9 characters: a letter or digit, 7 digits, a letter or digit"),
	"FI": vatFormat("FI", `[0-9]{8}`, "8 digits"),
	"FR": vatFormat("FR", `[0-9A-HJ-NP-Z]{2}[0-9]{9}`, "2 letters or digits and 9 digits"),
	"GR": vatFormat("EL", `[0-9]{9}`, "9 digits"),
	"HR": vatFormat("HR", `[0-9]{11}`, "11 digits"),
	"HU": vatFormat("HU", `[0-9]{8}`, "8 digits"),
	"IE": vatFormat("IE", `[0-9]{7}[A-W][A-I]?|[0-9][A-Z+*][0-9]{5}[A-W]`, "7 digits and 1 or 2 letters"),
	"IT": vatFormat("IT", `[0-9]{11}`, "11 digits"),
	"LT": vatFormat("LT", `[0-9]{9}|[0-9]{12}`, "9 or 12 digits"),
	"LU": vatFormat("LU", `[0-9]{8}`, "8 digits"),
	"LV": vatFormat("LV", `[0-9]{11}`, "11 digits"),
	"MT": vatFormat("MT", `[0-9]{8}`, "8 digits"),
	"NL": vatFormat("NL", `[0-9]{9}B[0-9]{2}`, "9 digits, B and 2 digits"),
	"PT": vatFormat("PT", `[0-9]{9}`, "9 digits"),
	"RO": vatFormat("RO", `[1-9][0-9]{1,9}`, "2 to 10 digits"),
	"SE": vatFormat("SE", `[0-9]{10}01`, "12 digits ending in 01"),
	"SI": vatFormat("SI", `[0-9]{8}`, "8 digits"),
	"SK": vatFormat("SK", `[0-9]{10}`, "10 digits"),
}

// validEUVATID checks the form of a tax id given by a buyer seated in
// country, an EU member state other than Poland: its VAT number, with or
// without the country's prefix (EL for Greece, GR accepted as well). ok is
// true for a country outside the table (Poland, or outside the EU), whose
// tax id this does not judge; form says what the number should look like.
func validEUVATID(country, taxID string) (ok bool, form string) {
	f, eu := euVATFormats[country]
	if !eu {
		return true, ""
	}
	id := strings.ToUpper(taxID)
	for _, p := range []string{f.prefix, country} {
		if rest, cut := strings.CutPrefix(id, p); cut && f.re.MatchString(rest) {
			return true, ""
		}
	}
	return f.re.MatchString(id), f.prefix + " followed by " + f.form
}
