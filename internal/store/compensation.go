package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/order"
)

// The undo steps of the saga. Each runs in one transaction that also writes
// its line of the order's log under a fixed key, and each finds what an
// earlier run of it did, so a retried step changes nothing twice.

// VoidInvoice voids the order's own billing: VoidCharge of its order
// charge. A paid order gets the one credit note (faktura korygująca) that
// takes its VAT invoice to zero, returned; an unpaid one only has its
// pro-forma made void, with no correction (a pro-forma is not a VAT
// invoice), and the returned Invoice is empty. The originals are never
// changed otherwise nor deleted. A second call returns what the first did.
func (s *Store) VoidInvoice(ctx context.Context, orderID, reason string, issued time.Time) (Invoice, error) {
	return s.VoidCharge(ctx, OrderCharge(orderID), reason, issued)
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
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
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
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
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
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
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
	rows, err := s.db(ctx).Query(ctx, `SELECT payment_id FROM refunds WHERE order_id = $1 ORDER BY created_at, payment_id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Documents lists an order's billing documents, oldest first.
func (s *Store) Documents(ctx context.Context, orderID string) ([]Invoice, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT id, kind, number, status, net_grosze, vat_grosze, gross_grosze, currency, issued_at, due_date, order_id, charge_id, vat_code
		FROM invoices WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invoice, error) { return scanDocument(r) })
}

func (s *Store) undo(ctx context.Context, orderID, key, reason, sql string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
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
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET payment_deadline = $2, updated_at = now() WHERE order_id = $1`, orderID, until); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE charges SET payment_deadline = $2 WHERE id = $1`, OrderCharge(orderID), until); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET due_date = $2::timestamptz::date WHERE charge_id = $1 AND kind = 'proforma' AND status = 'unpaid'`, OrderCharge(orderID), until); err != nil {
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
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		pf, err := documentOf(ctx, tx, OrderCharge(orderID), billing.KindProforma)
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
