package tenant

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testSku = "CFQ7TTC0LH18:0001"

// customerWithSeats creates customer "contoso" with one active subscription
// of testSku holding seats licences.
func customerWithSeats(t *testing.T, c *Client, seats int) (customerID, subID string) {
	t.Helper()
	ctx := context.Background()
	cust, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)
	order, err := c.CreateOrder(ctx, cust.ID, Order{LineItems: []LineItem{{OfferID: testSku, Quantity: seats}}}, callFor("o1", "order"))
	require.NoError(t, err)
	return cust.ID, order.LineItems[0].SubscriptionID
}

// adminOf is the id of the admin made with the customer.
func adminOf(t *testing.T, fake *Fake, customerID string) string {
	t.Helper()
	for _, u := range fake.Users(customerID) {
		if strings.HasPrefix(u.UserPrincipalName, "admin@") {
			return u.ID
		}
	}
	t.Fatalf("customer %s has no admin", customerID)
	return ""
}

// withoutAdmin leaves out the admin made with the customer.
func withoutAdmin(users []User) []User {
	var out []User
	for _, u := range users {
		if !strings.HasPrefix(u.UserPrincipalName, "admin@") {
			out = append(out, u)
		}
	}
	return out
}

func upns(users []User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.UserPrincipalName)
	}
	return out
}

// The admin made with the customer is one of its users, without a licence
// until one is assigned; a licence goes to it by its id or, as Microsoft
// Graph allows, by its user principal name, and takes a seat.
func TestCustomersAdminIsAUserThatTakesASeat(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, err := c.CreateCustomer(ctx, testCustomer("contoso"), callFor("o1", "customer"))
	require.NoError(t, err)
	users, err := c.ListUsers(ctx, cust.ID, callFor("o1", "list"))
	require.NoError(t, err)
	require.Len(t, users, 1)
	require.Equal(t, cust.UserCredentials.UserName, users[0].UserPrincipalName)
	require.Equal(t, "Ada Lovelace", users[0].DisplayName)
	require.Empty(t, users[0].AssignedSkus)

	_, err = c.CreateOrder(ctx, cust.ID, Order{LineItems: []LineItem{{OfferID: testSku, Quantity: 1}}}, callFor("o1", "order"))
	require.NoError(t, err)
	require.NoError(t, c.AssignLicences(ctx, cust.ID, "Admin@Contoso.onmicrosoft.com", []string{testSku}, callFor("o1", "licence:admin")))
	require.NoError(t, c.AssignLicences(ctx, cust.ID, users[0].ID, []string{testSku}, callFor("o1", "licence:admin-by-id")), "held already")
	require.Equal(t, []string{testSku}, fake.Users(cust.ID)[0].AssignedSkus)

	err = c.AssignLicences(ctx, cust.ID, newUser(t, c, cust.ID, "jan"), []string{testSku}, callFor("o1", "licence:jan"))
	require.Equal(t, "InsufficientLicenses", requireAPIError(t, err, http.StatusConflict).Code, "the admin holds the one seat")
	err = c.AssignLicences(ctx, cust.ID, "nobody@contoso.onmicrosoft.com", []string{testSku}, callFor("o1", "licence:nobody"))
	require.Equal(t, "UserNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
}

func testUser(local string) User {
	return User{
		UserPrincipalName: local + "@contoso.onmicrosoft.com",
		DisplayName:       "User " + local, FirstName: "Ada", LastName: "Lovelace", UsageLocation: "PL",
		PasswordProfile: &PasswordProfile{Password: "Initial-Passw0rd!", ForceChangePassword: true},
	}
}

// newUser creates testUser(local) and returns its id.
func newUser(t *testing.T, c *Client, customerID, local string) string {
	t.Helper()
	u, err := c.CreateUser(context.Background(), customerID, testUser(local), callFor("o1", "user-"+local))
	require.NoError(t, err)
	return u.ID
}

// rawStatus sends a request past the Client and returns the status and body.
func rawStatus(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

func TestCreateUserAnswersWithoutPassword(t *testing.T) {
	fake, c, srv := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)

	got, err := c.CreateUser(ctx, cust, testUser("Jan.Kowalski"), callFor("o1", "user"))
	require.NoError(t, err)
	require.Regexp(t, uuidRe, got.ID)
	want := User{ID: got.ID, UserPrincipalName: "jan.kowalski@contoso.onmicrosoft.com",
		DisplayName: "User Jan.Kowalski", FirstName: "Ada", LastName: "Lovelace", UsageLocation: "PL"}
	require.Equal(t, want, got, "no password in the answer")
	require.Equal(t, []User{want}, withoutAdmin(fake.Users(cust)))

	listed, err := c.ListUsers(ctx, cust, callFor("o1", "list"))
	require.NoError(t, err)
	require.Equal(t, []User{want}, withoutAdmin(listed))

	u := testUser("raw")
	status, body := rawStatus(t, srv, http.MethodPost, "/v1/customers/"+cust+"/users",
		`{"userPrincipalName":"`+u.UserPrincipalName+`","displayName":"Raw","usageLocation":"PL","passwordProfile":{"password":"Secret-123!"}}`)
	require.Equal(t, http.StatusCreated, status)
	require.NotContains(t, body, "Secret-123!")
	require.NotContains(t, body, "password")
}

func TestCreateUserReplayAndDuplicate(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	call := callFor("o1", "user")

	first, err := c.CreateUser(ctx, cust, testUser("jan"), call)
	require.NoError(t, err)
	again, err := c.CreateUser(ctx, cust, testUser("jan"), call)
	require.NoError(t, err, "a replay must not hit the UserExists check")
	require.Equal(t, first, again)
	require.Len(t, withoutAdmin(fake.Users(cust)), 1)

	_, err = c.CreateUser(ctx, cust, testUser("JAN"), callFor("o2", "user"))
	require.Equal(t, "UserExists", requireAPIError(t, err, http.StatusConflict).Code)
	require.Len(t, withoutAdmin(fake.Users(cust)), 1)
}

func TestCreateUserPrincipalNameRule(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	other, err := c.CreateCustomer(ctx, testCustomer("fabrikam"), callFor("o2", "customer"))
	require.NoError(t, err)
	_, err = c.AddDomain(ctx, cust, "acme.pl", callFor("o1", "add-acme"))
	require.NoError(t, err)
	_, err = c.AddDomain(ctx, cust, "later.pl", callFor("o1", "add-later"))
	require.NoError(t, err)
	_, err = c.VerifyDomain(ctx, cust, "acme.pl", callFor("o1", "verify-acme"))
	require.NoError(t, err)

	for name, upn := range map[string]string{
		"no at":               "jan",
		"empty local":         "@contoso.onmicrosoft.com",
		"bad local":           "jan kowalski@contoso.onmicrosoft.com",
		"foreign domain":      "jan@example.com",
		"other customer's":    "jan@fabrikam.onmicrosoft.com",
		"unverified own":      "jan@later.pl",
		"subdomain of own":    "jan@mail.acme.pl",
		"two at signs":        "jan@x@acme.pl",
		"leading dot in name": ".jan@acme.pl",
	} {
		u := testUser("x")
		u.UserPrincipalName = upn
		_, err := c.CreateUser(ctx, cust, u, callFor("o1", name))
		require.Equal(t, "InvalidUserPrincipalName", requireAPIError(t, err, http.StatusBadRequest).Code, name)
	}
	require.Equal(t, []string{"admin@contoso.onmicrosoft.com"}, upns(fake.Users(cust)), "only the admin made with the tenant")

	u := testUser("x")
	u.UserPrincipalName = "Jan@Acme.pl"
	got, err := c.CreateUser(ctx, cust, u, callFor("o1", "verified"))
	require.NoError(t, err, "a verified own domain is allowed")
	require.Equal(t, "jan@acme.pl", got.UserPrincipalName)

	noPassword := testUser("nopw")
	noPassword.PasswordProfile = nil
	_, err = c.CreateUser(ctx, cust, noPassword, callFor("o1", "nopw"))
	require.Equal(t, "InvalidPassword", requireAPIError(t, err, http.StatusBadRequest).Code)

	_, err = c.CreateUser(ctx, other.ID, testUser("jan"), callFor("o2", "user"))
	require.Equal(t, "InvalidUserPrincipalName", requireAPIError(t, err, http.StatusBadRequest).Code,
		"contoso's initial domain is not fabrikam's")
}

func TestAssignLicencesUpToTheSeats(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSeats(t, c, 2)
	a, b, d := newUser(t, c, cust, "a"), newUser(t, c, cust, "b"), newUser(t, c, cust, "d")

	require.NoError(t, c.AssignLicences(ctx, cust, a, []string{testSku}, callFor("o1", "lic-a")))
	require.NoError(t, c.AssignLicences(ctx, cust, b, []string{testSku}, callFor("o1", "lic-b")))
	require.NoError(t, c.AssignLicences(ctx, cust, a, []string{testSku}, callFor("o1", "lic-a-again")),
		"a sku the user holds is a no-op, even with no seat free")

	err := c.AssignLicences(ctx, cust, d, []string{testSku}, callFor("o1", "lic-d"))
	apiErr := requireAPIError(t, err, http.StatusConflict)
	require.Equal(t, "InsufficientLicenses", apiErr.Code)
	require.Contains(t, apiErr.Description, "0 free")

	err = c.AssignLicences(ctx, cust, d, []string{"NOPE:0001"}, callFor("o1", "lic-bad"))
	require.Equal(t, "InvalidSku", requireAPIError(t, err, http.StatusBadRequest).Code)

	users, err := c.ListUsers(ctx, cust, callFor("o1", "list"))
	require.NoError(t, err)
	require.Equal(t, fake.Users(cust), users)
	skus := map[string][]string{}
	for _, u := range users {
		skus[u.ID] = u.AssignedSkus
	}
	require.Equal(t, map[string][]string{adminOf(t, fake, cust): nil, a: {testSku}, b: {testSku}, d: nil}, skus)

	_, err = c.UpdateSubscription(ctx, cust, subID, Subscription{Quantity: 3}, callFor("o1", "grow"))
	require.NoError(t, err)
	require.NoError(t, c.AssignLicences(ctx, cust, d, []string{testSku}, callFor("o1", "lic-d-2")), "a seat was bought")
}

func TestAssignLicencesOnSuspendedSubscriptionConflicts(t *testing.T) {
	_, c, _ := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSeats(t, c, 5)
	a := newUser(t, c, cust, "a")
	_, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusSuspended}, callFor("o1", "suspend"))
	require.NoError(t, err)

	err = c.AssignLicences(ctx, cust, a, []string{testSku}, callFor("o1", "lic"))
	require.Equal(t, "SubscriptionSuspended", requireAPIError(t, err, http.StatusConflict).Code)
}

func TestLoweringQuantityBelowAssignedConflicts(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSeats(t, c, 3)
	for _, u := range []string{"a", "b"} {
		require.NoError(t, c.AssignLicences(ctx, cust, newUser(t, c, cust, u), []string{testSku}, callFor("o1", "lic-"+u)))
	}

	_, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Quantity: 1}, callFor("o1", "shrink-1"))
	apiErr := requireAPIError(t, err, http.StatusConflict)
	require.Equal(t, "LicencesInUse", apiErr.Code)
	require.Contains(t, apiErr.Description, "2 licences")
	s, ok := fake.Subscription(cust, subID)
	require.True(t, ok)
	require.Equal(t, 3, s.Quantity, "a refused PATCH changes nothing")

	got, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Quantity: 2}, callFor("o1", "shrink-2"))
	require.NoError(t, err)
	require.Equal(t, 2, got.Quantity)
}

func TestDeleteUserFreesItsSeat(t *testing.T) {
	fake, c, srv := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	a, b := newUser(t, c, cust, "a"), newUser(t, c, cust, "b")
	require.NoError(t, c.AssignLicences(ctx, cust, a, []string{testSku}, callFor("o1", "lic-a")))
	err := c.AssignLicences(ctx, cust, b, []string{testSku}, callFor("o1", "lic-b"))
	require.Equal(t, "InsufficientLicenses", requireAPIError(t, err, http.StatusConflict).Code)

	require.NoError(t, c.DeleteUser(ctx, cust, a, callFor("o1", "del-a")))
	require.NoError(t, c.AssignLicences(ctx, cust, b, []string{testSku}, callFor("o1", "lic-b-2")))
	users := fake.Users(cust)
	require.Len(t, users, 2, "the admin and b")
	require.Equal(t, b, users[1].ID)

	status, body := rawStatus(t, srv, http.MethodDelete, "/v1/customers/"+cust+"/users/"+a, "")
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, body, "UserNotFound")
	require.NoError(t, c.DeleteUser(ctx, cust, a, callFor("o1", "del-a")), "a user already gone counts as deleted")

	fake.Inject(Fault{Method: http.MethodDelete, Status: http.StatusForbidden})
	requireAPIError(t, c.DeleteUser(ctx, cust, b, callFor("o1", "del-b")), http.StatusForbidden)
}

func TestDeletedSubscriptionIsTerminal(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSeats(t, c, 2)
	a := newUser(t, c, cust, "a")
	require.NoError(t, c.AssignLicences(ctx, cust, a, []string{testSku}, callFor("o1", "lic")))
	del := callFor("o1", "delete")

	got, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusDeleted}, del)
	require.NoError(t, err)
	require.Equal(t, StatusDeleted, got.Status)
	require.Equal(t, 1, fake.Deletions())
	s, ok := fake.Subscription(cust, subID)
	require.True(t, ok)
	require.Equal(t, StatusDeleted, s.Status)
	require.Nil(t, fake.Users(cust)[0].AssignedSkus, "nothing sells the sku any more")

	again, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusDeleted}, del)
	require.NoError(t, err, "a replay gets the first answer")
	require.Equal(t, got, again)
	require.Equal(t, 1, fake.Deletions())

	for name, patch := range map[string]Subscription{
		"reactivate": {Status: StatusActive},
		"resize":     {Quantity: 5},
		"delete":     {Status: StatusDeleted},
	} {
		_, err := c.UpdateSubscription(ctx, cust, subID, patch, callFor("o1", "after-"+name))
		require.Equal(t, "SubscriptionDeleted", requireAPIError(t, err, http.StatusConflict).Code, name)
	}
	require.Equal(t, 1, fake.Deletions())

	err = c.AssignLicences(ctx, cust, a, []string{testSku}, callFor("o1", "lic-after"))
	require.Equal(t, "InvalidSku", requireAPIError(t, err, http.StatusBadRequest).Code)
	_, ok = fake.Subscription(cust, "no-such-sub")
	require.False(t, ok)
}

func TestReactivationsCountEffectiveTransitions(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSeats(t, c, 2)
	patch := func(step, status string) {
		t.Helper()
		_, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: status}, callFor("o1", step))
		require.NoError(t, err)
	}

	patch("active-while-active", StatusActive)
	require.Zero(t, fake.Reactivations())
	patch("suspend-1", StatusSuspended)
	patch("resume-1", StatusActive)
	patch("resume-1", StatusActive) // replay
	patch("resume-again", StatusActive)
	require.Equal(t, 1, fake.Reactivations())
	patch("suspend-2", StatusSuspended)
	patch("resume-2", StatusActive)
	require.Equal(t, 2, fake.Reactivations())
	require.Equal(t, 2, fake.Suspensions())
	require.Zero(t, fake.Deletions())

	patch("suspend-3", StatusSuspended)
	patch("delete", StatusDeleted)
	require.Equal(t, 2, fake.Reactivations(), "deleting a suspended subscription is no reactivation")
	require.Equal(t, 1, fake.Deletions())
}
