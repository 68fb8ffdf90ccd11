package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

var mailRecords = []store.ServiceRecord{
	{Type: "MX", Name: "x.pl", Value: "x-pl.mail.protection.outlook.com", TTL: 3600},
	{Type: "CNAME", Name: "autodiscover.x.pl", Value: "autodiscover.outlook.com", TTL: 3600},
	{Type: "TXT", Name: "x.pl", Value: "v=spf1 include:spf.protection.outlook.com -all", TTL: 3600},
}

// The records are kept once however often the activity runs, keep what
// the checks saw, and belong to the attempt: a domain added again starts
// with none.
func TestDomainRecordsAreUpsertedAndEndReadyOrMissing(t *testing.T) {
	ctx := context.Background()
	id := provision(t, "records", newYear(), "monthly", 1)
	name := newID("rec") + ".pl"
	_, err := st.AddDomain(ctx, id, name, false, time.Now().Add(time.Hour))
	require.NoError(t, err)
	recs, err := st.DomainRecords(ctx, name)
	require.NoError(t, err)
	require.Empty(t, recs)

	require.NoError(t, st.SetDomainRecords(ctx, name, mailRecords))
	require.NoError(t, st.MarkDomainRecord(ctx, name, mailRecords[0], true))
	require.NoError(t, st.SetDomainRecords(ctx, name, mailRecords), "a retried activity")
	recs, err = st.DomainRecords(ctx, name)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	for i, r := range recs {
		require.Equal(t, mailRecords[i].Type, r.Type)
		require.Equal(t, mailRecords[i].Value, r.Value)
		require.Equal(t, i == 0, r.Published, "the check's answer is kept")
		require.Equal(t, i == 0, r.CheckedAt != nil)
	}

	// Only a verified domain moves on.
	require.NoError(t, st.DomainRecordsDone(ctx, name, true, ""))
	d, err := st.GetDomain(ctx, name)
	require.NoError(t, err)
	require.Equal(t, store.DomainPending, d.Status)
	require.NoError(t, st.DomainDone(ctx, name, true, "TXT record seen"))
	require.NoError(t, st.DomainRecordsDone(ctx, name, false, "MX "+name))
	require.NoError(t, st.DomainRecordsDone(ctx, name, false, "MX "+name), "a repeat")
	d, err = st.GetDomain(ctx, name)
	require.NoError(t, err)
	require.Equal(t, store.DomainRecordsMissing, d.Status)
	require.Equal(t, "MX "+name, d.RecordsNote)
	require.True(t, store.DomainIsVerified(d.Status), "users may still live in it")
	require.Equal(t, 1, countOf(t, eventKeys(t, id), "domain_records_missing:"+name+"#1"))
	require.NoError(t, st.DomainRecordsDone(ctx, name, true, ""), "ended: no change")
	domains, err := st.Domains(ctx, id)
	require.NoError(t, err)
	require.Len(t, domains, 1)
	require.Equal(t, store.DomainRecordsMissing, domains[0].Status)
	require.Len(t, domains[0].Records, 3)

	other := newID("ready") + ".pl"
	_, err = st.AddDomain(ctx, id, other, false, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, st.DomainDone(ctx, other, true, "TXT record seen"))
	require.NoError(t, st.DomainRecordsDone(ctx, other, true, ""))
	d, err = st.GetDomain(ctx, other)
	require.NoError(t, err)
	require.Equal(t, store.DomainReady, d.Status)
	require.Contains(t, eventKeys(t, id), "domain_ready:"+other+"#1")
}

func countOf(t *testing.T, keys []string, key string) int {
	t.Helper()
	n := 0
	for _, k := range keys {
		if k == key {
			n++
		}
	}
	return n
}
