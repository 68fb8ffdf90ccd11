//go:build !production

package tenant

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Users returns the users of a customer sorted by user principal name, with
// the skus they hold and without passwords.
func (f *Fake) Users(customerID string) []User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedUsers(strings.ToLower(customerID))
}

// sortedUsers runs with f.mu held; customerID is lower-case. The result is
// never nil and shares no slices with the fake's state.
func (f *Fake) sortedUsers(customerID string) []User {
	return sortedValues(f.users[customerID], func(u User) string { return u.UserPrincipalName },
		func(u User) User { u.AssignedSkus = slices.Clone(u.AssignedSkus); return u })
}

// knownCustomer answers 404 for a path whose customer does not exist and
// returns the lower-case id otherwise.
func (f *Fake) knownCustomer(w http.ResponseWriter, r *http.Request) (string, bool) {
	customerID := strings.ToLower(r.PathValue("id"))
	if _, ok := f.customers[customerID]; !ok {
		writeError(w, http.StatusNotFound, "CustomerNotFound", "no such customer")
		return "", false
	}
	return customerID, true
}

func (f *Fake) createUser(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	var in User
	if !decode(w, r, &in) {
		return
	}
	upn := strings.ToLower(strings.TrimSpace(in.UserPrincipalName))
	local, domain, _ := strings.Cut(upn, "@")
	if !validLocalPart(local) || !f.userDomain(customerID, domain) {
		writeError(w, http.StatusBadRequest, "InvalidUserPrincipalName",
			"userPrincipalName must be local@<the customer's "+tenantSuffix+" domain or a verified domain>")
		return
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "displayName is required")
		return
	}
	if in.PasswordProfile == nil || in.PasswordProfile.Password == "" {
		writeError(w, http.StatusBadRequest, "InvalidPassword", "passwordProfile.password is required")
		return
	}
	for _, u := range f.users[customerID] {
		if u.UserPrincipalName == upn {
			writeError(w, http.StatusConflict, "UserExists", "a user "+upn+" already exists")
			return
		}
	}
	u := User{
		ID:                newUUID(),
		UserPrincipalName: upn,
		DisplayName:       in.DisplayName,
		FirstName:         in.FirstName,
		LastName:          in.LastName,
		UsageLocation:     in.UsageLocation,
	}
	if f.users[customerID] == nil {
		f.users[customerID] = map[string]User{}
	}
	f.users[customerID][u.ID] = u
	writeJSON(w, http.StatusCreated, u)
}

// userDomain reports whether users of the customer may live in domain: its
// initial domain or one of its verified custom domains.
func (f *Fake) userDomain(customerID, domain string) bool {
	if domain == "" {
		return false
	}
	if f.customers[customerID].CompanyProfile.Domain == domain {
		return true
	}
	d, ok := f.ownDomains[customerID][domain]
	return ok && d.IsVerified
}

// validLocalPart is a conservative subset of what Entra accepts.
func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && !strings.ContainsRune("._-'", c) {
			return false
		}
	}
	return true
}

func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	items := f.sortedUsers(customerID)
	writeJSON(w, http.StatusOK, collection[User]{
		TotalCount: len(items),
		Items:      items,
		Attributes: collectionAttributes{ObjectType: "Collection"},
	})
}

func (f *Fake) deleteUser(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	uid := strings.ToLower(r.PathValue("uid"))
	if _, ok := f.users[customerID][uid]; !ok {
		writeError(w, http.StatusNotFound, "UserNotFound", "no such user")
		return
	}
	// The user's skus go with it, which frees the seats.
	delete(f.users[customerID], uid)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) updateLicences(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	u, ok := f.userByIDOrName(customerID, r.PathValue("uid"))
	if !ok {
		writeError(w, http.StatusNotFound, "UserNotFound", "no such user")
		return
	}
	var in LicenseUpdate
	if !decode(w, r, &in) {
		return
	}
	if len(in.LicensesToAssign) == 0 && len(in.LicensesToRemove) == 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "nothing to change: set licensesToAssign or licensesToRemove")
		return
	}
	// Work on a copy and store it only when every sku passed, so a refused
	// update changes nothing.
	held := map[string]bool{}
	for _, s := range u.AssignedSkus {
		held[s] = true
	}
	for _, s := range in.LicensesToRemove {
		delete(held, s)
	}
	for _, a := range in.LicensesToAssign {
		if held[a.SkuID] {
			continue // already held (or listed twice): nothing to do
		}
		seats, active, known := f.offerSeats(customerID, a.SkuID)
		switch {
		case a.SkuID == "" || !known:
			writeError(w, http.StatusBadRequest, "InvalidSku", "the customer has no subscription of sku "+a.SkuID)
			return
		case !active:
			writeError(w, http.StatusConflict, "SubscriptionSuspended", "the subscriptions of sku "+a.SkuID+" are suspended")
			return
		}
		if free := seats - f.holders(customerID, a.SkuID, u.ID); free < 1 {
			writeError(w, http.StatusConflict, "InsufficientLicenses",
				fmt.Sprintf("sku %s has %d free licences of %d", a.SkuID, max(free, 0), seats))
			return
		}
		held[a.SkuID] = true
	}
	u.AssignedSkus = nil
	for s := range held {
		u.AssignedSkus = append(u.AssignedSkus, s)
	}
	slices.Sort(u.AssignedSkus)
	f.users[customerID][u.ID] = u

	out := LicenseUpdate{LicensesToAssign: in.LicensesToAssign, LicensesToRemove: in.LicensesToRemove, Status: "success"}
	if out.LicensesToAssign == nil {
		out.LicensesToAssign = []LicenseAssignment{}
	}
	writeJSON(w, http.StatusCreated, out)
}

// userByIDOrName finds a user by its id or, as Microsoft Graph's
// /users/{id | userPrincipalName} does, by its user principal name.
func (f *Fake) userByIDOrName(customerID, idOrName string) (User, bool) {
	idOrName = strings.ToLower(idOrName)
	if u, ok := f.users[customerID][idOrName]; ok {
		return u, true
	}
	for _, u := range f.users[customerID] {
		if u.UserPrincipalName == idOrName {
			return u, true
		}
	}
	return User{}, false
}

// offerSeats sums the seats of the customer's active subscriptions of offer.
// known says whether any subscription that is not deleted sells it; active
// whether one of them is active.
func (f *Fake) offerSeats(customerID, offer string) (seats int, active, known bool) {
	for _, s := range f.subs[customerID] {
		if s.OfferID != offer || s.Status == StatusDeleted {
			continue
		}
		known = true
		if s.Status == StatusActive {
			active = true
			seats += s.Quantity
		}
	}
	return seats, active, known
}

// holders counts the customer's users holding sku, leaving out user except.
func (f *Fake) holders(customerID, sku, except string) int {
	n := 0
	for _, u := range f.users[customerID] {
		if u.ID != except && slices.Contains(u.AssignedSkus, sku) {
			n++
		}
	}
	return n
}

// dropSku takes sku from every user of the customer, as when the last
// subscription selling it is deleted.
func (f *Fake) dropSku(customerID, sku string) {
	for id, u := range f.users[customerID] {
		if i := slices.Index(u.AssignedSkus, sku); i >= 0 {
			u.AssignedSkus = slices.Delete(slices.Clone(u.AssignedSkus), i, i+1)
			if len(u.AssignedSkus) == 0 {
				u.AssignedSkus = nil
			}
			f.users[customerID][id] = u
		}
	}
}
