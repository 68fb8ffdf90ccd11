package order_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

func accepted() *order.Acceptance {
	return &order.Acceptance{FirstName: "Anna", LastName: "Nowak", Email: "anna@acme.pl", AcceptedAt: "2026-12-01T10:00:00+01:00"}
}

// TestTermFollowsBillingCycle: without "term" the term is the cycle's; an
// annual term may be billed monthly; saying the default changes no hash.
func TestTermFollowsBillingCycle(t *testing.T) {
	for _, c := range []struct{ cycle, term, want string }{
		{"monthly", "", order.TermMonth},
		{"annual", "", order.TermYear},
		{"monthly", "P1Y", order.TermYear},
		{"monthly", " p1y ", order.TermYear},
		{"monthly", "P1M", order.TermMonth},
		{"annual", "P1Y", order.TermYear},
	} {
		r := sample(t)
		r.BillingCycle, r.Term = c.cycle, c.term
		r.Normalize()
		require.Nil(t, r.Validate(), "%+v", c)
		require.Equal(t, c.want, r.TermDuration(), "%+v", c)
	}

	plain := sample(t)
	plain.Normalize()
	said := sample(t)
	said.Term = "P1M"
	said.Normalize()
	require.Equal(t, plain.Hash(), said.Hash(), "the default term said or not is one order")
	require.Empty(t, said.Term)

	year := sample(t)
	year.Term = "P1Y"
	year.Normalize()
	require.NotEqual(t, plain.Hash(), year.Hash(), "another term is another order")
}

// TestSampleHashUnchanged: the documented body hashes as it did before
// the new-commerce fields existed (the hash is of its JSON; absent fields
// are left out), so repeats of orders placed before stay repeats.
func TestSampleHashUnchanged(t *testing.T) {
	r := sample(t)
	r.Normalize()
	// The hash of the sample before term and mca_accepted_by existed.
	require.Equal(t, "ab926151cf8ff23a9cb6752aa8466b61754cb492ca9f60dee81c1a8c9af5a4c0", hex.EncodeToString(r.Hash()))
}

func TestAgreementFromBodyOrContact(t *testing.T) {
	placed := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	r := sample(t)
	r.Normalize()
	require.Equal(t, order.Agreement{FirstName: "Jan", LastName: "Kowalski", Email: "it@acme.pl", AcceptedAt: placed}, r.Agreement(placed),
		"without mca_accepted_by, the order's contact at placement")

	r = sample(t)
	r.MCAAcceptedBy = accepted()
	r.MCAAcceptedBy.Email = " Anna@ACME.pl "
	r.Normalize()
	require.Nil(t, r.Validate())
	require.Equal(t, "2026-12-01T09:00:00Z", r.MCAAcceptedBy.AcceptedAt, "one instant, one spelling")
	require.Equal(t, order.Agreement{FirstName: "Anna", LastName: "Nowak", Email: "anna@acme.pl",
		AcceptedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), FromOrder: true}, r.Agreement(placed))

	other := sample(t)
	other.MCAAcceptedBy = accepted()
	other.MCAAcceptedBy.AcceptedAt = "2026-12-01T09:00:00Z"
	other.Normalize()
	require.Equal(t, r.Hash(), other.Hash())
	plain := sample(t)
	plain.Normalize()
	require.NotEqual(t, plain.Hash(), r.Hash())
}

func TestValidateNamesBadCommerceField(t *testing.T) {
	for _, c := range []struct {
		name, field string
		edit        func(*order.Request)
	}{
		{"term unknown", "term", func(r *order.Request) { r.Term = "P3Y" }},
		{"term in words", "term", func(r *order.Request) { r.Term = "monthly" }},
		{"monthly term billed annually", "term", func(r *order.Request) { r.BillingCycle, r.Term = "annual", "P1M" }},
		{"empty acceptance", "mca_accepted_by.first_name", func(r *order.Request) { r.MCAAcceptedBy = &order.Acceptance{} }},
		{"first name missing", "mca_accepted_by.first_name", func(r *order.Request) { r.MCAAcceptedBy.FirstName = " " }},
		{"last name missing", "mca_accepted_by.last_name", func(r *order.Request) { r.MCAAcceptedBy.LastName = "" }},
		{"last name two lines", "mca_accepted_by.last_name", func(r *order.Request) { r.MCAAcceptedBy.LastName = "Nowak\nBcc: x" }},
		{"first name too long", "mca_accepted_by.first_name", func(r *order.Request) { r.MCAAcceptedBy.FirstName = strings.Repeat("a", 201) }},
		{"first name control", "mca_accepted_by.first_name", func(r *order.Request) { r.MCAAcceptedBy.FirstName = "An\u202ena" }},
		{"email missing", "mca_accepted_by.email", func(r *order.Request) { r.MCAAcceptedBy.Email = "" }},
		{"email not an address", "mca_accepted_by.email", func(r *order.Request) { r.MCAAcceptedBy.Email = "anna" }},
		{"email with name", "mca_accepted_by.email", func(r *order.Request) { r.MCAAcceptedBy.Email = "Anna <anna@acme.pl>" }},
		{"accepted_at missing", "mca_accepted_by.accepted_at", func(r *order.Request) { r.MCAAcceptedBy.AcceptedAt = "" }},
		{"accepted_at a date", "mca_accepted_by.accepted_at", func(r *order.Request) { r.MCAAcceptedBy.AcceptedAt = "2026-12-01" }},
		{"accepted_at no zone", "mca_accepted_by.accepted_at", func(r *order.Request) { r.MCAAcceptedBy.AcceptedAt = "2026-12-01T10:00:00" }},
		{"accepted_at year 1", "mca_accepted_by.accepted_at", func(r *order.Request) { r.MCAAcceptedBy.AcceptedAt = "0001-01-01T00:00:00Z" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sample(t)
			r.MCAAcceptedBy = accepted()
			c.edit(&r)
			r.Normalize()
			fe := r.Validate()
			require.NotNil(t, fe)
			require.Equal(t, c.field, fe.Field)
			require.Contains(t, []string{"required", "invalid"}, fe.Code)
		})
	}
}

func TestAcceptanceNotInTheFuture(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	r := sample(t)
	r.Normalize()
	require.Nil(t, r.CheckAcceptedBy(now), "no acceptance in the body: the placement's own time")
	for at, ok := range map[string]bool{
		"2026-12-02T09:00:00Z":      true,
		"2026-12-02T09:04:59Z":      true, // a shop's clock a little ahead
		"2026-12-02T10:04:00+01:00": true,
		"2026-12-02T09:05:01Z":      false,
		"2027-01-01T00:00:00Z":      false,
	} {
		r := sample(t)
		r.MCAAcceptedBy = accepted()
		r.MCAAcceptedBy.AcceptedAt = at
		r.Normalize()
		require.Nil(t, r.Validate())
		fe := r.CheckAcceptedBy(now)
		if ok {
			require.Nil(t, fe, at)
		} else {
			require.NotNil(t, fe, at)
			require.Equal(t, "mca_accepted_by.accepted_at", fe.Field)
		}
	}
}
