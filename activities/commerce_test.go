package activities

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// commerceEnv is the activities on the mail test's store and sink, with a
// tenant API fake, in an activity test environment.
func commerceEnv(t *testing.T) (*Activities, *tenant.Fake, *testsuite.TestActivityEnvironment) {
	a, _ := mailEnv(t)
	fake := tenant.NewFake("")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	a.Tenant = tenant.NewClient(srv.URL, "", srv.Client())
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return a, fake, env
}

// placeAt places r in the store at placedAt, as the intake would, and
// returns it as placed (normalised).
func placeAt(t *testing.T, a *Activities, r order.Request, placedAt time.Time) order.Request {
	t.Helper()
	r.Normalize()
	require.Nil(t, r.Validate())
	_, err := a.Store.PlaceOrderAt(context.Background(), r, placedAt, placedAt.Add(time.Hour), "")
	require.NoError(t, err)
	return r
}

// placeWithTenant places r in the store, as the intake would, and makes its
// tenant at the fake.
func placeWithTenant(t *testing.T, a *Activities, env *testsuite.TestActivityEnvironment, r order.Request, placedAt time.Time) {
	t.Helper()
	r = placeAt(t, a, r, placedAt)
	_, err := env.ExecuteActivity(a.CreateTenant, r.OrderID)
	require.NoError(t, err)
}

// OrderSubscription confirms the order's Customer Agreement acceptance
// before the first cart, buys the cart with the order's term and billing
// cycle, and, run again, buys nothing more.
func TestOrderSubscriptionConfirmsAgreementBeforeTheCart(t *testing.T) {
	a, fake, env := commerceEnv(t)
	ctx := context.Background()

	placedAt := time.Now().UTC().Truncate(time.Second)
	for i, c := range []struct {
		term, cycle string
		mca         *order.Acceptance
		want        tenant.Contact
		wantAt      time.Time
	}{
		{"P1Y", "monthly", &order.Acceptance{FirstName: "Anna", LastName: "Nowak", Email: "anna@acme.pl", AcceptedAt: "2026-12-01T09:00:00Z"},
			tenant.Contact{FirstName: "Anna", LastName: "Nowak", Email: "anna@acme.pl"}, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"", "annual", nil, tenant.Contact{FirstName: "Jan", LastName: "Kowalski", Email: "nce-1@acme.pl"}, placedAt},
	} {
		r := order.Request{OrderID: "nce-" + string(rune('0'+i)), Customer: order.Customer{Company: "Acme sp. z o.o.", Email: "nce-" + string(rune('0'+i)) + "@acme.pl",
			FirstName: "Jan", LastName: "Kowalski", TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1"},
			Plan: "business-premium", Seats: 3, DomainPrefix: "acmence" + string(rune('a'+i)), BillingCycle: c.cycle, Language: "pl", Term: c.term, MCAAcceptedBy: c.mca}
		placeWithTenant(t, a, env, r, placedAt)
		_, err := env.ExecuteActivity(a.OrderSubscription, r.OrderID)
		require.NoError(t, err)
		_, err = env.ExecuteActivity(a.OrderSubscription, r.OrderID)
		require.NoError(t, err, "run again")

		tn, err := a.Store.Tenant(ctx, r.OrderID)
		require.NoError(t, err)
		cust := tn.PartnerCustomer
		arrived := fake.Arrivals(cust)
		require.Len(t, arrived, 3, "one agreement, one cart, one checkout: %+v", arrived)
		require.Equal(t, tenant.ArrivedAgreement, arrived[0].Kind, "the Agreement before the first cart")
		require.Equal(t, tenant.ArrivedCart, arrived[1].Kind)
		require.Equal(t, tenant.ArrivedCheckout, arrived[2].Kind)

		ags := fake.Agreements(cust)
		require.Len(t, ags, 1)
		require.Equal(t, c.want, ags[0].PrimaryContact, "the body's acceptance, or the order's contact")
		require.True(t, c.wantAt.Equal(ags[0].DateAgreed), "%s %s", c.wantAt, ags[0].DateAgreed)

		term := r.TermDuration()
		carts := fake.Carts(cust)
		require.Len(t, carts, 1)
		require.Equal(t, []tenant.CartLineItem{{ID: 0, CatalogItemID: "CFQ7TTC0LCHC:0002:CFQ7TTC0K5BF", Quantity: 3, TermDuration: term, BillingCycle: c.cycle}}, carts[0].LineItems)
		subs := fake.Subscriptions(cust)
		require.Len(t, subs, 1)
		require.Equal(t, "CFQ7TTC0LCHC:0002", subs[0].OfferID)
		require.Equal(t, term, subs[0].TermDuration)
		stored, err := a.Store.Subscriptions(ctx, r.OrderID)
		require.NoError(t, err)
		require.Len(t, stored, 1)
		require.Equal(t, subs[0].ID, stored[0].ID)
	}
}

// BuyPlan buys the plan and licenses the tenant's admin in one activity;
// run again (a retry after a lost answer), it calls the tenant API no more.
func TestBuyPlanBuysThenLicensesTheAdminOnce(t *testing.T) {
	a, fake, env := commerceEnv(t)
	ctx := context.Background()

	placedAt := time.Now().UTC().Truncate(time.Second)
	r := order.Request{OrderID: "buy-1", Customer: order.Customer{Company: "Acme sp. z o.o.", Email: "buy-1@acme.pl",
		FirstName: "Jan", LastName: "Kowalski", TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1"},
		Plan: "business-standard", Seats: 2, DomainPrefix: "acmebuyplan", BillingCycle: "monthly", Language: "pl"}
	placeWithTenant(t, a, env, r, placedAt)
	_, err := env.ExecuteActivity(a.BuyPlan, r.OrderID)
	require.NoError(t, err)

	tn, err := a.Store.Tenant(ctx, r.OrderID)
	require.NoError(t, err)
	require.Len(t, fake.Subscriptions(tn.PartnerCustomer), 1)
	admin, err := a.Store.GetUser(ctx, r.OrderID, tn.AdminUser)
	require.NoError(t, err)
	require.True(t, admin.Licensed, "the admin holds one of the plan's licences")

	before := fake.Requests()
	_, err = env.ExecuteActivity(a.BuyPlan, r.OrderID)
	require.NoError(t, err, "run again")
	require.Equal(t, before, fake.Requests(), "bought and licensed already: no call to the tenant API")
	require.Len(t, fake.Subscriptions(tn.PartnerCustomer), 1)
}
