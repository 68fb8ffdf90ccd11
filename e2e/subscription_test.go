package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// drivePeriod replaces the subscription run the stack started at
// installer_ready (whose period ends a month from now) with one whose
// period ends at end, so that a renewal plays out in seconds on the real
// server. It returns the new run's id.
func drivePeriod(t *testing.T, orderID string, end time.Time, timing workflows.SubscriptionTiming) string {
	t.Helper()
	ctx := context.Background()
	wid := workflows.SubscriptionWorkflowID(orderID)
	d, err := st.Client.DescribeWorkflowExecution(ctx, wid, "")
	require.NoError(t, err, "installer_ready started the subscription")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, d.WorkflowExecutionInfo.Status)
	require.NoError(t, st.Client.TerminateWorkflow(ctx, wid, "", "the test drives the period"))
	sv, err := st.Store.GetService(ctx, orderID)
	require.NoError(t, err)
	run, err := st.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: wid, TaskQueue: cfg.TaskQueue,
		TypedSearchAttributes: workflows.AfterAttributes(orderID, "business-standard", "", sv.Seats, "active"),
	}, workflows.SubscriptionWorkflowName, workflows.SubscriptionInput{OrderID: orderID, Period: sv.Period, PeriodEnd: end, Timing: timing})
	require.NoError(t, err)
	return run.GetRunID()
}

func subscriptionOf(t *testing.T, orderID string) map[string]any {
	t.Helper()
	v := getOrder(t, orderID)
	require.Equal(t, 200, v.Status)
	require.Equal(t, "installer_ready", v.Body["status"], "the order's own status stays where the order saga ended")
	return v.Body["subscription"].(map[string]any)
}

func waitTenantStatus(t *testing.T, orderID, status string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, s := atTenant(t, orderID)
		return s.Status == status
	}, 60*time.Second, 20*time.Millisecond, "subscription of %s never %s at the tenant", orderID, status)
}

// A renewal not paid in the grace period suspends the subscription at the
// tenant; the payment that comes later reactivates it, and the next period
// is a new run (continue-as-new) with a short history behind it.
func TestRenewalMissedSuspendsThenPaymentReactivates(t *testing.T) {
	id, o := provisioned(t, 5)
	suspensions, reactivations := st.Fake.Suspensions(), st.Fake.Reactivations()
	first := drivePeriod(t, id, time.Now().Add(3*time.Second), workflows.SubscriptionTiming{Notice: 2 * time.Second, Grace: 2 * time.Second, Suspension: time.Hour})

	waitNotice(t, emailOf(o), "renewal_invoice")
	chargeID := id + ":renewal:2"
	require.Equal(t, "renewal_due", subscriptionOf(t, id)["status"])
	waitTenantStatus(t, id, "suspended")
	waitNotice(t, emailOf(o), "subscription_suspended")
	require.Eventually(t, func() bool { return subscriptionOf(t, id)["status"] == "suspended" }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, suspensions+1, st.Fake.Suspensions())

	p := payCharge(t, id, chargeID, "completed")
	require.Equal(t, 200, p.Status, string(p.Raw))
	waitTenantStatus(t, id, "active")
	m := waitNotice(t, emailOf(o), "subscription_reactivated")
	require.Empty(t, m.Attachments, "the VAT invoice goes in KSeF's email, with its KSeF number")
	_, _, n := eInvoiceMail(t, emailOf(o), documentOf(t, chargeID, "invoice"))
	require.Equal(t, 1, n)
	require.Equal(t, reactivations+1, st.Fake.Reactivations())
	sub := subscriptionOf(t, id)
	require.Equal(t, "active", sub["status"])
	require.EqualValues(t, 2, sub["period"])

	// The paid period's run ended by continuing as new.
	wid := workflows.SubscriptionWorkflowID(id)
	require.Eventually(t, func() bool {
		d, err := st.Client.DescribeWorkflowExecution(context.Background(), wid, "")
		return err == nil && d.WorkflowExecutionInfo.Execution.RunId != first &&
			d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, 30*time.Second, 20*time.Millisecond)
	events := 0
	it := st.Client.GetWorkflowHistory(context.Background(), wid, first, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	last := enumspb.EVENT_TYPE_UNSPECIFIED
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		events++
		last = e.EventType
	}
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, last)
	recordRun(t, wid, first, "subscription_suspended_then_paid")
	t.Logf("history of the suspended-then-paid period: %d events", events)
	require.Less(t, events, 100, "one period's history is bounded")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'invoice'`, chargeID))
}

// A cancellation ends the subscription when the paid period ends, with no
// renewal billed.
func TestSubscriptionCancelledEndsAtThePeriodsEnd(t *testing.T) {
	id, o := provisioned(t, 5)
	end := time.Now().Add(3 * time.Second)
	drivePeriod(t, id, end, workflows.SubscriptionTiming{Notice: time.Second, Grace: time.Second, Suspension: time.Hour})
	a := call(t, "POST", "/v1/orders/"+id+"/subscription/cancel", shopKey, map[string]any{"reason": "moving to another provider"})
	require.Equal(t, 202, a.Status, string(a.Raw))
	require.Equal(t, true, a.Body["cancel_at_period_end"])
	waitNotice(t, emailOf(o), "subscription_ending")
	waitTenantStatus(t, id, "deleted")
	require.False(t, time.Now().Before(end), "not before the paid period ends")
	waitNotice(t, emailOf(o), "subscription_terminated")
	require.Equal(t, "terminated", subscriptionOf(t, id)["status"])
	waitAfter(t, workflows.SubscriptionWorkflowID(id))
	recordRun(t, workflows.SubscriptionWorkflowID(id), "", "subscription_cancelled_at_period_end")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM charges WHERE order_id = $1 AND kind = 'renewal'`, id), "nothing billed for a period not wanted")
	again := call(t, "POST", "/v1/orders/"+id+"/subscription/cancel", shopKey, nil)
	require.Equal(t, 409, again.Status)
}

// A renewal never paid: suspended, then terminated, its pro-forma void (no
// correction: a pro-forma is not a VAT invoice).
func TestRenewalNeverPaidIsTerminatedWithItsProformaVoid(t *testing.T) {
	id, o := provisioned(t, 5)
	drivePeriod(t, id, time.Now().Add(2*time.Second), workflows.SubscriptionTiming{Notice: time.Second, Grace: time.Second, Suspension: 2 * time.Second})
	waitTenantStatus(t, id, "suspended")
	waitTenantStatus(t, id, "deleted")
	m := waitNotice(t, emailOf(o), "subscription_terminated")
	require.Empty(t, m.Attachments, "no correction to send")
	require.NotContains(t, m.Text, "KOR/")
	require.Equal(t, "terminated", subscriptionOf(t, id)["status"])
	waitAfter(t, workflows.SubscriptionWorkflowID(id))
	recordRun(t, workflows.SubscriptionWorkflowID(id), "", "subscription_unpaid_terminated")
	chargeID := id + ":renewal:2"
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'correction'`, chargeID))
	require.Equal(t, "void", dbString(t, `SELECT status FROM invoices WHERE charge_id = $1 AND kind = 'proforma'`, chargeID))
	require.Contains(t, m.Text, dbString(t, `SELECT number FROM invoices WHERE charge_id = $1 AND kind = 'proforma'`, chargeID), "the notice says the pro-forma is void")
	late := payCharge(t, id, chargeID, "completed")
	require.Equal(t, 200, late.Status)
	require.Equal(t, true, late.Body["refund"], "money after termination is owed back")
}
