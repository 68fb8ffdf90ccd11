package order_test

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// sampleBody is the example order of the outside interface; if it stops
// validating, every shop written against the documentation breaks.
const sampleBody = `{"order_id":"shop-123","customer":{"company":"Acme sp. z o.o.","email":"it@acme.pl","first_name":"Jan","last_name":"Kowalski","tax_id":"5260250995","country":"PL","city":"Warszawa","postal_code":"00-001","address_line1":"ul. Prosta 1"},"plan":"business-standard","seats":5,"domain_prefix":"acme","billing_cycle":"monthly","language":"pl"}`

func sample(t *testing.T) order.Request {
	t.Helper()
	var r order.Request
	require.NoError(t, json.Unmarshal([]byte(sampleBody), &r))
	return r
}

func TestValidNIP(t *testing.T) {
	for _, nip := range []string{"5260250995", "7680002466", "1234563218"} {
		require.True(t, order.ValidNIP(nip), nip)
	}
	for _, nip := range []string{
		"5260250994",  // wrong check digit
		"7680002467",  // wrong check digit
		"526025099",   // 9 digits
		"52602509950", // 11 digits
		"526025099O",  // letter O for zero
		"PL52602509",  // letters
		"526-025-09",  // separators are Normalize's business, not ValidNIP's
		"1234567890",  // weighted sum mod 11 is 10: no digit can match
		"1002217336",  // checksum right, but FA(3) (and so KSeF) takes no "00" tax office
		"0123456789",  // checksum right, but a leading zero
		"5000000008",  // checksum right, "00" again
		"",
		"٥٢٦٠٢٥٠٩٩٥", // Arabic-Indic digits
	} {
		require.False(t, order.ValidNIP(nip), nip)
	}
}

func TestNormalizeFoldsSpelling(t *testing.T) {
	a := sample(t)
	b := sample(t)
	b.OrderID = "  shop-123 "
	b.Customer.Email = " IT@Acme.PL "
	b.Customer.Country = "pl"
	b.Customer.TaxID = "PL 526-025-09-95"
	b.Customer.City = "Warszawa\t"
	b.Plan = "Business-Standard"
	b.DomainPrefix = " ACME"
	b.BillingCycle = "MONTHLY"
	b.Language = "PL"
	a.Normalize()
	b.Normalize()
	require.Equal(t, a, b)
	require.Equal(t, a.Hash(), b.Hash())
	require.Equal(t, "5260250995", b.Customer.TaxID)
	require.Equal(t, "acme.onmicrosoft.com", b.Domain())

	more := a
	more.Seats = 6
	require.NotEqual(t, a.Hash(), more.Hash())

	// Case is meaningful in the order id: the shop's ids are its own.
	upper := a
	upper.OrderID = "SHOP-123"
	require.NotEqual(t, a.Hash(), upper.Hash())

	// Who sent it is checked apart from the body.
	shop := a
	shop.Shop = "another"
	require.Equal(t, a.Hash(), shop.Hash())
}

func TestNormalizeKeepsForeignTaxIDPrefix(t *testing.T) {
	r := sample(t)
	r.Customer.Country = "de"
	r.Customer.TaxID = "DE 123 456 789"
	r.Customer.PostalCode = "10115"
	r.Normalize()
	require.Equal(t, "DE123456789", r.Customer.TaxID)
	require.Nil(t, r.Validate())
}

func TestValidateAcceptsSample(t *testing.T) {
	r := sample(t)
	r.Normalize()
	require.Nil(t, r.Validate())
}

func TestNormalizeDefaults(t *testing.T) {
	r := sample(t)
	r.Language, r.BillingCycle = "", " "
	r.Normalize()
	require.Nil(t, r.Validate())
	require.Equal(t, "pl", r.Language)
	require.Equal(t, "monthly", r.BillingCycle)
	require.Equal(t, 1, order.Months(r.BillingCycle))
	require.Equal(t, 12, order.Months("annual"))
}

func TestValidateForeignCustomer(t *testing.T) {
	r := sample(t)
	r.Customer.Country = "GB"
	r.Customer.City = "London"
	r.Customer.PostalCode = "SW1A 1AA"
	r.Customer.TaxID = "GB123456789" // not a NIP, and need not be
	r.Language = "en"
	r.BillingCycle = "annual"
	r.Normalize()
	require.Nil(t, r.Validate())
}

func TestValidateNamesBadField(t *testing.T) {
	for _, c := range []struct {
		name, field string
		edit        func(*order.Request)
	}{
		{"order id missing", "order_id", func(r *order.Request) { r.OrderID = "" }},
		{"order id with space", "order_id", func(r *order.Request) { r.OrderID = "shop 123" }},
		{"order id starting with dash", "order_id", func(r *order.Request) { r.OrderID = "-123" }},
		{"order id too long", "order_id", func(r *order.Request) { r.OrderID = strings.Repeat("a", 65) }},
		{"foreign tax id with NUL", "customer.tax_id", func(r *order.Request) { r.Customer.Country, r.Customer.TaxID = "DE", "DE\x00123" }},
		{"foreign tax id on two lines", "customer.tax_id", func(r *order.Request) { r.Customer.Country, r.Customer.TaxID = "DE", "DE\n123" }},
		{"company missing", "customer.company", func(r *order.Request) { r.Customer.Company = "" }},
		{"company two lines", "customer.company", func(r *order.Request) { r.Customer.Company = "Acme\nEvil: header" }},
		{"company too long", "customer.company", func(r *order.Request) { r.Customer.Company = strings.Repeat("ą", 201) }},
		{"email missing", "customer.email", func(r *order.Request) { r.Customer.Email = "" }},
		{"email with name", "customer.email", func(r *order.Request) { r.Customer.Email = "jan <it@acme.pl>" }},
		{"email without dot in domain", "customer.email", func(r *order.Request) { r.Customer.Email = "it@acme" }},
		{"email not an address", "customer.email", func(r *order.Request) { r.Customer.Email = "acme.pl" }},
		{"first name missing", "customer.first_name", func(r *order.Request) { r.Customer.FirstName = " " }},
		{"last name missing", "customer.last_name", func(r *order.Request) { r.Customer.LastName = "" }},
		{"country missing", "customer.country", func(r *order.Request) { r.Customer.Country = "" }},
		{"country unknown", "customer.country", func(r *order.Request) { r.Customer.Country = "XX" }},
		{"country spelled out", "customer.country", func(r *order.Request) { r.Customer.Country = "Poland" }},
		{"city missing", "customer.city", func(r *order.Request) { r.Customer.City = "" }},
		{"postal code missing", "customer.postal_code", func(r *order.Request) { r.Customer.PostalCode = "" }},
		{"postal code not Polish", "customer.postal_code", func(r *order.Request) { r.Customer.PostalCode = "00001" }},
		{"address missing", "customer.address_line1", func(r *order.Request) { r.Customer.AddressLine1 = "" }},
		{"NIP checksum", "customer.tax_id", func(r *order.Request) { r.Customer.TaxID = "5260250994" }},
		{"foreign tax id too long", "customer.tax_id", func(r *order.Request) {
			r.Customer.Country, r.Customer.PostalCode, r.Customer.TaxID = "DE", "10115", strings.Repeat("1", 21)
		}},
		{"plan missing", "plan", func(r *order.Request) { r.Plan = "" }},
		{"plan unknown", "plan", func(r *order.Request) { r.Plan = "business-ultimate" }},
		{"no seats", "seats", func(r *order.Request) { r.Seats = 0 }},
		{"too many seats", "seats", func(r *order.Request) { r.Seats = order.MaxSeats + 1 }},
		{"domain prefix short", "domain_prefix", func(r *order.Request) { r.DomainPrefix = "ab" }},
		{"domain prefix long", "domain_prefix", func(r *order.Request) { r.DomainPrefix = strings.Repeat("a", 28) }},
		{"domain prefix dash", "domain_prefix", func(r *order.Request) { r.DomainPrefix = "acme-pl" }},
		{"billing cycle", "billing_cycle", func(r *order.Request) { r.BillingCycle = "weekly" }},
		{"language", "language", func(r *order.Request) { r.Language = "de" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sample(t)
			c.edit(&r)
			r.Normalize()
			fe := r.Validate()
			require.NotNil(t, fe)
			require.Equal(t, c.field, fe.Field)
			require.NotEmpty(t, fe.Code)
			require.True(t, strings.HasPrefix(fe.Error(), c.field+": "), fe.Error())
		})
	}
}

func TestSeatBoundsAccepted(t *testing.T) {
	for _, seats := range []int{order.MinSeats, order.MaxSeats} {
		r := sample(t)
		r.Seats = seats
		r.Normalize()
		require.Nil(t, r.Validate(), seats)
	}
}

func TestStatuses(t *testing.T) {
	for _, s := range []order.Status{order.InstallerReady, order.Cancelled, order.Refunded} {
		require.True(t, s.Terminal(), s)
		require.False(t, s.Cancellable(), s)
	}
	for _, s := range []order.Status{order.Placed, order.BillingAccess, order.AwaitingPayment} {
		require.True(t, s.Cancellable(), s)
		require.False(t, s.Terminal(), s)
	}
	for _, s := range []order.Status{order.ProvisioningTenant, order.EmailingCredentials, order.Compensating, order.NeedsAttention} {
		require.False(t, s.Cancellable(), s)
		require.False(t, s.Terminal(), s)
	}
}

func TestReminderTimes(t *testing.T) {
	placed := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	offsets, err := order.ParseReminders(order.DefaultReminders)
	require.NoError(t, err)
	require.Equal(t, []time.Time{placed.Add(24 * time.Hour), placed.Add(144 * time.Hour)},
		order.ReminderTimes(placed, placed.Add(168*time.Hour), offsets))
	// A two-day deadline: both offsets fall on the same moment; one mail.
	require.Equal(t, []time.Time{placed.Add(24 * time.Hour)}, order.ReminderTimes(placed, placed.Add(48*time.Hour), offsets))
	// A deadline within a day leaves no room for either.
	require.Empty(t, order.ReminderTimes(placed, placed.Add(20*time.Hour), offsets))

	none, err := order.ParseReminders("")
	require.NoError(t, err)
	require.Empty(t, none)
	_, err = order.ParseReminders("24h,soon")
	require.ErrorContains(t, err, `"soon"`)
}

// "admin_licence" is optional: a body without it hashes as it did before the
// field existed, "true" is that same order, only "false" is another.
func TestAdminLicenceKeepsOldBodiesHashes(t *testing.T) {
	const body = `{"order_id":"shop-123","customer":{"company":"Acme","email":"it@acme.pl","first_name":"Jan","last_name":"K","country":"PL","city":"W","postal_code":"00-001","address_line1":"ul. Prosta 1"},"plan":"business-standard","seats":5,"domain_prefix":"acme","billing_cycle":"monthly","language":"pl"`
	parse := func(extra string) order.Request {
		var r order.Request
		require.NoError(t, json.Unmarshal([]byte(body+extra+"}"), &r))
		r.Normalize()
		require.Nil(t, r.Validate())
		return r
	}
	plain, yes, no := parse(""), parse(`,"admin_licence":true`), parse(`,"admin_licence":false`)
	// The hash of this body before the field existed.
	require.Equal(t, "446e6a3eadd3549cdddc77e1172f44b70c151f34e353e5c8b9d4b2a69612d8ac", hex.EncodeToString(plain.Hash()))
	require.Equal(t, plain.Hash(), yes.Hash())
	require.NotEqual(t, plain.Hash(), no.Hash())
	require.True(t, plain.WantsAdminLicence())
	require.True(t, yes.WantsAdminLicence())
	require.False(t, no.WantsAdminLicence())
}
