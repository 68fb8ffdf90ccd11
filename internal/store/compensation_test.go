package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// An unpaid pro-forma that is cancelled is void, and nothing corrects it:
// a pro-forma is not a VAT invoice (no KOR number is used up).
func TestVoidInvoiceOfAnUnpaidOrderOnlyVoidsThePendingProforma(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "void", year)
	issued := issuedIn(year)

	kor, err := st.VoidInvoice(ctx, id, "payment deadline passed", issued)
	require.NoError(t, err)
	require.Equal(t, store.Invoice{}, kor, "no credit note")
	again, err := st.VoidInvoice(ctx, id, "payment deadline passed", issued)
	require.NoError(t, err)
	require.Equal(t, store.Invoice{}, again, "nor on a retry")

	docs, err := st.Documents(ctx, id)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	require.Equal(t, b.Invoice.Number, docs[0].Number)
	require.Equal(t, "proforma", docs[0].Kind)
	require.Equal(t, "", docs[0].ChargeID, "the order's own document")
	require.Equal(t, "void", docs[0].Status, "the pro-forma stays, void")
	require.Equal(t, b.Invoice.Gross, docs[0].Gross)
	require.Equal(t, 0, count(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'correction'`, id))
	require.Equal(t, 0, count(t, `SELECT count(*) FROM document_counters WHERE series = 'KOR' AND year = $1`, year), "the KOR series is untouched")
	require.Equal(t, 1, count(t, `SELECT count(*) FROM charges WHERE id = $1 AND kind = 'order' AND status = 'cancelled'`, store.OrderCharge(id)))
	require.Contains(t, eventKeys(t, id), "undo:void_invoice")
}

// A paid order has a VAT invoice, and its void is one credit note that
// refers to that invoice (never to the pro-forma).
func TestVoidInvoiceOfAPaidOrderCorrectsTheVATInvoiceOnce(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "void-fv", year)
	pid := newID("p")
	pay(t, id, pid, b.Invoice.Gross)
	require.NoError(t, markPaid(ctx, id, pid))
	fv := document(t, id, "invoice")

	kors := make([]store.Invoice, 6)
	errs := make([]error, len(kors))
	var wg sync.WaitGroup
	for i := range kors {
		wg.Go(func() { kors[i], errs[i] = st.VoidInvoice(ctx, id, "tenant failed", issuedIn(year)) })
	}
	wg.Wait()
	for i := range kors {
		require.NoError(t, errs[i])
		require.Equal(t, kors[0], kors[i], "a retried undo returns the first credit note")
	}
	kor := kors[0]
	require.Equal(t, fmt.Sprintf("KOR/%d/000001", year), kor.Number)
	require.Equal(t, "correction", kor.Kind)
	require.Equal(t, []any{-fv.Net, -fv.VAT, -fv.Gross}, []any{kor.Net, kor.VAT, kor.Gross})
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'correction'`, id))
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE id = $1 AND refers_to = $2`, kor.ID, fv.ID), "it corrects the VAT invoice")
	require.Equal(t, 2, count(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind IN ('proforma', 'invoice') AND status = 'void'`, id))
	require.Equal(t, "unpaid", kor.Status, "the money is owed back until refunded")

	require.NoError(t, st.RefundPayments(ctx, id, "tenant failed"))
	require.NoError(t, st.RefundPayments(ctx, id, "tenant failed"))
	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{pid}, refunds)
}

func TestUndoStepsAreIdempotentAndLogged(t *testing.T) {
	ctx := context.Background()
	id, _ := placeBilled(t, "undo", newYear())
	for range 2 {
		require.NoError(t, st.RevokeBilling(ctx, id))
		require.NoError(t, st.ReleaseReservation(ctx, id))
	}
	require.Equal(t, 0, count(t, `SELECT count(*) FROM billing_accounts WHERE order_id = $1 AND active`, id))
	require.Equal(t, 0, count(t, `SELECT count(*) FROM domain_reservations WHERE order_id = $1`, id))
	require.Equal(t, []string{"placed", "billing_access", "undo:revoke_billing", "undo:release_reservation"}, eventKeys(t, id))
	require.ErrorIs(t, st.RevokeBilling(ctx, "no-such-order"), store.ErrNotFound)
}

func TestDomainPrefixIsHeldUntilReleased(t *testing.T) {
	ctx := context.Background()
	first := request(newID("hold"))
	place(t, first)
	second := request(newID("hold"))
	second.DomainPrefix = first.DomainPrefix
	_, err := st.PlaceOrder(ctx, second, deadline)
	require.ErrorIs(t, err, store.ErrDomainReserved)
	require.Equal(t, 0, count(t, `SELECT count(*) FROM orders WHERE order_id = $1`, second.OrderID), "no half-made order")

	require.NoError(t, st.ReleaseReservation(ctx, first.OrderID))
	p, err := st.PlaceOrder(ctx, second, deadline)
	require.NoError(t, err)
	require.True(t, p.Created)
}

func TestPaymentAfterCancellationIsMarkedForRefund(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "late", newYear())
	require.NoError(t, st.Record(ctx, id, store.Event{Key: "cancelled", Status: order.Cancelled, Reason: "payment deadline passed"}, true))

	p := store.Payment{PaymentID: newID("p-late"), OrderID: id, Status: "completed", Amount: b.Invoice.Gross, Currency: "PLN"}
	r, err := st.RecordPayment(ctx, p)
	require.NoError(t, err)
	require.Equal(t, store.Recorded{First: true, Refund: true}, r)
	r, err = st.RecordPayment(ctx, p)
	require.NoError(t, err)
	require.Equal(t, store.Recorded{Refund: true}, r, "a repeat says the same, and refunds once")
	require.Equal(t, 1, count(t, `SELECT count(*) FROM refunds WHERE order_id = $1`, id))
	require.Equal(t, order.Cancelled, statusOf(t, id))
	require.Contains(t, eventKeys(t, id), "late_payment:"+p.PaymentID)

	failed := store.Payment{PaymentID: newID("p-failed"), OrderID: id, Status: "failed", Amount: b.Invoice.Gross, Currency: "PLN"}
	r, err = st.RecordPayment(ctx, failed)
	require.NoError(t, err)
	require.False(t, r.Refund, "a failed payment moved no money")
}

// A payment recorded while the order still waited, whose signal the saga
// did not take before it gave up, is refunded when the order is cancelled.
func TestCancellationRefundsAPaymentThatRacedIt(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "race", newYear())
	pid := newID("p-race")
	pay(t, id, pid, b.Invoice.Gross)
	require.NoError(t, st.Record(ctx, id, store.Event{Key: "compensating", Status: order.Compensating, Reason: "deadline"}, true))
	require.NoError(t, st.Record(ctx, id, store.Event{Key: "cancelled", Status: order.Cancelled, Reason: "deadline"}, true))
	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{pid}, refunds)
}

func TestRecordMovesOnlyOncePerKey(t *testing.T) {
	ctx := context.Background()
	id, _ := placeBilled(t, "record", newYear())
	ev := store.Event{Key: "needs_attention#1", Status: order.NeedsAttention, Reason: "suspend failed"}
	require.NoError(t, st.Record(ctx, id, ev, true))
	require.NoError(t, st.Record(ctx, id, store.Event{Key: "decision#1", Status: order.NeedsAttention, Reason: "retry: API fixed", Actor: "ops@example.com"}, false))
	require.NoError(t, st.Record(ctx, id, store.Event{Key: "compensating#2", Status: order.Compensating, Reason: "suspend failed"}, true))
	require.NoError(t, st.Record(ctx, id, ev, true), "a replayed older step")
	require.Equal(t, order.Compensating, statusOf(t, id))

	evs, err := st.Events(ctx, id)
	require.NoError(t, err)
	last := evs[len(evs)-2]
	require.Equal(t, "decision#1", last.Key)
	require.Equal(t, "ops@example.com", last.Actor)
	require.WithinDuration(t, time.Now(), last.At, time.Minute)
}

// Paid twice: the first payment settles the order, the second goes back,
// even while the saga is still waiting and could take either signal.
func TestSecondPaymentIsMarkedForRefund(t *testing.T) {
	ctx := context.Background()
	id, b := placeBilled(t, "twice", newYear())
	first, second := newID("p-1"), newID("p-2")
	pay(t, id, first, b.Invoice.Gross)
	r, err := st.RecordPayment(ctx, store.Payment{PaymentID: second, OrderID: id, Status: "completed", Amount: b.Invoice.Gross, Currency: "PLN"})
	require.NoError(t, err)
	require.Equal(t, store.Recorded{First: true, Refund: true}, r)
	require.NoError(t, markPaid(ctx, id, first))
	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{second}, refunds)

	third := newID("p-3")
	r, err = st.RecordPayment(ctx, store.Payment{PaymentID: third, OrderID: id, Status: "completed", Amount: b.Invoice.Gross, Currency: "PLN"})
	require.NoError(t, err)
	require.True(t, r.Refund, "after provisioning began, too")
}

// document is the order's own document of kind.
func document(t *testing.T, orderID, kind string) store.Invoice {
	t.Helper()
	docs, err := st.Documents(context.Background(), orderID)
	require.NoError(t, err)
	for _, d := range docs {
		if d.Kind == kind && d.ChargeID == "" {
			return d
		}
	}
	t.Fatalf("order %s has no %s", orderID, kind)
	return store.Invoice{}
}
