//go:build !production

package tenant

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Domains returns the custom domains of a customer sorted by name. The
// initial .onmicrosoft.com domain is not among them.
func (f *Fake) Domains(customerID string) []Domain {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedDomains(strings.ToLower(customerID))
}

// sortedDomains runs with f.mu held; customerID is lower-case. The result is
// never nil and shares no slices with the fake's state.
func (f *Fake) sortedDomains(customerID string) []Domain {
	return sortedValues(f.ownDomains[customerID], func(d Domain) string { return d.ID },
		func(d Domain) Domain { d.VerificationDNSRecords = slices.Clone(d.VerificationDNSRecords); return d })
}

// verificationTXTTTL is the TTL Partner Center suggests for the record.
const verificationTXTTTL = 3600

// verificationText derives the TXT value from customer and domain so that
// adding the same domain again (or a retry whose answer was lost) hands out
// the record the owner may already have published.
func verificationText(customerID, domain string) string {
	sum := sha256.Sum256([]byte(customerID + "\x00" + domain))
	return fmt.Sprintf("MS=ms%08d", binary.BigEndian.Uint64(sum[:8])%100_000_000)
}

func (f *Fake) addDomain(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	var in struct {
		ID string `json:"id"`
	}
	if !decode(w, r, &in) {
		return
	}
	name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(in.ID)), ".")
	if !validCustomDomain(name) {
		writeError(w, http.StatusBadRequest, "InvalidDomain",
			"id must be a DNS name such as example.com and not a "+tenantSuffix+" domain")
		return
	}
	if owner, ok := f.domainOwner[name]; ok {
		if owner == customerID {
			writeJSON(w, http.StatusOK, f.ownDomains[customerID][name])
			return
		}
		writeError(w, http.StatusConflict, CodeDomainTaken, "the domain "+name+" is already in use")
		return
	}
	if f.domains[name] {
		writeError(w, http.StatusConflict, CodeDomainTaken, "the domain "+name+" is already in use")
		return
	}
	d := Domain{ID: name, VerificationDNSRecords: []DNSRecord{{
		RecordType: "Txt", Label: name, Text: verificationText(customerID, name), TTL: verificationTXTTTL,
	}}}
	if f.ownDomains[customerID] == nil {
		f.ownDomains[customerID] = map[string]Domain{}
	}
	f.ownDomains[customerID][name] = d
	f.domainOwner[name] = customerID
	writeJSON(w, http.StatusCreated, d)
}

// validCustomDomain accepts lower-case host names of two or more labels
// whose last label is not numeric (so no IP addresses), and refuses the
// .onmicrosoft.com names Microsoft hands out itself.
func validCustomDomain(d string) bool {
	if len(d) > 253 || d == strings.TrimPrefix(tenantSuffix, ".") || strings.HasSuffix(d, tenantSuffix) {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return strings.ContainsFunc(labels[len(labels)-1], func(c rune) bool { return c < '0' || c > '9' })
}

// ownDomain looks up the path's custom domain or answers 404 (400 for the
// initial domain, which cannot be changed).
func (f *Fake) ownDomain(w http.ResponseWriter, r *http.Request) (string, Domain, bool) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return "", Domain{}, false
	}
	name := strings.ToLower(r.PathValue("domain"))
	if strings.HasSuffix(name, tenantSuffix) {
		writeError(w, http.StatusBadRequest, "InvalidDomain", "the initial "+tenantSuffix+" domain cannot be changed")
		return "", Domain{}, false
	}
	d, ok := f.ownDomains[customerID][name]
	if !ok {
		writeError(w, http.StatusNotFound, "DomainNotFound", "the customer has no domain "+name)
		return "", Domain{}, false
	}
	return customerID, d, true
}

func (f *Fake) verifyDomain(w http.ResponseWriter, r *http.Request) {
	customerID, d, ok := f.ownDomain(w, r)
	if !ok {
		return
	}
	if !d.IsVerified {
		rec := d.VerificationDNSRecords[0]
		if f.VerifyTXT != nil && !f.VerifyTXT(d.ID, rec.Text) {
			writeError(w, http.StatusBadRequest, "DomainVerificationFailed",
				"TXT record "+rec.Text+" not found at "+rec.Label)
			return
		}
		d.IsVerified = true
		f.ownDomains[customerID][d.ID] = d
	}
	writeJSON(w, http.StatusOK, d)
}

func (f *Fake) patchDomain(w http.ResponseWriter, r *http.Request) {
	customerID, d, ok := f.ownDomain(w, r)
	if !ok {
		return
	}
	var in struct {
		IsDefault *bool `json:"isDefault"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.IsDefault == nil || !*in.IsDefault {
		// Unsetting a default would leave the choice to the service; callers
		// pick another default instead.
		writeError(w, http.StatusBadRequest, "InvalidRequest", `only {"isDefault":true} can be set`)
		return
	}
	if !d.IsVerified {
		writeError(w, http.StatusBadRequest, "DomainNotVerified", "the domain "+d.ID+" is not verified")
		return
	}
	for name, o := range f.ownDomains[customerID] {
		o.IsDefault = name == d.ID
		f.ownDomains[customerID][name] = o
	}
	d.IsDefault = true
	writeJSON(w, http.StatusOK, d)
}

func (f *Fake) deleteDomain(w http.ResponseWriter, r *http.Request) {
	customerID, d, ok := f.ownDomain(w, r)
	if !ok {
		return
	}
	for _, u := range f.users[customerID] {
		if strings.HasSuffix(u.UserPrincipalName, "@"+d.ID) {
			writeError(w, http.StatusConflict, "DomainInUse", "users such as "+u.UserPrincipalName+" still use the domain "+d.ID)
			return
		}
	}
	delete(f.ownDomains[customerID], d.ID)
	delete(f.domainOwner, d.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) listDomains(w http.ResponseWriter, r *http.Request) {
	customerID, ok := f.knownCustomer(w, r)
	if !ok {
		return
	}
	items := f.sortedDomains(customerID)
	writeJSON(w, http.StatusOK, collection[Domain]{
		TotalCount: len(items),
		Items:      items,
		Attributes: collectionAttributes{ObjectType: "Collection"},
	})
}
