package tenant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const testToken = "test-token-not-a-secret"

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// newEnv serves a fresh fake over real HTTP so the client's wire format,
// headers and error handling are exercised end to end.
func newEnv(t *testing.T) (*Fake, *Client, *httptest.Server) {
	t.Helper()
	fake := NewFake(testToken)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, NewClient(srv.URL, testToken, srv.Client()), srv
}

func testCustomer(prefix string) Customer {
	return Customer{
		CompanyProfile: CompanyProfile{Domain: prefix + ".onmicrosoft.com", CompanyName: "Contoso Ltd"},
		BillingProfile: BillingProfile{
			Email: "billing@contoso.example", Culture: "en-US", Language: "en", CompanyName: "Contoso Ltd",
			DefaultAddress: Address{Country: "US", City: "Redmond", PostalCode: "98052", AddressLine1: "1 Microsoft Way",
				FirstName: "Ada", LastName: "Lovelace", PhoneNumber: "+1 425 555 0100"},
		},
	}
}

func callFor(order, step string) Call {
	return Call{RequestID: RequestID(order, step), CorrelationID: RequestID(order)}
}

func requireAPIError(t *testing.T, err error, status int) *APIError {
	t.Helper()
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, status, apiErr.Status)
	return apiErr
}

func TestDomainAvailable(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()

	free, err := c.DomainAvailable(ctx, "contoso.onmicrosoft.com", callFor("o1", "domain"))
	require.NoError(t, err)
	require.True(t, free)

	fake.TakeDomain("Contoso.onmicrosoft.com")
	free, err = c.DomainAvailable(ctx, "contoso.onmicrosoft.com", callFor("o1", "domain"))
	require.NoError(t, err)
	require.False(t, free, "domains compare case-insensitively")

	_, err = c.CreateCustomer(ctx, testCustomer("fabrikam"), callFor("o2", "customer"))
	require.NoError(t, err)
	free, err = c.DomainAvailable(ctx, "fabrikam.onmicrosoft.com", callFor("o2", "domain"))
	require.NoError(t, err)
	require.False(t, free, "creating a customer registers its domain")
}

func TestCreateCustomerReturnsCredentialsAndTenantID(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()

	got, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)
	require.Regexp(t, uuidRe, got.ID)
	require.Regexp(t, uuidRe, got.CompanyProfile.TenantID)
	require.Equal(t, "contoso.onmicrosoft.com", got.CompanyProfile.Domain)
	require.Equal(t, "billing@contoso.example", got.BillingProfile.Email)
	require.NotNil(t, got.UserCredentials)
	require.Equal(t, "admin@contoso.onmicrosoft.com", got.UserCredentials.UserName)
	requireStrongPassword(t, got.UserCredentials.Password)

	// Credentials are handed out once; later reads must not carry them.
	stored := fake.Customers()
	require.Len(t, stored, 1)
	require.Equal(t, got.ID, stored[0].ID)
	require.Nil(t, stored[0].UserCredentials)

	read, err := c.GetCustomer(ctx, got.ID, callFor("o1", "get"))
	require.NoError(t, err)
	require.Nil(t, read.UserCredentials)
	require.Equal(t, got.CompanyProfile, read.CompanyProfile)
}

func TestCreateCustomerSameRequestIDReplaysFirstAnswer(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	call := callFor("o1", "customer")

	first, err := c.CreateCustomer(ctx, testCustomer("contoso"), call)
	require.NoError(t, err)
	second, err := c.CreateCustomer(ctx, testCustomer("contoso"), call)
	require.NoError(t, err, "a replay must not hit the DomainTaken check")
	require.Equal(t, first, second)
	require.Len(t, fake.Customers(), 1)
	require.Equal(t, 2, fake.Requests())
}

func TestCreateCustomerNewRequestIDOnTakenDomainConflicts(t *testing.T) {
	_, c, _ := newEnv(t)
	ctx := context.Background()

	_, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)
	_, err = c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o2", "customer"))
	apiErr := requireAPIError(t, err, http.StatusConflict)
	require.Equal(t, "DomainTaken", apiErr.Code)
	require.False(t, apiErr.Temporary())
}

func TestRejectedCreateCanBeFixedUnderSameRequestID(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	fake.TakeDomain("contoso.onmicrosoft.com")
	call := callFor("o1", "customer")

	_, err := c.CreateCustomer(ctx, testCustomer("contoso"), call)
	require.Equal(t, "DomainTaken", requireAPIError(t, err, http.StatusConflict).Code)

	got, err := c.CreateCustomer(ctx, testCustomer("contoso2"), call)
	require.NoError(t, err, "failed answers are not replayed")
	require.Equal(t, "contoso2.onmicrosoft.com", got.CompanyProfile.Domain)
}

func TestCreateCustomerValidation(t *testing.T) {
	_, c, _ := newEnv(t)
	noEmail := testCustomer("contoso")
	noEmail.BillingProfile.Email = ""

	for name, tc := range map[string]struct {
		cust Customer
		code string
	}{
		"custom domain":    {testCustomer("contoso.com"), "InvalidDomain"},
		"hyphen":           {testCustomer("con-toso"), "InvalidDomain"},
		"missing email":    {noEmail, "InvalidBillingEmail"},
		"no domain at all": {Customer{BillingProfile: BillingProfile{Email: "a@b.c"}}, "InvalidDomain"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateCustomer(context.Background(), tc.cust, callFor(name, "customer"))
			require.Equal(t, tc.code, requireAPIError(t, err, http.StatusBadRequest).Code)
		})
	}
}

func TestConcurrentRetriesCreateOneCustomer(t *testing.T) {
	fake, c, _ := newEnv(t)
	call := callFor("o1", "customer")
	const n = 8
	results := make([]Customer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = c.CreateCustomer(context.Background(), testCustomer("contoso"), call)
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, results[0], results[i])
	}
	require.Len(t, fake.Customers(), 1)
}

func TestCreateOrderCreatesSubscriptionWithSeats(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)

	order := Order{LineItems: []LineItem{{LineItemNumber: 0, OfferID: "CFQ7TTC0LH18:0001", Quantity: 25}}}
	got, err := c.CreateOrder(ctx, cust.ID, order, callFor("o1", "order"))
	require.NoError(t, err)
	require.Regexp(t, uuidRe, got.ID)
	require.Equal(t, cust.ID, got.ReferenceCustomerID)
	require.Len(t, got.LineItems, 1)
	subID := got.LineItems[0].SubscriptionID
	require.NotEmpty(t, subID)

	want := Subscription{ID: subID, OfferID: "CFQ7TTC0LH18:0001", Quantity: 25, Status: StatusActive}
	require.Equal(t, []Subscription{want}, fake.Subscriptions(cust.ID))
	sub, err := c.GetSubscription(ctx, cust.ID, subID, callFor("o1", "get-sub"))
	require.NoError(t, err)
	require.Equal(t, want, sub)

	again, err := c.CreateOrder(ctx, cust.ID, order, callFor("o1", "order"))
	require.NoError(t, err)
	require.Equal(t, got, again)
	require.Len(t, fake.Subscriptions(cust.ID), 1, "a retried order must not buy twice")
}

func TestCreateOrderRejections(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)

	_, err = c.CreateOrder(ctx, RequestID("nobody"), Order{LineItems: []LineItem{{OfferID: "x", Quantity: 1}}}, callFor("o1", "a"))
	require.Equal(t, "CustomerNotFound", requireAPIError(t, err, http.StatusNotFound).Code)

	tooMany := Order{LineItems: []LineItem{{OfferID: "x", Quantity: 1}, {LineItemNumber: 1, OfferID: "y", Quantity: 301}}}
	_, err = c.CreateOrder(ctx, cust.ID, tooMany, callFor("o1", "b"))
	require.Equal(t, "InvalidQuantity", requireAPIError(t, err, http.StatusBadRequest).Code)
	require.Empty(t, fake.Subscriptions(cust.ID), "no half orders")
}

func TestUpdateSubscription(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)
	order, err := c.CreateOrder(ctx, cust.ID, Order{LineItems: []LineItem{{OfferID: "x", Quantity: 10}}}, callFor("o1", "order"))
	require.NoError(t, err)
	subID := order.LineItems[0].SubscriptionID

	got, err := c.UpdateSubscription(ctx, cust.ID, subID, Subscription{Status: StatusSuspended}, callFor("o1", "suspend"))
	require.NoError(t, err)
	require.Equal(t, Subscription{ID: subID, OfferID: "x", Quantity: 10, Status: StatusSuspended}, got)

	got, err = c.UpdateSubscription(ctx, cust.ID, subID, Subscription{Quantity: 12, Status: StatusActive}, callFor("o1", "resize"))
	require.NoError(t, err)
	require.Equal(t, Subscription{ID: subID, OfferID: "x", Quantity: 12, Status: StatusActive}, got)
	require.Equal(t, []Subscription{got}, fake.Subscriptions(cust.ID))

	for name, patch := range map[string]Subscription{
		"bad status":   {Status: "cancelled"},
		"too few":      {Quantity: -1},
		"too many":     {Quantity: 301},
		"empty change": {},
	} {
		_, err = c.UpdateSubscription(ctx, cust.ID, subID, patch, callFor("o1", name))
		requireAPIError(t, err, http.StatusBadRequest)
	}
	_, err = c.UpdateSubscription(ctx, cust.ID, RequestID("nope"), Subscription{Quantity: 1}, callFor("o1", "missing"))
	require.Equal(t, "SubscriptionNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
}

func requireStrongPassword(t *testing.T, pw string) {
	t.Helper()
	require.GreaterOrEqual(t, len(pw), 16)
	for _, class := range []string{pwLower, pwUpper, pwDigits, pwSymbols} {
		require.True(t, strings.ContainsAny(pw, class), "password lacks one of %q", class)
	}
}

func customerIDs(cs []Customer) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func TestListSubscriptionsReturnsOrderedSubscriptions(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)
	other, err := c.CreateCustomer(ctx, testCustomer("fabrikam"), callFor("o2", "customer"))
	require.NoError(t, err)

	empty, err := c.ListSubscriptions(ctx, cust.ID, callFor("o1", "list-empty"))
	require.NoError(t, err)
	require.NotNil(t, empty)
	require.Empty(t, empty)

	order := Order{LineItems: []LineItem{
		{LineItemNumber: 0, OfferID: "CFQ7TTC0LH18:0001", Quantity: 25},
		{LineItemNumber: 1, OfferID: "CFQ7TTC0LFLZ:0002", Quantity: 3},
		{LineItemNumber: 2, OfferID: "CFQ7TTC0LDPB:0001", Quantity: 7},
	}}
	placed, err := c.CreateOrder(ctx, cust.ID, order, callFor("o1", "order"))
	require.NoError(t, err)
	_, err = c.CreateOrder(ctx, other.ID, Order{LineItems: []LineItem{{OfferID: "x", Quantity: 1}}}, callFor("o2", "order"))
	require.NoError(t, err)

	got, err := c.ListSubscriptions(ctx, cust.ID, callFor("o1", "list"))
	require.NoError(t, err)
	require.Len(t, got, 3, "only this customer's subscriptions")
	require.Equal(t, fake.Subscriptions(cust.ID), got)
	require.IsIncreasing(t, subscriptionIDs(got), "sorted by id")
	byID := map[string]Subscription{}
	for _, s := range got {
		byID[s.ID] = s
	}
	for _, li := range placed.LineItems {
		require.Equal(t, Subscription{ID: li.SubscriptionID, OfferID: li.OfferID, Quantity: li.Quantity, Status: StatusActive},
			byID[li.SubscriptionID])
	}
}

func TestListSubscriptionsUnknownCustomerIs404(t *testing.T) {
	_, c, _ := newEnv(t)
	got, err := c.ListSubscriptions(context.Background(), RequestID("nobody"), callFor("o1", "list"))
	apiErr := requireAPIError(t, err, http.StatusNotFound)
	require.Equal(t, "CustomerNotFound", apiErr.Code)
	require.Equal(t, http.MethodGet, apiErr.Method)
	require.False(t, apiErr.Temporary())
	require.Nil(t, got)
}

func TestListSubscriptionsRejectsIncompleteCollection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"totalCount":3,"items":[{"id":"s1","status":"active"}],"attributes":{"objectType":"Collection"}}`))
	}))
	t.Cleanup(srv.Close)
	got, err := NewClient(srv.URL, "", srv.Client()).ListSubscriptions(context.Background(), "c1", Call{})
	require.ErrorContains(t, err, "1 of 3")
	require.Nil(t, got)
}

func TestSuspendingTwiceCountsOnce(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSubscription(t, c)
	require.Zero(t, fake.Suspensions())

	for _, step := range []string{"suspend-1", "suspend-2"} {
		got, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusSuspended}, callFor("o1", step))
		require.NoError(t, err)
		require.Equal(t, StatusSuspended, got.Status)
	}
	require.Equal(t, 1, fake.Suspensions(), "the second PATCH found it already suspended")

	// A quantity change on a suspended subscription is not a suspension either.
	_, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Quantity: 5}, callFor("o1", "resize"))
	require.NoError(t, err)
	require.Equal(t, 1, fake.Suspensions())

	// Reactivating and suspending again is a second effective suspension.
	_, err = c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusActive}, callFor("o1", "resume"))
	require.NoError(t, err)
	_, err = c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusSuspended}, callFor("o1", "suspend-3"))
	require.NoError(t, err)
	require.Equal(t, 2, fake.Suspensions())
}

func TestSuspensionsSumOverCustomersAndIgnoreRejectedPatches(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust1, sub1 := customerWithSubscription(t, c)
	cust2, err := c.CreateCustomer(ctx, testCustomer("fabrikam"), callFor("o2", "customer"))
	require.NoError(t, err)
	order, err := c.CreateOrder(ctx, cust2.ID, Order{LineItems: []LineItem{{OfferID: "x", Quantity: 1}}}, callFor("o2", "order"))
	require.NoError(t, err)

	_, err = c.UpdateSubscription(ctx, cust1, sub1, Subscription{Status: StatusSuspended, Quantity: 301}, callFor("o1", "bad"))
	requireAPIError(t, err, http.StatusBadRequest)
	require.Zero(t, fake.Suspensions(), "a rejected PATCH changes nothing")

	_, err = c.UpdateSubscription(ctx, cust1, sub1, Subscription{Status: StatusSuspended}, callFor("o1", "suspend"))
	require.NoError(t, err)
	_, err = c.UpdateSubscription(ctx, cust2.ID, order.LineItems[0].SubscriptionID, Subscription{Status: StatusSuspended}, callFor("o2", "suspend"))
	require.NoError(t, err)
	require.Equal(t, 2, fake.Suspensions())
}

// customerWithSubscription creates customer "contoso" with one active
// 10-seat subscription and returns both ids.
func customerWithSubscription(t *testing.T, c *Client) (customerID, subID string) {
	t.Helper()
	ctx := context.Background()
	cust, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)
	order, err := c.CreateOrder(ctx, cust.ID, Order{LineItems: []LineItem{{OfferID: "x", Quantity: 10}}}, callFor("o1", "order"))
	require.NoError(t, err)
	return cust.ID, order.LineItems[0].SubscriptionID
}

func subscriptionIDs(ss []Subscription) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}
