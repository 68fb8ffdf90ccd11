package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/order"
)

// The undo steps of the saga. Each runs in one transaction that also writes
// its line of the order's log under a fixed key, and each finds what an
// earlier run of it did, so a retried step changes nothing twice.

// VoidInvoice issues the credit note (faktura korygująca) that cancels the
// order's latest document to zero, and marks that document void. The
// original is never changed otherwise nor deleted. A second call returns the
// credit note the first one issued.
func (s *Store) VoidInvoice(ctx context.Context, orderID, reason string, issued time.Time) (Invoice, error) {
	var kor Invoice
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		var err error
		kor, err = invoiceOf(ctx, tx, orderID, "correction")
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		// The VAT invoice, once one exists, is what a correction refers to.
		orig, err := invoiceOf(ctx, tx, orderID, "invoice")
		if errors.Is(err, ErrNotFound) {
			orig, err = invoiceOf(ctx, tx, orderID, "proforma")
		}
		if err != nil {
			return err
		}
		kor, err = s.issue(ctx, tx, orderID, "correction", SeriesCorrection, -orig.Net, -orig.VAT, issued, nil, &orig.ID)
		if err != nil {
			return err
		}
		// Nothing is owed on a correction of an unpaid document; on a paid
		// one the money is owed back until the refund goes out.
		status := "paid"
		if orig.Status == "paid" {
			status = "unpaid"
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = $2 WHERE id = $1`, kor.ID, status); err != nil {
			return err
		}
		kor.Status = status
		// The corrected document is void, and so is the pro-forma that led
		// to it: nothing of the sale stands.
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'void' WHERE id = $1 OR (order_id = $2 AND kind = 'proforma' AND charge_id IS NULL)`, orig.ID, orderID); err != nil {
			return err
		}
		return insertEvent(ctx, tx, orderID, "undo:void_invoice", order.Compensating,
			"credit note "+kor.Number+" corrects "+orig.Number+": "+reason, "system")
	})
	return kor, err
}

// RevokeBilling closes the order's billing panel access.
func (s *Store) RevokeBilling(ctx context.Context, orderID string) error {
	return s.undo(ctx, orderID, "undo:revoke_billing", "billing panel access revoked",
		`UPDATE billing_accounts SET active = false, revoked_at = now() WHERE order_id = $1 AND active`)
}

// ReleaseReservation frees the order's domain prefix for other orders.
func (s *Store) ReleaseReservation(ctx context.Context, orderID string) error {
	return s.undo(ctx, orderID, "undo:release_reservation", "domain prefix released",
		`DELETE FROM domain_reservations WHERE order_id = $1`)
}

// RefundPayments marks every completed payment of the order for refund.
func (s *Store) RefundPayments(ctx context.Context, orderID, reason string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		if err := refundPayments(ctx, tx, orderID, reason); err != nil {
			return err
		}
		var n int
		var total int64
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(amount_grosze), 0) FROM refunds WHERE order_id = $1`, orderID).Scan(&n, &total); err != nil {
			return err
		}
		return insertEvent(ctx, tx, orderID, "undo:refund_payment", order.Compensating,
			fmt.Sprintf("%d payment(s) marked for refund, %d.%02d in total: %s", n, total/100, total%100, reason), "system")
	})
}

// MarkSuspended records that a subscription was suspended at the tenant API.
func (s *Store) MarkSuspended(ctx context.Context, orderID, subscriptionID string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE subscriptions SET status = 'suspended' WHERE order_id = $1 AND subscription_id = $2`,
			orderID, subscriptionID); err != nil {
			return err
		}
		return insertEvent(ctx, tx, orderID, "undo:suspend:"+subscriptionID, order.Compensating,
			"subscription "+subscriptionID+" suspended", "system")
	})
}

// Record writes one line of the order's log under key; with move it also
// moves the order to the line's status. A second call with the same key
// changes nothing.
func (s *Store) Record(ctx context.Context, orderID string, e Event, move bool) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		if e.Actor == "" {
			e.Actor = "system"
		}
		tag, err := tx.Exec(ctx, `INSERT INTO order_events (order_id, key, status, reason, actor) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (order_id, key) DO NOTHING`, orderID, e.Key, e.Status, e.Reason, e.Actor)
		if err != nil || !move || tag.RowsAffected() == 0 {
			return err
		}
		// A payment recorded before the order was cancelled, whose signal
		// the saga never took, is owed back: the lock orders this against
		// RecordPayment, which refunds the ones that come after.
		if e.Status == order.Cancelled {
			if err := refundPayments(ctx, tx, orderID, "paid after the order was cancelled"); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE orders SET status = $2, status_reason = $3, updated_at = now() WHERE order_id = $1`,
			orderID, e.Status, e.Reason)
		return err
	})
}

// Refunds lists the payments owed back for an order.
func (s *Store) Refunds(ctx context.Context, orderID string) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT payment_id FROM refunds WHERE order_id = $1 ORDER BY created_at, payment_id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Documents lists an order's billing documents, oldest first.
func (s *Store) Documents(ctx context.Context, orderID string) ([]Invoice, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, kind, number, status, net_grosze, vat_grosze, gross_grosze, currency, issued_at, due_date,
			coalesce(charge_id, '')
		FROM invoices WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invoice, error) {
		var inv Invoice
		err := r.Scan(&inv.ID, &inv.Kind, &inv.Number, &inv.Status, &inv.Net, &inv.VAT, &inv.Gross, &inv.Currency, &inv.IssuedAt, &inv.DueDate, &inv.ChargeID)
		return inv, err
	})
}

func (s *Store) undo(ctx context.Context, orderID, key, reason, sql string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sql, orderID); err != nil {
			return err
		}
		return insertEvent(ctx, tx, orderID, key, order.Compensating, reason, "system")
	})
}

// lockOrder orders concurrent writes to one order; a missing order is
// ErrNotFound (final) rather than a foreign key error (retried).
func lockOrder(ctx context.Context, tx pgx.Tx, orderID string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM orders WHERE order_id = $1 FOR UPDATE`, orderID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	return err
}

// ExtendDeadline moves the order's payment deadline and logs who did it.
func (s *Store) ExtendDeadline(ctx context.Context, orderID string, until time.Time, e Event) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET payment_deadline = $2, updated_at = now() WHERE order_id = $1`, orderID, until); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET due_date = $2::timestamptz::date WHERE order_id = $1 AND kind = 'proforma' AND charge_id IS NULL AND status = 'unpaid'`, orderID, until); err != nil {
			return err
		}
		return insertEvent(ctx, tx, orderID, e.Key, e.Status, e.Reason, e.Actor)
	})
}

// RecordManualPayment records a transfer an operator saw by hand as a
// completed payment of the pro-forma's gross amount; the id is derived
// from the bank's reference, so a retry records it once.
func (s *Store) RecordManualPayment(ctx context.Context, orderID, reference, actor, reason string) (string, error) {
	id := "manual:" + orderID + ":" + reference
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		pf, err := invoiceOf(ctx, tx, orderID, "proforma")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO payments (payment_id, order_id, status, amount_grosze, currency)
			VALUES ($1, $2, 'completed', $3, $4) ON CONFLICT (payment_id) DO NOTHING`, id, orderID, pf.Gross, pf.Currency); err != nil {
			return err
		}
		return insertEvent(ctx, tx, orderID, "mark_paid:"+reference, order.AwaitingPayment,
			"payment "+reference+" seen by hand: "+reason, actor)
	})
	return id, err
}
