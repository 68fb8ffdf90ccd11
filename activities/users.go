package activities

import (
	"context"
	"strings"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// userSeal binds a user's sealed password to the order and the user, so
// one cannot be opened as another's.
func userSeal(orderID, userName string) string { return orderID + "/user/" + userName }

// CreateUser makes the user in the tenant. The temporary password is made
// and sealed into the database before the call, so a retry sends the same
// one and the email shows the one the tenant has.
func (a *Activities) CreateUser(ctx context.Context, orderID, userName string) error {
	u, err := a.Store.GetUser(ctx, orderID, userName)
	if err != nil {
		return dbError(err)
	}
	if u.TenantUserID != "" {
		return nil
	}
	t, err := a.Store.Tenant(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	sealed, err := a.Box.Seal(tenant.NewPassword(), userSeal(orderID, userName))
	if err != nil {
		return err
	}
	if sealed, err = a.Store.SealUserPassword(ctx, orderID, userName, sealed); err != nil {
		return dbError(err)
	}
	pw, err := a.Box.Open(sealed, userSeal(orderID, userName))
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), fail.InvalidOrder, nil)
	}
	first, last, _ := strings.Cut(u.DisplayName, " ")
	made, err := a.Tenant.CreateUser(ctx, t.PartnerCustomer, tenant.User{
		UserPrincipalName: userName, DisplayName: u.DisplayName, FirstName: first, LastName: last, UsageLocation: "PL",
		PasswordProfile: &tenant.PasswordProfile{Password: pw, ForceChangePassword: true},
	}, call(orderID, "user:"+userName+"#"+itoa(u.Attempt)))
	if err != nil {
		return tenantError(err)
	}
	activity.GetLogger(ctx).Info("user created", "OrderID", orderID, "TenantUserID", made.ID)
	return dbError(a.Store.UserMade(ctx, orderID, userName, made.ID))
}

// AssignLicence gives the user the plan's licence (the offer's sku).
func (a *Activities) AssignLicence(ctx context.Context, orderID, userName string) error {
	u, err := a.Store.GetUser(ctx, orderID, userName)
	if err != nil {
		return dbError(err)
	}
	o, err := a.Store.GetOrder(ctx, orderID)
	if err != nil {
		return dbError(err)
	}
	if o.Tenant == nil || u.TenantUserID == "" {
		return temporal.NewNonRetryableApplicationError("user "+userName+" not made yet", fail.InvalidOrder, nil)
	}
	offer := o.OfferID // read with the order
	err = a.Tenant.AssignLicences(ctx, o.Tenant.PartnerCustomer, u.TenantUserID, []string{offer}, call(orderID, "licence:"+userName+"#"+itoa(u.Attempt)))
	return tenantError(err)
}

// DeleteUser removes a user the customer asked to remove: deleted at the
// tenant API (under the same request id as any removal of this attempt, so a
// retry deletes nothing twice), then its seat given back.
func (a *Activities) DeleteUser(ctx context.Context, orderID, userName string) error {
	u, err := a.Store.GetUser(ctx, orderID, userName)
	if err != nil {
		return dbError(err)
	}
	if err := a.deleteAtTenant(ctx, u); err != nil {
		return err
	}
	return dbError(a.Store.UserRemoved(ctx, orderID, userName, u.Attempt))
}

func (a *Activities) deleteAtTenant(ctx context.Context, u store.User) error {
	if u.TenantUserID == "" {
		return nil
	}
	t, err := a.Store.Tenant(ctx, u.OrderID)
	if err != nil {
		return dbError(err)
	}
	if err := a.Tenant.DeleteUser(ctx, t.PartnerCustomer, u.TenantUserID, call(u.OrderID, "remove-user:"+u.UserName+"#"+itoa(u.Attempt))); err != nil {
		return tenantError(err)
	}
	return nil
}

// RemoveUser deletes what was made of a user at the tenant and gives the
// seat back.
func (a *Activities) RemoveUser(ctx context.Context, orderID, userName, reason string) error {
	u, err := a.Store.GetUser(ctx, orderID, userName)
	if err != nil {
		return dbError(err)
	}
	if err := a.deleteAtTenant(ctx, u); err != nil {
		return err
	}
	return dbError(a.Store.UserFailed(ctx, orderID, userName, reason))
}
