package order

import (
	"strings"
	"time"
)

// Terms of a new-commerce subscription at Microsoft: how long the customer
// commits to it. The billing cycle (monthly, annual) is how often it is
// invoiced; an annual term may be billed monthly, a monthly term only
// monthly.
const (
	TermMonth = "P1M"
	TermYear  = "P1Y"
)

// DefaultTerm is the term an order without "term" buys: the length of its
// billing cycle.
func DefaultTerm(cycle string) string {
	if cycle == "annual" {
		return TermYear
	}
	return TermMonth
}

// PeriodsPerTerm is how many billing periods make one term: twelve for a
// yearly term billed monthly, otherwise one (the period is the term).
func PeriodsPerTerm(term, cycle string) int {
	if term == TermYear && cycle != "annual" {
		return 12
	}
	return 1
}

// Acceptance is who accepted the Microsoft Customer Agreement for the
// customer, and when, as the shop sends it ("mca_accepted_by"). AcceptedAt
// is RFC 3339.
type Acceptance struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Email      string `json:"email"`
	AcceptedAt string `json:"accepted_at"`
}

// Agreement is the Customer Agreement acceptance an order records:
// the shop's "mca_accepted_by", or, without it, the order's contact at
// placement time (the shop's checkout shows the Agreement to whoever
// places the order). FromOrder tells which.
type Agreement struct {
	FirstName  string
	LastName   string
	Email      string
	AcceptedAt time.Time
	FromOrder  bool // the body's mca_accepted_by; false: the contact at placement
}

// TermDuration is the order's term: "term" when given, else the billing
// cycle's.
func (r *Request) TermDuration() string {
	if r.Term != "" {
		return r.Term
	}
	return DefaultTerm(r.BillingCycle)
}

// Agreement is the acceptance the order records when placed at placedAt.
func (r *Request) Agreement(placedAt time.Time) Agreement {
	if a := r.MCAAcceptedBy; a != nil {
		at, _ := time.Parse(time.RFC3339Nano, a.AcceptedAt) // Validate checked it
		return Agreement{FirstName: a.FirstName, LastName: a.LastName, Email: a.Email, AcceptedAt: at.UTC(), FromOrder: true}
	}
	c := r.Customer
	return Agreement{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, AcceptedAt: placedAt.UTC()}
}

// normalizeCommerce folds the new-commerce fields. A term that is the
// billing cycle's own is dropped, so that a body saying it and one
// without it (every body placed before the field existed) hash the same.
func (r *Request) normalizeCommerce() {
	r.Term = strings.ToUpper(strings.TrimSpace(r.Term))
	if r.Term == DefaultTerm(r.BillingCycle) {
		r.Term = ""
	}
	a := r.MCAAcceptedBy
	if a == nil {
		return
	}
	for _, p := range []*string{&a.FirstName, &a.LastName, &a.Email, &a.AcceptedAt} {
		*p = strings.TrimSpace(*p)
	}
	a.FirstName, a.LastName = nfc(a.FirstName), nfc(a.LastName)
	a.Email = strings.ToLower(a.Email)
	// One instant written two ways is one acceptance.
	if at, err := time.Parse(time.RFC3339Nano, a.AcceptedAt); err == nil {
		a.AcceptedAt = at.UTC().Format(time.RFC3339Nano)
	}
}

// earliestAcceptance bounds accepted_at from below: the Agreement is
// younger, and a year 0 is a shop's zero value, not a date.
var earliestAcceptance = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// AcceptanceSkew is how far ahead of our clock a shop's clock may be
// when it stamps accepted_at.
const AcceptanceSkew = 5 * time.Minute

// CheckAcceptedBy refuses an acceptance stamped later than now (give or
// take AcceptanceSkew): the Agreement is accepted before the order is
// placed, and the tenant API takes no date in the future. Validate cannot
// know the time; the intake asks this right after it.
func (r *Request) CheckAcceptedBy(now time.Time) *FieldError {
	a := r.MCAAcceptedBy
	if a == nil {
		return nil
	}
	if at, err := time.Parse(time.RFC3339Nano, a.AcceptedAt); err == nil && at.After(now.Add(AcceptanceSkew)) {
		return fieldErr("mca_accepted_by.accepted_at", "invalid", "mca_accepted_by.accepted_at is in the future; the Agreement is accepted before the order is placed")
	}
	return nil
}

// validateCommerce checks the term against the billing cycle and the
// acceptance's fields, naming the first bad one.
func (r *Request) validateCommerce() *FieldError {
	switch {
	case r.Term != "" && r.Term != TermMonth && r.Term != TermYear:
		return fieldErr("term", "invalid", "term must be P1M or P1Y")
	case r.Term == TermMonth && r.BillingCycle == "annual":
		return fieldErr("term", "invalid", "a P1M (monthly) term cannot be billed annually; use term P1Y or billing_cycle monthly")
	}
	a := r.MCAAcceptedBy
	if a == nil {
		return nil
	}
	if err := lines([]namedValue{
		{"mca_accepted_by.first_name", a.FirstName}, {"mca_accepted_by.last_name", a.LastName},
		{"mca_accepted_by.email", a.Email}, {"mca_accepted_by.accepted_at", a.AcceptedAt},
	}); err != nil {
		return err
	}
	if err := validEmail(a.Email); err != nil {
		return fieldErr("mca_accepted_by.email", "invalid", "mca_accepted_by.email %s; it must be a plain address such as it@acme.pl", err)
	}
	at, err := time.Parse(time.RFC3339Nano, a.AcceptedAt)
	if err != nil || at.Before(earliestAcceptance) {
		return fieldErr("mca_accepted_by.accepted_at", "invalid", "mca_accepted_by.accepted_at must be an RFC 3339 time such as 2026-12-01T10:00:00Z")
	}
	return nil
}
