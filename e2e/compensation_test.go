package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// The compensation stack on the real server: every undo step leaves its
// effect (credit note, revoked access, released domain, refund, suspended
// subscription) exactly once and its line in the order's log, in reverse
// order of what the saga made.

// What every order logs before it waits for payment, and after it was paid.
var (
	billedKeys = []string{"placed", "billing_access", "awaiting_payment"}
	paidKeys   = append(append([]string{}, billedKeys...), "provisioning_tenant")
	// undoBilling is the end of every compensation: billing made these first.
	undoBilling = []string{"undo:void_invoice", "undo:revoke_billing", "undo:release_reservation"}
)

func keys(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

// TestFailedPaymentCompensates: a failed payment undoes what billing made,
// newest first, and tells the customer once.
func TestFailedPaymentCompensates(t *testing.T) {
	o := newOrder(t)
	id := placeAndPay(t, o, "failed")
	r := waitDone(t, id)
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, "payment failed-"+id+" failed", r.Reason)

	require.Empty(t, creditNote(t, id, false), "an unpaid pro-forma is void, not corrected")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND revoked_at IS NOT NULL`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, id), "a failed payment is not refunded")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenants WHERE order_id = $1`, id))
	require.Equal(t, 1, mailsOfKind(emailOf(o), "cancelled"))
	require.Equal(t, 2, mailsTo(emailOf(o)), "billing access and cancellation, nothing else")
	notice := waitMail(t, emailOf(o), "cancelled")
	g := getOrder(t, id)
	require.Contains(t, notice.Text, g.Body["invoice"].(map[string]any)["number"], "the notice names the void pro-forma")
	require.NotContains(t, notice.Text, "KOR/", "no correction: there is none")
	require.Empty(t, notice.Attachments, "no document to send")
	require.NotContains(t, notice.Text, cfg.BillingPanelURL, "no link to the revoked billing panel")
	require.Equal(t, keys(billedKeys, "compensating", undoBilling, "cancelled"), eventKeys(t, id))

	require.Equal(t, "cancelled", g.Body["status"])
	require.Equal(t, "void", g.Body["invoice"].(map[string]any)["status"])
	require.Equal(t, "cancelled", searchAttribute(t, id))
	record(t, id, "payment_failed")
}

// TestProvisioningConflictRefundsAndSuspendsOnce: the subscription order is
// placed at the tenant API but its answer is a 409, so the saga refunds a
// paid order whose subscription exists there although we never learnt its
// id. Compensation finds it through the API and suspends it once.
func TestProvisioningConflictRefundsAndSuspendsOnce(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	domain := o["domain_prefix"].(string) + ".onmicrosoft.com"
	suspensions := st.Fake.Suspensions()
	conflictOnSubscriptionOrder(0)

	placeAndPay(t, o, "completed")
	r := waitDone(t, id)
	require.Equal(t, order.Refunded, r.Status)
	require.Contains(t, r.Reason, "409")

	cust := fakeCustomer(t, domain)
	subs := st.Fake.Subscriptions(cust)
	require.Len(t, subs, 1, "the lost order made its subscription at the tenant API")
	require.Equal(t, tenant.StatusSuspended, subs[0].Status)
	require.Equal(t, suspensions+1, st.Fake.Suspensions(), "suspended exactly once")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM subscriptions WHERE order_id = $1 AND status <> 'suspended'`, id))

	require.Equal(t, []string{"completed-" + id}, refundsOf(t, id))
	kor := creditNote(t, id, true)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, 1, mailsOfKind(emailOf(o), "refunded"))
	notice := waitMail(t, emailOf(o), "refunded")
	require.Contains(t, notice.Text, kor, "the notice names the credit note")
	require.Contains(t, notice.Text, "332,10 PLN")
	require.NotContains(t, notice.Text, cfg.BillingPanelURL)
	require.Equal(t, 0, mailsOfKind(emailOf(o), "cancelled"))
	require.Equal(t, 0, mailsOfKind(emailOf(o), "credentials"))
	require.Equal(t, keys(paidKeys, "compensating", "undo:suspend:"+subs[0].ID, "undo:refund_payment", undoBilling, "refunded"), eventKeys(t, id))
	require.Equal(t, "refunded", getOrder(t, id).Body["status"])
	record(t, id, "subscription_conflict_refund")
}

// TestUndoFailureNeedsAttentionThenOperatorRetry: the tenant API refuses
// the suspension (403, not temporary), so the order waits in
// needs_attention for an operator; the validators turn away incomplete
// decisions, and a retry finishes the compensation.
func TestUndoFailureNeedsAttentionThenOperatorRetry(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	domain := o["domain_prefix"].(string) + ".onmicrosoft.com"
	suspensions := st.Fake.Suspensions()
	// The order call is held a moment, time enough to aim the 403 at this
	// order's customer alone.
	conflictOnSubscriptionOrder(3 * time.Second)
	placeAndPay(t, o, "completed")
	cust := waitFakeCustomer(t, domain)
	st.Fake.Inject(tenant.Fault{Method: "PATCH", PathPrefix: "/v1/customers/" + cust + "/subscriptions/", Status: 403, Code: "Forbidden"})

	waitStatus(t, id, "needs_attention")
	g := getOrder(t, id)
	require.Equal(t, "needs_attention", g.Body["status"])
	require.Contains(t, g.Body["reason"], "suspend_subscriptions")
	require.Contains(t, g.Body["reason"], "403")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1 AND status = 'needs_attention'`, id))
	waitListed(t, `OrderStatus = "needs_attention" AND WorkflowId = "`+workflows.WorkflowID(id)+`"`, 1)
	v := statusOf(t, id)
	require.Contains(t, v.WaitingFor, workflows.UpdateRetryCompensation)
	require.Equal(t, []string{workflows.UndoSuspendSubscriptions, workflows.UndoRefundPayment, workflows.UndoVoidInvoice,
		workflows.UndoRevokeBilling, workflows.UndoReleaseReservation}, v.Undo, "nothing was undone past the failed step")
	require.Equal(t, suspensions, st.Fake.Suspensions())
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, id))

	// Money that arrives while the order waits for an operator is owed back.
	late := notify(t, intake.Notification{OrderID: id, PaymentID: "late-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"})
	require.Equal(t, 200, late.Status, string(late.Raw))
	require.Equal(t, true, late.Body["refund"])

	err := decide(t, id, workflows.UpdateResolve, workflows.Decision{Actor: "ops@example.com"})
	require.ErrorContains(t, err, "reason is required")
	err = decide(t, id, workflows.UpdateRetryCompensation, workflows.Decision{Reason: "try again"})
	require.ErrorContains(t, err, "actor is required")
	require.Equal(t, order.NeedsAttention, statusOf(t, id).Status, "a rejected decision changes nothing")
	require.NotContains(t, eventKeys(t, id), "decision#1")

	require.NoError(t, decide(t, id, workflows.UpdateRetryCompensation,
		workflows.Decision{Actor: "ops@example.com", Reason: "Partner Center permissions fixed"}))
	r := waitDone(t, id)
	require.Equal(t, order.Refunded, r.Status)

	subs := st.Fake.Subscriptions(cust)
	require.Len(t, subs, 1)
	require.Equal(t, tenant.StatusSuspended, subs[0].Status)
	require.Equal(t, suspensions+1, st.Fake.Suspensions())
	require.ElementsMatch(t, []string{"completed-" + id, "late-" + id}, refundsOf(t, id))
	creditNote(t, id, true)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, 1, mailsOfKind(emailOf(o), "refunded"))

	events := eventsOf(t, id)
	var ks []string
	for _, e := range events {
		if !strings.HasPrefix(e.Key, "late_payment:") {
			ks = append(ks, e.Key)
		}
	}
	require.Equal(t, keys(paidKeys, "compensating", "needs_attention#1", "decision#1", "compensating#2",
		"undo:suspend:"+subs[0].ID, "undo:refund_payment", undoBilling, "refunded"), ks)
	for _, e := range events {
		if e.Key == "decision#1" {
			require.Equal(t, "ops@example.com", e.Actor)
			require.Contains(t, e.Reason, workflows.UpdateRetryCompensation)
			require.Contains(t, e.Reason, "Partner Center permissions fixed")
		}
	}
	record(t, id, "needs_attention_retry")
}

// TestLatePaymentAfterCancelIsMarkedForRefund: money for an order that was
// already cancelled is kept on record and owed back, whatever its amount;
// the order stays cancelled.
func TestLatePaymentAfterCancelIsMarkedForRefund(t *testing.T) {
	o := newOrder(t)
	id := o["order_id"].(string)
	require.Equal(t, 202, place(t, o).Status)
	waitMail(t, emailOf(o), "billing_access")
	waitStatus(t, id, "awaiting_payment")
	a := call(t, "POST", "/v1/orders/"+id+"/cancel", shopKey, map[string]string{"reason": "ordered twice"})
	require.Equal(t, 202, a.Status, string(a.Raw))
	require.Equal(t, order.Cancelled, waitDone(t, id).Status)

	pay := intake.Notification{OrderID: id, PaymentID: "late-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"}
	n := notify(t, pay)
	require.Equal(t, 200, n.Status, string(n.Raw))
	require.Equal(t, true, n.Body["refund"])
	require.Equal(t, false, n.Body["duplicate"])
	require.Equal(t, []string{pay.PaymentID}, refundsOf(t, id))

	again := notify(t, pay)
	require.Equal(t, 200, again.Status, string(again.Raw))
	require.Equal(t, true, again.Body["duplicate"])
	require.Equal(t, true, again.Body["refund"])
	require.Equal(t, []string{pay.PaymentID}, refundsOf(t, id), "a repeated notification is refunded once")

	// Another payment, of another amount: owed back too, on its own.
	other := notify(t, intake.Notification{OrderID: id, PaymentID: "other-" + id, Status: "completed", Amount: "10.00", Currency: "PLN"})
	require.Equal(t, 200, other.Status, string(other.Raw))
	require.Equal(t, true, other.Body["refund"])
	require.ElementsMatch(t, []string{pay.PaymentID, "other-" + id}, refundsOf(t, id))
	require.Equal(t, 1000, dbCount(t, `SELECT amount_grosze FROM refunds WHERE payment_id = $1`, "other-"+id))

	g := getOrder(t, id)
	require.Equal(t, "cancelled", g.Body["status"])
	require.Equal(t, "void", g.Body["invoice"].(map[string]any)["status"], "the pro-forma is not paid by a late payment")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = $2 AND actor = 'gateway'`, id, "late_payment:"+pay.PaymentID))
	require.Equal(t, keys(billedKeys, "compensating", undoBilling, "cancelled", "late_payment:"+pay.PaymentID, "late_payment:other-"+id), eventKeys(t, id))
	require.Equal(t, 0, mailsOfKind(emailOf(o), "payment_received"))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenants WHERE order_id = $1`, id))
	creditNote(t, id, false)
}

// TestSecondLiveOrderForSameDomainIs409: a domain prefix belongs to one live
// order; once that order is cancelled the prefix is free again.
func TestSecondLiveOrderForSameDomainIs409(t *testing.T) {
	first := newOrder(t)
	firstID := first["order_id"].(string)
	second := newOrder(t)
	secondID := second["order_id"].(string)
	second["domain_prefix"] = first["domain_prefix"]

	require.Equal(t, 202, place(t, first).Status)
	a := place(t, second)
	require.Equal(t, 409, a.Status, string(a.Raw))
	require.Equal(t, "domain_prefix", a.errField())
	require.Equal(t, "domain_taken", a.Body["error"].(map[string]any)["code"])
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1`, secondID))
	// The refused order's run decided it (its place update) and ended,
	// completed, without an order and without an OrderStatus.
	d, err := st.Client.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(secondID), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, d.GetWorkflowExecutionInfo().GetStatus(), "the refused order's run ended, not failed")
	require.Nil(t, d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["OrderStatus"], "a run without an order has no status")
	record(t, secondID, "place_domain_taken")
	require.Equal(t, 202, place(t, first).Status, "the holder's own repeat is no conflict")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE domain_prefix = $1 AND order_id = $2`, first["domain_prefix"], firstID))

	waitStatus(t, firstID, "awaiting_payment")
	require.Equal(t, 202, call(t, "POST", "/v1/orders/"+firstID+"/cancel", shopKey, nil).Status)
	require.Equal(t, order.Cancelled, waitDone(t, firstID).Status)
	// The same order id again: a new run (the refused one ended without an
	// order), which now gets the prefix.
	b := place(t, second)
	require.Equal(t, 202, b.Status, "the cancelled order released the prefix: %s", b.Raw)
	require.Empty(t, b.Header.Get("Idempotent-Replayed"), "placed now, not a repeat")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE domain_prefix = $1 AND order_id = $2`, first["domain_prefix"], secondID))
	waitStatus(t, secondID, "awaiting_payment")
	require.Equal(t, 202, call(t, "POST", "/v1/orders/"+secondID+"/cancel", shopKey, nil).Status)
	require.Equal(t, order.Cancelled, waitDone(t, secondID).Status)
}

// TestCrashMidCompensation: the only worker of an order is killed with
// SIGKILL in the middle of its compensation, after the tenant API suspended
// the subscription but before the worker heard so; a new worker process
// finishes the compensation, and no undo takes effect twice.
func TestCrashMidCompensation(t *testing.T) {
	queue := "crash-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	old := st.Intake.TaskQueue
	st.Intake.TaskQueue = queue
	t.Cleanup(func() { st.Intake.TaskQueue = old })
	first := startWorkerProcess(t, "TEMPORAL_TASK_QUEUE="+queue)

	o := newOrder(t)
	id := o["order_id"].(string)
	domain := o["domain_prefix"].(string) + ".onmicrosoft.com"
	suspensions := st.Fake.Suspensions()
	conflictOnSubscriptionOrder(3 * time.Second)
	placeAndPay(t, o, "completed")
	cust := waitFakeCustomer(t, domain)
	subsPath := "/v1/customers/" + cust + "/subscriptions"
	// The suspension takes effect, and its answer is lost as a 503.
	st.Fake.Inject(tenant.Fault{Method: "PATCH", PathPrefix: subsPath + "/", Status: 503, LoseResponse: true, RetryAfter: 2 * time.Second})

	require.Eventually(t, func() bool { return st.Fake.Suspensions() == suspensions+1 }, 60*time.Second, 10*time.Millisecond,
		"the suspension reached the tenant API")
	// Keep the step failing for a while: its retries list the subscriptions
	// first, and get 503 for the next two attempts.
	st.Fake.Inject(tenant.Fault{Method: "GET", PathPrefix: subsPath, Status: 503, RetryAfter: time.Second, Times: 2})
	// Kill the worker between two attempts of the step, once it has failed
	// on the lost answer and again on a 503: then no attempt is running, and
	// the next one is the new worker's.
	require.Eventually(t, func() bool {
		a, err := pendingActivity(id, "SuspendSubscriptions")
		return err == nil && a != nil && a.Attempt >= 3 && a.State == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED
	}, 30*time.Second, 10*time.Millisecond, "the suspension step is being retried")
	first.Kill(t)
	require.Equal(t, "compensating", getOrder(t, id).Body["status"], "killed mid-compensation")

	second := startWorkerProcess(t, "TEMPORAL_TASK_QUEUE="+queue)
	r := waitDone(t, id)
	require.Equal(t, order.Refunded, r.Status)

	subs := st.Fake.Subscriptions(cust)
	require.Len(t, subs, 1)
	require.Equal(t, tenant.StatusSuspended, subs[0].Status)
	require.Equal(t, suspensions+1, st.Fake.Suspensions(), "suspended once, crash or not")
	require.Equal(t, []string{"completed-" + id}, refundsOf(t, id))
	creditNote(t, id, true)
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))
	require.Equal(t, 1, mailsOfKind(emailOf(o), "refunded"))
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM sent_emails WHERE order_id = $1 AND key = 'refunded'`, id))
	require.Equal(t, 1, mailsOfKind(emailOf(o), "payment_received"))
	require.Equal(t, keys(paidKeys, "compensating", "undo:suspend:"+subs[0].ID, "undo:refund_payment", undoBilling, "refunded"), eventKeys(t, id))
	require.Equal(t, "refunded", getOrder(t, id).Body["status"])

	// Both processes did part of the order.
	require.Positive(t, activitiesBy(t, id, identityPrefix(first)), "the killed worker ran the order first")
	require.Positive(t, activitiesBy(t, id, identityPrefix(second)), "the new worker finished it")
}

// conflictOnSubscriptionOrder makes the next subscription purchase at the
// tenant API (the checkout of a new-commerce cart, POST
// /v1/customers/{id}/carts/{cart}/checkout) take effect and answer 409
// after delay. Tests run one at a time, and no other order is provisioned
// meanwhile.
func conflictOnSubscriptionOrder(delay time.Duration) {
	st.Fake.Inject(tenant.Fault{Method: "POST", PathPrefix: "/v1/customers/", PathSuffix: "/checkout", Status: 409, Code: "Conflict", LoseResponse: true, Delay: delay})
}

// fakeCustomer is the tenant API's customer id for a domain.
func fakeCustomer(t *testing.T, domain string) string {
	t.Helper()
	var ids []string
	for _, c := range st.Fake.Customers() {
		if c.CompanyProfile.Domain == domain {
			ids = append(ids, c.ID)
		}
	}
	require.Len(t, ids, 1, "one customer for %s at the tenant API", domain)
	return ids[0]
}

// waitFakeCustomer waits until the tenant API has a customer for domain.
func waitFakeCustomer(t *testing.T, domain string) string {
	t.Helper()
	var id string
	require.Eventually(t, func() bool {
		for _, c := range st.Fake.Customers() {
			if c.CompanyProfile.Domain == domain {
				id = c.ID
				return true
			}
		}
		return false
	}, 60*time.Second, 10*time.Millisecond, "no customer for %s at the tenant API", domain)
	return id
}

// creditNote checks the documents of a compensated order and returns the
// number of its credit note. The pro-forma is void either way. A paid order
// has one VAT invoice, issued with the payment (void now), and exactly one
// credit note, which corrects that VAT invoice to zero and leaves the money
// owed back (the note unpaid). An unpaid order has no correction at all: a
// pro-forma is not a VAT invoice and is never corrected; it is simply void,
// and the number returned is "".
func creditNote(t *testing.T, id string, paid bool) string {
	t.Helper()
	ctx := context.Background()
	var pfID int64
	var pfNumber, pfStatus string
	require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT id, number, status FROM invoices
		WHERE order_id = $1 AND kind = 'proforma'`, id).Scan(&pfID, &pfNumber, &pfStatus))
	require.Equal(t, "void", pfStatus, "the pro-forma is void")
	if !paid {
		require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, id), "no VAT invoice without a payment")
		require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'correction'`, id), "no correction of a pro-forma")
		require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = 'undo:void_invoice' AND reason LIKE '%' || $2 || '%'`, id, pfNumber))
		return ""
	}
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'correction'`, id), "exactly one credit note")
	var number, status string
	var refersTo, net, vat, gross int64
	require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT number, refers_to, net_grosze, vat_grosze, gross_grosze, status FROM invoices
		WHERE order_id = $1 AND kind = 'correction'`, id).Scan(&number, &refersTo, &net, &vat, &gross, &status))
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	require.Regexp(t, `^KOR/`+regexp.QuoteMeta(time.Now().In(warsaw).Format("2006"))+`/\d{6}$`, number)
	var fvID, fvNet, fvVAT, fvGross int64
	var fvStatus string
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, id), "one VAT invoice, issued with the payment")
	require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT id, net_grosze, vat_grosze, gross_grosze, status FROM invoices WHERE order_id = $1 AND kind = 'invoice' AND refers_to = $2`,
		id, pfID).Scan(&fvID, &fvNet, &fvVAT, &fvGross, &fvStatus), "the VAT invoice settles the pro-forma")
	require.Equal(t, fvID, refersTo, "the credit note corrects the VAT invoice")
	require.Equal(t, "void", fvStatus)
	require.Equal(t, []int64{-fvNet, -fvVAT, -fvGross}, []int64{net, vat, gross}, "the credit note takes the VAT invoice to zero")
	require.Negative(t, gross)
	require.Equal(t, "unpaid", status, "the money is owed back")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = 'undo:void_invoice' AND reason LIKE '%' || $2 || '%'`, id, number))
	return number
}

func eventsOf(t *testing.T, id string) []eventRow {
	t.Helper()
	evs, err := st.Store.Events(context.Background(), id)
	require.NoError(t, err)
	out := make([]eventRow, len(evs))
	for i, e := range evs {
		out[i] = eventRow{Key: e.Key, Actor: e.Actor, Reason: e.Reason}
	}
	return out
}

type eventRow struct{ Key, Actor, Reason string }

// eventKeys lists the keys of the order's log, oldest first.
func eventKeys(t *testing.T, id string) []string {
	t.Helper()
	var out []string
	for _, e := range eventsOf(t, id) {
		out = append(out, e.Key)
	}
	return out
}

// refundsOf lists the payment ids owed back for an order.
func refundsOf(t *testing.T, id string) []string {
	t.Helper()
	r, err := st.Store.Refunds(context.Background(), id)
	require.NoError(t, err)
	return r
}

// mailsOfKind counts the messages of one kind (a repeatable kind such as
// payment_reminder with all its numbers) the sink got for an address.
func mailsOfKind(to, kind string) int {
	n := 0
	for _, m := range st.Sink.Messages() {
		if len(m.To) == 1 && m.To[0] == to && (strings.Contains(m.MessageID, "."+kind+"@") || strings.Contains(m.MessageID, "."+kind+"#")) {
			n++
		}
	}
	return n
}

func statusOf(t *testing.T, id string) workflows.StatusView {
	t.Helper()
	v, err := st.Client.QueryWorkflow(context.Background(), workflows.WorkflowID(id), "", workflows.QueryStatus)
	require.NoError(t, err)
	var sv workflows.StatusView
	require.NoError(t, v.Get(&sv))
	return sv
}

// decide sends an operator's decision and waits for its outcome; a
// validator's refusal comes back as the error.
func decide(t *testing.T, id, name string, d workflows.Decision) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := st.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(id), UpdateName: name, Args: []any{d},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	var v workflows.StatusView
	return h.Get(ctx, &v)
}

// pendingActivity is the order's pending activity of a type, or nil.
func pendingActivity(id, activityType string) (*pendingActivityInfo, error) {
	d, err := st.Client.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(id), "")
	if err != nil {
		return nil, err
	}
	for _, a := range d.PendingActivities {
		if a.GetActivityType().GetName() == activityType {
			return &pendingActivityInfo{Attempt: a.GetAttempt(), State: a.GetState()}, nil
		}
	}
	return nil, nil
}

type pendingActivityInfo struct {
	Attempt int32
	State   enumspb.PendingActivityState
}
