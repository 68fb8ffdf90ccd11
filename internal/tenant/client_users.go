package tenant

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// CreateUser creates a user in a customer's tenant with the password in
// u.PasswordProfile. The answer carries the user's id but never the password.
func (c *Client) CreateUser(ctx context.Context, customerID string, u User, call Call) (User, error) {
	var out User
	err := c.do(ctx, http.MethodPost, usersPath(customerID), call, u, &out)
	return out, err
}

// DeleteUser deletes a user, freeing its licences. A user that is already
// gone counts as deleted.
func (c *Client) DeleteUser(ctx context.Context, customerID, userID string, call Call) error {
	return c.remove(ctx, usersPath(customerID)+"/"+url.PathEscape(userID), call)
}

// AssignLicences gives a user one licence of each sku (a subscription's
// offer id). Skus the user already holds are left as they are.
func (c *Client) AssignLicences(ctx context.Context, customerID, userID string, skus []string, call Call) error {
	in := LicenseUpdate{LicensesToAssign: make([]LicenseAssignment, len(skus))}
	for i, s := range skus {
		in.LicensesToAssign[i] = LicenseAssignment{SkuID: s}
	}
	path := usersPath(customerID) + "/" + url.PathEscape(userID) + "/licenseupdates"
	var out LicenseUpdate
	if err := c.do(ctx, http.MethodPost, path, call, in, &out); err != nil {
		return err
	}
	// Partner Center may accept an update without applying it; the caller
	// must not report licences that the user does not have.
	if out.Status != "success" {
		return fmt.Errorf("tenant: %s %s: licence update status %q", http.MethodPost, path, out.Status)
	}
	return nil
}

// ListUsers returns all users of a customer with the skus they hold.
func (c *Client) ListUsers(ctx context.Context, customerID string, call Call) ([]User, error) {
	return list[User](ctx, c, usersPath(customerID), call)
}

func usersPath(customerID string) string {
	return "/v1/customers/" + url.PathEscape(customerID) + "/users"
}
