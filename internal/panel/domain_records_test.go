package panel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// A verified domain shows the mail records to publish, each with its state;
// once all are seen it is ready for mail; records never seen are named.
func TestDomainShowsItsMailRecordsAndTheirState(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id, token := e.provisioned("en")
	domain := strings.ReplaceAll(id, "-", "") + ".pl"
	_, err := st.AddDomain(ctx, id, domain, false, time.Now().Add(336*time.Hour))
	require.NoError(t, err)
	require.NoError(t, st.DomainRecord(ctx, domain, domain, "MS=ms12345678"))
	require.NoError(t, st.DomainDone(ctx, domain, true, "TXT record seen"))
	cookie := e.login(token)

	page := e.get("/panel/orders/"+id, cookie).Body
	require.Contains(t, page, "preparing the mail records", "verified, records not fetched yet")

	mx := store.ServiceRecord{Type: "MX", Name: domain, Value: "x-pl.mail.protection.outlook.com", TTL: 3600}
	recs := []store.ServiceRecord{mx,
		{Type: "CNAME", Name: "autodiscover." + domain, Value: "autodiscover.outlook.com", TTL: 3600},
		{Type: "TXT", Name: domain, Value: "v=spf1 include:spf.protection.outlook.com -all", TTL: 3600}}
	require.NoError(t, st.SetDomainRecords(ctx, domain, recs))
	require.NoError(t, st.MarkDomainRecord(ctx, domain, recs[1], true))
	page = e.get("/panel/orders/"+id, cookie).Body
	require.Contains(t, page, "For email to work, publish these DNS records")
	for _, r := range recs {
		require.Contains(t, page, r.Value)
	}
	require.Contains(t, page, `data-record="CNAME" data-published="true"`)
	require.Contains(t, page, `data-record="MX" data-published="false"`)
	require.Contains(t, page, "(priority 0)")

	require.NoError(t, st.DomainRecordsDone(ctx, domain, false, "MX "+domain))
	page = e.get("/panel/orders/"+id, cookie).Body
	require.Contains(t, page, `data-state="records_missing"`)
	require.Contains(t, page, "mail records missing")
	require.Contains(t, page, "missing: MX "+domain)

	other := "ready" + domain
	_, err = st.AddDomain(ctx, id, other, false, time.Now().Add(336*time.Hour))
	require.NoError(t, err)
	require.NoError(t, st.DomainDone(ctx, other, true, "TXT record seen"))
	require.NoError(t, st.SetDomainRecords(ctx, other, []store.ServiceRecord{mx}))
	require.NoError(t, st.MarkDomainRecord(ctx, other, mx, true))
	require.NoError(t, st.DomainRecordsDone(ctx, other, true, ""))
	page = e.get("/panel/orders/"+id, cookie).Body
	require.Contains(t, page, `data-state="ready"`)
	require.Contains(t, page, "ready for mail")
	require.Contains(t, page, "Email works; keep these records in DNS")
}
