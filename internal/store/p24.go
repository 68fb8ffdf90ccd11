package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// Przelewy24's transactions and the refunds sent through it. Whether a
// payment is taken or owed back is RecordPayment's to decide, as for any
// payment; these rows only tie it to the gateway's ids.

// P24Transaction is a transaction registered with Przelewy24 for one
// pro-forma: the order's own (ChargeID "") or a later charge's.
type P24Transaction struct {
	SessionID string
	OrderID   string
	ChargeID  string
	Amount    money.Grosze
	Currency  string
	Token     string
	// P24OrderID is Przelewy24's id of the payment, 0 until verified.
	P24OrderID int64
	Verified   bool
}

// P24PaymentID is the payment id under which a Przelewy24 payment is
// recorded: the gateway's own id of it, so that a notification and the
// workflow's question to the gateway name the same payment.
func P24PaymentID(p24OrderID int64) string { return "p24-" + strconv.FormatInt(p24OrderID, 10) }

// AddP24Transaction records a registered transaction.
func (s *Store) AddP24Transaction(ctx context.Context, t P24Transaction) error {
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO p24_transactions (session_id, order_id, charge_id, amount_grosze, currency, token)
		VALUES ($1, $2, $3, $4, $5, $6)`, t.SessionID, t.OrderID, t.ChargeID, t.Amount, t.Currency, t.Token)
	return err
}

// GetP24Transaction reads a transaction by its session id.
func (s *Store) GetP24Transaction(ctx context.Context, sessionID string) (P24Transaction, error) {
	t := P24Transaction{SessionID: sessionID}
	var p24 *int64
	err := s.db(ctx).QueryRow(ctx, `SELECT order_id, charge_id, amount_grosze, currency, token, p24_order_id, verified_at IS NOT NULL
		FROM p24_transactions WHERE session_id = $1`, sessionID).Scan(&t.OrderID, &t.ChargeID, &t.Amount, &t.Currency, &t.Token, &p24, &t.Verified)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("p24 transaction %s: %w", sessionID, ErrNotFound)
	}
	if p24 != nil {
		t.P24OrderID = *p24
	}
	return t, err
}

// ErrP24Mismatch is VerifiedP24's answer when the transaction was verified
// under another Przelewy24 id: one session is paid once.
var ErrP24Mismatch = errors.New("p24 transaction verified under another payment")

// VerifiedP24 records that the payment p24OrderID of the transaction was
// verified. Again with the same id it changes nothing.
func (s *Store) VerifiedP24(ctx context.Context, sessionID string, p24OrderID int64) error {
	var got int64
	err := s.db(ctx).QueryRow(ctx, `UPDATE p24_transactions SET p24_order_id = coalesce(p24_order_id, $2), verified_at = coalesce(verified_at, now())
		WHERE session_id = $1 RETURNING p24_order_id`, sessionID, p24OrderID).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("p24 transaction %s: %w", sessionID, ErrNotFound)
	}
	if err == nil && got != p24OrderID {
		return fmt.Errorf("session %s: verified as %d, now %d: %w", sessionID, got, p24OrderID, ErrP24Mismatch)
	}
	return err
}

// Refund states (refunds.status).
const (
	RefundPending  = "pending"
	RefundSent     = "sent"
	RefundRefunded = "refunded"
	RefundRejected = "rejected"
)

// GatewayRefund is a refund owed for a Przelewy24 payment, with what the
// refund API needs.
type GatewayRefund struct {
	PaymentID  string
	OrderID    string
	SessionID  string
	P24OrderID int64
	Amount     money.Grosze
	Currency   string
	Reason     string
	Status     string
	Detail     string
	// Sent is when the refund API accepted it; zero if it never did.
	Sent time.Time
}

const gatewayRefund = `SELECT r.payment_id, r.order_id, t.session_id, t.p24_order_id, r.amount_grosze, r.currency, r.reason, r.status, r.detail, coalesce(r.sent_at, 'epoch')
	FROM refunds r JOIN p24_transactions t ON r.payment_id = 'p24-' || t.p24_order_id::text`

func scanGatewayRefund(row pgx.CollectableRow) (GatewayRefund, error) {
	var g GatewayRefund
	err := row.Scan(&g.PaymentID, &g.OrderID, &g.SessionID, &g.P24OrderID, &g.Amount, &g.Currency, &g.Reason, &g.Status, &g.Detail, &g.Sent)
	if g.Sent.Unix() == 0 {
		g.Sent = time.Time{}
	}
	return g, err
}

// PendingGatewayRefunds lists up to limit refunds of Przelewy24 payments not
// sent yet, oldest first. Refunds of payments that came another way stay
// pending for the shop that took them.
func (s *Store) PendingGatewayRefunds(ctx context.Context, limit int) ([]GatewayRefund, error) {
	rows, err := s.db(ctx).Query(ctx, gatewayRefund+` WHERE r.status = 'pending' ORDER BY r.created_at LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanGatewayRefund)
}

// GetGatewayRefund reads the refund owed for a Przelewy24 payment.
func (s *Store) GetGatewayRefund(ctx context.Context, paymentID string) (GatewayRefund, error) {
	rows, err := s.db(ctx).Query(ctx, gatewayRefund+` WHERE r.payment_id = $1`, paymentID)
	if err != nil {
		return GatewayRefund{}, err
	}
	g, err := pgx.CollectExactlyOneRow(rows, scanGatewayRefund)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, fmt.Errorf("gateway refund of %s: %w", paymentID, ErrNotFound)
	}
	return g, err
}

// MoveRefund moves a refund on: to sent from pending (or from rejected:
// an operator's retry of a refund the API refused); to refunded from any
// other state, since the gateway's notification of it may come before its
// answer was recorded; to rejected from pending or sent. A move back, or
// to where it is already, changes nothing and answers false. The order's
// log gets a line per move.
func (s *Store) MoveRefund(ctx context.Context, paymentID, to, detail string, at time.Time) (bool, error) {
	var from []string
	switch to {
	case RefundSent:
		from = []string{RefundPending, RefundRejected}
	case RefundRefunded:
		from = []string{RefundPending, RefundSent, RefundRejected}
	case RefundRejected:
		from = []string{RefundPending, RefundSent}
	default:
		return false, fmt.Errorf("refund state %q", to)
	}
	moved := false
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		var orderID string
		var amount money.Grosze
		var currency string
		err := tx.QueryRow(ctx, `UPDATE refunds SET status = $2, detail = $3,
				sent_at = CASE WHEN $2 = 'sent' THEN $4 ELSE sent_at END,
				closed_at = CASE WHEN $2 <> 'sent' THEN $4 ELSE closed_at END
			WHERE payment_id = $1 AND status = ANY($5) RETURNING order_id, amount_grosze, currency`,
			paymentID, to, detail, at, from).Scan(&orderID, &amount, &currency)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		moved = true
		var status order.Status
		if err := tx.QueryRow(ctx, `SELECT status FROM orders WHERE order_id = $1`, orderID).Scan(&status); err != nil {
			return err
		}
		reason := fmt.Sprintf("refund of payment %s (%s %s) %s", paymentID, amount, currency, to)
		if detail != "" {
			reason += ": " + detail
		}
		return insertEvent(ctx, tx, orderID, "refund_"+to+":"+paymentID, status, reason, "gateway")
	})
	return moved, err
}
