package store_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

func completed(id, pid string, amount money.Grosze) store.Payment {
	return store.Payment{PaymentID: pid, OrderID: id, Status: "completed", Amount: amount, Currency: "PLN"}
}

func failed(id, pid string, amount money.Grosze) store.Payment {
	return store.Payment{PaymentID: pid, OrderID: id, Status: "failed", Amount: amount, Currency: "PLN"}
}

func record(t *testing.T, p store.Payment) store.Recorded {
	t.Helper()
	r, err := st.RecordPayment(context.Background(), p)
	require.NoError(t, err)
	return r
}

// Finding 3: a completed notification after a failed one of the same id is
// the payment; the failed row does not swallow it.
func TestCompletedAfterFailedIsRecordedAndTaken(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "upgrade", newYear())
	pid := newID("p-upgrade")
	require.Equal(t, store.Recorded{First: true}, record(t, failed(id, pid, b.Invoice.Gross)))
	require.Equal(t, store.Recorded{First: true, Upgraded: true}, record(t, completed(id, pid, b.Invoice.Gross)))
	require.Equal(t, store.Recorded{}, record(t, completed(id, pid, b.Invoice.Gross)), "a repeat")
	require.Equal(t, store.Recorded{Differs: true}, record(t, failed(id, pid, b.Invoice.Gross)), "failed after completed: the money is in")
	require.Equal(t, 1, count(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND status = 'completed' AND failed_at IS NOT NULL`, pid))
	require.Contains(t, eventKeys(t, id), "payment_upgraded:"+pid)

	fv, err := st.Settle(ctx, id, pid, paidOn(newYear()))
	require.NoError(t, err)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE id = $1 AND payment_id = $2 AND status = 'paid'`, fv.ID, pid), "taken")
	require.Equal(t, 0, count(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, id))
}

// A failed then completed pair after the order was cancelled: refunded.
func TestCompletedAfterFailedOnACancelledOrderIsRefunded(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "upgrade-late", newYear())
	pid := newID("p-upgrade-late")
	require.Equal(t, store.Recorded{First: true}, record(t, failed(id, pid, b.Invoice.Gross)))
	require.NoError(t, st.Record(ctx, id, store.Event{Key: "cancelled", Status: order.Cancelled, Reason: "payment failed"}, true))
	require.Equal(t, store.Recorded{First: true, Upgraded: true, Refund: true}, record(t, completed(id, pid, b.Invoice.Gross)))
	require.Equal(t, store.Recorded{Refund: true}, record(t, completed(id, pid, b.Invoice.Gross)))
	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{pid}, refunds)
	unsettled, err := st.UnsettledPayments(ctx, id)
	require.NoError(t, err)
	require.Empty(t, unsettled)
}

// Finding 4: another order's payment id is a permanent conflict, kept for
// an operator; the owner's payment is untouched.
func TestForeignPaymentIDIsAConflictKeptForAnOperator(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	owner, ob := placeBilled(t, "conflict-owner", year)
	other, b := placeBilled(t, "conflict-other", year)
	pid := newID("p-owned")
	pay(t, owner, pid, ob.Invoice.Gross)

	for range 2 {
		_, err := st.RecordPayment(ctx, completed(other, pid, b.Invoice.Gross))
		require.ErrorIs(t, err, store.ErrPaymentConflict)
	}
	_, err := st.RecordPayment(ctx, failed(other, pid, b.Invoice.Gross))
	require.ErrorIs(t, err, store.ErrPaymentConflict)
	conflicts, err := st.PaymentConflicts(ctx, other)
	require.NoError(t, err)
	require.Len(t, conflicts, 2, "one row per distinct notification")
	require.Equal(t, owner, conflicts[0].OwnerOrderID)
	require.Equal(t, pid, conflicts[0].PaymentID)
	require.Contains(t, eventKeys(t, other), "payment_conflict:"+pid)

	require.Equal(t, 1, count(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND order_id = $2 AND status = 'completed'`, pid, owner))
	require.Equal(t, 0, count(t, `SELECT count(*) FROM payments WHERE order_id = $1`, other))
	require.Equal(t, 0, count(t, `SELECT count(*) FROM refunds WHERE order_id IN ($1, $2)`, owner, other))
	require.Equal(t, order.BillingAccess, statusOf(t, other))
}

// Finding 5: a wrong amount or currency while the order waits is recorded,
// refused for the order and owed back; the right payment still pays it.
func TestMismatchWhileWaitingIsRecordedAndRefunded(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "mismatch", newYear())
	under, eur, right := newID("p-under"), newID("p-eur"), newID("p-right")
	want := store.Recorded{First: true, Refund: true, Mismatch: true}
	require.Equal(t, want, record(t, completed(id, under, b.Invoice.Gross-1)))
	wrongCurrency := completed(id, eur, b.Invoice.Gross)
	wrongCurrency.Currency = "EUR"
	require.Equal(t, want, record(t, wrongCurrency))
	require.Equal(t, store.Recorded{Refund: true, Mismatch: true}, record(t, completed(id, under, b.Invoice.Gross-1)), "a repeat answers the same")
	require.Equal(t, 2, count(t, `SELECT count(*) FROM payments WHERE order_id = $1 AND mismatch`, id))
	require.Equal(t, 1, count(t, `SELECT count(*) FROM refunds WHERE payment_id = $1 AND amount_grosze = $2`, under, b.Invoice.Gross-1))
	require.Equal(t, 1, count(t, `SELECT count(*) FROM refunds WHERE payment_id = $1 AND currency = 'EUR'`, eur))
	require.Contains(t, eventKeys(t, id), "payment_mismatch:"+under)
	require.Equal(t, order.BillingAccess, statusOf(t, id), "the order keeps waiting")

	require.Equal(t, store.Recorded{First: true}, record(t, completed(id, right, b.Invoice.Gross)), "refunded money does not count as paid")
	require.NoError(t, markPaid(ctx, id, right))
	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{under, eur}, refunds)
}

// A charge's payment must match the charge's pro-forma in the same way.
func TestChargeMismatchIsRecordedAndRefunded(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "charge-mismatch", year, "monthly", 5)
	c := openCharge(t, licences(id, 1, paidOn(year)))
	pf := issueCharge(t, c.ID, issuedIn(year))
	wrong := store.Payment{PaymentID: newID("p-charge-wrong"), OrderID: id, ChargeID: c.ID, Status: "completed", Amount: pf.Gross + 100, Currency: "PLN"}
	require.Equal(t, store.Recorded{First: true, Refund: true, Mismatch: true}, record(t, wrong))
	pid := payCharge(t, c, pf.Gross)
	fv, err := st.SettleCharge(ctx, c.ID, pid, paidOn(year))
	require.NoError(t, err)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE id = $1 AND payment_id = $2`, fv.ID, pid))

	// The same id for the order's own pro-forma is another payment's.
	_, err = st.RecordPayment(ctx, completed(id, pid, pf.Gross))
	require.ErrorIs(t, err, store.ErrPaymentConflict)
}

// Hostile repeats at once: the failed/completed pair and mismatches of one
// id, 20 at a time, make one payment row and one refund.
func TestOnePaymentIDUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	year := newYear()

	storm := func(t *testing.T, ps []store.Payment) []store.Recorded {
		t.Helper()
		rs := make([]store.Recorded, 20)
		errs := make([]error, 20)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() { rs[i], errs[i] = st.RecordPayment(ctx, ps[i%len(ps)]) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		return rs
	}
	rows := func(pid string) int {
		return count(t, `SELECT count(*) FROM payments WHERE payment_id = $1`, pid)
	}
	refunds := func(pid string) int {
		return count(t, `SELECT count(*) FROM refunds WHERE payment_id = $1`, pid)
	}

	t.Run("mismatch while waiting", func(t *testing.T) {
		id, b := placeBilled(t, "storm-mismatch", year)
		pid := newID("p-storm")
		eur := completed(id, pid, b.Invoice.Gross-5)
		eur.Currency = "EUR"
		rs := storm(t, []store.Payment{failed(id, pid, b.Invoice.Gross), completed(id, pid, b.Invoice.Gross-5), eur})
		require.Equal(t, 1, rows(pid))
		require.Equal(t, 1, refunds(pid))
		firsts := 0
		for _, r := range rs {
			if r.First && r.Refund {
				firsts++
			}
		}
		require.Equal(t, 1, firsts, "one call stored the money, %v", rs)
		require.Equal(t, 1, count(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND status = 'completed' AND mismatch`, pid))
	})
	t.Run("failed and completed while waiting", func(t *testing.T) {
		id, b := placeBilled(t, "storm-pair", year)
		pid := newID("p-storm")
		storm(t, []store.Payment{failed(id, pid, b.Invoice.Gross), completed(id, pid, b.Invoice.Gross)})
		require.Equal(t, 1, rows(pid))
		require.Equal(t, 0, refunds(pid))
		require.Equal(t, 1, count(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND status = 'completed'`, pid))
		require.NoError(t, markPaid(ctx, id, pid))
	})
	t.Run("failed and completed after cancellation", func(t *testing.T) {
		id, b := placeBilled(t, "storm-late", year)
		require.NoError(t, st.Record(ctx, id, store.Event{Key: "cancelled", Status: order.Cancelled, Reason: "deadline"}, true))
		pid := newID("p-storm")
		storm(t, []store.Payment{failed(id, pid, b.Invoice.Gross), completed(id, pid, b.Invoice.Gross), completed(id, pid, 1)})
		require.Equal(t, 1, rows(pid))
		require.Equal(t, 1, refunds(pid))
	})
	t.Run("two orders claim one id", func(t *testing.T) {
		a, ab := placeBilled(t, "storm-a", year)
		c, cb := placeBilled(t, "storm-c", year)
		pid := newID("p-storm")
		rs := make([]error, 20)
		var wg sync.WaitGroup
		for i := range 20 {
			p := completed(a, pid, ab.Invoice.Gross)
			if i%2 == 1 {
				p = completed(c, pid, cb.Invoice.Gross)
			}
			wg.Go(func() { _, rs[i] = st.RecordPayment(ctx, p) })
		}
		wg.Wait()
		conflicts := 0
		for _, err := range rs {
			if err != nil {
				require.ErrorIs(t, err, store.ErrPaymentConflict)
				conflicts++
			}
		}
		require.Equal(t, 10, conflicts, "the order that lost the race gets a conflict every time")
		require.Equal(t, 1, rows(pid))
		require.Equal(t, 1, count(t, `SELECT count(*) FROM payment_conflicts WHERE payment_id = $1`, pid))
	})
}

// Settle takes one payment and owes back any other the order holds that the
// saga never took (here a gateway payment that came while an operator
// marked the order paid by hand).
func TestSettleRefundsPaymentsItDoesNotTake(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "untaken", newYear())
	gateway := newID("p-gateway")
	pay(t, id, gateway, b.Invoice.Gross)
	manual, err := st.RecordManualPayment(ctx, id, "bank-1", "ops@example.com", "seen on the statement")
	require.NoError(t, err)
	_, err = st.Settle(ctx, id, manual, paidOn(newYear()))
	require.NoError(t, err)
	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{gateway}, refunds)
}

// The queries the fault suite checks money with: nothing lost, nothing both
// kept and given back, for ended orders.
func TestUnsettledAndDoublySettledPayments(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	paid := provision(t, "settled", year, "monthly", 5)
	cancelled, b := placeBilled(t, "settled-cancelled", year)
	pay(t, cancelled, newID("p-raced"), b.Invoice.Gross)
	require.NoError(t, st.Record(ctx, cancelled, store.Event{Key: "cancelled", Status: order.Cancelled, Reason: "deadline"}, true))
	waiting, wb := placeBilled(t, "settled-waiting", year)
	pay(t, waiting, newID("p-waiting"), wb.Invoice.Gross)

	unsettled, err := st.UnsettledPayments(ctx, paid, cancelled, waiting)
	require.NoError(t, err)
	require.Empty(t, unsettled, "an order that waits may hold a payment neither taken nor refunded")
	double, err := st.DoublySettledPayments(ctx, paid, cancelled, waiting)
	require.NoError(t, err)
	require.Empty(t, double)

	// Break both rules behind the store's back.
	lost := newID("p-lost")
	_, err = st.Pool.Exec(ctx, `INSERT INTO payments (payment_id, order_id, status, amount_grosze, currency) VALUES ($1, $2, 'completed', 100, 'PLN')`, lost, paid)
	require.NoError(t, err)
	_, err = st.Pool.Exec(ctx, `INSERT INTO refunds (order_id, payment_id, amount_grosze, currency, reason)
		SELECT order_id, payment_id, gross_grosze, currency, 'test' FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, paid)
	require.NoError(t, err)
	unsettled, err = st.UnsettledPayments(ctx, paid, cancelled, waiting)
	require.NoError(t, err)
	require.Len(t, unsettled, 1)
	require.Equal(t, lost, unsettled[0].PaymentID)
	require.Equal(t, money.Grosze(100), unsettled[0].Amount)
	double, err = st.DoublySettledPayments(ctx, paid)
	require.NoError(t, err)
	require.Len(t, double, 1)
	require.True(t, double[0].Taken && double[0].Refunded)
	require.Equal(t, string(order.InstallerReady), double[0].OrderStatus)
}

// 0005 was numbered in parallel with 0006 and may land after it: a database
// that has 0006 gets 0005 all the same, and its VAT invoices learn which
// payment settled them from the order's log.
func TestPaymentsMigrationAppliesAfterALaterOne(t *testing.T) {
	ctx := context.Background()
	u, conn := databaseBefore(t, 5)
	later, err := filepath.Glob("migrations/0006_*.sql")
	require.NoError(t, err)
	require.Len(t, later, 1)
	sql, err := os.ReadFile(later[0])
	require.NoError(t, err)
	_, err = conn.Exec(ctx, string(sql))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (6, $1)`, filepath.Base(later[0]))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `
		INSERT INTO customers (id, email, company, first_name, last_name, tax_id, country, city, postal_code, address_line1)
			VALUES (1, 'it@acme.pl', 'Acme', 'Jan', 'Kowalski', '', 'PL', 'Warszawa', '00-001', 'ul. Prosta 1');
		INSERT INTO orders (order_id, request_hash, shop, customer_id, plan, seats, billing_cycle, domain_prefix, language, status, payment_deadline)
			VALUES ('old-1', '', 'a', 1, 'business-standard', 5, 'monthly', 'old1', 'pl', 'installer_ready', now());
		INSERT INTO payments (payment_id, order_id, status, amount_grosze, currency) VALUES ('p-old', 'old-1', 'completed', 123, 'PLN');
		INSERT INTO order_events (order_id, key, status, reason) VALUES ('old-1', 'provisioning_tenant', 'provisioning_tenant', 'payment p-old received');
		INSERT INTO invoices (order_id, kind, number, net_grosze, vat_grosze, gross_grosze, status, issued_at,
				buyer_name, buyer_address, buyer_postal_code, buyer_city, buyer_country, buyer_tax_id)
			VALUES ('old-1', 'invoice', 'FV/2020/000001', 100, 23, 123, 'paid', '2020-01-03', 'Acme', 'ul. Prosta 1', '00-001', 'Warszawa', 'PL', '');
		SELECT setval('customers_id_seq', 1)`)
	require.NoError(t, err)

	s, err := store.Open(ctx, u)
	require.NoError(t, err)
	defer s.Close()
	var n int
	require.NoError(t, s.Pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 5`).Scan(&n))
	require.Equal(t, 1, n)
	require.NoError(t, s.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE number = 'FV/2020/000001' AND payment_id = 'p-old'`).Scan(&n))
	require.Equal(t, 1, n, "the VAT invoice names the payment its order's log does")
	lost, err := s.UnsettledPayments(ctx)
	require.NoError(t, err)
	require.Empty(t, lost)
}
