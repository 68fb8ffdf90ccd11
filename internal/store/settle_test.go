package store_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

func TestSettleIssuesOneVATInvoiceForThePaidProforma(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "settle", year)
	pid := newID("p-settle")
	pay(t, id, pid, b.Invoice.Gross)
	paidOn := time.Date(year, 3, 14, 15, 0, 0, 0, time.UTC)

	fv, err := st.Settle(ctx, id, pid, paidOn)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("FV/%d/000001", year), fv.Number)
	require.Equal(t, "invoice", fv.Kind)
	require.Equal(t, "paid", fv.Status)
	require.Equal(t, b.Invoice.Net, fv.Net)
	require.Equal(t, b.Invoice.VAT, fv.VAT)
	require.Equal(t, b.Invoice.Gross, fv.Gross)
	require.Equal(t, paidOn.Format("2006-01-02"), fv.IssuedAt.Format("2006-01-02"), "dated the day of payment")

	again, err := st.Settle(ctx, id, pid, paidOn.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, fv.ID, again.ID, "a retried step returns the invoice already issued")
	require.Equal(t, fv.Number, again.Number)

	var refersTo int64
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT refers_to FROM invoices WHERE id = $1`, fv.ID).Scan(&refersTo))
	require.Equal(t, b.Invoice.ID, refersTo, "the VAT invoice names the pro-forma it settles")
	docs, err := st.Documents(ctx, id)
	require.NoError(t, err)
	require.Len(t, docs, 2)
	require.Equal(t, "paid", docs[0].Status, "the pro-forma is paid")
	require.Equal(t, []string{"proforma", "invoice"}, []string{docs[0].Kind, docs[1].Kind})
}

func TestConcurrentSettlementsNumberInvoicesWithoutGaps(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	const n = 200
	ids, pids := make([]string, n), make([]string, n)
	for i := range n {
		var b store.Billing
		ids[i], b = placeBilled(t, "settle-many", year)
		pids[i] = newID("p-many")
		pay(t, ids[i], pids[i], b.Invoice.Gross)
	}
	numbers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			fv, err := st.Settle(ctx, ids[i], pids[i], time.Date(year, 5, 1, 12, 0, 0, 0, time.UTC))
			numbers[i], errs[i] = fv.Number, err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	sort.Strings(numbers)
	for i, num := range numbers {
		require.Equal(t, fmt.Sprintf("FV/%d/%06d", year, i+1), num, "numbers 1..%d, no gap, no repeat", n)
	}
}

// markPaid settles an order as the MarkPaid step does, dated now.
func markPaid(ctx context.Context, orderID, paymentID string) error {
	_, err := st.Settle(ctx, orderID, paymentID, time.Now())
	return err
}
