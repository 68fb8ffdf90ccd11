package e2e

import (
	"net/url"
	"testing"

	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// TestRemovedUserFreesItsSeat: the shop removes a user through the API
// (the panel's form calls the same intake method): 202, the UserRemoval
// workflow deletes it at the tenant API, and its seat takes another user.
// A repeat answers the same and starts nothing more; an unknown user, or
// another shop's, is 404.
func TestRemovedUserFreesItsSeat(t *testing.T) {
	id, _ := provisioned(t, 2) // one for the admin, one for anna, then piotr
	a := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": "anna", "display_name": "Anna", "assign_licence": true})
	require.Equal(t, 202, a.Status, string(a.Raw))
	upn := a.Body["user_name"].(string)
	require.Equal(t, workflows.StageDone, waitAfter(t, a.Body["workflow_id"].(string)).Stage)

	path := "/v1/orders/" + id + "/users/" + url.PathEscape(upn)
	require.Equal(t, 404, call(t, "DELETE", path, "other-key", nil).Status, "another shop's order")
	require.Equal(t, 404, call(t, "DELETE", "/v1/orders/"+id+"/users/nobody@x.pl", shopKey, nil).Status)
	d := call(t, "DELETE", path, shopKey, nil)
	require.Equal(t, 202, d.Status, string(d.Raw))
	require.Equal(t, "removing", d.Body["status"])
	wid := d.Body["workflow_id"].(string)
	require.Equal(t, workflows.StageDone, waitAfter(t, wid).Stage)
	again := call(t, "DELETE", path, shopKey, nil)
	require.Equal(t, 202, again.Status, string(again.Raw))
	require.Equal(t, "removed", again.Body["status"])

	customer, _ := atTenant(t, id)
	for _, u := range st.Fake.Users(customer) {
		require.NotEqual(t, upn, u.UserPrincipalName)
	}
	b := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": "piotr", "display_name": "Piotr", "assign_licence": true})
	require.Equal(t, 202, b.Status, "the seat is free again: %s", b.Raw)
	require.Equal(t, workflows.StageDone, waitAfter(t, b.Body["workflow_id"].(string)).Stage)
	recordRun(t, wid, "", "user_removed")
}
