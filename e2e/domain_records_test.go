package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// verifiedDomain adds an own domain to a provisioned order and publishes
// its TXT record in the test's DNS server, beside the SPF record when spf
// is true (they share the name); it returns once the mail records email is
// out, the domain verified and its records' checks running.
func verifiedDomain(t *testing.T, prefix string, spf bool) (id, domain, workflowID, txt string, o map[string]any) {
	t.Helper()
	id, o = provisioned(t, 1)
	domain = fmt.Sprintf("%s%d.pl", prefix, time.Now().UnixNano()%1e9)
	a := call(t, "POST", "/v1/orders/"+id+"/domains", shopKey, map[string]any{"domain": domain})
	require.Equal(t, 202, a.Status, string(a.Raw))
	workflowID = a.Body["workflow_id"].(string)
	waitNotice(t, emailOf(o), "domain_dns")
	var name string
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(), `SELECT txt_name, txt_text FROM tenant_domains WHERE domain = $1`, domain).Scan(&name, &txt))
	texts := []string{txt}
	if spf {
		texts = append(texts, mailRecord(domain, tenant.RecordTxt).Text)
	}
	dns.SetTXT(name, texts...)
	waitNotice(t, emailOf(o), "domain_records")
	require.Equal(t, "verified", dbString(t, `SELECT status FROM tenant_domains WHERE domain = $1`, domain))
	return id, domain, workflowID, txt, o
}

// mailRecord is the record of the type the tenant fake asks the domain for.
func mailRecord(domain, typ string) tenant.ServiceRecord {
	for _, r := range tenant.MailRecords(domain) {
		if r.RecordType == typ {
			return r
		}
	}
	panic("no " + typ + " record")
}

// domainRecords is the intake's answer for the domain: its status and the
// records by type.
func domainRecords(t *testing.T, id, domain string) (string, map[string]map[string]any, answer) {
	t.Helper()
	g := call(t, "GET", "/v1/orders/"+id+"/domains/"+domain, shopKey, nil)
	require.Equal(t, 200, g.Status, string(g.Raw))
	recs := map[string]map[string]any{}
	if list, ok := g.Body["records"].([]any); ok {
		for _, r := range list {
			m := r.(map[string]any)
			recs[m["type"].(string)] = m
		}
	}
	return g.Body["status"].(string), recs, g
}

// The path: added, verified once the TXT record is served, the
// mail records emailed and shown, checked until the DNS server serves them
// all, then ready for mail.
func TestOwnDomainGoesFromAddedToVerifiedToReadyForMail(t *testing.T) {
	id, domain, wf, txt, o := verifiedDomain(t, "ready", false)
	m := waitNotice(t, emailOf(o), "domain_records")
	for _, r := range tenant.MailRecords(domain) {
		require.Contains(t, m.Text, r.Value(), "the email lists the %s record", r.RecordType)
		require.Contains(t, m.Text, r.Label)
	}
	status, recs, _ := domainRecords(t, id, domain)
	require.Equal(t, "verified", status)
	require.Len(t, recs, 3)
	require.Equal(t, mailRecord(domain, tenant.RecordMx).MailExchange, recs["MX"]["value"])
	require.EqualValues(t, 0, recs["MX"]["preference"])
	require.Equal(t, false, recs["MX"]["published"])
	before := dns.Queries()
	require.Eventually(t, func() bool { return dns.Queries() >= before+6 }, 30*time.Second, 20*time.Millisecond, "checked again while the records are missing")
	require.Equal(t, workflows.StageCheckingRecords, stageOf(t, wf))

	mx := mailRecord(domain, tenant.RecordMx)
	dns.SetMX(domain, mx.MailExchange, uint16(*mx.Preference))
	dns.SetCNAME("autodiscover."+domain, mailRecord(domain, tenant.RecordCName).CanonicalName)
	dns.SetTXT(domain, txt, mailRecord(domain, tenant.RecordTxt).Text)

	r := waitAfter(t, wf)
	require.Equal(t, workflows.AfterResult{Stage: workflows.StageReady}, r)
	recordRun(t, wf, "", "domain_ready")
	require.Equal(t, "ready", dbString(t, `SELECT status FROM tenant_domains WHERE domain = $1`, domain))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = $2`, id, "domain_ready:"+domain+"#1"))
	ready := waitNotice(t, emailOf(o), "domain_ready")
	require.Contains(t, ready.Text, mx.MailExchange)
	status, recs, _ = domainRecords(t, id, domain)
	require.Equal(t, "ready", status)
	for typ, rec := range recs {
		require.Equal(t, true, rec["published"], typ)
		require.NotEmpty(t, rec["checked_at"], typ)
	}
}

// An MX record never published: when the checks end the domain is
// records_missing naming it, in the database, its timeline, the intake's
// answer and an email; it stays verified at the tenant and the workflow
// completes rather than failing or running on.
func TestOwnDomainWhoseMXIsNeverPublishedIsReported(t *testing.T) {
	id, domain, wf, _, o := verifiedDomain(t, "nomx", true)
	dns.SetCNAME("autodiscover."+domain, mailRecord(domain, tenant.RecordCName).CanonicalName)

	r := waitAfter(t, wf)
	require.Equal(t, workflows.StageRecordsMissing, r.Stage)
	require.Contains(t, r.Reason, "missing MX "+domain)
	recordRun(t, wf, "", "domain_records_missing")
	require.Equal(t, "records_missing", dbString(t, `SELECT status FROM tenant_domains WHERE domain = $1`, domain))
	require.Equal(t, "MX "+domain, dbString(t, `SELECT records_note FROM tenant_domains WHERE domain = $1`, domain))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = $2 AND reason LIKE '%MX ' || $3 || '%'`,
		id, "domain_records_missing:"+domain+"#1", domain))
	told := waitNotice(t, emailOf(o), "domain_records_missing")
	require.Contains(t, told.Text, "MX "+domain)
	require.Equal(t, 1, noticesTo(emailOf(o), "domain_records"), "the records email once (reminders come on days 3 and 10)")

	status, recs, g := domainRecords(t, id, domain)
	require.Equal(t, "records_missing", status)
	require.Equal(t, "MX "+domain, g.Body["records_missing"])
	require.Equal(t, false, recs["MX"]["published"])
	require.Equal(t, true, recs["CNAME"]["published"])
	require.Equal(t, true, recs["TXT"]["published"])

	customer, _ := atTenant(t, id)
	doms := st.Fake.Domains(customer)
	require.Len(t, doms, 1, "not removed from the tenant")
	require.True(t, doms[0].IsVerified)
	desc, err := st.Client.DescribeWorkflowExecution(context.Background(), wf, "")
	require.NoError(t, err)
	require.Equal(t, "Completed", desc.WorkflowExecutionInfo.Status.String())
}
