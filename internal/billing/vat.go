package billing

import (
	"fmt"
	"strings"

	"github.com/officeflow/officeflow/internal/money"
)

// VAT codes as the FA(3) schema names them in P_12 (TStawkaPodatku).
const (
	// VATCodeStandard is the Polish standard rate, 23% (P_13_1/P_14_1).
	VATCodeStandard = "23"
	// VATCodeOutside is "np I": not taxable in Poland, a service whose
	// place of supply is outside the country, other than the EU services of
	// art. 100 ust. 1 pkt 4 ustawy o VAT (P_13_8).
	VATCodeOutside = "np I"
	// VATCodeEUService is "np II": not taxable in Poland, a service to a
	// taxable person in another EU member state under art. 28b, for which
	// the buyer pays the VAT (art. 100 ust. 1 pkt 4; P_13_9, and P_18
	// "odwrotne obciążenie").
	VATCodeEUService = "np II"
)

// NoteReverseCharge is the words art. 106e ust. 1 pkt 18 ustawy o VAT
// requires on an invoice for which the buyer pays the VAT.
const NoteReverseCharge = "odwrotne obciążenie"

// VAT is the VAT treatment of a sale of officeflow's service (Microsoft 365
// licences: an electronically supplied service) to one buyer.
type VAT struct {
	// Code is the rate as FA(3) writes it in P_12: VATCodeStandard,
	// VATCodeEUService or VATCodeOutside.
	Code string
	// Rate is the Polish VAT charged, in percent: 23, or 0 when the sale is
	// not taxable in Poland.
	Rate int
	// ReverseCharge: the buyer accounts for the VAT in its own member state;
	// the invoice says NoteReverseCharge (FA(3) Adnotacje/P_18 = 1).
	ReverseCharge bool
	// Note is the annotation the invoice prints for a rate other than 23%:
	// why there is no Polish VAT. Empty for 23%.
	Note string
}

// euMembers are the EU member states by ISO 3166 code, with their VAT
// number prefix where it differs (Greece: EL). Northern Ireland (XI) is in
// the EU's VAT area for goods only, not for services, so it is not here.
var euMembers = map[string]string{
	"AT": "AT", "BE": "BE", "BG": "BG", "CY": "CY", "CZ": "CZ", "DE": "DE", "DK": "DK", "EE": "EE",
	"ES": "ES", "FI": "FI", "FR": "FR", "GR": "EL", "EL": "EL", "HR": "HR", "HU": "HU", "IE": "IE",
	"IT": "IT", "LT": "LT", "LU": "LU", "LV": "LV", "MT": "MT", "NL": "NL", "PL": "PL", "PT": "PT",
	"RO": "RO", "SE": "SE", "SI": "SI", "SK": "SK",
}

// InEU says whether country (ISO 3166 alpha-2, any case) is an EU member
// state.
func InEU(country string) bool {
	_, ok := euMembers[strings.ToUpper(strings.TrimSpace(country))]
	return ok
}

// VATPrefix is the prefix of an EU member state's VAT numbers (EL for
// Greece, otherwise the ISO code), or "" outside the EU.
func VATPrefix(country string) string {
	return euMembers[strings.ToUpper(strings.TrimSpace(country))]
}

// VATFor is the VAT treatment of a sale of the service to a buyer seated in
// country (ISO 3166 alpha-2) with taxID (NIP, an EU VAT number or another
// country's tax number; empty for a consumer). A business buyer's place of
// supply is its seat (art. 28b ustawy o VAT), a consumer's the place where
// they live (art. 28k, electronically supplied services):
//
//   - Poland, business (NIP) or consumer: 23% Polish VAT.
//   - another EU member state, with a tax id (a business): reverse charge,
//     no Polish VAT ("np II", "odwrotne obciążenie"). Whether the number is
//     an active VAT-UE number (VIES) is not checked here.
//   - another EU member state, without a tax id (a consumer): 23% Polish
//     VAT. This holds while the seller's cross-border B2C sales stay under
//     the EU-wide 10 000 EUR threshold (art. 28k ust. 2); above it the
//     consumer's country's VAT applies through the OSS procedure, which is
//     out of scope for officeflow today.
//   - outside the EU, business or consumer: not taxable in Poland ("np I").
//     No "odwrotne obciążenie": whether a non-EU buyer self-assesses a tax
//     of its own is its country's law, not one the invoice can state.
func VATFor(country, taxID string) VAT {
	country = strings.ToUpper(strings.TrimSpace(country))
	business := strings.TrimSpace(taxID) != ""
	switch {
	case country == "PL":
		return VAT{Code: VATCodeStandard, Rate: money.VATRate}
	case InEU(country) && business:
		return VAT{Code: VATCodeEUService, ReverseCharge: true, Note: NoteReverseCharge}
	case InEU(country):
		return VAT{Code: VATCodeStandard, Rate: money.VATRate}
	case business:
		return VAT{Code: VATCodeOutside,
			Note: "usługa niepodlegająca opodatkowaniu na terytorium kraju (art. 28b ustawy o VAT)"}
	default:
		return VAT{Code: VATCodeOutside,
			Note: "usługa niepodlegająca opodatkowaniu na terytorium kraju (art. 28k ustawy o VAT)"}
	}
}

// Amounts is net with the VAT of this treatment and gross. At 23% it is
// Amounts(net) for a net of zero or more; a negative net (what a
// correction takes off) is rounded as the positive amount, then negated,
// so that taking a whole invoice back gives exactly its amounts negated.
// Without Polish VAT the gross is the net.
func (v VAT) Amounts(net money.Grosze) Totals {
	if net < 0 {
		return v.Amounts(-net).Negated()
	}
	if v.Rate == money.VATRate {
		return Amounts(net)
	}
	tax := money.Grosze((int64(net)*int64(v.Rate) + 50) / 100)
	return Totals{Net: net, VAT: tax, Gross: net + tax}
}

// VATOfCode is the treatment a document stored as code (and its note)
// stands for, so that a document referring to another (the VAT invoice to
// its pro-forma, a correction to its invoice) bills with that one's VAT
// rather than asking again. ok is false for a code that is not one of the
// three.
func VATOfCode(code, note string) (v VAT, ok bool) {
	switch code {
	case VATCodeStandard:
		return VAT{Code: code, Rate: money.VATRate}, true
	case VATCodeEUService:
		return VAT{Code: code, ReverseCharge: true, Note: note}, true
	case VATCodeOutside:
		return VAT{Code: code, Note: note}, true
	}
	return VAT{}, false
}

// Label is the rate as a document, an email or the panel prints it: "23%",
// or "np" (not taxable in Poland; Note says why).
func (v VAT) Label() string {
	if v.Code == VATCodeStandard || v.Code == "" {
		return fmt.Sprintf("%d%%", money.VATRate)
	}
	return "np"
}

// VATLabel is Label for a stored code: "23%" for "23" (and for "", a
// document from before codes were kept), "np" for the others.
func VATLabel(code string) string {
	return VAT{Code: code}.Label()
}
