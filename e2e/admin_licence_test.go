package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/stretchr/testify/require"
)

// TestOneSeatOrdersAdminHoldsTheLicence: provisioning gives the tenant's
// first admin one of the plan's licences. A one-seat order's admin holds
// the plan's sku at the tenant API, takes the seat in the users table (the
// shop sees no free seat: another licensed user is refused), cannot be
// removed through the API, and the credentials email says the admin holds
// the one licence and none is free.
func TestOneSeatOrdersAdminHoldsTheLicence(t *testing.T) {
	id, o := provisioned(t, 1)
	customer, s := atTenant(t, id)
	admin := dbString(t, `SELECT admin_user FROM tenants WHERE order_id = $1`, id)
	require.Equal(t, "admin@"+o["domain_prefix"].(string)+".onmicrosoft.com", admin)

	users := st.Fake.Users(customer)
	require.Len(t, users, 1)
	require.Equal(t, admin, users[0].UserPrincipalName)
	require.Equal(t, []string{s.OfferID}, users[0].AssignedSkus, "the admin holds the plan's licence at the tenant")
	require.Equal(t, 1, s.Quantity)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND user_name = $2 AND licensed AND status = 'created'
		AND tenant_user_id = $3`, id, admin, users[0].ID), "and takes the seat")

	m := waitMail(t, emailOf(o), "credentials")
	text := strings.Join(strings.Fields(m.Text), " ")
	require.Contains(t, text, "Państwa jedyną licencję")
	require.Contains(t, text, "Wolne licencje dla pozostałych użytkowników: 0")

	full := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": "ewa", "display_name": "Ewa", "assign_licence": true})
	require.Equal(t, 409, full.Status, string(full.Raw))
	require.EqualValues(t, 0, full.Body["error"].(map[string]any)["free"])

	gone := call(t, "DELETE", "/v1/orders/"+id+"/users/"+url.PathEscape(admin), shopKey, nil)
	require.Equal(t, 409, gone.Status, string(gone.Raw))
	require.Equal(t, "admin_user", gone.Body["error"].(map[string]any)["code"])
	require.Len(t, st.Fake.Users(customer), 1, "the admin is still there")
	record(t, id, "admin_licence_one_seat")
}

// TestOrderWithoutAdminLicenceLeavesEverySeatFree: "admin_licence": false
// leaves the admin without one; the seat is the shop's to give.
func TestOrderWithoutAdminLicenceLeavesEverySeatFree(t *testing.T) {
	o := newOrder(t)
	o["seats"], o["admin_licence"] = 1, false
	id := o["order_id"].(string)
	a := place(t, o)
	require.Equal(t, 202, a.Status, string(a.Raw))
	again := place(t, o)
	require.Equal(t, 202, again.Status, string(again.Raw))
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "the same order again")
	waitMail(t, emailOf(o), "billing_access")
	inv := getOrder(t, id).Body["invoice"].(map[string]any)
	n := notify(t, intake.Notification{OrderID: id, PaymentID: "p-" + id, Status: "completed", Amount: inv["gross"].(string), Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
	require.Equal(t, "installer_ready", string(waitDone(t, id).Status))

	customer, _ := atTenant(t, id)
	users := st.Fake.Users(customer)
	require.Len(t, users, 1)
	require.Empty(t, users[0].AssignedSkus, "the admin holds no licence")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1`, id))
	text := strings.Join(strings.Fields(waitMail(t, emailOf(o), "credentials").Text), " ")
	require.Contains(t, text, "Zgodnie z zamówieniem konto administratora nie ma przypisanej licencji")

	u := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": "ewa", "display_name": "Ewa", "assign_licence": true})
	require.Equal(t, 202, u.Status, "the seat is free: %s", u.Raw)
	record(t, id, "admin_licence_none")
}
