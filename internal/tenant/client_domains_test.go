package tenant

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAddDomainHandsOutDeterministicTXT(t *testing.T) {
	fake, c, srv := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)

	got, err := c.AddDomain(ctx, cust, "Acme.PL", callFor("o1", "add"))
	require.NoError(t, err)
	require.Equal(t, "acme.pl", got.ID)
	require.False(t, got.IsVerified)
	require.False(t, got.IsDefault)
	require.Len(t, got.VerificationDNSRecords, 1)
	rec := got.VerificationDNSRecords[0]
	require.Equal(t, DNSRecord{RecordType: "Txt", Label: "acme.pl", Text: rec.Text, TTL: 3600}, rec)
	require.Regexp(t, `^MS=ms[0-9]{8}$`, rec.Text)
	require.Equal(t, []Domain{got}, fake.Domains(cust))

	status, body := rawStatus(t, srv, http.MethodPost, "/v1/customers/"+cust+"/domains", `{"id":"acme.pl"}`)
	require.Equal(t, http.StatusOK, status, "the same customer again")
	var again Domain
	require.NoError(t, json.Unmarshal([]byte(body), &again))
	require.Equal(t, got, again)

	// Removing and adding again gives the record the owner may have published.
	require.NoError(t, c.RemoveDomain(ctx, cust, "acme.pl", callFor("o1", "remove")))
	readded, err := c.AddDomain(ctx, cust, "acme.pl", callFor("o1", "add-2"))
	require.NoError(t, err)
	require.Equal(t, got, readded)

	other, err := c.AddDomain(ctx, cust, "other.pl", callFor("o1", "add-other"))
	require.NoError(t, err)
	require.NotEqual(t, rec.Text, other.VerificationDNSRecords[0].Text, "the text depends on the domain")
}

func TestAddDomainConflictsAndValidation(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	other, err := c.CreateCustomer(ctx, testCustomer("fabrikam"), callFor("o2", "customer"))
	require.NoError(t, err)
	_, err = c.AddDomain(ctx, cust, "acme.pl", callFor("o1", "add"))
	require.NoError(t, err)

	_, err = c.AddDomain(ctx, other.ID, "ACME.pl", callFor("o2", "add"))
	require.Equal(t, "DomainTaken", requireAPIError(t, err, http.StatusConflict).Code)
	fake.TakeDomain("elsewhere.com")
	_, err = c.AddDomain(ctx, other.ID, "elsewhere.com", callFor("o2", "add-taken"))
	require.Equal(t, "DomainTaken", requireAPIError(t, err, http.StatusConflict).Code)
	require.Empty(t, fake.Domains(other.ID))

	for _, d := range []string{"", "acme", "acme..pl", "-acme.pl", "acme-.pl", "ac me.pl", "acme_x.pl", "10.0.0.1",
		"contoso.onmicrosoft.com", "x.onmicrosoft.com", "onmicrosoft.com"} {
		_, err := c.AddDomain(ctx, cust, d, callFor("o1", "bad-"+d))
		require.Equal(t, "InvalidDomain", requireAPIError(t, err, http.StatusBadRequest).Code, d)
	}
	require.Len(t, fake.Domains(cust), 1)

	_, err = c.AddDomain(ctx, RequestID("nobody"), "new.pl", callFor("o3", "add"))
	require.Equal(t, "CustomerNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
}

func TestVerifyDomainNeedsTheTXTRecord(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	var visible atomic.Bool
	var asked atomic.Value
	fake.VerifyTXT = func(domain, text string) bool {
		asked.Store([2]string{domain, text})
		return visible.Load()
	}
	cust, _ := customerWithSeats(t, c, 1)
	added, err := c.AddDomain(ctx, cust, "acme.pl", callFor("o1", "add"))
	require.NoError(t, err)
	call := callFor("o1", "verify")

	_, err = c.VerifyDomain(ctx, cust, "acme.pl", call)
	require.Equal(t, "DomainVerificationFailed", requireAPIError(t, err, http.StatusBadRequest).Code)
	require.Equal(t, [2]string{"acme.pl", added.VerificationDNSRecords[0].Text}, asked.Load())
	require.False(t, fake.Domains(cust)[0].IsVerified)

	visible.Store(true)
	got, err := c.VerifyDomain(ctx, cust, "acme.pl", call)
	require.NoError(t, err, "a failed answer is not replayed")
	require.True(t, got.IsVerified)
	require.Equal(t, []Domain{got}, fake.Domains(cust))

	visible.Store(false)
	again, err := c.VerifyDomain(ctx, cust, "acme.pl", callFor("o1", "verify-again"))
	require.NoError(t, err, "already verified")
	require.Equal(t, got, again)

	_, err = c.VerifyDomain(ctx, cust, "nope.pl", callFor("o1", "verify-nope"))
	require.Equal(t, "DomainNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
}

func TestSetDefaultDomainOnlyVerifiedAndOnlyOne(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	for _, d := range []string{"a.pl", "b.pl", "c.pl"} {
		_, err := c.AddDomain(ctx, cust, d, callFor("o1", "add-"+d))
		require.NoError(t, err)
	}

	_, err := c.SetDefaultDomain(ctx, cust, "a.pl", callFor("o1", "default-a-early"))
	require.Equal(t, "DomainNotVerified", requireAPIError(t, err, http.StatusBadRequest).Code)

	for _, d := range []string{"a.pl", "b.pl"} {
		_, err := c.VerifyDomain(ctx, cust, d, callFor("o1", "verify-"+d))
		require.NoError(t, err)
	}
	got, err := c.SetDefaultDomain(ctx, cust, "a.pl", callFor("o1", "default-a"))
	require.NoError(t, err)
	require.True(t, got.IsDefault)
	got, err = c.SetDefaultDomain(ctx, cust, "b.pl", callFor("o1", "default-b"))
	require.NoError(t, err)
	require.True(t, got.IsDefault)

	defaults := map[string]bool{}
	listed, err := c.ListDomains(ctx, cust, callFor("o1", "list"))
	require.NoError(t, err)
	require.Equal(t, fake.Domains(cust), listed)
	for _, d := range listed {
		defaults[d.ID] = d.IsDefault
	}
	require.Equal(t, map[string]bool{"a.pl": false, "b.pl": true, "c.pl": false}, defaults)

	_, err = c.SetDefaultDomain(ctx, cust, "contoso.onmicrosoft.com", callFor("o1", "default-initial"))
	require.Equal(t, "InvalidDomain", requireAPIError(t, err, http.StatusBadRequest).Code)
	_, err = c.SetDefaultDomain(ctx, cust, "nope.pl", callFor("o1", "default-nope"))
	require.Equal(t, "DomainNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
}

func TestRemoveDomain(t *testing.T) {
	fake, c, srv := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	other, err := c.CreateCustomer(ctx, testCustomer("fabrikam"), callFor("o2", "customer"))
	require.NoError(t, err)
	for _, d := range []string{"acme.pl", "used.pl"} {
		_, err := c.AddDomain(ctx, cust, d, callFor("o1", "add-"+d))
		require.NoError(t, err)
	}
	_, err = c.VerifyDomain(ctx, cust, "used.pl", callFor("o1", "verify"))
	require.NoError(t, err)
	u := testUser("x")
	u.UserPrincipalName = "jan@used.pl"
	_, err = c.CreateUser(ctx, cust, u, callFor("o1", "user"))
	require.NoError(t, err)

	require.NoError(t, c.RemoveDomain(ctx, cust, "acme.pl", callFor("o1", "remove")))
	status, body := rawStatus(t, srv, http.MethodDelete, "/v1/customers/"+cust+"/domains/acme.pl", "")
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, body, "DomainNotFound")
	require.NoError(t, c.RemoveDomain(ctx, cust, "acme.pl", callFor("o1", "remove")), "a domain already gone counts as removed")

	err = c.RemoveDomain(ctx, cust, "used.pl", callFor("o1", "remove-used"))
	require.Equal(t, "DomainInUse", requireAPIError(t, err, http.StatusConflict).Code)
	require.Equal(t, []string{"used.pl"}, domainIDs(fake.Domains(cust)))

	_, err = c.AddDomain(ctx, other.ID, "acme.pl", callFor("o2", "add"))
	require.NoError(t, err, "a removed domain is free for others")

	empty, err := c.ListDomains(ctx, RequestID("x"), callFor("o3", "list"))
	require.Equal(t, "CustomerNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
	require.Nil(t, empty)
}

func TestListDomainsOfNewCustomerIsEmpty(t *testing.T) {
	_, c, _ := newEnv(t)
	cust, _ := customerWithSeats(t, c, 1)
	got, err := c.ListDomains(context.Background(), cust, callFor("o1", "list"))
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got, "the initial domain is not a custom domain")
	users, err := c.ListUsers(context.Background(), cust, callFor("o1", "list-users"))
	require.NoError(t, err)
	require.Len(t, users, 1, "only the admin made with the tenant")
	require.Equal(t, "admin@contoso.onmicrosoft.com", users[0].UserPrincipalName)
}

func domainIDs(ds []Domain) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}
