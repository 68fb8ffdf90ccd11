package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
)

// TestOrderHappyPathEndToEnd follows one order through every stage on the
// real server, PostgreSQL, SMTP and tenant API, and checks what each left.
func TestOrderHappyPathEndToEnd(t *testing.T) {
	ctx := context.Background()
	o := newOrder(t)
	id := o["order_id"].(string)
	customer := o["customer"].(map[string]any)
	email := customer["email"].(string)
	domain := o["domain_prefix"].(string) + ".onmicrosoft.com"
	// Names found nowhere else, for the log scan at the end.
	customer["first_name"], customer["last_name"], customer["company"] = "Bożydar", "Niewidoczny", "Tajemnica Handlowa sp. z o.o."

	a := place(t, o)
	require.Equal(t, 202, a.Status, string(a.Raw))
	require.Equal(t, "placed", a.Body["status"])
	require.Equal(t, id, a.Body["order_id"])

	// billing_access: the billing email with the panel link and the pro-forma.
	billing := waitMail(t, email, "billing_access")
	var number string
	var net, vat, gross int64
	var invStatus string
	require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT number, net_grosze, vat_grosze, gross_grosze, status FROM invoices
		WHERE order_id = $1 AND kind = 'proforma'`, id).Scan(&number, &net, &vat, &gross, &invStatus))
	require.Regexp(t, `^PF/`+time.Now().Format("2006")+`/\d{6}$`, number)
	require.Equal(t, int64(5400*5), net, "business-standard 54.00 PLN x 5 seats x 1 month")
	require.Equal(t, int64(6210), vat, "23% of 270.00")
	require.Equal(t, net+vat, gross)
	require.Equal(t, "unpaid", invStatus)
	require.Contains(t, billing.Text, number)
	require.Contains(t, billing.Text, "332,10 PLN")
	require.NotEmpty(t, billing.HTML)
	require.Regexp(t, regexp.QuoteMeta(cfg.BillingPanelURL)+`/login\?token=[A-Za-z0-9_-]{20,}`, billing.Text, "the panel's sign-in link")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))

	// awaiting_payment -> paid by a signed notification.
	n := notify(t, intake.Notification{OrderID: id, PaymentID: "pay-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
	require.Equal(t, false, n.Body["duplicate"])

	r := waitDone(t, id)
	require.Equal(t, order.InstallerReady, r.Status)

	// One tenant with one subscription of 5 seats at the tenant API.
	var customerID string
	found := 0
	for _, c := range st.Fake.Customers() {
		if c.CompanyProfile.Domain == domain {
			found++
			customerID = c.ID
		}
	}
	require.Equal(t, 1, found, "exactly one tenant for the domain")
	subs := st.Fake.Subscriptions(customerID)
	require.Len(t, subs, 1)
	require.Equal(t, 5, subs[0].Quantity)
	require.Equal(t, "CFQ7TTC0LDPB:0001", subs[0].OfferID)

	// The credentials email carries the admin user and the temporary password.
	cred := waitMail(t, email, "credentials")
	admin := "admin@" + domain
	require.Contains(t, cred.Text, admin)
	require.Contains(t, cred.Text, "https://admin.microsoft.com")
	password := passwordIn(t, cred.Text)
	installer := waitMail(t, email, "installer_ready")
	require.Contains(t, installer.Text, order.DesktopInstaller)
	for _, k := range []string{"billing_access", "payment_received", "credentials", "installer_ready"} {
		require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM sent_emails WHERE order_id = $1 AND key = $2`, id, k), k)
	}
	// and the VAT invoice, once KSeF numbered it.
	_, _, sent := eInvoiceMail(t, email, documentsOf(t, id)[1]["id"].(string))
	require.Equal(t, 1, sent)
	require.Equal(t, 5, mailsTo(email), "one email of each kind, no repeats")

	// API, database and search attribute agree.
	g := getOrder(t, id)
	require.Equal(t, 200, g.Status)
	require.Equal(t, "installer_ready", g.Body["status"])
	require.Equal(t, "paid", g.Body["invoice"].(map[string]any)["status"])
	require.Equal(t, "332.10", g.Body["invoice"].(map[string]any)["gross"])
	var dbStatus string
	require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT status FROM orders WHERE order_id = $1`, id).Scan(&dbStatus))
	require.Equal(t, "installer_ready", dbStatus)
	require.Equal(t, "installer_ready", searchAttribute(t, id))
	waitListed(t, `OrderStatus = "installer_ready" AND WorkflowId = "`+workflows.WorkflowID(id)+`"`, 1)

	// The event log has every stage once, in order.
	events, err := st.Store.Events(ctx, id)
	require.NoError(t, err)
	var stages []string
	for _, e := range events {
		stages = append(stages, string(e.Status))
	}
	require.Equal(t, []string{"placed", "billing_access", "awaiting_payment", "provisioning_tenant", "emailing_credentials", "installer_ready"}, stages)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id), "a provisioned order keeps its domain")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'correction'`, id))
	// The payment brought the VAT invoice, for the pro-forma's amounts.
	var fvNumber string
	var fvGross int64
	require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT number, gross_grosze FROM invoices
		WHERE order_id = $1 AND kind = 'invoice' AND status = 'paid'`, id).Scan(&fvNumber, &fvGross))
	require.Regexp(t, `^FV/`+time.Now().Format("2006")+`/\d{6}$`, fvNumber)
	require.Equal(t, gross, fvGross)

	// The password is in no history event, raw or decoded, and not in the database.
	scanHistory(t, id, password)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenants t WHERE order_id = $1 AND (password_sealed IS NOT NULL OR row_to_json(t)::text LIKE '%' || $2 || '%')`, id, password))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM order_events WHERE reason LIKE '%' || $1 || '%'`, password))
	// No log entry of the whole stack (worker, intake, embedded Temporal)
	// carries the customer's email or name, the password, or a key.
	private := map[string]string{
		"temporary password": password, "customer email": email, "first name": "Bożydar", "last name": "Niewidoczny",
		"company": "Tajemnica Handlowa", "shop API key": shopKey, "webhook secret": secret,
		"credentials key": base64.StdEncoding.EncodeToString(cfg.CredentialsKey),
	}
	for _, k := range cfg.PayloadKeys {
		private["payload key "+k.ID] = base64.StdEncoding.EncodeToString(k.Secret)
	}
	for _, e := range logs.All() {
		line := e.LoggerName + " " + e.Message
		for k, v := range e.ContextMap() {
			line += " " + k + "=" + fmt.Sprint(v)
		}
		for what, v := range private {
			require.NotContains(t, line, v, "a log entry carries the %s", what)
		}
	}
	require.Positive(t, logs.Len(), "the stack's logs were read")
	require.True(t, loggedAbout(id), "the scan covered this order's log entries")

	// Issue 20: the history stays within 60 events, and the placement, which
	// came with the start, left no timer: the payment wait's is the only one.
	evs, timers := 0, 0
	it := st.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		evs++
		if e.GetTimerStartedEventAttributes() != nil {
			timers++
		}
	}
	require.LessOrEqual(t, evs, 60, "history events of a happy-path order")
	require.Equal(t, 1, timers, "timers of a happy-path order paid before its first reminder")
	record(t, id, "happy_path")
}

// passwordIn reads the temporary password from the credentials email.
func passwordIn(t *testing.T, text string) string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		l := strings.ToLower(line)
		if strings.Contains(l, "hasło") || strings.Contains(l, "password") {
			if _, v, ok := strings.Cut(line, ":"); ok && len(strings.TrimSpace(v)) >= 12 {
				return strings.TrimSpace(v)
			}
		}
	}
	t.Fatalf("no password line in:\n%s", text)
	return ""
}

// scanHistory fails if secret appears anywhere in the order's history: in
// its raw bytes or JSON (scanForPlaintext), or in any activity result once
// decrypted with the payload key.
func scanHistory(t *testing.T, orderID, secret string) {
	t.Helper()
	scanForPlaintext(t, orderID, secret)
	dc := st.Codec.DataConverter()
	it := st.Client.GetWorkflowHistory(context.Background(), workflows.WorkflowID(orderID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	results := 0
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		for _, p := range e.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads() {
			var v any
			require.NoError(t, dc.FromPayload(p, &v), "event %d decrypts", e.EventId)
			require.NotContains(t, fmt.Sprint(v), secret)
			results++
		}
	}
	require.Positive(t, results, "activity results were decoded")
}

func searchAttribute(t *testing.T, orderID string) string {
	d, err := st.Client.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(orderID), "")
	require.NoError(t, err)
	p := d.WorkflowExecutionInfo.SearchAttributes.GetIndexedFields()["OrderStatus"]
	require.NotNil(t, p, "OrderStatus is set")
	var v string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &v))
	return v
}

// loggedAbout tells whether a log entry names the order.
func loggedAbout(id string) bool {
	for _, e := range logs.All() {
		for _, v := range e.ContextMap() {
			if fmt.Sprint(v) == id {
				return true
			}
		}
	}
	return false
}
