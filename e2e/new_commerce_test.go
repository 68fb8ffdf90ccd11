package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/stretchr/testify/require"
)

// payAndProvision places the order, pays its pro-forma and waits for
// installer_ready.
func payAndProvision(t *testing.T, o map[string]any) string {
	t.Helper()
	id := o["order_id"].(string)
	a := place(t, o)
	require.Equal(t, 202, a.Status, string(a.Raw))
	waitMail(t, emailOf(o), "billing_access")
	inv := getOrder(t, id).Body["invoice"].(map[string]any)
	n := notify(t, intake.Notification{OrderID: id, PaymentID: "p-" + id, Status: "completed", Amount: inv["gross"].(string), Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
	require.Equal(t, "installer_ready", string(waitDone(t, id).Status))
	return id
}

// requireAgreementFirst checks that the tenant fake confirmed one Customer
// Agreement for the order's customer, and that it came before the first
// cart; it returns the agreement and the cart.
func requireAgreementFirst(t *testing.T, orderID string) (tenant.Agreement, tenant.Cart, tenant.Subscription) {
	t.Helper()
	customer, sub := atTenant(t, orderID)
	arrived := st.Fake.Arrivals(customer)
	require.NotEmpty(t, arrived)
	require.Equal(t, tenant.ArrivedAgreement, arrived[0].Kind, "the Customer Agreement reached the tenant API before any cart: %+v", arrived)
	kinds := []string{}
	for _, a := range arrived {
		kinds = append(kinds, a.Kind)
	}
	require.Equal(t, []string{tenant.ArrivedAgreement, tenant.ArrivedCart, tenant.ArrivedCheckout}, kinds)
	ags := st.Fake.Agreements(customer)
	require.Len(t, ags, 1)
	require.Equal(t, tenant.AgreementTypeMCA, ags[0].Type)
	require.Equal(t, tenant.MCATemplateID, ags[0].TemplateID)
	carts := st.Fake.Carts(customer)
	require.Len(t, carts, 1)
	require.Equal(t, "Ordered", carts[0].Status)
	return ags[0], carts[0], sub
}

// TestNewCommerceAnnualTermBilledMonthly: an order for an annual term
// billed monthly, with the Customer Agreement's acceptance in its body,
// reaches the tenant API as that acceptance (name, email, time) before
// the first cart, and the cart carries the term and the billing cycle.
// The first confirmation's answer is lost and the first checkout refused
// with 503: the retries buy one subscription.
func TestNewCommerceAnnualTermBilledMonthly(t *testing.T) {
	o := newOrder(t)
	o["term"], o["billing_cycle"], o["seats"] = "P1Y", "monthly", 4
	o["mca_accepted_by"] = map[string]any{"first_name": "Anna", "last_name": "Nowak", "email": "Anna.Nowak@acme.pl", "accepted_at": "2026-11-30T15:04:05+01:00"}
	st.Fake.Inject(tenant.Fault{Method: "POST", PathSuffix: "/agreements", LoseResponse: true, Status: http.StatusServiceUnavailable})
	st.Fake.Inject(tenant.Fault{Method: "POST", PathSuffix: "/checkout", Status: http.StatusServiceUnavailable, RetryAfter: time.Second})
	id := payAndProvision(t, o)

	ag, cart, sub := requireAgreementFirst(t, id)
	require.Equal(t, tenant.Contact{FirstName: "Anna", LastName: "Nowak", Email: "anna.nowak@acme.pl"}, ag.PrimaryContact)
	require.True(t, time.Date(2026, 11, 30, 14, 4, 5, 0, time.UTC).Equal(ag.DateAgreed), "accepted_at: %s", ag.DateAgreed)
	require.Len(t, cart.LineItems, 1)
	li := cart.LineItems[0]
	require.Equal(t, "P1Y", li.TermDuration)
	require.Equal(t, "monthly", li.BillingCycle)
	require.Equal(t, 4, li.Quantity)
	require.Equal(t, sub.OfferID, tenant.OfferOf(li.CatalogItemID))
	require.Equal(t, "P1Y", sub.TermDuration)
	require.Equal(t, "monthly", sub.BillingCycle)
	require.Equal(t, 4, sub.Quantity)

	v := getOrder(t, id).Body
	require.Equal(t, "P1Y", v["term"])
	require.Equal(t, "monthly", v["billing_cycle"])
	// Billed monthly, committed for a year: the term ends after twelve
	// periods, and the subscription knows it.
	sv := v["subscription"].(map[string]any)
	start, err := time.Parse(time.DateOnly, sv["period_start"].(string))
	require.NoError(t, err)
	require.Equal(t, start.AddDate(1, 0, -1).Format(time.DateOnly), sv["term_end"])
	d, err := st.Client.DescribeWorkflowExecution(context.Background(), workflows.SubscriptionWorkflowID(id), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, d.WorkflowExecutionInfo.Status)
	hist := st.Client.GetWorkflowHistory(context.Background(), workflows.SubscriptionWorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := hist.Next()
	require.NoError(t, err)
	var in workflows.SubscriptionInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(codecDecode(t, first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()...), &in))
	require.Equal(t, 12, in.TermPeriods)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1 AND term = 'P1Y' AND mca_from_order
		AND mca_email = 'anna.nowak@acme.pl' AND mca_accepted_at = '2026-11-30T14:04:05Z'`, id))

	again := place(t, o)
	require.Equal(t, 202, again.Status, string(again.Raw))
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "the same body is the same order")
	delete(o, "mca_accepted_by")
	other := place(t, o)
	require.Equal(t, 409, other.Status, "without the acceptance it is another body: %s", other.Raw)
}

// TestNewCommerceAgreementFromTheContact: an order without
// mca_accepted_by records its contact as having accepted the Agreement at
// placement (the shop's checkout shows it), and that reaches the tenant API
// before the first cart; an annual order buys an annual term.
func TestNewCommerceAgreementFromTheContact(t *testing.T) {
	o := newOrder(t)
	o["billing_cycle"] = "annual"
	id := payAndProvision(t, o)

	ag, cart, _ := requireAgreementFirst(t, id)
	require.Equal(t, tenant.Contact{FirstName: "Jan", LastName: "Kowalski", Email: emailOf(o)}, ag.PrimaryContact)
	placed, err := time.Parse(time.RFC3339Nano, getOrder(t, id).Body["placed_at"].(string))
	require.NoError(t, err)
	require.True(t, placed.Equal(ag.DateAgreed), "placed %s, agreed %s", placed, ag.DateAgreed)
	require.Equal(t, "P1Y", cart.LineItems[0].TermDuration)
	require.Equal(t, "annual", cart.LineItems[0].BillingCycle)
	require.Equal(t, "P1Y", getOrder(t, id).Body["term"])
}

// TestNewCommerceBodyRefusals: the new fields are refused by name.
func TestNewCommerceBodyRefusals(t *testing.T) {
	for _, c := range []struct {
		field string
		edit  func(map[string]any)
	}{
		{"term", func(o map[string]any) { o["term"], o["billing_cycle"] = "P1M", "annual" }},
		{"term", func(o map[string]any) { o["term"] = "P3Y" }},
		{"mca_accepted_by.email", func(o map[string]any) {
			o["mca_accepted_by"] = map[string]any{"first_name": "Anna", "last_name": "Nowak", "email": "anna", "accepted_at": "2026-11-30T15:04:05Z"}
		}},
		{"mca_accepted_by.accepted_at", func(o map[string]any) {
			o["mca_accepted_by"] = map[string]any{"first_name": "Anna", "last_name": "Nowak", "email": "anna@acme.pl", "accepted_at": "30.11.2026"}
		}},
		{"mca_accepted_by.accepted_at", func(o map[string]any) {
			o["mca_accepted_by"] = map[string]any{"first_name": "Anna", "last_name": "Nowak", "email": "anna@acme.pl",
				"accepted_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
		}},
		{"phone", func(o map[string]any) {
			o["mca_accepted_by"] = map[string]any{"first_name": "Anna", "last_name": "Nowak", "email": "anna@acme.pl", "accepted_at": "2026-11-30T15:04:05Z", "phone": "1"}
		}},
	} {
		o := newOrder(t)
		c.edit(o)
		a := place(t, o)
		require.Equal(t, 400, a.Status, string(a.Raw))
		require.Equal(t, c.field, a.errField(), string(a.Raw))
		require.False(t, workflowExists(t, o["order_id"].(string)))
	}
}
