package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// breakInvoices makes PostgreSQL refuse the VAT invoice of the given orders,
// as the PDF renderer's panic on an emoji did: the step that records the
// payment fails on every attempt. It returns the repair.
func breakInvoices(t *testing.T, orderIDs ...string) (repair func()) {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("broken_%d", time.Now().UnixNano())
	for _, sql := range []string{
		`CREATE TABLE ` + name + ` (order_id text PRIMARY KEY)`,
		`CREATE FUNCTION ` + name + `() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.kind = 'invoice' AND EXISTS (SELECT 1 FROM ` + name + ` b WHERE b.order_id = NEW.order_id) THEN
				RAISE EXCEPTION 'the renderer is broken for %', NEW.order_id;
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER ` + name + ` BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION ` + name + `()`,
	} {
		_, err := st.Store.Pool.Exec(ctx, sql)
		require.NoError(t, err)
	}
	for _, id := range orderIDs {
		_, err := st.Store.Pool.Exec(ctx, `INSERT INTO `+name+` (order_id) VALUES ($1)`, id)
		require.NoError(t, err)
	}
	return func() {
		_, err := st.Store.Pool.Exec(ctx, `DROP TRIGGER `+name+` ON invoices`)
		require.NoError(t, err)
	}
}

func answerParked(t *testing.T, orderID, update, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := st.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(orderID), UpdateName: update,
		Args:         []any{workflows.Decision{Actor: "ops", Reason: reason}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err, update)
	require.NoError(t, h.Get(ctx, nil))
}

// Finding 1 of the hostile-input review: a paid order whose VAT invoice
// cannot be issued (the renderer panicked on an emoji) failed its workflow
// for good, kept the money with no invoice and no refund, and never showed
// as needs_attention. Now it waits, listed by OrderStatus, in the API and
// the database too; the operator's retry finishes it once the cause is
// fixed, and resolve refunds it.
func TestPaidOrderWhoseStepFailsForGoodWaitsForAnOperator(t *testing.T) {
	retried, resolved := newOrder(t), newOrder(t)
	ids := []string{retried["order_id"].(string), resolved["order_id"].(string)}
	repair := breakInvoices(t, ids...)
	repaired := false
	defer func() {
		if !repaired {
			repair()
		}
	}()
	for _, o := range []map[string]any{retried, resolved} {
		placeAndPay(t, o, "completed")
	}
	for _, id := range ids {
		// The payment step retries for about 30 s before it parks.
		waitStatus(t, id, "needs_attention")
		a := getOrder(t, id)
		require.Equal(t, 200, a.Status)
		require.Equal(t, "needs_attention", a.Body["status"], "the API shows it")
		require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1 AND status = 'needs_attention'`, id))
		waitListed(t, `OrderStatus = "needs_attention" AND WorkflowId = "`+workflows.WorkflowID(id)+`"`, 1)
		v, err := st.Client.QueryWorkflow(context.Background(), workflows.WorkflowID(id), "", workflows.QueryAttention)
		require.NoError(t, err)
		var att *workflows.Attention
		require.NoError(t, v.Get(&att))
		require.NotNil(t, att)
		require.Contains(t, att.Step, "MarkPaid")
		require.Contains(t, att.Reason, "broken for "+id)
	}
	repair()
	repaired = true

	answerParked(t, ids[0], workflows.UpdateRetry, "renderer fixed")
	require.Equal(t, "installer_ready", string(waitDone(t, ids[0]).Status))
	record(t, ids[0], "step_parked_then_retried")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, ids[0]), "the VAT invoice once")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, ids[0]))

	answerParked(t, ids[1], workflows.UpdateResolve, "customer asked for the money back")
	require.Equal(t, "refunded", string(waitDone(t, ids[1]).Status))
	record(t, ids[1], "step_parked_then_resolved")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, ids[1]), "the payment is refunded")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, ids[1]), "the domain is free again")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, ids[1]))
}
