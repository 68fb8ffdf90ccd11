package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

func TestVoidInvoiceIssuesOneCreditNote(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "void", year)
	issued := issuedIn(year)

	kor, err := st.VoidInvoice(ctx, id, "payment deadline passed", issued)
	require.NoError(t, err)
	again, err := st.VoidInvoice(ctx, id, "payment deadline passed", issued)
	require.NoError(t, err)
	require.Equal(t, kor, again, "a retried undo returns the first credit note")
	require.Equal(t, fmt.Sprintf("KOR/%d/000001", year), kor.Number)
	require.Equal(t, "correction", kor.Kind)
	require.Equal(t, -b.Invoice.Net, kor.Net)
	require.Equal(t, -b.Invoice.VAT, kor.VAT)
	require.Equal(t, -b.Invoice.Gross, kor.Gross)
	require.Equal(t, "paid", kor.Status, "nothing is owed on the correction of an unpaid pro-forma")

	docs, err := st.Documents(ctx, id)
	require.NoError(t, err)
	require.Len(t, docs, 2)
	require.Equal(t, b.Invoice.Number, docs[0].Number)
	require.Equal(t, "void", docs[0].Status, "the pro-forma stays, void")
	require.Equal(t, b.Invoice.Gross, docs[0].Gross)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'correction' AND refers_to = $2`, id, docs[0].ID))
	require.Contains(t, eventKeys(t, id), "undo:void_invoice")
}

func TestCreditNoteOfAPaidOrderIsOwed(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "void-paid", year)
	pid := newID("p")
	pay(t, id, pid, b.Invoice.Gross)
	require.NoError(t, markPaid(ctx, id, pid))
	kor, err := st.VoidInvoice(ctx, id, "tenant failed", issuedIn(year))
	require.NoError(t, err)
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
