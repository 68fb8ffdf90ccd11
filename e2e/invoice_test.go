package e2e

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// TestConcurrentPaymentsNumberVATInvoicesWithoutGaps: 200 orders paid at
// once each get their VAT invoice in the FV series, issued in the
// transaction that records the payment: the 200 numbers follow one another
// with no gap and no repeat, and no other order's invoice sits among them.
// Issuing again for an order returns the invoice it has.
func TestConcurrentPaymentsNumberVATInvoicesWithoutGaps(t *testing.T) {
	const n = 200
	ids := make([]string, n)
	for i := range ids {
		o := newOrder(t)
		ids[i] = o["order_id"].(string)
		a := place(t, o)
		require.Equal(t, 202, a.Status, string(a.Raw))
	}
	for _, id := range ids {
		waitStatus(t, id, "awaiting_payment")
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if a := notify(t, intake.Notification{OrderID: id, PaymentID: "pay-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"}); a.Status != 200 {
				t.Errorf("order %s: payment answered %d %s", id, a.Status, a.Raw)
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, id := range ids {
		var r workflows.Result
		require.NoError(t, st.Client.GetWorkflow(ctx, workflows.WorkflowID(id), "").Get(ctx, &r))
		require.Equal(t, order.InstallerReady, r.Status, id)
	}

	year := time.Now().In(warsaw(t)).Format("2006")
	re := regexp.MustCompile(`^FV/` + year + `/(\d{6})$`)
	seq := make([]int, 0, n)
	for _, id := range ids {
		var number string
		var refersTo int64
		require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT i.number, i.refers_to FROM invoices i
			WHERE i.order_id = $1 AND i.kind = 'invoice' AND i.status = 'paid'`, id).Scan(&number, &refersTo))
		m := re.FindStringSubmatch(number)
		require.NotNil(t, m, number)
		k, _ := strconv.Atoi(m[1])
		seq = append(seq, k)
		require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM invoices WHERE id = $1 AND order_id = $2 AND kind = 'proforma' AND status = 'paid'`, refersTo, id),
			"%s settles the order's paid pro-forma", number)
	}
	sort.Ints(seq)
	for i := 1; i < n; i++ {
		require.Equal(t, seq[i-1]+1, seq[i], "FV numbers %d and %d: a gap or a repeat", seq[i-1], seq[i])
	}
	require.Equal(t, n, dbCount(t, `SELECT count(*) FROM invoices WHERE kind = 'invoice' AND number BETWEEN $1 AND $2`,
		fmt.Sprintf("FV/%s/%06d", year, seq[0]), fmt.Sprintf("FV/%s/%06d", year, seq[n-1])), "no other invoice among the 200")

	// A retried issuing step returns the same document.
	before := dbCount(t, `SELECT count(*) FROM invoices WHERE kind = 'invoice'`)
	fv, err := st.Store.Settle(ctx, ids[0], "pay-"+ids[0], time.Now())
	require.NoError(t, err)
	var first string
	require.NoError(t, st.Store.Pool.QueryRow(ctx, `SELECT number FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, ids[0]).Scan(&first))
	require.Equal(t, first, fv.Number)
	require.Equal(t, before, dbCount(t, `SELECT count(*) FROM invoices WHERE kind = 'invoice'`))
	t.Logf("%d VAT invoices FV/%s/%06d..%06d, consecutive", n, year, seq[0], seq[n-1])
}

func warsaw(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	return loc
}
