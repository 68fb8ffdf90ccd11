package tenant

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testAgreement() Agreement {
	return Agreement{PrimaryContact: Contact{FirstName: "Ada", LastName: "Lovelace", Email: "ada@contoso.example"},
		DateAgreed: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), TemplateID: MCATemplateID, Type: AgreementTypeMCA, AgreementLink: MCALink}
}

func testCart(t *testing.T, term, cycle string, seats int) Cart {
	t.Helper()
	item, ok := CatalogItemID("CFQ7TTC0LDPB:0001")
	require.True(t, ok)
	return Cart{LineItems: []CartLineItem{{ID: 0, CatalogItemID: item, Quantity: seats, TermDuration: term, BillingCycle: cycle}}}
}

func newCustomer(t *testing.T, c *Client, prefix string) string {
	t.Helper()
	cust, err := c.CreateCustomer(context.Background(), testCustomer(prefix), callFor(prefix, "customer"))
	require.NoError(t, err)
	return cust.ID
}

func TestCatalogItemsOfEveryPlanOffer(t *testing.T) {
	for _, offer := range []string{"CFQ7TTC0LH18:0001", "CFQ7TTC0LDPB:0001", "CFQ7TTC0LCHC:0002", "CFQ7TTC0LH1G:0001", "CFQ7TTC0LH16:0001"} {
		item, ok := CatalogItemID(offer)
		require.True(t, ok, offer)
		require.Regexp(t, `^[A-Z0-9]{12}:[0-9]{4}:[A-Z0-9]{12}$`, item)
		require.Equal(t, offer, OfferOf(item))
		require.Equal(t, offer, OfferOf(offer))
	}
	_, ok := CatalogItemID("nope")
	require.False(t, ok)
}

// TestCartCheckoutMakesNewCommerceSubscription: agreement, cart, checkout;
// the subscription carries the offer, seats, term and billing cycle, and
// the fake saw the calls in that order.
func TestCartCheckoutMakesNewCommerceSubscription(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust := newCustomer(t, c, "contoso")

	require.NoError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement")))
	got, err := c.ListAgreements(ctx, cust, AgreementTypeMCA, callFor("o1", "agreements"))
	require.NoError(t, err)
	require.Equal(t, []Agreement{testAgreement()}, got)

	cart, err := c.CreateCart(ctx, cust, testCart(t, TermYear, BillingMonthly, 7), callFor("o1", "cart"))
	require.NoError(t, err)
	require.Regexp(t, uuidRe, cart.ID)
	require.Equal(t, "Active", cart.Status)

	res, err := c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout"))
	require.NoError(t, err)
	require.Empty(t, res.OrderErrors)
	require.Len(t, res.Orders, 1)
	require.Len(t, res.Orders[0].LineItems, 1)
	li := res.Orders[0].LineItems[0]
	require.Equal(t, "CFQ7TTC0LDPB:0001", OfferOf(li.OfferID))
	require.Equal(t, 7, li.Quantity)

	sub, ok := fake.Subscription(cust, li.SubscriptionID)
	require.True(t, ok)
	require.Equal(t, Subscription{ID: li.SubscriptionID, OfferID: "CFQ7TTC0LDPB:0001", Quantity: 7, Status: StatusActive,
		TermDuration: TermYear, BillingCycle: BillingMonthly}, sub)
	require.Equal(t, "Ordered", fake.Carts(cust)[0].Status)
	require.Equal(t, []Arrival{{cust, ArrivedAgreement, "ada@contoso.example"}, {cust, ArrivedCart, cart.ID}, {cust, ArrivedCheckout, cart.ID}},
		fake.Arrivals(cust))

	// Partner Center answers a cart checked out before with the first
	// result, even under another request id: no second subscription.
	again, err := c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout-again"))
	require.NoError(t, err)
	require.Equal(t, res, again)
	require.Len(t, fake.Subscriptions(cust), 1)

	// Seat changes stay PATCHes of the subscription's quantity.
	up, err := c.UpdateSubscription(ctx, cust, li.SubscriptionID, Subscription{Quantity: 9}, callFor("o1", "seats"))
	require.NoError(t, err)
	require.Equal(t, 9, up.Quantity)
	require.Equal(t, TermYear, up.TermDuration)
}

// TestCheckoutWithoutAgreementIsRefused: no confirmed Customer Agreement,
// no purchase; once confirmed, the same cart checks out.
func TestCheckoutWithoutAgreementIsRefused(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust := newCustomer(t, c, "contoso")
	cart, err := c.CreateCart(ctx, cust, testCart(t, TermMonth, BillingMonthly, 1), callFor("o1", "cart"))
	require.NoError(t, err)

	_, err = c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout"))
	apiErr := requireAPIError(t, err, http.StatusBadRequest)
	require.Equal(t, CodeAgreementMissing, apiErr.Code)
	require.False(t, apiErr.Temporary())
	require.Empty(t, fake.Subscriptions(cust))

	// Another customer's agreement does not count.
	other := newCustomer(t, c, "fabrikam")
	require.NoError(t, c.ConfirmAgreement(ctx, other, testAgreement(), callFor("o2", "agreement")))
	_, err = c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout"))
	requireAPIError(t, err, http.StatusBadRequest)

	require.NoError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement")))
	_, err = c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout"))
	require.NoError(t, err, "a refusal is not remembered under the request id")
	require.Len(t, fake.Subscriptions(cust), 1)
	kinds := []string{}
	for _, a := range fake.Arrivals(cust) {
		kinds = append(kinds, a.Kind)
	}
	require.Equal(t, []string{ArrivedCart, ArrivedAgreement, ArrivedCheckout}, kinds, "refused checkouts do not arrive")
}

// TestConfirmAgreementIsIdempotent: the same request id replays; a new
// one with the same contact gets Partner Center's duplicate 409, which the
// client takes for success; another contact is a second confirmation.
func TestConfirmAgreementIsIdempotent(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust := newCustomer(t, c, "contoso")
	require.NoError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement")))
	require.NoError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement")))
	require.NoError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement-2")))
	require.Len(t, fake.Agreements(cust), 1)

	// The fake's own answer to the duplicate, without the client's mercy.
	err := c.do(ctx, http.MethodPost, customerPath(cust)+"/agreements", Call{}, testAgreement(), nil)
	require.Equal(t, CodeAgreementExists, requireAPIError(t, err, http.StatusConflict).Code)

	b := testAgreement()
	b.PrimaryContact.Email = "bob@contoso.example"
	require.NoError(t, c.ConfirmAgreement(ctx, cust, b, callFor("o1", "agreement-3")))
	require.Len(t, fake.Agreements(cust), 2)
}

func TestAgreementAndCartRejections(t *testing.T) {
	_, c, _ := newEnv(t)
	ctx := context.Background()
	cust := newCustomer(t, c, "contoso")
	for name, edit := range map[string]func(*Agreement){
		"other type":     func(a *Agreement) { a.Type = "MicrosoftCloudAgreement" },
		"other template": func(a *Agreement) { a.TemplateID = "00000000-0000-0000-0000-000000000000" },
		"no email":       func(a *Agreement) { a.PrimaryContact.Email = "" },
		"no last name":   func(a *Agreement) { a.PrimaryContact.LastName = " " },
		"no date":        func(a *Agreement) { a.DateAgreed = time.Time{} },
		"future date":    func(a *Agreement) { a.DateAgreed = time.Now().Add(48 * time.Hour) },
	} {
		a := testAgreement()
		edit(&a)
		requireAPIError(t, c.ConfirmAgreement(ctx, cust, a, callFor("o1", "agreement:"+name)), http.StatusBadRequest)
	}
	require.NoError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement")))

	for name, edit := range map[string]func(*Cart){
		"no line items":      func(c *Cart) { c.LineItems = nil },
		"unknown item":       func(c *Cart) { c.LineItems[0].CatalogItemID = "CFQ7TTC0LDPB:0001:XXXXXXXXXXXX" },
		"offer, not item":    func(c *Cart) { c.LineItems[0].CatalogItemID = "CFQ7TTC0LDPB:0001" },
		"no seats":           func(c *Cart) { c.LineItems[0].Quantity = 0 },
		"too many seats":     func(c *Cart) { c.LineItems[0].Quantity = MaxQuantity + 1 },
		"term P3Y":           func(c *Cart) { c.LineItems[0].TermDuration = "P3Y" },
		"weekly":             func(c *Cart) { c.LineItems[0].BillingCycle = "weekly" },
		"P1M billed annualy": func(c *Cart) { c.LineItems[0].TermDuration, c.LineItems[0].BillingCycle = TermMonth, BillingAnnual },
	} {
		cart := testCart(t, TermYear, BillingAnnual, 1)
		edit(&cart)
		_, err := c.CreateCart(ctx, cust, cart, callFor("o1", "cart:"+name))
		requireAPIError(t, err, http.StatusBadRequest)
	}
	_, err := c.CreateCart(ctx, "00000000-0000-0000-0000-000000000000", testCart(t, TermYear, BillingAnnual, 1), callFor("o1", "cart"))
	require.Equal(t, "CustomerNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
	_, err = c.CheckoutCart(ctx, cust, "00000000-0000-0000-0000-000000000000", callFor("o1", "checkout"))
	require.Equal(t, "CartNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
}

// TestCheckoutFaultsAndLostAnswer: an injected fault on any customer's
// checkout (PathSuffix) is answered as such; a checkout whose answer was
// lost is replayed under its request id and buys once.
func TestCheckoutFaultsAndLostAnswer(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust := newCustomer(t, c, "contoso")
	require.NoError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement")))
	cart, err := c.CreateCart(ctx, cust, testCart(t, TermMonth, BillingMonthly, 2), callFor("o1", "cart"))
	require.NoError(t, err)

	fake.Inject(Fault{Method: http.MethodPost, PathSuffix: "/checkout", Status: http.StatusServiceUnavailable, RetryAfter: 2 * time.Second})
	_, err = c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout"))
	apiErr := requireAPIError(t, err, http.StatusServiceUnavailable)
	require.True(t, apiErr.Temporary())
	require.Equal(t, 2*time.Second, apiErr.RetryAfter)
	require.Empty(t, fake.Subscriptions(cust))

	fake.Inject(Fault{Method: http.MethodPost, PathSuffix: "/checkout", LoseResponse: true, Status: http.StatusBadGateway})
	_, err = c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout"))
	requireAPIError(t, err, http.StatusBadGateway)
	res, err := c.CheckoutCart(ctx, cust, cart.ID, callFor("o1", "checkout"))
	require.NoError(t, err)
	require.Len(t, fake.Subscriptions(cust), 1)
	require.Equal(t, fake.Subscriptions(cust)[0].ID, res.Orders[0].LineItems[0].SubscriptionID)

	// A fault on agreements of another path leaves the carts alone.
	fake.Inject(Fault{PathSuffix: "/agreements", Status: http.StatusTooManyRequests})
	_, err = c.CreateCart(ctx, cust, testCart(t, TermMonth, BillingMonthly, 2), callFor("o1", "cart-2"))
	require.NoError(t, err)
	requireAPIError(t, c.ConfirmAgreement(ctx, cust, testAgreement(), callFor("o1", "agreement-x")), http.StatusTooManyRequests)
}
