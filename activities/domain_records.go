package activities

import (
	"context"
	"errors"
	"strings"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// FetchDomainRecords asks the tenant which DNS records the verified domain
// needs for mail and keeps them for the emails, the panel and the checks;
// it tells whether there are any. A plan without a mailbox has none: its
// domain's MX must stay where the customer's mail already goes, so nothing
// is asked. It is safe to repeat: the records are upserted.
func (a *Activities) FetchDomainRecords(ctx context.Context, orderID, domain string) (bool, error) {
	o, err := a.Store.GetOrder(ctx, orderID)
	if err != nil {
		return false, dbError(err)
	}
	if p, ok := order.PlanByCode(o.Plan); ok && p.MailboxGB == 0 {
		return false, nil
	}
	return true, a.fetchDomainRecords(ctx, orderID, domain)
}

func (a *Activities) fetchDomainRecords(ctx context.Context, orderID, domain string) error {
	t, err := a.Store.Tenant(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	d, err := a.Store.GetDomain(ctx, domain)
	if err != nil {
		return dbError(err)
	}
	recs, err := a.Tenant.ServiceRecords(ctx, t.PartnerCustomer, domain, call(orderID, "records:"+domain+"#"+itoa(d.Attempt)))
	var unavailable *tenant.ErrRecordsUnavailable
	if errors.As(err, &unavailable) {
		// Just verified, the tenant may not have the records yet: a retry
		// asks again.
		return temporal.NewApplicationError(unavailable.Error(), fail.TenantUnavailable)
	}
	if err != nil {
		return tenantError(err)
	}
	var keep []store.ServiceRecord
	for _, r := range recs {
		typ := strings.ToUpper(r.RecordType)
		if typ != "MX" && typ != "CNAME" && typ != "TXT" {
			// SRV records belong to Skype for Business, which these plans
			// do not sell; no other type carries mail.
			activity.GetLogger(ctx).Info("service record not kept", "Domain", domain, "Type", r.RecordType)
			continue
		}
		pref := 0
		if r.Preference != nil {
			pref = *r.Preference
		}
		keep = append(keep, store.ServiceRecord{Type: typ, Name: nameOf(r.Label, domain), Value: r.Value(), Preference: pref, TTL: r.TTL})
	}
	if len(keep) == 0 {
		return temporal.NewNonRetryableApplicationError("the tenant API gave no mail records for "+domain, fail.TenantRejected, nil)
	}
	return dbError(a.Store.SetDomainRecords(ctx, domain, keep))
}

// nameOf is a record's full name: Graph gives full names, but an "@" or an
// empty label means the domain itself.
func nameOf(label, domain string) string {
	if label == "" || label == "@" {
		return domain
	}
	return strings.TrimSuffix(label, ".")
}

// CheckDomainRecords looks each of the domain's mail records up through
// the configured resolver, records what it saw, and names the ones not
// published ("MX acme.pl"), in the tenant's order. A lookup that fails is
// an error: not an answer, so the caller checks again later.
func (a *Activities) CheckDomainRecords(ctx context.Context, domain string) ([]string, error) {
	recs, err := a.Store.DomainRecords(ctx, domain)
	if err != nil {
		return nil, dbError(err)
	}
	if len(recs) == 0 {
		return nil, temporal.NewNonRetryableApplicationError("no mail records kept for "+domain, fail.InvalidOrder, nil)
	}
	var missing []string
	for _, r := range recs {
		var seen bool
		switch r.Type {
		case "MX":
			seen, err = a.DNS.HasMX(ctx, r.Name, r.Value)
		case "CNAME":
			seen, err = a.DNS.HasCNAME(ctx, r.Name, r.Value)
		default:
			seen, err = a.DNS.HasTXTFold(ctx, r.Name, r.Value)
		}
		if err != nil {
			return nil, err
		}
		if err := a.Store.MarkDomainRecord(ctx, domain, r, seen); err != nil {
			return nil, dbError(err)
		}
		if !seen {
			missing = append(missing, r.Type+" "+r.Name)
		}
	}
	activity.GetLogger(ctx).Info("mail records checked", "Domain", domain, "Missing", len(missing))
	return missing, nil
}

// DomainRecordsDone ends the checks of the domain's mail records as the
// last check left them in the database: all published is ready for mail,
// otherwise records_missing. It names the missing ones ("MX acme.pl"); a
// repeat gives the same answer and changes nothing.
func (a *Activities) DomainRecordsDone(ctx context.Context, domain string) ([]string, error) {
	recs, err := a.Store.DomainRecords(ctx, domain)
	if err != nil {
		return nil, dbError(err)
	}
	var missing []string
	for _, r := range recs {
		if !r.Published {
			missing = append(missing, r.Type+" "+r.Name)
		}
	}
	if len(recs) == 0 {
		missing = []string{"all (the tenant gave none)"}
	}
	return missing, dbError(a.Store.DomainRecordsDone(ctx, domain, len(missing) == 0, strings.Join(missing, ", ")))
}

// mailRecords are the domain's mail records as the emails show them.
func (a *Activities) mailRecords(ctx context.Context, domain string) ([]mail.Record, error) {
	recs, err := a.Store.DomainRecords(ctx, domain)
	if err != nil {
		return nil, dbError(err)
	}
	out := make([]mail.Record, 0, len(recs))
	for _, r := range recs {
		out = append(out, mail.Record{Type: r.Type, Name: r.Name, Value: r.Value, Preference: r.Preference, Published: r.Published})
	}
	return out, nil
}
