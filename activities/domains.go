package activities

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// AddDomain adds the customer's domain to the tenant and keeps the TXT
// record the tenant asks to be published.
func (a *Activities) AddDomain(ctx context.Context, orderID, domain string) error {
	t, err := a.Store.Tenant(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	cur, err := a.Store.GetDomain(ctx, domain)
	if err != nil {
		return dbError(err)
	}
	d, err := a.Tenant.AddDomain(ctx, t.PartnerCustomer, domain, call(orderID, "domain:"+domain+"#"+itoa(cur.Attempt)))
	if err != nil {
		return tenantError(err)
	}
	for _, r := range d.VerificationDNSRecords {
		if r.RecordType == "Txt" || r.RecordType == "TXT" {
			name := r.Label
			if name == "" || name == "@" {
				name = domain
			}
			return dbError(a.Store.DomainRecord(ctx, domain, name, r.Text))
		}
	}
	return temporal.NewNonRetryableApplicationError("the tenant API gave no TXT record for "+domain, fail.TenantRejected, nil)
}

// CheckDNS tells whether the domain's TXT record is published, as the
// configured resolver sees it.
func (a *Activities) CheckDNS(ctx context.Context, domain string) (bool, error) {
	d, err := a.Store.GetDomain(ctx, domain)
	if err != nil {
		return false, dbError(err)
	}
	if d.TXTText == "" {
		return false, nil
	}
	seen, err := a.DNS.HasTXT(ctx, d.TXTName, d.TXTText)
	if err != nil {
		return false, err
	}
	activity.GetLogger(ctx).Info("DNS checked", "Domain", domain, "Seen", seen)
	return seen, nil
}

// VerifyDomain has the tenant verify the domain, makes it the default when
// the customer asked, and records it verified.
func (a *Activities) VerifyDomain(ctx context.Context, orderID, domain string) error {
	d, err := a.Store.GetDomain(ctx, domain)
	if err != nil {
		return dbError(err)
	}
	t, err := a.Store.Tenant(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	// The attempt is in the request id: a domain tried again is verified
	// anew, not answered from the first attempt's replay.
	step := "verify:" + domain + "#" + itoa(d.Attempt)
	if _, err := a.Tenant.VerifyDomain(ctx, t.PartnerCustomer, domain, call(orderID, step)); err != nil {
		return tenantError(err)
	}
	if d.MakeDefault {
		if _, err := a.Tenant.SetDefaultDomain(ctx, t.PartnerCustomer, domain, call(orderID, "default:"+domain+"#"+itoa(d.Attempt))); err != nil {
			return tenantError(err)
		}
	}
	return dbError(a.Store.DomainDone(ctx, domain, true, "TXT record seen"))
}

// GiveUpDomain removes a domain never verified from the tenant.
func (a *Activities) GiveUpDomain(ctx context.Context, orderID, domain, reason string) error {
	t, err := a.Store.Tenant(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	d, err := a.Store.GetDomain(ctx, domain)
	if err != nil {
		return dbError(err)
	}
	err = a.Tenant.RemoveDomain(ctx, t.PartnerCustomer, domain, call(orderID, "remove-domain:"+domain+"#"+itoa(d.Attempt)))
	var apiErr *tenant.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		err = nil // never added: nothing to remove
	}
	if err != nil {
		return tenantError(err)
	}
	return dbError(a.Store.DomainDone(ctx, domain, false, reason))
}

func itoa(n int) string { return strconv.Itoa(n) }
