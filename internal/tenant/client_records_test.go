package tenant

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// The wire shape is Graph's: {"value":[...]} with each type's own fields.
func TestServiceRecordsOfAVerifiedDomainAreGraphShaped(t *testing.T) {
	_, c, srv := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	_, err := c.AddDomain(ctx, cust, "contoso.pl", callFor("o1", "add"))
	require.NoError(t, err)
	_, err = c.VerifyDomain(ctx, cust, "contoso.pl", callFor("o1", "verify"))
	require.NoError(t, err)

	status, body := rawStatus(t, srv, http.MethodGet, "/v1/customers/"+cust+"/domains/contoso.pl/serviceConfigurationRecords", "")
	require.Equal(t, http.StatusOK, status)
	var wire struct {
		Value []map[string]any `json:"value"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &wire))
	require.Len(t, wire.Value, 3)
	require.Equal(t, map[string]any{"@odata.type": "#microsoft.graph.domainDnsMxRecord", "isOptional": false, "recordType": "Mx",
		"label": "contoso.pl", "mailExchange": "contoso-pl.mail.protection.outlook.com", "preference": 0.0, "ttl": 3600.0,
		"supportedService": "Email"}, wire.Value[0])
	require.Equal(t, "autodiscover.contoso.pl", wire.Value[1]["label"])
	require.Equal(t, "autodiscover.outlook.com", wire.Value[1]["canonicalName"])
	require.Equal(t, "v=spf1 include:spf.protection.outlook.com -all", wire.Value[2]["text"])

	recs, err := c.ServiceRecords(ctx, cust, "contoso.pl", callFor("o1", "records"))
	require.NoError(t, err)
	require.Equal(t, MailRecords("contoso.pl"), recs)
	var values []string
	for _, r := range recs {
		values = append(values, r.RecordType+" "+r.Label+" "+r.Value())
	}
	require.Equal(t, []string{"Mx contoso.pl contoso-pl.mail.protection.outlook.com", "CName autodiscover.contoso.pl autodiscover.outlook.com",
		"Txt contoso.pl v=spf1 include:spf.protection.outlook.com -all"}, values)
}

// Graph answers an unverified domain with an "Unavailable" record, not an
// error status; the client makes it an error the caller can tell apart.
func TestServiceRecordsOfAnUnverifiedDomainAreUnavailable(t *testing.T) {
	fake, c, _ := newEnv(t)
	fake.VerifyTXT = func(string, string) bool { return false }
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	_, err := c.AddDomain(ctx, cust, "contoso.pl", callFor("o1", "add"))
	require.NoError(t, err)

	_, err = c.ServiceRecords(ctx, cust, "contoso.pl", callFor("o1", "records"))
	var un *ErrRecordsUnavailable
	require.ErrorAs(t, err, &un)
	require.Equal(t, "contoso.pl", un.Domain)
	require.Contains(t, un.Description, "verified")

	_, err = c.ServiceRecords(ctx, cust, "nope.pl", callFor("o1", "records-nope"))
	require.Equal(t, "DomainNotFound", requireAPIError(t, err, http.StatusNotFound).Code)
}

// Faults reach the records call like any other: a throttled answer is an
// *APIError the activity's retry policy sees as temporary.
func TestServiceRecordsFaultIsTemporary(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, _ := customerWithSeats(t, c, 1)
	_, err := c.AddDomain(ctx, cust, "contoso.pl", callFor("o1", "add"))
	require.NoError(t, err)
	_, err = c.VerifyDomain(ctx, cust, "contoso.pl", callFor("o1", "verify"))
	require.NoError(t, err)
	fake.Inject(Fault{Method: http.MethodGet, PathPrefix: "/v1/customers/" + cust + "/domains/contoso.pl/serviceConfigurationRecords", Status: http.StatusTooManyRequests})

	_, err = c.ServiceRecords(ctx, cust, "contoso.pl", callFor("o1", "records"))
	require.True(t, requireAPIError(t, err, http.StatusTooManyRequests).Temporary())
	recs, err := c.ServiceRecords(ctx, cust, "contoso.pl", callFor("o1", "records"))
	require.NoError(t, err, "the fault hit once")
	require.Len(t, recs, 3)
}
