package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// provisioned makes an order with seats and runs it to installer_ready.
func provisioned(t *testing.T, seats int) (string, map[string]any) {
	t.Helper()
	o := newOrder(t)
	o["seats"] = seats
	return payAndProvision(t, o), o
}

// waitAfter waits for a post-purchase workflow to end.
func waitAfter(t *testing.T, workflowID string) workflows.AfterResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var r workflows.AfterResult
	require.NoError(t, st.Client.GetWorkflow(ctx, workflowID, "").Get(ctx, &r))
	return r
}

// waitNotice waits for a post-purchase email of kind to the address.
func waitNotice(t *testing.T, to, kind string) mail.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := st.Sink.WaitFor(ctx, func(m mail.Received) bool {
		return len(m.To) == 1 && m.To[0] == to && (strings.Contains(m.MessageID, "."+kind+".") || strings.Contains(m.MessageID, "."+kind+"@"))
	})
	require.NoError(t, err, "no %s email to %s", kind, to)
	return m
}

// noticesTo counts the emails of kind to the address.
func noticesTo(to, kind string) int {
	n := 0
	for _, m := range st.Sink.Messages() {
		if len(m.To) == 1 && m.To[0] == to && (strings.Contains(m.MessageID, "."+kind+".") || strings.Contains(m.MessageID, "."+kind+"@")) {
			n++
		}
	}
	return n
}

// atTenant is the order's customer and subscription at the tenant fake.
func atTenant(t *testing.T, orderID string) (customer string, sub tenant.Subscription) {
	t.Helper()
	ctx := context.Background()
	tn, err := st.Store.Tenant(ctx, orderID)
	require.NoError(t, err)
	subs, err := st.Store.Subscriptions(ctx, orderID)
	require.NoError(t, err)
	require.Len(t, subs, 1)
	s, ok := st.Fake.Subscription(tn.PartnerCustomer, subs[0].ID)
	require.True(t, ok)
	return tn.PartnerCustomer, s
}

// chargeProforma is the pro-forma of a charge, once issued.
func chargeProforma(t *testing.T, orderID, chargeID string) store.Invoice {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := st.Store.GetCharge(ctx, chargeID)
		if err == nil && c.Invoice != nil {
			require.Equal(t, orderID, c.OrderID)
			return *c.Invoice
		}
		select {
		case <-ctx.Done():
			t.Fatalf("charge %s has no pro-forma (last error %v)", chargeID, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// payCharge sends the gateway's notification for a charge's full amount.
func payCharge(t *testing.T, orderID, chargeID, status string) answer {
	t.Helper()
	pf := chargeProforma(t, orderID, chargeID)
	return notify(t, intake.Notification{OrderID: orderID, PaymentID: status + "-" + chargeID, Status: status,
		Amount: pf.Gross.String(), Currency: "PLN", ChargeID: chargeID})
}
