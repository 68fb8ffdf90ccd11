//go:build !production

package tenant

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kinds of Arrival.
const (
	ArrivedAgreement = "agreement"
	ArrivedCart      = "cart"
	ArrivedCheckout  = "checkout"
)

// Arrival is one new-commerce call the fake acted on, in the order they
// came: a test asserts the Customer Agreement came before the first cart.
// Replays of an MS-RequestId are not acted on, so they do not arrive.
type Arrival struct {
	Customer string
	Kind     string // ArrivedAgreement, ArrivedCart, ArrivedCheckout
	ID       string // the cart's id for a cart or checkout; the contact's email for an agreement
}

// commerce is the fake's new-commerce state; it lives under f.mu like the
// rest.
type commerce struct {
	agreements map[string][]Agreement      // customer -> confirmations, oldest first
	carts      map[string]map[string]*cart // customer -> cart id -> cart
	arrivals   []Arrival
}

type cart struct {
	Cart
	checkout *CheckoutResult // the first checkout's answer, repeated to any later one
}

func (f *Fake) commerceRoutes() {
	f.commerce = commerce{agreements: map[string][]Agreement{}, carts: map[string]map[string]*cart{}}
	f.mux.HandleFunc("POST /v1/customers/{id}/agreements", f.confirmAgreement)
	f.mux.HandleFunc("GET /v1/customers/{id}/agreements", f.listAgreements)
	f.mux.HandleFunc("POST /v1/customers/{id}/carts", f.createCart)
	f.mux.HandleFunc("GET /v1/customers/{id}/carts/{cid}", f.getCart)
	f.mux.HandleFunc("POST /v1/customers/{id}/carts/{cid}/checkout", f.checkoutCart)
}

// Agreements returns the Customer Agreement confirmations of a customer,
// oldest first.
func (f *Fake) Agreements(customerID string) []Agreement {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Agreement{}, f.commerce.agreements[strings.ToLower(customerID)]...)
}

// Carts returns the carts of a customer sorted by id.
func (f *Fake) Carts(customerID string) []Cart {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []Cart{}
	for _, c := range sortedValues(f.commerce.carts[strings.ToLower(customerID)], func(c *cart) string { return c.ID }, nil) {
		cp := c.Cart
		cp.LineItems = append([]CartLineItem{}, c.LineItems...)
		out = append(out, cp)
	}
	return out
}

// Arrivals returns the new-commerce calls acted on for a customer, in the
// order they came.
func (f *Fake) Arrivals(customerID string) []Arrival {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []Arrival{}
	for _, a := range f.commerce.arrivals {
		if a.Customer == strings.ToLower(customerID) {
			out = append(out, a)
		}
	}
	return out
}

// confirmAgreement records an acceptance. Like Partner Center, a second
// confirmation with the same contact is refused (409) as a duplicate; one
// with another contact is kept beside the first.
func (f *Fake) confirmAgreement(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	var in Agreement
	if !decode(w, r, &in) {
		return
	}
	pc := in.PrimaryContact
	switch {
	case in.Type != AgreementTypeMCA:
		writeError(w, http.StatusBadRequest, "InvalidAgreementType", "type must be "+AgreementTypeMCA)
		return
	case in.TemplateID != MCATemplateID:
		writeError(w, http.StatusBadRequest, "InvalidTemplateId", "templateId is not the Microsoft Customer Agreement's")
		return
	case strings.TrimSpace(pc.FirstName) == "" || strings.TrimSpace(pc.LastName) == "" || !strings.Contains(pc.Email, "@"):
		writeError(w, http.StatusBadRequest, "InvalidPrimaryContact", "primaryContact needs firstName, lastName and email")
		return
	case in.DateAgreed.IsZero() || in.DateAgreed.After(time.Now().Add(time.Hour)):
		writeError(w, http.StatusBadRequest, "InvalidDateAgreed", "dateAgreed is required and may not be in the future")
		return
	}
	for _, a := range f.commerce.agreements[customerID] {
		if a.PrimaryContact == pc {
			writeError(w, http.StatusConflict, CodeAgreementExists, "A partner confirmed agreement already exists for the customer.")
			return
		}
	}
	in.DateAgreed = in.DateAgreed.UTC()
	f.commerce.agreements[customerID] = append(f.commerce.agreements[customerID], in)
	f.commerce.arrivals = append(f.commerce.arrivals, Arrival{Customer: customerID, Kind: ArrivedAgreement, ID: pc.Email})
	writeJSON(w, http.StatusCreated, in)
}

func (f *Fake) listAgreements(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	items := []Agreement{}
	for _, a := range f.commerce.agreements[customerID] {
		if t := r.URL.Query().Get("agreementType"); t == "" || t == a.Type {
			items = append(items, a)
		}
	}
	writeJSON(w, http.StatusOK, collection[Agreement]{TotalCount: len(items), Items: items, Attributes: collectionAttributes{ObjectType: "Collection"}})
}

func (f *Fake) createCart(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	var in Cart
	if !decode(w, r, &in) {
		return
	}
	if len(in.LineItems) == 0 {
		writeError(w, http.StatusBadRequest, "InvalidCart", "a cart needs at least one line item")
		return
	}
	for _, li := range in.LineItems {
		n := "line item " + strconv.Itoa(li.ID)
		offer := OfferOf(li.CatalogItemID)
		if want, known := CatalogItemID(offer); !known || want != li.CatalogItemID {
			writeError(w, http.StatusBadRequest, "InvalidCatalogItemId", n+": no catalogue item "+li.CatalogItemID)
			return
		}
		if li.Quantity < MinQuantity || li.Quantity > MaxQuantity {
			writeError(w, http.StatusBadRequest, "InvalidQuantity", n+": quantity must be 1..300")
			return
		}
		if li.TermDuration != TermMonth && li.TermDuration != TermYear {
			writeError(w, http.StatusBadRequest, "InvalidTermDuration", n+": termDuration must be P1M or P1Y")
			return
		}
		if li.BillingCycle != BillingMonthly && li.BillingCycle != BillingAnnual {
			writeError(w, http.StatusBadRequest, "InvalidBillingCycle", n+": billingCycle must be monthly or annual")
			return
		}
		if li.TermDuration == TermMonth && li.BillingCycle == BillingAnnual {
			writeError(w, http.StatusBadRequest, "InvalidBillingCycle", n+": a P1M term is billed monthly only")
			return
		}
	}
	c := &cart{Cart: Cart{ID: newUUID(), LineItems: append([]CartLineItem{}, in.LineItems...), Status: "Active"}}
	if f.commerce.carts[customerID] == nil {
		f.commerce.carts[customerID] = map[string]*cart{}
	}
	f.commerce.carts[customerID][c.ID] = c
	f.commerce.arrivals = append(f.commerce.arrivals, Arrival{Customer: customerID, Kind: ArrivedCart, ID: c.ID})
	writeJSON(w, http.StatusCreated, c.Cart)
}

func (f *Fake) getCart(w http.ResponseWriter, r *http.Request) {
	if c, ok := f.cart(w, r); ok {
		writeJSON(w, http.StatusOK, c.Cart)
	}
}

func (f *Fake) cart(w http.ResponseWriter, r *http.Request) (*cart, bool) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return nil, false
	}
	c, ok := f.commerce.carts[customerID][strings.ToLower(r.PathValue("cid"))]
	if !ok {
		writeError(w, http.StatusNotFound, "CartNotFound", "no such cart")
		return nil, false
	}
	return c, true
}

// checkoutCart buys a cart: one order whose line items each made a
// subscription of the item's offer, term and billing cycle. A customer
// with no confirmed Customer Agreement is refused, and a cart checked out
// before answers with its first checkout's result, as Partner Center does.
func (f *Fake) checkoutCart(w http.ResponseWriter, r *http.Request) {
	c, ok := f.cart(w, r)
	if !ok {
		return
	}
	customerID := strings.ToLower(r.PathValue("id"))
	if c.checkout != nil {
		writeJSON(w, http.StatusOK, c.checkout)
		return
	}
	if len(f.commerce.agreements[customerID]) == 0 {
		writeError(w, http.StatusBadRequest, CodeAgreementMissing,
			"the customer's acceptance of the Microsoft Customer Agreement must be confirmed before a purchase")
		return
	}
	if f.subs[customerID] == nil {
		f.subs[customerID] = map[string]Subscription{}
	}
	o := Order{ID: newUUID(), ReferenceCustomerID: customerID, Status: "completed"}
	for _, li := range c.LineItems {
		s := Subscription{ID: newUUID(), OfferID: OfferOf(li.CatalogItemID), Quantity: li.Quantity, Status: StatusActive,
			TermDuration: li.TermDuration, BillingCycle: li.BillingCycle}
		f.subs[customerID][s.ID] = s
		o.LineItems = append(o.LineItems, LineItem{LineItemNumber: li.ID, OfferID: li.CatalogItemID, Quantity: li.Quantity,
			SubscriptionID: s.ID, TermDuration: li.TermDuration, BillingCycle: li.BillingCycle})
	}
	c.Status = "Ordered"
	c.checkout = &CheckoutResult{Orders: []Order{o}}
	f.commerce.arrivals = append(f.commerce.arrivals, Arrival{Customer: customerID, Kind: ArrivedCheckout, ID: c.ID})
	writeJSON(w, http.StatusOK, c.checkout)
}
