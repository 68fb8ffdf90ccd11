package order

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Customer is the buyer as the shop sends it.
type Customer struct {
	Company      string `json:"company"`
	Email        string `json:"email"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	TaxID        string `json:"tax_id,omitempty"`
	Country      string `json:"country"`
	City         string `json:"city"`
	PostalCode   string `json:"postal_code"`
	AddressLine1 string `json:"address_line1"`
}

// Request is the body of POST /v1/orders.
type Request struct {
	OrderID      string   `json:"order_id"`
	Customer     Customer `json:"customer"`
	Plan         string   `json:"plan"`
	Seats        int      `json:"seats"`
	DomainPrefix string   `json:"domain_prefix"`
	BillingCycle string   `json:"billing_cycle"`
	Language     string   `json:"language"`
	// AdminLicence false asks that the tenant's first admin get none of
	// the plan's licences; absent (nil) it gets one, which takes a seat.
	// Normalize drops an explicit true, so that a body without the field
	// and one with "admin_licence": true hash the same, and every body
	// placed before the field existed keeps its hash.
	AdminLicence *bool `json:"admin_licence,omitempty"`
	// Term is the Microsoft subscription's term, "P1M" or "P1Y"; absent it
	// is the billing cycle's (P1M monthly, P1Y annual). P1Y billed monthly
	// is allowed, P1M billed annually is not. Normalize drops the default.
	Term string `json:"term,omitempty"`
	// MCAAcceptedBy is who accepted the Microsoft Customer Agreement, and
	// when; absent, the order's contact at placement (see Agreement).
	MCAAcceptedBy *Acceptance `json:"mca_accepted_by,omitempty"`
	// Shop is who sent it, set by the intake from the shop's key; not part
	// of the body.
	Shop string `json:"-"`
}

// FieldError names the field that is wrong, as the API reports it.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// namedValue is a field of the body and what it holds.
type namedValue struct{ name, v string }

// lines checks required one-line text fields, naming the first that is
// missing, too long, not one line or not printable.
func lines(fields []namedValue) *FieldError {
	for _, f := range fields {
		if f.v == "" {
			return fieldErr(f.name, "required", "%s is required", f.name)
		}
		if utf8.RuneCountInString(f.v) > 200 || !utf8.ValidString(f.v) || strings.ContainsAny(f.v, "\x00\r\n") {
			return fieldErr(f.name, "invalid", "%s must be one line of at most 200 characters", f.name)
		}
		if ch, bad := unprintable(f.v); bad {
			return unprintableErr(f.name, ch)
		}
	}
	return nil
}

func fieldErr(field, code, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

var (
	orderIDRe      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	domainPrefixRe = regexp.MustCompile(`^[a-z0-9]{3,27}$`)
	countryRe      = regexp.MustCompile(`^[A-Z]{2}$`)
	taxIDRe        = regexp.MustCompile(`^[A-Z0-9+*./]{1,20}$`)
	plPostalRe     = regexp.MustCompile(`^[0-9]{2}-[0-9]{3}$`)
)

// Normalize trims white space and folds case where case carries no meaning,
// so that the same order typed twice hashes the same.
func (r *Request) Normalize() {
	c := &r.Customer
	for _, p := range []*string{&r.OrderID, &r.Plan, &r.DomainPrefix, &r.BillingCycle, &r.Language,
		&c.Company, &c.Email, &c.FirstName, &c.LastName, &c.TaxID, &c.Country, &c.City, &c.PostalCode, &c.AddressLine1} {
		*p = strings.TrimSpace(*p)
	}
	for _, p := range []*string{&c.Company, &c.FirstName, &c.LastName, &c.City, &c.PostalCode, &c.AddressLine1} {
		*p = nfc(*p)
	}
	r.DomainPrefix = strings.ToLower(r.DomainPrefix)
	r.Plan = strings.ToLower(r.Plan)
	r.BillingCycle = strings.ToLower(r.BillingCycle)
	r.Language = strings.ToLower(r.Language)
	if r.Language == "" {
		r.Language = "pl"
	}
	if r.BillingCycle == "" {
		r.BillingCycle = "monthly"
	}
	if r.AdminLicence != nil && *r.AdminLicence {
		r.AdminLicence = nil
	}
	r.normalizeCommerce()
	c.Country = strings.ToUpper(c.Country)
	c.Email = strings.ToLower(c.Email)
	c.TaxID = strings.NewReplacer("-", "", " ", "").Replace(c.TaxID)
	if c.Country == "PL" {
		c.TaxID = strings.TrimPrefix(strings.ToUpper(c.TaxID), "PL")
	}
}

// Validate checks a normalized request and names the first bad field.
func (r *Request) Validate() *FieldError {
	if r.OrderID == "" {
		return fieldErr("order_id", "required", "order_id is required")
	}
	if !orderIDRe.MatchString(r.OrderID) {
		return fieldErr("order_id", "invalid", "order_id must be 1-64 letters, digits, '.', '_', ':' or '-'")
	}
	c := r.Customer
	if err := lines([]namedValue{
		{"customer.company", c.Company}, {"customer.email", c.Email},
		{"customer.first_name", c.FirstName}, {"customer.last_name", c.LastName},
		{"customer.country", c.Country}, {"customer.city", c.City},
		{"customer.postal_code", c.PostalCode}, {"customer.address_line1", c.AddressLine1},
	}); err != nil {
		return err
	}
	if err := validEmail(c.Email); err != nil {
		return fieldErr("customer.email", "invalid", "customer.email %s; it must be a plain address such as it@acme.pl", err)
	}
	if !countryRe.MatchString(c.Country) || !isCountry(c.Country) {
		return fieldErr("customer.country", "invalid", "customer.country must be an ISO 3166-1 alpha-2 code such as PL")
	}
	if c.Country == "PL" && !plPostalRe.MatchString(c.PostalCode) {
		return fieldErr("customer.postal_code", "invalid", "customer.postal_code must look like 00-001 in Poland")
	}
	if c.TaxID != "" {
		if c.Country == "PL" && !ValidNIP(c.TaxID) {
			return fieldErr("customer.tax_id", "invalid", "customer.tax_id is not a valid NIP (10 digits with a checksum)")
		}
		if len(c.TaxID) > 20 {
			return fieldErr("customer.tax_id", "invalid", "customer.tax_id is too long")
		}
		// VAT numbers across the EU are letters, digits and a few marks; a
		// control character would reach the invoice (or break the insert).
		if !taxIDRe.MatchString(strings.ToUpper(c.TaxID)) {
			return fieldErr("customer.tax_id", "invalid", "customer.tax_id may hold only letters, digits and + * . /")
		}
		// A business in another EU member state is billed without Polish VAT
		// (reverse charge) on the strength of its VAT number: its form must
		// be its country's.
		if ok, form := validEUVATID(c.Country, c.TaxID); !ok {
			return fieldErr("customer.tax_id", "invalid", "customer.tax_id is not a VAT number of %s: it must be %s", c.Country, form)
		}
	}
	if r.Plan == "" {
		return fieldErr("plan", "required", "plan is required")
	}
	if _, ok := PlanByCode(r.Plan); !ok {
		return fieldErr("plan", "unknown", "plan %q is not on sale", r.Plan)
	}
	if r.Seats < MinSeats || r.Seats > MaxSeats {
		return fieldErr("seats", "out_of_range", "seats must be between %d and %d", MinSeats, MaxSeats)
	}
	if !domainPrefixRe.MatchString(r.DomainPrefix) {
		return fieldErr("domain_prefix", "invalid", "domain_prefix must be 3 to 27 letters or digits")
	}
	if ReservedPrefix(r.DomainPrefix) {
		return fieldErr("domain_prefix", "reserved", "domain_prefix %q is reserved; choose the company's own name", r.DomainPrefix)
	}
	if r.BillingCycle != "monthly" && r.BillingCycle != "annual" {
		return fieldErr("billing_cycle", "invalid", "billing_cycle must be monthly or annual")
	}
	if fe := r.validateCommerce(); fe != nil {
		return fe
	}
	if r.Language != "pl" && r.Language != "en" {
		return fieldErr("language", "invalid", "language must be pl or en")
	}
	return nil
}

// Hash identifies the content of a normalized request, so that a repeated
// submission is recognised and a different one under the same id is not.
func (r *Request) Hash() []byte {
	b, _ := json.Marshal(r)
	h := sha256.Sum256(b)
	return h[:]
}

// WantsAdminLicence tells whether the tenant's first admin gets one of the
// plan's licences: unless the order said "admin_licence": false.
func (r *Request) WantsAdminLicence() bool { return r.AdminLicence == nil || *r.AdminLicence }

// Domain is the tenant's initial domain.
func (r *Request) Domain() string { return r.DomainPrefix + ".onmicrosoft.com" }

// Months is how many months one invoice covers.
func Months(cycle string) int {
	if cycle == "annual" {
		return 12
	}
	return 1
}

// ValidNIP checks a Polish tax id: ten digits, the last a weighted
// checksum, and the shape FA(3)'s TNrNIP allows
// ([1-9]((\d[1-9])|([1-9]\d))\d{7}: no leading zero, the tax office's
// second and third digits not both zero), so that KSeF takes every NIP
// the intake took.
func ValidNIP(nip string) bool {
	if len(nip) != 10 || nip[0] == '0' || (nip[1] == '0' && nip[2] == '0') {
		return false
	}
	weights := [9]int{6, 5, 7, 2, 3, 4, 5, 6, 7}
	sum := 0
	for i, r := range nip {
		if r < '0' || r > '9' {
			return false
		}
		if i < 9 {
			sum += int(r-'0') * weights[i]
		}
	}
	check := sum % 11
	return check != 10 && check == int(nip[9]-'0')
}

// Placement is an order as the intake validated it, handed to the order's
// workflow in its place update: the request (with the customer's personal
// data), the shop that sent it, its hash, and when it was placed and must
// be paid by. The workflow records it; nobody else writes an order.
type Placement struct {
	Request  Request
	Shop     string // Request.Shop, which the request's JSON leaves out
	Hash     []byte
	PlacedAt time.Time
	Deadline time.Time
}

// Same tells whether q is a repeat of p: the same request from the same shop.
func (p Placement) Same(q Placement) bool {
	return p.Shop == q.Shop && string(p.Hash) == string(q.Hash)
}

// Outcomes of a placement.
const (
	// OutcomePlaced: the order is recorded (now, or by an identical request before).
	OutcomePlaced = "placed"
	// OutcomeDomainTaken: another live order holds the domain prefix; nothing is recorded.
	OutcomeDomainTaken = "domain_taken"
	// OutcomeConflict: the order id was placed before with another request.
	OutcomeConflict = "order_id_conflict"
)
