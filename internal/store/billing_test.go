package store_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

func issuedIn(year int) time.Time { return time.Date(year, 3, 14, 10, 0, 0, 0, time.UTC) }

func bill(t *testing.T, id string, issued time.Time) store.Billing {
	t.Helper()
	b, err := st.OpenBilling(context.Background(), id, []byte("token-hash-"+id), issued)
	require.NoError(t, err)
	return b
}

// placeBilled places and bills a new order, the state payments arrive in.
func placeBilled(t *testing.T, prefix string, year int) (string, store.Billing) {
	t.Helper()
	id := newID(prefix)
	place(t, request(id))
	return id, bill(t, id, issuedIn(year))
}

func pay(t *testing.T, id, paymentID string, amount money.Grosze) {
	t.Helper()
	r, err := st.RecordPayment(context.Background(), store.Payment{
		PaymentID: paymentID, OrderID: id, Status: "completed", Amount: amount, Currency: "PLN"})
	require.NoError(t, err)
	require.True(t, r.First)
}

func TestOpenBillingAmounts(t *testing.T) {
	for _, c := range []struct {
		plan, cycle     string
		seats           int
		net, vat, gross money.Grosze
	}{
		{"business-standard", "monthly", 5, 27000, 6210, 33210},
		{"business-premium", "annual", 3, 342000, 78660, 420660},
		{"business-basic", "monthly", 1, 2600, 598, 3198},
		// 8650 x 23% = 1989.50: exactly half a grosz rounds up.
		{"exchange-online-plan-1", "monthly", 5, 8650, 1990, 10640},
		// 1730 x 23% = 397.90.
		{"exchange-online-plan-1", "monthly", 1, 1730, 398, 2128},
		{"apps-for-business", "annual", 300, 12960000, 2980800, 15940800},
	} {
		year := newYear()
		t.Run(fmt.Sprintf("%s-%s-%d", c.plan, c.cycle, c.seats), func(t *testing.T) {
			r := request(newID("amounts"))
			r.Plan, r.BillingCycle, r.Seats = c.plan, c.cycle, c.seats
			place(t, r)
			b := bill(t, r.OrderID, issuedIn(year))
			require.Equal(t, c.net, b.Invoice.Net)
			require.Equal(t, c.vat, b.Invoice.VAT)
			require.Equal(t, c.gross, b.Invoice.Gross)
			require.Equal(t, "PLN", b.Invoice.Currency)
			require.Equal(t, c.plan, b.Plan)
		})
	}
}

func TestOpenBillingIssuesProformaOnce(t *testing.T) {
	ctx := context.Background()
	id, year := newID("billing"), newYear()
	place(t, request(id))
	b := bill(t, id, issuedIn(year))
	require.Equal(t, fmt.Sprintf("PF/%d/000001", year), b.Invoice.Number)
	require.Equal(t, "proforma", b.Invoice.Kind)
	require.Equal(t, "unpaid", b.Invoice.Status)
	require.Equal(t, "Microsoft 365 Business Standard", b.PlanName)
	require.Equal(t, request(id).Customer, b.Customer)
	require.NotNil(t, b.Invoice.DueDate)
	require.Equal(t, deadline.Format(time.DateOnly), b.Invoice.DueDate.Format(time.DateOnly))

	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.BillingAccess, o.Status)
	require.NotNil(t, o.Invoice)
	require.Equal(t, b.Invoice.Number, o.Invoice.Number)
	evs, err := st.Events(ctx, id)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	require.Equal(t, order.BillingAccess, evs[1].Status)
	require.Contains(t, evs[1].Reason, b.Invoice.Number)

	again := bill(t, id, issuedIn(year).Add(time.Hour))
	require.Equal(t, b.Invoice.ID, again.Invoice.ID)
	require.Equal(t, b.Invoice.Number, again.Invoice.Number)
	require.Equal(t, b.Invoice.Gross, again.Invoice.Gross)
	require.Equal(t, b.Customer, again.Customer)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE order_id = $1`, id))
	require.Equal(t, 1, count(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1`, id))
	require.Len(t, eventKeys(t, id), 2)

	// The repeat consumed no number.
	_, next := placeBilled(t, "billing-next", year)
	require.Equal(t, fmt.Sprintf("PF/%d/000002", year), next.Invoice.Number)
}

func TestOpenBillingUnknownOrder(t *testing.T) {
	_, err := st.OpenBilling(context.Background(), "no-such-order", []byte("h"), issuedIn(newYear()))
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestNumbersAreGaplessUnderConcurrency(t *testing.T) {
	const n = 30
	year := newYear()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID("numbering")
		place(t, request(ids[i]))
	}
	numbers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b, err := st.OpenBilling(context.Background(), ids[i], []byte("h"), issuedIn(year))
			numbers[i], errs[i] = b.Invoice.Number, err
		})
	}
	wg.Wait()
	seqs := make([]int, n)
	for i := range n {
		require.NoError(t, errs[i])
		s, ok := strings.CutPrefix(numbers[i], fmt.Sprintf("PF/%d/", year))
		require.True(t, ok, numbers[i])
		seqs[i], _ = strconv.Atoi(s)
	}
	sort.Ints(seqs)
	for i, s := range seqs {
		require.Equal(t, i+1, s, "numbers %v", numbers)
	}
}

func TestOpenBillingConcurrentRepeatsIssueOnce(t *testing.T) {
	id, year := newID("billing-race"), newYear()
	place(t, request(id))
	const n = 8
	numbers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b, err := st.OpenBilling(context.Background(), id, []byte("h"), issuedIn(year))
			numbers[i], errs[i] = b.Invoice.Number, err
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, fmt.Sprintf("PF/%d/000001", year), numbers[i])
	}
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE order_id = $1`, id))
}

func TestRecordPayment(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "payment", year)
	other, _ := placeBilled(t, "payment-other", year)
	p := store.Payment{PaymentID: newID("p"), OrderID: id, Status: "completed", Amount: b.Invoice.Gross, Currency: "PLN"}
	r, err := st.RecordPayment(ctx, p)
	require.NoError(t, err)
	require.Equal(t, store.Recorded{First: true}, r)
	r, err = st.RecordPayment(ctx, p)
	require.NoError(t, err)
	require.Equal(t, store.Recorded{}, r)

	stolen := p
	stolen.OrderID = other
	_, err = st.RecordPayment(ctx, stolen)
	require.ErrorIs(t, err, store.ErrPaymentConflict)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND order_id = $2`, p.PaymentID, id))
}

func TestMarkPaidNeedsCompletedPayment(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "paid", year)
	other, ob := placeBilled(t, "paid-other", year)

	require.ErrorIs(t, markPaid(ctx, id, newID("p-none")), store.ErrNotFound)

	failedID := newID("p-failed")
	failed, err := st.RecordPayment(ctx, store.Payment{PaymentID: failedID, OrderID: id, Status: "failed", Amount: b.Invoice.Gross, Currency: "PLN"})
	require.NoError(t, err)
	require.True(t, failed.First)
	require.ErrorIs(t, markPaid(ctx, id, failedID), store.ErrNotFound)

	otherPayment := newID("p-other")
	pay(t, other, otherPayment, ob.Invoice.Gross)
	require.ErrorIs(t, markPaid(ctx, id, otherPayment), store.ErrNotFound, "another order's payment")

	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.BillingAccess, o.Status)
	require.Equal(t, "unpaid", o.Invoice.Status)

	ok := newID("p-ok")
	pay(t, id, ok, b.Invoice.Gross)
	require.NoError(t, markPaid(ctx, id, ok))
	require.NoError(t, markPaid(ctx, id, ok))
	o, err = st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.ProvisioningTenant, o.Status)
	require.Equal(t, "paid", o.Invoice.Status)
	require.Equal(t, []string{"placed", "billing_access", "provisioning_tenant"}, eventKeys(t, id))
}

func TestCancelOrder(t *testing.T) {
	ctx := context.Background()
	id, _ := placeBilled(t, "cancel", newYear())
	require.NoError(t, st.CancelOrder(ctx, id, "payment expired"))
	require.NoError(t, st.CancelOrder(ctx, id, "payment expired"))

	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.Cancelled, o.Status)
	require.Equal(t, "payment expired", o.Reason)
	require.Equal(t, "void", o.Invoice.Status)
	require.Equal(t, 0, count(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))
	require.Equal(t, 1, count(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND revoked_at IS NOT NULL`, id))
	require.Equal(t, []string{"placed", "billing_access", "compensating", "cancelled"}, eventKeys(t, id))
}

func TestRecordRefund(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "refund", newYear())
	paymentID := newID("p-refund")
	pay(t, id, paymentID, b.Invoice.Gross)
	require.NoError(t, markPaid(ctx, id, paymentID))
	require.NoError(t, st.RecordRefund(ctx, id, "tenant could not be made"))
	require.NoError(t, st.RecordRefund(ctx, id, "tenant could not be made"))

	require.Equal(t, order.Refunded, statusOf(t, id))
	var refunded string
	var amount money.Grosze
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT payment_id, amount_grosze FROM refunds WHERE order_id = $1`, id).Scan(&refunded, &amount))
	require.Equal(t, paymentID, refunded)
	require.Equal(t, b.Invoice.Gross, amount)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, id))
	require.Equal(t, []string{"placed", "billing_access", "provisioning_tenant", "compensating", "refunded"}, eventKeys(t, id))
}
