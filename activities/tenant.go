package activities

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// call names one step of one order at the tenant API: the same step retried
// sends the same MS-RequestId, so Partner Center answers it as a repeat.
func call(orderID, step string) tenant.Call {
	return tenant.Call{RequestID: tenant.RequestID(orderID, step), CorrelationID: tenant.RequestID(orderID)}
}

// CheckDomain fails for good when the order's domain belongs to someone
// else: the step of runs before leanTenant, which CreateTenant now takes.
func (a *Activities) CheckDomain(ctx context.Context, orderID string) error {
	o, err := a.Store.GetOrder(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	if o.Tenant != nil {
		return nil // ours already: an earlier attempt created the tenant
	}
	domain := o.DomainPrefix + ".onmicrosoft.com"
	free, err := a.domainFree(ctx, orderID, domain)
	if err == nil && !free {
		err = domainTaken(domain)
	}
	return err
}

func (a *Activities) domainFree(ctx context.Context, orderID, domain string) (bool, error) {
	free, err := a.Tenant.DomainAvailable(ctx, domain, call(orderID, "check-domain"))
	if err != nil {
		return false, tenantError(err)
	}
	return free, nil
}

func domainTaken(domain string) error {
	return temporal.NewNonRetryableApplicationError("domain "+domain+" is already taken", fail.DomainTaken, nil)
}

// CreateTenant checks the order's domain and creates the Microsoft 365
// customer with its admin. The temporary password is sealed into the
// database at once and never returned.
//
// The domain is checked first, as Partner Center asks; taken, the first
// attempt refuses it for good. A later attempt may follow a create whose
// answer was lost, the domain then taken by this very order: it sends the
// create again under the same request id, which Partner Center answers as
// a repeat, and which refuses a domain someone else took (409:
// DomainTaken, as the check).
func (a *Activities) CreateTenant(ctx context.Context, orderID string) (Tenant, error) {
	o, err := a.Store.GetOrder(ctx, orderID)
	if err != nil {
		return Tenant{}, dbError(err)
	}
	if t := o.Tenant; t != nil {
		return Tenant{TenantID: t.TenantID, Domain: t.Domain, AdminUser: t.AdminUser}, nil
	}
	domain := o.DomainPrefix + ".onmicrosoft.com"
	free, err := a.domainFree(ctx, orderID, domain)
	if err != nil {
		return Tenant{}, err
	}
	if !free && activity.GetInfo(ctx).Attempt == 1 {
		return Tenant{}, domainTaken(domain)
	}
	c := o.Customer
	culture := "pl-PL"
	if o.Language == "en" {
		culture = "en-US"
	}
	created, err := a.Tenant.CreateCustomer(ctx, tenant.Customer{
		CompanyProfile: tenant.CompanyProfile{Domain: domain, CompanyName: c.Company},
		BillingProfile: tenant.BillingProfile{
			Email: c.Email, Culture: culture, Language: o.Language, CompanyName: c.Company,
			DefaultAddress: tenant.Address{Country: c.Country, City: c.City, PostalCode: c.PostalCode,
				AddressLine1: c.AddressLine1, FirstName: c.FirstName, LastName: c.LastName},
		},
	}, call(orderID, "create-customer"))
	if err != nil {
		return Tenant{}, tenantError(err)
	}
	if created.UserCredentials == nil || created.UserCredentials.Password == "" {
		return Tenant{}, temporal.NewNonRetryableApplicationError("tenant API returned no admin credentials", fail.TenantRejected, nil)
	}
	sealed, err := a.Box.Seal(created.UserCredentials.Password, orderID)
	if err != nil {
		return Tenant{}, err
	}
	t, err := a.Store.SaveTenant(ctx, store.Tenant{
		OrderID: orderID, PartnerCustomer: created.ID, TenantID: created.CompanyProfile.TenantID,
		Domain: created.CompanyProfile.Domain, AdminUser: created.UserCredentials.UserName, PasswordSealed: sealed,
	})
	if err != nil {
		return Tenant{}, err
	}
	activity.GetLogger(ctx).Info("tenant created", "OrderID", orderID, "TenantID", t.TenantID)
	return Tenant{TenantID: t.TenantID, Domain: t.Domain, AdminUser: t.AdminUser}, nil
}

// tenantError sorts the tenant API's failures: throttling and outages are
// retried (after Retry-After when given), a taken domain and any other
// refusal are final.
func tenantError(err error) error {
	var apiErr *tenant.APIError
	if !errors.As(err, &apiErr) {
		return err // network failure or timeout: retry
	}
	if apiErr.Temporary() {
		return temporal.NewApplicationErrorWithOptions(apiErr.Error(), fail.TenantUnavailable, temporal.ApplicationErrorOptions{
			NextRetryDelay: apiErr.RetryAfter,
		})
	}
	if apiErr.Status == http.StatusConflict && apiErr.Code == tenant.CodeDomainTaken {
		return temporal.NewNonRetryableApplicationError(apiErr.Error(), fail.DomainTaken, nil)
	}
	return temporal.NewNonRetryableApplicationError(apiErr.Error(), fail.TenantRejected, nil)
}

// AssignAdminLicence gives the tenant's first admin (the user made with the
// customer) one of the plan's licences, unless the order said
// "admin_licence": false, and records the admin as a licensed user, so that
// it takes one of the seats and the panel lists it. The admin's id is found
// by its user principal name (Partner Center addresses users by id); the
// assignment is sent under one request id per order, so a retry after a lost
// answer is a repeat, and a user that holds the sku already is left as is.
func (a *Activities) AssignAdminLicence(ctx context.Context, orderID string) error {
	o, err := a.Store.GetOrder(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	return a.assignAdminLicence(ctx, o)
}

func (a *Activities) assignAdminLicence(ctx context.Context, o store.Order) error {
	orderID := o.ID
	t := o.Tenant
	if t == nil {
		return temporal.NewNonRetryableApplicationError("no tenant made for "+orderID, fail.InvalidOrder, nil)
	}
	if !o.AdminLicence {
		activity.GetLogger(ctx).Info("the order asked for no admin licence", "OrderID", orderID)
		return nil
	}
	if o.AdminLicensed {
		return nil // recorded by an earlier attempt
	}
	offer := o.OfferID // read with the order
	users, err := a.Tenant.ListUsers(ctx, t.PartnerCustomer, call(orderID, "list-users:admin"))
	if err != nil {
		return tenantError(err)
	}
	var admin *tenant.User
	for i, u := range users {
		if strings.EqualFold(u.UserPrincipalName, t.AdminUser) {
			admin = &users[i]
		}
	}
	if admin == nil {
		// The directory may not list a user made a moment ago: retried.
		return temporal.NewApplicationError("the tenant lists no admin "+t.AdminUser+" yet", fail.TenantUnavailable)
	}
	if err := a.Tenant.AssignLicences(ctx, t.PartnerCustomer, admin.ID, []string{offer}, call(orderID, "licence:admin")); err != nil {
		return tenantError(err)
	}
	name := admin.DisplayName
	if name == "" {
		name = t.AdminUser
	}
	activity.GetLogger(ctx).Info("admin licensed", "OrderID", orderID, "TenantUserID", admin.ID)
	return dbError(a.Store.AdminLicensed(ctx, orderID, strings.ToLower(t.AdminUser), name, admin.ID))
}
