//go:build !production

package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Route handlers run with f.mu held (see dispatch) and write to a
// bufferedWriter, so they may read and change the fake's maps freely.

func (f *Fake) headDomain(w http.ResponseWriter, r *http.Request) {
	if f.domains[strings.ToLower(r.PathValue("domain"))] {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusNotFound)
}

const tenantSuffix = ".onmicrosoft.com"

func (f *Fake) createCustomer(w http.ResponseWriter, r *http.Request) {
	var in Customer
	if !decode(w, r, &in) {
		return
	}
	domain := strings.ToLower(strings.TrimSpace(in.CompanyProfile.Domain))
	if !validTenantDomain(domain) {
		writeError(w, http.StatusBadRequest, "InvalidDomain",
			"domain must be <letters and digits>"+tenantSuffix)
		return
	}
	if f.domains[domain] {
		writeError(w, http.StatusConflict, CodeDomainTaken, "the domain "+domain+" is already in use")
		return
	}
	if !strings.Contains(in.BillingProfile.Email, "@") {
		writeError(w, http.StatusBadRequest, "InvalidBillingEmail", "billingProfile.email is required")
		return
	}

	c := in
	c.ID = newUUID()
	c.CompanyProfile.Domain = domain
	c.CompanyProfile.TenantID = newUUID()
	c.UserCredentials = nil
	f.customers[c.ID] = c
	f.domains[domain] = true

	c.UserCredentials = &UserCredentials{UserName: "admin@" + domain, Password: NewPassword()}
	// The admin is a user of the tenant like any other, without a licence
	// until one is assigned.
	admin := User{ID: newUUID(), UserPrincipalName: c.UserCredentials.UserName, DisplayName: adminDisplayName(in.BillingProfile.DefaultAddress),
		FirstName: in.BillingProfile.DefaultAddress.FirstName, LastName: in.BillingProfile.DefaultAddress.LastName,
		UsageLocation: in.BillingProfile.DefaultAddress.Country}
	f.users[c.ID] = map[string]User{admin.ID: admin}
	writeJSON(w, http.StatusCreated, c)
}

func adminDisplayName(a Address) string {
	if n := strings.TrimSpace(a.FirstName + " " + a.LastName); n != "" {
		return n
	}
	return "Administrator"
}

// validTenantDomain mirrors Microsoft's rule for the initial domain: the
// prefix holds letters and digits only.
func validTenantDomain(d string) bool {
	prefix, ok := strings.CutSuffix(d, tenantSuffix)
	if !ok || prefix == "" || len(prefix) > 63 {
		return false
	}
	for _, c := range prefix {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (f *Fake) getCustomer(w http.ResponseWriter, r *http.Request) {
	c, ok := f.customers[strings.ToLower(r.PathValue("id"))]
	if !ok {
		writeError(w, http.StatusNotFound, "CustomerNotFound", "no such customer")
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (f *Fake) createOrder(w http.ResponseWriter, r *http.Request) {
	customerID := strings.ToLower(r.PathValue("id"))
	if _, ok := f.customers[customerID]; !ok {
		writeError(w, http.StatusNotFound, "CustomerNotFound", "no such customer")
		return
	}
	var in Order
	if !decode(w, r, &in) {
		return
	}
	if len(in.LineItems) == 0 {
		writeError(w, http.StatusBadRequest, "InvalidOrder", "an order needs at least one line item")
		return
	}
	// Validate everything first so a bad line item leaves no half order.
	for _, li := range in.LineItems {
		if li.OfferID == "" {
			writeError(w, http.StatusBadRequest, "InvalidOffer", "line item "+strconv.Itoa(li.LineItemNumber)+" has no offerId")
			return
		}
		if li.Quantity < MinQuantity || li.Quantity > MaxQuantity {
			writeError(w, http.StatusBadRequest, "InvalidQuantity",
				"line item "+strconv.Itoa(li.LineItemNumber)+": quantity must be 1..300")
			return
		}
	}
	if f.subs[customerID] == nil {
		f.subs[customerID] = map[string]Subscription{}
	}
	out := Order{ID: newUUID(), ReferenceCustomerID: customerID, Status: "completed"}
	for _, li := range in.LineItems {
		s := Subscription{ID: newUUID(), OfferID: li.OfferID, Quantity: li.Quantity, Status: StatusActive}
		f.subs[customerID][s.ID] = s
		li.SubscriptionID = s.ID
		out.LineItems = append(out.LineItems, li)
	}
	writeJSON(w, http.StatusCreated, out)
}

func (f *Fake) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	customerID := strings.ToLower(r.PathValue("id"))
	if _, ok := f.customers[customerID]; !ok {
		writeError(w, http.StatusNotFound, "CustomerNotFound", "no such customer")
		return
	}
	items := f.sortedSubscriptions(customerID)
	writeJSON(w, http.StatusOK, collection[Subscription]{
		TotalCount: len(items),
		Items:      items,
		Attributes: collectionAttributes{ObjectType: "Collection"},
	})
}

func (f *Fake) getSubscription(w http.ResponseWriter, r *http.Request) {
	s, ok := f.subscription(w, r)
	if ok {
		writeJSON(w, http.StatusOK, s)
	}
}

func (f *Fake) patchSubscription(w http.ResponseWriter, r *http.Request) {
	s, ok := f.subscription(w, r)
	if !ok {
		return
	}
	if s.Status == StatusDeleted {
		writeError(w, http.StatusConflict, "SubscriptionDeleted", "the subscription is deleted and cannot be changed")
		return
	}
	var in Subscription
	if !decode(w, r, &in) {
		return
	}
	if in.Quantity == 0 && in.Status == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "nothing to change: set quantity or status")
		return
	}
	if in.Quantity != 0 && (in.Quantity < MinQuantity || in.Quantity > MaxQuantity) {
		writeError(w, http.StatusBadRequest, "InvalidQuantity", "quantity must be 1..300")
		return
	}
	if in.Status != "" && in.Status != StatusActive && in.Status != StatusSuspended && in.Status != StatusDeleted {
		writeError(w, http.StatusBadRequest, "InvalidStatus", "status must be active, suspended or deleted")
		return
	}
	customerID := strings.ToLower(r.PathValue("id"))
	if in.Quantity != 0 && in.Quantity < s.Quantity && in.Status != StatusDeleted {
		// Seats of the offer's other live subscriptions still cover users.
		seats := in.Quantity
		for _, o := range f.subs[customerID] {
			if o.ID != s.ID && o.OfferID == s.OfferID && o.Status != StatusDeleted {
				seats += o.Quantity
			}
		}
		if held := f.holders(customerID, s.OfferID, ""); seats < held {
			writeError(w, http.StatusConflict, "LicencesInUse",
				fmt.Sprintf("%d licences of %s are assigned to users; unassign them first", held, s.OfferID))
			return
		}
	}
	if in.Quantity != 0 {
		s.Quantity = in.Quantity
	}
	switch {
	case in.Status == StatusSuspended && s.Status != StatusSuspended:
		if f.suspended[customerID] == nil {
			f.suspended[customerID] = map[string]int{}
		}
		f.suspended[customerID][s.ID]++
	case in.Status == StatusActive && s.Status == StatusSuspended:
		f.reactivations++
	case in.Status == StatusDeleted:
		f.deletions++
	}
	if in.Status != "" {
		s.Status = in.Status
	}
	f.subs[customerID][s.ID] = s
	if s.Status == StatusDeleted {
		// Users lose the licence once nothing sells it any more.
		if _, _, known := f.offerSeats(customerID, s.OfferID); !known {
			f.dropSku(customerID, s.OfferID)
		}
	}
	writeJSON(w, http.StatusOK, s)
}

// subscription looks up the path's subscription or answers 404.
func (f *Fake) subscription(w http.ResponseWriter, r *http.Request) (Subscription, bool) {
	customerID := strings.ToLower(r.PathValue("id"))
	if _, ok := f.customers[customerID]; !ok {
		writeError(w, http.StatusNotFound, "CustomerNotFound", "no such customer")
		return Subscription{}, false
	}
	s, ok := f.subs[customerID][strings.ToLower(r.PathValue("sid"))]
	if !ok {
		writeError(w, http.StatusNotFound, "SubscriptionNotFound", "no such subscription")
		return Subscription{}, false
	}
	return s, true
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "request body is missing or not valid JSON")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServerError", "encode answer")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	b, _ := json.Marshal(struct {
		Code        string `json:"code"`
		Description string `json:"description"`
	}{code, description})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeFault(w http.ResponseWriter, ft Fault) {
	if ft.RetryAfter > 0 {
		secs := int64((ft.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	code := ft.Code
	if code == "" {
		code = strings.ReplaceAll(http.StatusText(ft.Status), " ", "")
	}
	writeError(w, ft.Status, code, "injected fault")
}

// reply is a complete answer, kept for MS-RequestId replays.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (rp reply) writeTo(w http.ResponseWriter) {
	for k, v := range rp.header {
		w.Header()[k] = append([]string(nil), v...)
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body)
}

// bufferedWriter holds an answer back until the fault logic decides whether
// the client gets to see it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedWriter() *bufferedWriter { return &bufferedWriter{header: http.Header{}} }

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) reply() reply {
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	return reply{status: status, header: b.header.Clone(), body: bytes.Clone(b.body.Bytes())}
}
