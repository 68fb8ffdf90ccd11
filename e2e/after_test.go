package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// More licences, paid: prorated pro-forma, VAT invoice on payment, the new
// quantity at the tenant, one email of each kind; the same request again
// changes nothing.
func TestMoreLicencesPaidRaiseTheQuantityAtTheTenant(t *testing.T) {
	id, o := provisioned(t, 5)
	v := getOrder(t, id)
	sub := v.Body["subscription"].(map[string]any)
	require.Equal(t, "active", sub["status"])
	require.EqualValues(t, 5, sub["seats"])

	body := map[string]any{"request_id": "more-3", "add_seats": 3}
	a := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, body)
	require.Equal(t, 202, a.Status, string(a.Raw))
	chargeID := a.Body["charge_id"].(string)
	require.Equal(t, "awaiting_payment", a.Body["status"])
	require.NotEqual(t, "0.00", a.Body["gross"])
	again := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, body)
	require.Equal(t, 202, again.Status)
	require.Equal(t, chargeID, again.Body["charge_id"])
	conflict := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "more-3", "add_seats": 4})
	require.Equal(t, 409, conflict.Status)
	require.Equal(t, "add_seats", conflict.errField())

	waitNotice(t, emailOf(o), "licences_invoice")
	pf := chargeProforma(t, id, chargeID)
	require.Equal(t, a.Body["gross"], pf.Gross.String(), "the answer's amount is the pro-forma's")
	wrong := notify(t, notification(id, chargeID, "0.01"))
	require.Equal(t, 422, wrong.Status, "an amount that is not the charge's is refused")
	p := payCharge(t, id, chargeID, "completed")
	require.Equal(t, 200, p.Status, string(p.Raw))

	r := waitAfter(t, workflows.LicencesWorkflowID(id, "more-3"))
	require.Equal(t, workflows.StageDone, r.Stage)
	recordRun(t, workflows.LicencesWorkflowID(id, "more-3"), "", "licences_paid")
	require.Equal(t, 8, r.Seats)
	_, s := atTenant(t, id)
	require.Equal(t, 8, s.Quantity, "the tenant's subscription has the new seats")
	require.Equal(t, 8, dbCount(t, `SELECT seats FROM services WHERE order_id = $1`, id))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'invoice' AND status = 'paid'`, chargeID))
	m := waitNotice(t, emailOf(o), "licences_added")
	require.Empty(t, m.Attachments, "the VAT invoice goes in KSeF's email, with its KSeF number")
	_, pdf, n := eInvoiceMail(t, emailOf(o), documentOf(t, chargeID, "invoice"))
	require.Equal(t, 1, n)
	require.Contains(t, pdftest.Text(t, pdf), "Numer KSeF: ")
	require.Equal(t, 1, noticesTo(emailOf(o), "licences_invoice"))
	require.Equal(t, 1, noticesTo(emailOf(o), "licences_added"))

	// A repeat of the request after it is done starts nothing new.
	again = call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, body)
	require.Equal(t, 202, again.Status)
	require.Equal(t, "applied", again.Body["status"])
	_, s = atTenant(t, id)
	require.Equal(t, 8, s.Quantity)
}

func notification(orderID, chargeID, amount string) intake.Notification {
	return intake.Notification{OrderID: orderID, PaymentID: "x-" + chargeID, Status: "completed", Amount: amount, Currency: "PLN", ChargeID: chargeID}
}

// A failed payment for more licences voids their pro-forma (no correction:
// a pro-forma is not a VAT invoice), and nothing changes at the tenant.
func TestLicencesNotPaidVoidTheirProformaAndChangeNothing(t *testing.T) {
	id, o := provisioned(t, 5)
	a := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "two", "add_seats": 2})
	require.Equal(t, 202, a.Status, string(a.Raw))
	chargeID := a.Body["charge_id"].(string)
	require.Equal(t, 200, payCharge(t, id, chargeID, "failed").Status)

	r := waitAfter(t, workflows.LicencesWorkflowID(id, "two"))
	require.Equal(t, workflows.StageCancelled, r.Stage)
	recordRun(t, workflows.LicencesWorkflowID(id, "two"), "", "licences_payment_failed")
	_, s := atTenant(t, id)
	require.Equal(t, 5, s.Quantity)
	require.Equal(t, 5, dbCount(t, `SELECT seats FROM services WHERE order_id = $1`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'correction'`, chargeID))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'proforma' AND status = 'void'`, chargeID))
	m := waitNotice(t, emailOf(o), "licences_cancelled")
	pf := dbString(t, `SELECT number FROM invoices WHERE charge_id = $1 AND kind = 'proforma'`, chargeID)
	require.Contains(t, m.Text, pf, "the notice says the pro-forma is void")
	require.NotContains(t, m.Text, "KOR/")
	require.Empty(t, m.Attachments, "no correction to send")
}

// Users take free seats (the admin holds one of the three from
// provisioning); with none free the request is refused naming the free
// count; fewer licences stop where assigned licences would be lost.
func TestUsersTakeSeatsAndSeatsStopAtAssignedLicences(t *testing.T) {
	id, o := provisioned(t, 3)
	for _, name := range []string{"anna", "piotr"} {
		a := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": name, "display_name": "Test " + name, "assign_licence": true})
		require.Equal(t, 202, a.Status, string(a.Raw))
		require.Equal(t, workflows.StageDone, waitAfter(t, a.Body["workflow_id"].(string)).Stage)
	}
	full := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": "ewa", "display_name": "Ewa", "assign_licence": true})
	require.Equal(t, 409, full.Status, string(full.Raw))
	e := full.Body["error"].(map[string]any)
	require.EqualValues(t, 0, e["free"])
	require.Contains(t, e["message"], "free: 0")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND user_name LIKE 'ewa@%'`, id))

	customer, s := atTenant(t, id)
	users := st.Fake.Users(customer)
	require.Len(t, users, 3, "the admin, anna and piotr")
	for _, u := range users {
		require.Equal(t, []string{s.OfferID}, u.AssignedSkus, "user %s holds the plan's licence", u.UserPrincipalName)
	}
	// The first-login details go to the admin address; the password is
	// forgotten once they are out.
	m := waitNotice(t, emailOf(o), "user_created")
	_, rest, ok := strings.Cut(m.Text, "Hasło tymczasowe:")
	require.True(t, ok, "the email carries the temporary password")
	password := strings.Fields(rest)[0]
	require.Len(t, password, 20)
	require.NotContains(t, m.Subject, password)
	require.Contains(t, m.Text, order.SignInURL, "a user signs in where users do")
	require.NotContains(t, m.Text, order.AdminURL, "not at the admin centre, which refuses them")
	for _, e := range logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += " " + k + "=" + fmt.Sprint(v)
		}
		require.NotContains(t, line, password, "a log entry carries a user's temporary password")
	}
	require.Eventually(t, func() bool {
		return dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND password_sealed IS NOT NULL`, id) == 0
	}, 30*time.Second, 50*time.Millisecond)

	tooFew := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "down-1", "add_seats": -1})
	require.Equal(t, 409, tooFew.Status, string(tooFew.Raw))
	require.Contains(t, tooFew.Body["error"].(map[string]any)["message"], "3 of 3 seats hold a licence")

	more := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "up-2", "add_seats": 2})
	require.Equal(t, 202, more.Status)
	require.Equal(t, 200, payCharge(t, id, more.Body["charge_id"].(string), "completed").Status)
	require.Equal(t, 5, waitAfter(t, more.Body["workflow_id"].(string)).Seats)
	down := call(t, "POST", "/v1/orders/"+id+"/licences", shopKey, map[string]any{"request_id": "down-2", "add_seats": -2})
	require.Equal(t, 202, down.Status, string(down.Raw))
	require.Equal(t, 3, waitAfter(t, down.Body["workflow_id"].(string)).Seats)
	recordRun(t, down.Body["workflow_id"].(string), "", "licences_reduced")
	recordRun(t, workflows.UserWorkflowID(id, "anna@"+o["domain_prefix"].(string)+".onmicrosoft.com"), "", "user_licensed")
	_, s = atTenant(t, id)
	require.Equal(t, 3, s.Quantity)
	waitNotice(t, emailOf(o), "licences_reduced")
}

// The customer's own domain: the TXT record is emailed, the DNS is checked
// until the record is published in the test's DNS server, then the tenant
// verifies it and makes it the default; users may then live in it.
func TestOwnDomainIsVerifiedOnceTheRecordIsPublished(t *testing.T) {
	id, o := provisioned(t, 5)
	domain := fmt.Sprintf("acme%d.pl", time.Now().UnixNano()%1e9)
	a := call(t, "POST", "/v1/orders/"+id+"/domains", shopKey, map[string]any{"domain": strings.ToUpper(domain), "make_default": true})
	require.Equal(t, 202, a.Status, string(a.Raw))
	require.Equal(t, domain, a.Body["domain"])
	early := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": "jan@" + domain, "display_name": "Jan"})
	require.Equal(t, 400, early.Status, "no user in a domain not yet verified")

	m := waitNotice(t, emailOf(o), "domain_dns")
	var name, text string
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(), `SELECT txt_name, txt_text FROM tenant_domains WHERE domain = $1`, domain).Scan(&name, &text))
	require.Contains(t, m.Text, text, "the email names the record to publish")
	before := dns.Queries()
	require.Eventually(t, func() bool { return dns.Queries() >= before+3 }, 30*time.Second, 20*time.Millisecond, "checked again while the record is missing")
	require.Equal(t, "checking_dns", stageOf(t, a.Body["workflow_id"].(string)))

	// The mail records are served too, so the domain goes on to ready for
	// mail (TestOwnDomainGoesFromAddedToVerifiedToReadyForMail has the steps).
	for _, rec := range tenant.MailRecords(domain) {
		switch rec.RecordType {
		case tenant.RecordMx:
			dns.SetMX(rec.Label, rec.MailExchange, 0)
		case tenant.RecordCName:
			dns.SetCNAME(rec.Label, rec.CanonicalName)
		}
	}
	dns.SetTXT(name, "some-other=record", text, mailRecord(domain, tenant.RecordTxt).Text)
	r := waitAfter(t, a.Body["workflow_id"].(string))
	require.Equal(t, workflows.StageReady, r.Stage)
	recordRun(t, a.Body["workflow_id"].(string), "", "domain_verified")
	customer, _ := atTenant(t, id)
	doms := st.Fake.Domains(customer)
	require.Len(t, doms, 1)
	require.True(t, doms[0].IsVerified)
	require.True(t, doms[0].IsDefault)
	require.Equal(t, "ready", dbString(t, `SELECT status FROM tenant_domains WHERE domain = $1`, domain))
	waitNotice(t, emailOf(o), "domain_verified")

	u := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, map[string]any{"user_name": "jan@" + domain, "display_name": "Jan"})
	require.Equal(t, 202, u.Status, string(u.Raw))
	require.Equal(t, workflows.StageDone, waitAfter(t, u.Body["workflow_id"].(string)).Stage)
	other, _ := provisioned(t, 1)
	taken := call(t, "POST", "/v1/orders/"+other+"/domains", shopKey, map[string]any{"domain": domain})
	require.Equal(t, 409, taken.Status)
}

// A record never published: the domain is removed from the tenant when the
// checks end, the customer told, and the same domain may be tried again.
func TestOwnDomainNeverPublishedIsRemovedAndMayBeTriedAgain(t *testing.T) {
	id, o := provisioned(t, 5)
	domain := fmt.Sprintf("never%d.pl", time.Now().UnixNano()%1e9)
	a := call(t, "POST", "/v1/orders/"+id+"/domains", shopKey, map[string]any{"domain": domain})
	require.Equal(t, 202, a.Status, string(a.Raw))
	r := waitAfter(t, a.Body["workflow_id"].(string))
	require.Equal(t, workflows.StageFailed, r.Stage)
	recordRun(t, a.Body["workflow_id"].(string), "", "domain_never_seen")
	customer, _ := atTenant(t, id)
	require.Empty(t, st.Fake.Domains(customer), "removed from the tenant")
	require.Equal(t, "failed", dbString(t, `SELECT status FROM tenant_domains WHERE domain = $1`, domain))
	waitNotice(t, emailOf(o), "domain_failed")

	again := call(t, "POST", "/v1/orders/"+id+"/domains", shopKey, map[string]any{"domain": domain})
	require.Equal(t, 202, again.Status, string(again.Raw))
	require.NotEqual(t, a.Body["workflow_id"], again.Body["workflow_id"], "a second attempt runs anew")
	waitNotice(t, emailOf(o), "domain_dns")
	require.Eventually(t, func() bool { return len(st.Fake.Domains(customer)) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, st.Client.TerminateWorkflow(context.Background(), again.Body["workflow_id"].(string), "", "test done"))
}

func stageOf(t *testing.T, workflowID string) string {
	t.Helper()
	v, err := st.Client.QueryWorkflow(context.Background(), workflowID, "", workflows.QueryStage)
	require.NoError(t, err)
	var r workflows.AfterResult
	require.NoError(t, v.Get(&r))
	return r.Stage
}

func dbString(t *testing.T, sql string, args ...any) string {
	t.Helper()
	var s string
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&s))
	return s
}

// Bad post-purchase requests get a 4xx naming the field, and record nothing.
func TestPostPurchaseBadInputIsRefusedNamingTheField(t *testing.T) {
	id, _ := provisioned(t, 1)
	for _, c := range []struct {
		path  string
		body  any
		field string
	}{
		{"/licences", map[string]any{"request_id": "", "add_seats": 1}, "request_id"},
		{"/licences", map[string]any{"request_id": "a b", "add_seats": 1}, "request_id"},
		{"/licences", map[string]any{"request_id": "r", "add_seats": 0}, "add_seats"},
		{"/licences", map[string]any{"request_id": "r", "add_seats": 301}, "add_seats"},
		{"/licences", map[string]any{"request_id": "r", "add_seats": "3"}, "add_seats"},
		{"/licences", map[string]any{"request_id": "r", "add_seats": 1, "price": 0}, "price"},
		{"/users", map[string]any{"user_name": "", "display_name": "X"}, "user_name"},
		{"/users", map[string]any{"user_name": "a..b", "display_name": "X"}, "user_name"},
		{"/users", map[string]any{"user_name": "jan@elsewhere.pl", "display_name": "X"}, "user_name"},
		{"/users", map[string]any{"user_name": "jan", "display_name": "  "}, "display_name"},
		{"/domains", map[string]any{"domain": "not a domain"}, "domain"},
		{"/domains", map[string]any{"domain": "acme.onmicrosoft.com"}, "domain"},
		{"/domains", map[string]any{"domain": "localhost"}, "domain"},
	} {
		a := call(t, "POST", "/v1/orders/"+id+c.path, shopKey, c.body)
		require.Equal(t, 400, a.Status, "%s %v: %s", c.path, c.body, a.Raw)
		require.Equal(t, c.field, a.errField(), "%s %v", c.path, c.body)
	}
	require.Equal(t, 404, call(t, "POST", "/v1/orders/nope/licences", shopKey, map[string]any{"request_id": "r", "add_seats": 1}).Status)
	require.Equal(t, 401, call(t, "POST", "/v1/orders/"+id+"/users", "", map[string]any{"user_name": "jan", "display_name": "Jan"}).Status)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM charges WHERE order_id = $1 AND kind <> 'order'`, id), "no later purchase")
	// The tenant's admin is a user from provisioning on (it holds a
	// licence); no other was made.
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenant_users u WHERE u.order_id = $1
		AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.order_id = u.order_id AND lower(t.admin_user) = lower(u.user_name))`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenant_domains WHERE order_id = $1`, id))

	// Before provisioning there is nothing to add to.
	o := newOrder(t)
	require.Equal(t, 202, place(t, o).Status)
	early := call(t, "POST", "/v1/orders/"+o["order_id"].(string)+"/licences", shopKey, map[string]any{"request_id": "r", "add_seats": 1})
	require.Equal(t, 409, early.Status, string(early.Raw))
}

// A user the tenant refused gives its seat back, and may be asked for again.
func TestRefusedUserMayBeAskedForAgain(t *testing.T) {
	id, _ := provisioned(t, 2) // one for the admin, one for the user
	customer, _ := atTenant(t, id)
	st.Fake.Inject(tenant.Fault{Method: "POST", PathPrefix: "/v1/customers/" + customer + "/users", Status: 400, Code: "InvalidRequest"})
	body := map[string]any{"user_name": "ola", "display_name": "Ola", "assign_licence": true}
	a := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, body)
	require.Equal(t, 202, a.Status, string(a.Raw))
	wid := a.Body["workflow_id"].(string)
	require.Equal(t, workflows.StageFailed, waitAfter(t, wid).Stage)
	require.Len(t, st.Fake.Users(customer), 1, "the admin only")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND status <> 'failed'`, id), "the seat is free again; the admin keeps its own")

	again := call(t, "POST", "/v1/orders/"+id+"/users", shopKey, body)
	require.Equal(t, 202, again.Status, string(again.Raw))
	require.Equal(t, wid, again.Body["workflow_id"])
	require.Eventually(t, func() bool { return len(st.Fake.Users(customer)) == 2 }, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, workflows.StageDone, waitAfter(t, wid).Stage)
	require.Equal(t, 2, dbCount(t, `SELECT attempt FROM tenant_users WHERE order_id = $1 AND user_name LIKE 'ola@%'`, id))
}
