package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/codec"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// What an operator does in the Web UI, on the real server: five orders in
// five states at once are found by their search attributes, read through
// the status and timeline queries, and steered with the operator updates;
// each accepted action leaves its line in the order's log with who and why,
// each refused one leaves nothing. The history they leave carries no
// customer's personal data in plaintext, yet reads back through the codec
// endpoint the Web UI calls.
func TestOperatorsFindReadAndSteerOrders(t *testing.T) {
	const ops = "anna.ops@officeflow.example"
	since := time.Now().UTC().Format(time.RFC3339Nano)  // before any order was paid
	awaiting := operatorOrder(t, "business-premium", 7) // extended, then marked paid by hand
	paid := operatorOrder(t, "business-standard", 5)    // paid through the gateway, provisioned
	cancelled := operatorOrder(t, "business-standard", 5)
	held := operatorOrder(t, "business-standard", 5)  // the tenant API answers 503, retry in 10 minutes
	stuck := operatorOrder(t, "business-standard", 5) // an undo step refused: needs_attention
	orders := []map[string]any{awaiting, paid, cancelled, held, stuck}
	A, B, C, D, E := idOf(awaiting), idOf(paid), idOf(cancelled), idOf(held), idOf(stuck)

	require.Equal(t, 202, place(t, awaiting).Status)
	require.Equal(t, 202, place(t, cancelled).Status)
	// The lost 409 must meet stuck's subscription order, so stuck is the
	// only order provisioning until it needs attention.
	conflictOnSubscriptionOrder(3 * time.Second)
	placeAndPay(t, stuck, "completed")
	cust := waitFakeCustomer(t, domainOf(stuck))
	st.Fake.Inject(tenant.Fault{Method: "PATCH", PathPrefix: "/v1/customers/" + cust + "/subscriptions/", Status: 403, Code: "Forbidden"})
	waitStatus(t, E, "needs_attention")

	placeAndPay(t, paid, "completed")
	// The domain check of held's domain (CreateTenant's first call) alone
	// gets a 503 asking to come back in 10 minutes. Times 1: the fault is
	// spent by its first hit, and the saga then waits out the Retry-After.
	st.Fake.Inject(tenant.Fault{Method: "HEAD", PathPrefix: "/v1/domains/" + domainOf(held), Status: 503, RetryAfter: 10 * time.Minute})
	placeAndPay(t, held, "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, B).Status)
	require.Eventually(t, func() bool {
		a, err := pendingActivity(D, "CreateTenant")
		return err == nil && a != nil && a.Attempt >= 2 && a.State == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED
	}, 60*time.Second, 20*time.Millisecond, "the domain check failed once and waits out its Retry-After")

	// An operator cancels an order that waits for payment.
	waitStatus(t, C, "awaiting_payment")
	require.NoError(t, update(t, C, workflows.UpdateCancel, workflows.CancelRequest{Actor: ops, Reason: "ordered twice, customer called"}))
	require.Equal(t, workflows.Result{Status: order.Cancelled, Reason: "cancelled by " + ops + ": ordered twice, customer called"}, waitDone(t, C))
	record(t, C, "operator_cancel")
	requireLogged(t, C, "compensating", ops, "ordered twice") // the compensation names the operator who asked for it
	require.Equal(t, "system", eventOf(t, C, "cancelled").Actor)
	waitStatus(t, A, "awaiting_payment")

	// 1-2. Five states at once, each found by a list filter.
	invA := getOrder(t, A).Body["invoice"].(map[string]any)
	require.Equal(t, "817.95", invA["gross"], "business-premium 95.00 PLN x 7 seats + 23% VAT")
	findOrders(t, `OrderStatus = "awaiting_payment" AND Plan = "business-premium" AND Seats = 7 AND CustomerDomain = "`+domainOf(awaiting)+`"`, A)
	findOrders(t, `InvoiceNumber = "`+invA["number"].(string)+`"`, A)
	findOrders(t, `OrderStatus = "installer_ready" AND PaidAt > "`+since+`" AND CustomerDomain = "`+domainOf(paid)+`"`, B)
	findOrders(t, `OrderStatus = "cancelled" AND CustomerDomain = "`+domainOf(cancelled)+`"`, C)
	findOrders(t, `OrderStatus = "provisioning_tenant" AND CustomerDomain = "`+domainOf(held)+`"`, D)
	findOrders(t, `OrderStatus = "needs_attention" AND CustomerDomain = "`+domainOf(stuck)+`"`, E)
	var domains []string
	for _, o := range orders {
		domains = append(domains, `"`+domainOf(o)+`"`)
	}
	// The provisioned order's subscription carries the same attributes;
	// the workflow type tells the order sagas apart.
	mine := `CustomerDomain IN (` + strings.Join(domains, ", ") + `) AND WorkflowType = "` + workflows.OrderWorkflowName + `"`
	findOrders(t, mine, A, B, C, D, E)
	waitListed(t, `CustomerDomain IN (`+strings.Join(domains, ", ")+`) AND WorkflowType = "`+workflows.SubscriptionWorkflowName+
		`" AND OrderID = "`+B+`" AND Stage = "active"`, 1)
	findOrders(t, mine+` AND PaidAt > "`+since+`"`, B, D, E)
	findOrders(t, mine+` AND Seats = 5`, B, C, D, E)

	// 3. The status and timeline queries.
	billed := []order.Status{order.Placed, order.BillingAccess, order.AwaitingPayment}
	provisioning := append(slices.Clone(billed), order.ProvisioningTenant)
	for id, want := range map[string][]order.Status{
		A: billed, B: append(slices.Clone(provisioning), order.EmailingCredentials, order.InstallerReady),
		C: append(slices.Clone(billed), order.Compensating, order.Cancelled), D: provisioning,
		E: append(slices.Clone(provisioning), order.Compensating, order.NeedsAttention),
	} {
		require.Equal(t, want, timelineStatuses(t, id), "timeline of %s", id)
		require.Equal(t, want[len(want)-1], statusOf(t, id).Status, "status of %s", id)
	}
	deadline := apiDeadline(t, A)
	v := statusOf(t, A)
	require.Equal(t, []any{invA["number"], "payment", ""}, []any{v.Invoice.Number, v.WaitingFor, v.TenantID}, "invoice, waiting for, tenant")
	require.True(t, v.Until != nil && v.Until.Equal(deadline), "status until %v, API deadline %s", v.Until, deadline)
	v, gB := statusOf(t, B), getOrder(t, B).Body
	require.NotEmpty(t, v.TenantID)
	require.Equal(t, []any{gB["tenant_id"], domainOf(paid), gB["invoice"].(map[string]any)["number"], ""},
		[]any{v.TenantID, v.Domain, v.Invoice.Number, v.WaitingFor}, "tenant, domain, invoice, waiting for")
	require.Nil(t, v.Until)
	v = statusOf(t, C)
	require.Contains(t, v.Reason, "ordered twice")
	require.Empty(t, v.Undo, "everything was undone")
	v = statusOf(t, D)
	require.Equal(t, []string{"", ""}, []string{v.TenantID, v.WaitingFor}, "no tenant yet, waiting for no one")
	v = statusOf(t, E)
	require.Contains(t, v.WaitingFor, workflows.UpdateResolve)
	require.Contains(t, v.Reason, "403")
	require.Equal(t, []string{workflows.UndoSuspendSubscriptions, workflows.UndoRefundPayment, workflows.UndoVoidInvoice,
		workflows.UndoRevokeBilling, workflows.UndoReleaseReservation}, v.Undo)

	// 4a. Refused by the validators: an error, and no line in any log.
	logged := map[string]int{}
	for _, id := range []string{A, B, D, E} {
		logged[id] = len(eventsOf(t, id))
	}
	manual := workflows.ManualPayment{Actor: ops, Reason: "transfer seen on the statement", Reference: "TR-" + D}
	require.ErrorContains(t, update(t, D, workflows.UpdateMarkPaid, manual), "not waiting for payment")
	require.ErrorContains(t, update(t, D, workflows.UpdateResolve, workflows.Decision{Actor: ops, Reason: "done by hand"}), "only an order in needs_attention")
	require.ErrorContains(t, update(t, D, workflows.UpdateRetryProvisioning, workflows.Decision{Reason: "no actor"}), "actor is required")
	require.ErrorContains(t, update(t, A, workflows.UpdateRetryProvisioning, workflows.Decision{Actor: ops, Reason: "too early"}), "only a tenant being provisioned")
	require.ErrorContains(t, update(t, A, workflows.UpdateExtendDeadline,
		workflows.Extension{Actor: ops, Reason: "shorter", Until: deadline.Add(-time.Hour)}), "until must be after the current deadline")
	require.ErrorContains(t, update(t, A, workflows.UpdateMarkPaid, workflows.ManualPayment{Actor: ops, Reason: "no reference"}), "reference is required")
	require.ErrorContains(t, update(t, E, workflows.UpdateCancel, workflows.CancelRequest{Actor: ops, Reason: "too late"}), "can no longer be cancelled")
	require.Error(t, update(t, B, workflows.UpdateMarkPaid, manual), "a finished order takes no update")
	for id, n := range logged {
		require.Len(t, eventsOf(t, id), n, "a refused action leaves no line in the log of %s", id)
	}
	require.True(t, statusOf(t, A).Until.Equal(deadline))
	require.Equal(t, order.ProvisioningTenant, statusOf(t, D).Status)

	// 4b. extend_deadline moves the deadline in the saga and in the database.
	until := deadline.Add(72 * time.Hour)
	require.NoError(t, update(t, A, workflows.UpdateExtendDeadline, workflows.Extension{Actor: ops, Reason: "customer waits for a budget", Until: until}))
	require.True(t, assertEventually(30*time.Second, func() bool {
		v := statusOf(t, A)
		return v.Until != nil && v.Until.Equal(until)
	}), "the status query shows the new deadline")
	requireLogged(t, A, "extend_deadline:"+until.UTC().Format(time.RFC3339), ops, "customer waits for a budget")
	var dbDeadline time.Time
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(), `SELECT payment_deadline FROM orders WHERE order_id = $1`, A).Scan(&dbDeadline))
	require.True(t, dbDeadline.Equal(until), "orders.payment_deadline %s, want %s", dbDeadline, until)
	require.True(t, apiDeadline(t, A).Equal(until))
	tl := timeline(t, A)
	require.Equal(t, order.AwaitingPayment, tl[len(tl)-1].Status)
	require.Contains(t, tl[len(tl)-1].Reason, ops+": deadline extended to "+until.UTC().Format(time.RFC3339))

	// 4c. mark_paid: a transfer seen by hand pays the order, which is provisioned.
	manual = workflows.ManualPayment{Actor: ops, Reason: "transfer seen on the statement", Reference: "TR-" + A}
	require.NoError(t, update(t, A, workflows.UpdateMarkPaid, manual))
	require.Equal(t, order.InstallerReady, waitDone(t, A).Status)
	record(t, A, "operator_extend_deadline_mark_paid")
	payment := "manual:" + A + ":" + manual.Reference
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM payments p JOIN invoices i ON i.order_id = p.order_id AND i.kind = 'proforma'
		WHERE p.payment_id = $1 AND p.order_id = $2 AND p.status = 'completed' AND p.amount_grosze = i.gross_grosze`, payment, A))
	requireLogged(t, A, "mark_paid:"+manual.Reference, ops, "transfer seen on the statement")
	require.Equal(t, "payment "+payment+" received", eventOf(t, A, "provisioning_tenant").Reason)
	require.Equal(t, "paid", getOrder(t, A).Body["invoice"].(map[string]any)["status"])
	findOrders(t, `OrderStatus = "installer_ready" AND PaidAt > "`+since+`" AND CustomerDomain = "`+domainOf(awaiting)+`"`, A)

	// 4d. retry_provisioning: the fault is spent, and the held order goes on
	// at once instead of after the tenant API's 10 minutes.
	resp, err := http.Head(st.FakeURL + "/v1/domains/" + domainOf(held))
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, http.StatusServiceUnavailable, resp.StatusCode, "no fault is left for the domain")
	began := time.Now()
	require.NoError(t, update(t, D, workflows.UpdateRetryProvisioning, workflows.Decision{Actor: ops, Reason: "Partner Center is back"}))
	require.Equal(t, order.InstallerReady, waitDone(t, D).Status)
	record(t, D, "operator_retry_provisioning")
	require.Less(t, time.Since(began), time.Minute, "provisioned at once, not after the Retry-After")
	requireLogged(t, D, "retry_provisioning#1", ops, "provisioning retried at once: Partner Center is back")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = 'retry_provisioning#1' AND status = 'provisioning_tenant'`, D))
	require.Equal(t, 1, mailsOfKind(emailOf(held), "credentials"))

	// 4e. resolve: the refused undo step was done by hand; the rest still run.
	require.NoError(t, update(t, E, workflows.UpdateResolve, workflows.Decision{Actor: ops, Reason: "subscription suspended by hand in Partner Center"}))
	require.Equal(t, order.Refunded, waitDone(t, E).Status)
	record(t, E, "operator_resolve")
	require.Equal(t, keys(paidKeys, "compensating", "needs_attention#1", "decision#1", "compensating#2",
		"undo:refund_payment", undoBilling, "refunded"), eventKeys(t, E))
	requireLogged(t, E, "decision#1", ops, "resolve: subscription suspended by hand in Partner Center")
	require.Equal(t, []string{"completed-" + E}, refundsOf(t, E))
	creditNote(t, E, true)

	// 5. No personal data in plaintext in any history (the place update
	// that started each one carries all of it), nor a refused update.
	const P = workflows.UpdatePlace
	accepted := map[string][]string{
		A: {P, workflows.UpdateExtendDeadline, workflows.UpdateMarkPaid}, B: {P}, C: {P, workflows.UpdateCancel},
		D: {P, workflows.UpdateRetryProvisioning}, E: {P, workflows.UpdateResolve},
	}
	for _, o := range orders {
		c := o["customer"].(map[string]any)
		got := scanForPlaintext(t, idOf(o), c["email"].(string), c["first_name"].(string), c["last_name"].(string), c["company"].(string))
		require.Equal(t, accepted[idOf(o)], got, "updates in the history of %s", idOf(o))
	}
	readThroughCodec(t, awaiting)
}

// operatorOrder is an order whose customer's data is unique to it and long
// or odd enough never to show up by chance in base64 ciphertext.
func operatorOrder(t *testing.T, plan string, seats int) map[string]any {
	o := newOrder(t)
	n := seq.Add(1)
	o["plan"], o["seats"] = plan, seats
	c := o["customer"].(map[string]any)
	c["email"] = fmt.Sprintf("ksiegowosc.%d@wierzbicki-operator.example", n)
	c["first_name"] = fmt.Sprintf("Bartłomiej%d", n)
	c["last_name"] = fmt.Sprintf("Wierzbicki-Żółkiewski%d", n)
	c["company"] = fmt.Sprintf("Zakład Usług Wierzbicki %d sp. z o.o.", n)
	return o
}

func idOf(o map[string]any) string     { return o["order_id"].(string) }
func domainOf(o map[string]any) string { return o["domain_prefix"].(string) + ".onmicrosoft.com" }

// update sends an operator update and waits for its outcome; a validator's
// refusal comes back as the error.
func update(t *testing.T, id, name string, arg any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := st.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(id), UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	var v workflows.StatusView
	return h.Get(ctx, &v)
}

// findOrders waits until a visibility query lists exactly the given orders.
func findOrders(t *testing.T, query string, ids ...string) {
	t.Helper()
	var want, got []string
	for _, id := range ids {
		want = append(want, workflows.WorkflowID(id))
	}
	slices.Sort(want)
	var err error
	ok := assertEventually(30*time.Second, func() bool {
		var resp *workflowservice.ListWorkflowExecutionsResponse
		resp, err = st.Client.ListWorkflow(context.Background(), listQuery(query))
		got = nil
		for _, e := range resp.GetExecutions() {
			got = append(got, e.GetExecution().GetWorkflowId())
		}
		slices.Sort(got)
		return slices.Equal(got, want)
	})
	require.True(t, ok, "query %s: got %v, want %v (last error %v)", query, got, want, err)
}

// assertEventually polls cond in the test's goroutine, so cond may keep state.
func assertEventually(timeout time.Duration, cond func() bool) bool {
	for end := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

func timeline(t *testing.T, id string) []workflows.TimelineEntry {
	t.Helper()
	v, err := st.Client.QueryWorkflow(context.Background(), workflows.WorkflowID(id), "", workflows.QueryTimeline)
	require.NoError(t, err)
	var tl []workflows.TimelineEntry
	require.NoError(t, v.Get(&tl))
	for i := 1; i < len(tl); i++ {
		require.False(t, tl[i].At.Before(tl[i-1].At), "timeline of %s in order", id)
	}
	return tl
}

// timelineStatuses lists the statuses of the transitions on the timeline.
func timelineStatuses(t *testing.T, id string) []order.Status {
	var out []order.Status
	for _, e := range timeline(t, id) {
		if len(out) == 0 || out[len(out)-1] != e.Status {
			out = append(out, e.Status)
		}
	}
	return out
}

func eventOf(t *testing.T, id, key string) eventRow {
	t.Helper()
	for _, e := range eventsOf(t, id) {
		if e.Key == key {
			return e
		}
	}
	t.Fatalf("order %s logged no %s: %v", id, key, eventKeys(t, id))
	return eventRow{}
}

// requireLogged checks that the order's log has key, by actor, for reason.
func requireLogged(t *testing.T, id, key, actor, reason string) {
	t.Helper()
	e := eventOf(t, id, key)
	require.Equal(t, actor, e.Actor, "actor of %s", key)
	require.Contains(t, e.Reason, reason, "reason of %s", key)
}

func apiDeadline(t *testing.T, id string) time.Time {
	t.Helper()
	d, err := time.Parse(time.RFC3339, getOrder(t, id).Body["payment_deadline"].(string))
	require.NoError(t, err)
	return d
}

// scanForPlaintext fails if any secret is in an event of the order's
// history, as protobuf bytes or as JSON, and returns the names of the
// updates the history accepted.
func scanForPlaintext(t *testing.T, id string, secrets ...string) []string {
	t.Helper()
	it := st.Client.GetWorkflowHistory(context.Background(), workflows.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var updates []string
	events := 0
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		events++
		raw, err := proto.Marshal(e)
		require.NoError(t, err)
		js, err := protojson.Marshal(e)
		require.NoError(t, err)
		for _, s := range secrets {
			// Not NotContains: a failure would print the whole event.
			require.False(t, bytes.Contains(raw, []byte(s)), "%q in plaintext in order %s event %d %s", s, id, e.EventId, e.EventType)
			require.False(t, bytes.Contains(js, []byte(s)), "%q in the JSON of order %s event %d %s", s, id, e.EventId, e.EventType)
		}
		if u := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); u != nil {
			updates = append(updates, u.GetAcceptedRequest().GetInput().GetName())
		}
	}
	require.Greater(t, events, 10, "the whole history of %s was read", id)
	return updates
}

// readThroughCodec reads the order's input, memo and summary as the Web UI
// does: ciphertext in history, plaintext through the codec endpoint.
func readThroughCodec(t *testing.T, o map[string]any) {
	t.Helper()
	it := st.Client.GetWorkflowHistory(context.Background(), workflows.WorkflowID(idOf(o)), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	require.True(t, it.HasNext())
	first, err := it.Next()
	require.NoError(t, err)
	started := first.GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, started)
	company := o["customer"].(map[string]any)["company"].(string)
	dc := converter.GetDefaultDataConverter()

	input, memo, summary := started.GetInput().GetPayloads(), started.GetMemo().GetFields()["company"], first.GetUserMetadata().GetSummary()
	require.Len(t, input, 1)
	require.NotNil(t, memo, "the memo names the company")
	require.NotNil(t, summary, "the order has a static summary")
	for _, p := range []*commonpb.Payload{input[0], memo, summary} {
		require.Equal(t, codec.EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	}
	var in workflows.OrderInput
	require.NoError(t, dc.FromPayloads(codecDecode(t, input...), &in))
	require.Equal(t, []any{idOf(o), "business-premium", 7}, []any{in.OrderID, in.Plan, in.Seats})
	var got string
	require.NoError(t, dc.FromPayloads(codecDecode(t, memo), &got))
	require.Equal(t, company, got)
	require.NoError(t, dc.FromPayloads(codecDecode(t, summary), &got))
	require.Contains(t, got, company)

	// The Web UI's origin may call the endpoint from the browser; others not.
	for origin, allowed := range map[string]bool{"http://127.0.0.1:8233": true, "http://evil.example": false} {
		a := call(t, http.MethodOptions, "/codec/decode", "", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-namespace")
		if allowed {
			require.Less(t, a.Status, 300, origin)
			require.Equal(t, origin, a.Header.Get("Access-Control-Allow-Origin"))
			require.Contains(t, a.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")
		} else {
			require.Equal(t, http.StatusForbidden, a.Status, origin)
			require.Empty(t, a.Header.Get("Access-Control-Allow-Origin"), origin)
		}
	}
}

// codecDecode posts payloads to the codec endpoint as the Web UI does.
func codecDecode(t *testing.T, ps ...*commonpb.Payload) *commonpb.Payloads {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	require.NoError(t, err)
	a := call(t, http.MethodPost, "/codec/decode", cfg.CodecToken, body, "Content-Type", "application/json", "X-Namespace", "default")
	require.Equal(t, http.StatusOK, a.Status, string(a.Raw))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(a.Raw, &out))
	require.Len(t, out.Payloads, len(ps))
	return &out
}
