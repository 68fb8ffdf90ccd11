package tenant

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// AddDomain adds a custom domain to a customer's tenant. The answer is
// unverified and carries the TXT record the owner must publish; adding the
// same domain again returns the same record.
func (c *Client) AddDomain(ctx context.Context, customerID, domain string, call Call) (Domain, error) {
	body := struct {
		ID string `json:"id"`
	}{domain}
	var out Domain
	err := c.do(ctx, http.MethodPost, domainsPath(customerID), call, body, &out)
	return out, err
}

// VerifyDomain asks the server to look for the domain's TXT record. Failing
// that is an *APIError with code "DomainVerificationFailed".
func (c *Client) VerifyDomain(ctx context.Context, customerID, domain string, call Call) (Domain, error) {
	var out Domain
	err := c.do(ctx, http.MethodPost, domainPath(customerID, domain)+"/verify", call, nil, &out)
	return out, err
}

// SetDefaultDomain makes a verified domain the customer's only default, the
// one new users and addresses get.
func (c *Client) SetDefaultDomain(ctx context.Context, customerID, domain string, call Call) (Domain, error) {
	body := struct {
		IsDefault bool `json:"isDefault"`
	}{true}
	var out Domain
	err := c.do(ctx, http.MethodPatch, domainPath(customerID, domain), call, body, &out)
	return out, err
}

// RemoveDomain removes a custom domain; one that is already gone counts as
// removed.
func (c *Client) RemoveDomain(ctx context.Context, customerID, domain string, call Call) error {
	return c.remove(ctx, domainPath(customerID, domain), call)
}

// ListDomains returns the custom domains of a customer.
func (c *Client) ListDomains(ctx context.Context, customerID string, call Call) ([]Domain, error) {
	return list[Domain](ctx, c, domainsPath(customerID), call)
}

func domainsPath(customerID string) string {
	return "/v1/customers/" + url.PathEscape(customerID) + "/domains"
}

func domainPath(customerID, domain string) string {
	return domainsPath(customerID) + "/" + url.PathEscape(domain)
}

// ErrRecordsUnavailable is the error ServiceRecords returns when the tenant
// has no records for the domain yet (it is not verified); Graph answers that
// with a record of type "Unavailable" rather than an error status.
type ErrRecordsUnavailable struct {
	Domain      string
	Description string
}

func (e *ErrRecordsUnavailable) Error() string {
	return "partner center: no service records for " + e.Domain + " yet: " + e.Description
}

// ServiceRecords lists the DNS records a verified domain needs for the
// tenant's services (mail: MX, the autodiscover CNAME, the SPF TXT), in the
// order the server gives them. An unverified domain gives
// *ErrRecordsUnavailable.
func (c *Client) ServiceRecords(ctx context.Context, customerID, domain string, call Call) ([]ServiceRecord, error) {
	var out graphCollection[ServiceRecord]
	if err := c.do(ctx, http.MethodGet, domainPath(customerID, domain)+"/serviceConfigurationRecords", call, nil, &out); err != nil {
		return nil, err
	}
	recs := make([]ServiceRecord, 0, len(out.Value))
	for _, r := range out.Value {
		if strings.EqualFold(r.RecordType, RecordUnavailable) {
			return nil, &ErrRecordsUnavailable{Domain: domain, Description: r.Description}
		}
		recs = append(recs, r)
	}
	return recs, nil
}
