package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/money"
)

// No money that arrives is lost: every completed payment ends either taken
// (a VAT invoice that stands, status paid, names it in payment_id: see
// Settle and SettleCharge) or refunded (a refunds row), never both. The
// queries below find the payments that break this, for the orders that
// ended (installer_ready, cancelled, refunded) and, for a charge's payment,
// whose charge no longer waits for one: while an order or charge waits, or
// is being compensated, a payment may for a moment be neither or both.
// Notifications whose payment id is another order's are not payments of the
// order that got them: they wait in payment_conflicts for an operator.

// PaymentRecord is one completed payment as the queries below see it.
type PaymentRecord struct {
	PaymentID   string
	OrderID     string
	ChargeID    string
	OrderStatus string
	Amount      money.Grosze
	Currency    string
	Taken       bool // a paid VAT invoice names it
	Refunded    bool // it has a refunds row
}

const paymentRecords = `
	SELECT p.payment_id, p.order_id, coalesce(p.charge_id, ''), o.status, p.amount_grosze, p.currency, x.taken, x.refunded
	FROM payments p JOIN orders o ON o.order_id = p.order_id
	LEFT JOIN charges c ON c.id = p.charge_id
	CROSS JOIN LATERAL (SELECT
		EXISTS (SELECT 1 FROM invoices i WHERE i.payment_id = p.payment_id AND i.kind = 'invoice' AND i.status = 'paid') AS taken,
		EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.payment_id) AS refunded) x
	WHERE p.status = 'completed'
	  AND o.status IN ('installer_ready', 'cancelled', 'refunded')
	  AND (c.id IS NULL OR c.status <> 'awaiting_payment')
	  AND (cardinality($1::text[]) = 0 OR p.order_id = ANY ($1::text[]))`

// UnsettledPayments lists the completed payments of ended orders that are
// neither taken nor refunded: money that arrived and was lost. With
// orderIDs it looks at those orders only.
func (s *Store) UnsettledPayments(ctx context.Context, orderIDs ...string) ([]PaymentRecord, error) {
	rows, err := s.db(ctx).Query(ctx, paymentRecords+` AND NOT x.taken AND NOT x.refunded ORDER BY p.order_id, p.payment_id`, idList(orderIDs))
	return collectPaymentRecords(rows, err)
}

// DoublySettledPayments lists the completed payments of ended orders that
// are both taken and refunded: money kept and given back.
func (s *Store) DoublySettledPayments(ctx context.Context, orderIDs ...string) ([]PaymentRecord, error) {
	rows, err := s.db(ctx).Query(ctx, paymentRecords+` AND x.taken AND x.refunded ORDER BY p.order_id, p.payment_id`, idList(orderIDs))
	return collectPaymentRecords(rows, err)
}

func idList(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

func collectPaymentRecords(rows pgx.Rows, err error) ([]PaymentRecord, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PaymentRecord, error) {
		var p PaymentRecord
		err := r.Scan(&p.PaymentID, &p.OrderID, &p.ChargeID, &p.OrderStatus, &p.Amount, &p.Currency, &p.Taken, &p.Refunded)
		return p, err
	})
}

// PaymentConflict is a notification whose payment id was another order's.
type PaymentConflict struct {
	PaymentID     string
	OrderID       string // the order the notification named
	ChargeID      string
	Status        string
	Amount        money.Grosze
	Currency      string
	OwnerOrderID  string // the order whose payment the id is
	OwnerChargeID string
}

// PaymentConflicts lists the notifications of an order whose payment id was
// another order's, oldest first: what an operator must look at.
func (s *Store) PaymentConflicts(ctx context.Context, orderID string) ([]PaymentConflict, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT payment_id, order_id, charge_id, status, amount_grosze, currency, owner_order_id, owner_charge_id
		FROM payment_conflicts WHERE order_id = $1 ORDER BY received_at, payment_id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PaymentConflict, error) {
		var c PaymentConflict
		err := r.Scan(&c.PaymentID, &c.OrderID, &c.ChargeID, &c.Status, &c.Amount, &c.Currency, &c.OwnerOrderID, &c.OwnerChargeID)
		return c, err
	})
}
