package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// Kinds of charges. Every purchase is a charge with its own documents: the
// order itself (its first purchase) and each later one.
const (
	ChargeOrder     = "order"     // the order's first purchase: its own pro-forma, VAT invoice, correction
	ChargeLicences  = "licences"  // more seats, prorated to the period's end
	ChargeReduction = "reduction" // fewer seats: nothing to pay
	ChargeRenewal   = "renewal"   // the next billing period
)

const orderChargeSuffix = ":" + ChargeOrder

// OrderCharge is the id of the order's own charge, the first purchase.
func OrderCharge(orderID string) string { return orderID + orderChargeSuffix }

// laterCharge is chargeID as callers outside see it: a later purchase's id,
// or "" for the order's own charge.
func laterCharge(orderID, chargeID string) string {
	if chargeID == OrderCharge(orderID) {
		return ""
	}
	return chargeID
}

// ErrNotActive is returned for a purchase on an order that has no running
// subscription (not yet provisioned, suspended or terminated).
var ErrNotActive = errors.New("the order has no active subscription")

// SeatsError refuses a change of seats: too few free ones, or more than the
// plan allows.
type SeatsError struct {
	Free, InUse, Seats int
	Message            string
}

func (e *SeatsError) Error() string { return e.Message }

// Charge is a purchase of an order with its own documents: the order charge
// (kind order) or a later one.
type Charge struct {
	ID          string
	OrderID     string
	Kind        string
	WorkflowID  string
	Seats       int // licences: the change; renewal: the seats renewed
	Period      int
	PeriodStart time.Time
	PeriodEnd   time.Time // the first day not paid for
	Net         money.Grosze
	Status      string
	Deadline    time.Time
	Created     bool     // this call made it
	Invoice     *Invoice // its pro-forma, once issued
}

// ChargeRequest asks for more or fewer licences.
type ChargeRequest struct {
	ID, OrderID, WorkflowID string
	Hash                    []byte
	Change                  int // seats added; negative lowers
	Deadline                time.Time
	Today                   time.Time // the date in Poland
}

// OpenLicenceCharge records a change of seats. More seats are billed by day
// from today to the end of the current period; fewer are allowed only as far
// as no assigned licence is lost, and cost nothing. The same request again
// returns the same charge; a different one under the same id is ErrConflict.
func (s *Store) OpenLicenceCharge(ctx context.Context, r ChargeRequest) (Charge, error) {
	var c Charge
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, r.OrderID); err != nil {
			return err
		}
		var hash []byte
		err := tx.QueryRow(ctx, `SELECT request_hash FROM charges WHERE id = $1`, r.ID).Scan(&hash)
		if err == nil {
			if !bytes.Equal(hash, r.Hash) {
				return ErrConflict
			}
			c, err = chargeOf(ctx, tx, r.ID)
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		sv, err := serviceOf(ctx, tx, r.OrderID)
		if errors.Is(err, ErrNotFound) || err == nil && sv.Status != ServiceActive && sv.Status != ServiceRenewalDue {
			return ErrNotActive
		}
		if err != nil {
			return err
		}
		kind, status, net := ChargeLicences, "awaiting_payment", money.Grosze(0)
		after := sv.Seats + r.Change
		switch {
		case r.Change < 0:
			kind, status = ChargeReduction, "paid"
			inUse, err := licensed(ctx, tx, r.OrderID)
			if err != nil {
				return err
			}
			if after < max(inUse, 1) {
				return &SeatsError{InUse: inUse, Seats: sv.Seats, Message: fmt.Sprintf("%d of %d seats hold a licence: the subscription cannot go below %d", inUse, sv.Seats, max(inUse, 1))}
			}
		case after > order.MaxSeats:
			return &SeatsError{Seats: sv.Seats, Message: fmt.Sprintf("the subscription has %d seats; it cannot go above %d", sv.Seats, order.MaxSeats)}
		default:
			net = billing.Licences(sv.Price, r.Change, sv.BillingCycle, r.Today, sv.PeriodStart, sv.PeriodEnd)
		}
		deadline := r.Deadline
		if end := sv.PeriodEnd; deadline.After(end) {
			deadline = end
		}
		_, err = tx.Exec(ctx, `INSERT INTO charges (id, order_id, kind, request_hash, workflow_id, seats, period, period_start, period_end, net_grosze, status, payment_deadline)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			r.ID, r.OrderID, kind, r.Hash, r.WorkflowID, r.Change, sv.Period, billing.Day(r.Today), sv.PeriodEnd, net, status, deadline)
		if err != nil {
			return err
		}
		c, err = chargeOf(ctx, tx, r.ID)
		c.Created = true
		return err
	})
	return c, err
}

// OpenRenewal makes the charge for the period after the service's current
// one, with its pro-forma, and marks the service renewal_due. Called again
// for the same period, it returns what the first call made.
func (s *Store) OpenRenewal(ctx context.Context, orderID, workflowID string, deadline, issued time.Time) (Charge, error) {
	var c Charge
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		sv, err := serviceOf(ctx, tx, orderID)
		if err != nil {
			return err
		}
		id := fmt.Sprintf("%s:renewal:%d", orderID, sv.Period+1)
		if c, err = chargeOf(ctx, tx, id); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		start := sv.PeriodEnd
		end := billing.AddMonths(start, sv.Months)
		net := billing.Price(sv.Price, sv.Seats, sv.BillingCycle)
		if _, err := tx.Exec(ctx, `INSERT INTO charges (id, order_id, kind, workflow_id, seats, period, period_start, period_end, net_grosze, status, payment_deadline)
			VALUES ($1, $2, 'renewal', $3, $4, $5, $6, $7, $8, 'awaiting_payment', $9)`,
			id, orderID, workflowID, sv.Seats, sv.Period+1, start, end, net, deadline); err != nil {
			return err
		}
		due := deadline
		inv, err := s.issue(ctx, tx, orderID, id, billing.KindProforma, SeriesProforma, net, issued, &due, nil)
		if err != nil {
			return err
		}
		if _, err := setService(ctx, tx, orderID, "renewal_due:"+fmt.Sprint(sv.Period+1), ServiceRenewalDue, "renewal pro-forma "+inv.Number); err != nil {
			return err
		}
		c, err = chargeOf(ctx, tx, id)
		c.Created = true
		return err
	})
	return c, err
}

// IssueCharge issues a licence charge's pro-forma, once.
func (s *Store) IssueCharge(ctx context.Context, chargeID string, issued time.Time) (Charge, error) {
	var c Charge
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		var err error
		if c, err = lockCharge(ctx, tx, chargeID); err != nil {
			return err
		}
		if c.Invoice != nil || c.Kind == ChargeReduction {
			return nil
		}
		due := c.Deadline
		inv, err := s.issue(ctx, tx, c.OrderID, c.ID, billing.KindProforma, SeriesProforma, c.Net, issued, &due, nil)
		c.Invoice = &inv
		return err
	})
	return c, err
}

// GetCharge reads a later purchase with its pro-forma. The order charge is
// not one (ErrNotFound): payments and notices name the order for it.
func (s *Store) GetCharge(ctx context.Context, chargeID string) (Charge, error) {
	c, err := chargeOf(ctx, s.db(ctx), chargeID)
	if err == nil && c.Kind == ChargeOrder {
		return Charge{}, fmt.Errorf("charge %s: %w", chargeID, ErrNotFound)
	}
	return c, err
}

// lockCharge locks the charge's order and reads the charge again under that
// lock: a step that acted on what it read before the lock could apply (or
// return) seats twice, or issue a second document, when run concurrently.
func lockCharge(ctx context.Context, tx pgx.Tx, chargeID string) (Charge, error) {
	c, err := chargeOf(ctx, tx, chargeID)
	if err != nil {
		return c, err
	}
	if err := lockOrder(ctx, tx, c.OrderID); err != nil {
		return c, err
	}
	return chargeOf(ctx, tx, chargeID)
}

func chargeOf(ctx context.Context, q querier, id string) (Charge, error) {
	var c Charge
	var invID *int64
	var inv Invoice
	var invNumber, invStatus, invCurrency, invVATCode *string
	var invNet, invVAT, invGross *money.Grosze
	var invIssued *time.Time
	err := q.QueryRow(ctx, `SELECT c.id, c.order_id, c.kind, c.workflow_id, c.seats, c.period, c.period_start, c.period_end, c.net_grosze,
			c.status, c.payment_deadline, i.id, i.number, i.status, i.net_grosze, i.vat_grosze, i.gross_grosze, i.currency, i.issued_at, i.due_date, i.vat_code
		FROM charges c LEFT JOIN invoices i ON i.charge_id = c.id AND i.kind = 'proforma' WHERE c.id = $1`, id).Scan(
		&c.ID, &c.OrderID, &c.Kind, &c.WorkflowID, &c.Seats, &c.Period, &c.PeriodStart, &c.PeriodEnd, &c.Net, &c.Status, &c.Deadline,
		&invID, &invNumber, &invStatus, &invNet, &invVAT, &invGross, &invCurrency, &invIssued, &inv.DueDate, &invVATCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("charge %s: %w", id, ErrNotFound)
	}
	if invID != nil {
		inv.ID, inv.Kind, inv.Number, inv.Status, inv.Currency = *invID, "proforma", *invNumber, *invStatus, *invCurrency
		inv.Net, inv.VAT, inv.Gross, inv.IssuedAt, inv.ChargeID = *invNet, *invVAT, *invGross, *invIssued, laterCharge(c.OrderID, c.ID)
		inv.VATCode = *invVATCode
		c.Invoice = &inv
	}
	return c, err
}

// SettleCharge is the one settle, of any charge, the order's own included
// (Settle): it records that the charge's pro-forma is paid by paymentID and
// issues its VAT invoice, dated paidOn and referring to the pro-forma, in
// the same transaction (see settled for what else moves). A second call
// returns the first call's invoice.
func (s *Store) SettleCharge(ctx context.Context, chargeID, paymentID string, paidOn time.Time) (Invoice, error) {
	var fv Invoice
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		c, err := chargeOf(ctx, tx, chargeID)
		if err != nil {
			return err
		}
		var n int
		// A payment of the order names no charge: it pays the order charge.
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM payments WHERE payment_id = $1 AND order_id = $2
			AND charge_id IS NOT DISTINCT FROM NULLIF($3, '') AND status = 'completed'`,
			paymentID, c.OrderID, laterCharge(c.OrderID, chargeID)).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("payment %s of charge %s: %w", paymentID, chargeID, ErrNotFound)
		}
		if c, err = lockCharge(ctx, tx, chargeID); err != nil {
			return err
		}
		fv, err = documentOf(ctx, tx, chargeID, billing.KindInvoice)
		first := errors.Is(err, ErrNotFound)
		if first {
			if c.Invoice == nil {
				return fmt.Errorf("charge %s has no pro-forma: %w", chargeID, ErrNotFound)
			}
			pf := *c.Invoice
			if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'paid' WHERE id = $1 AND status = 'unpaid'`, pf.ID); err != nil {
				return err
			}
			// The invoice bills what the pro-forma asked for, at its VAT.
			if fv, err = s.issue(ctx, tx, c.OrderID, chargeID, billing.KindInvoice, SeriesInvoice, pf.Net, paidOn, nil, &pf.ID); err != nil {
				return err
			}
			if err := takePayment(ctx, tx, fv.ID, c.OrderID, chargeID, paymentID); err != nil {
				return err
			}
			fv.Status = billing.DocPaid
			if _, err := tx.Exec(ctx, `UPDATE charges SET status = 'paid' WHERE id = $1 AND status = 'awaiting_payment'`, chargeID); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		return settled(ctx, tx, c, first, paymentID, fv)
	})
	return fv, err
}

// settled is what a paid charge moves beyond its documents. The order
// moves on to provisioning (on every call: a retry after a lost answer
// must still move it); a later charge is logged once, and a renewal moves
// the service into the period it paid for and makes it active.
func settled(ctx context.Context, tx pgx.Tx, c Charge, first bool, paymentID string, fv Invoice) error {
	switch {
	case c.Kind == ChargeOrder:
		_, err := transition(ctx, tx, c.OrderID, string(order.ProvisioningTenant), order.ProvisioningTenant, "payment "+paymentID+" received")
		return err
	case !first:
		return nil
	case c.Kind == ChargeRenewal:
		if _, err := tx.Exec(ctx, `UPDATE services SET period = $2, period_start = $3, period_end = $4, suspended_at = NULL, updated_at = now()
			WHERE order_id = $1 AND period < $2`, c.OrderID, c.Period, c.PeriodStart, c.PeriodEnd); err != nil {
			return err
		}
		if _, err := setService(ctx, tx, c.OrderID, "renewed:"+fmt.Sprint(c.Period), ServiceActive,
			"renewal paid: "+fv.Number+", period "+c.PeriodStart.Format(time.DateOnly)+" to "+c.PeriodEnd.AddDate(0, 0, -1).Format(time.DateOnly)); err != nil {
			return err
		}
	}
	return insertEvent(ctx, tx, c.OrderID, "charge_paid:"+c.ID, order.InstallerReady, "payment "+paymentID+" of "+c.Invoice.Number+": VAT invoice "+fv.Number, "gateway")
}

// ApplySeats makes a paid change of seats the service's, once, and returns
// the seats the subscription must have now. The change is checked again
// here: licences assigned since the request may forbid a reduction.
func (s *Store) ApplySeats(ctx context.Context, chargeID string) (int, error) {
	var seats int
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		c, err := lockCharge(ctx, tx, chargeID)
		if err != nil {
			return err
		}
		sv, err := serviceOf(ctx, tx, c.OrderID)
		if err != nil {
			return err
		}
		seats = sv.Seats
		switch c.Status {
		case "applied":
			return nil
		case "paid":
		default:
			return fmt.Errorf("charge %s is %s, not paid", chargeID, c.Status)
		}
		after := sv.Seats + c.Seats
		inUse, err := licensed(ctx, tx, c.OrderID)
		if err != nil {
			return err
		}
		if after < max(inUse, 1) || after > order.MaxSeats {
			return &SeatsError{InUse: inUse, Seats: sv.Seats, Message: fmt.Sprintf("%d seats, %d holding a licence: cannot change by %d", sv.Seats, inUse, c.Seats)}
		}
		if _, err := tx.Exec(ctx, `UPDATE services SET seats = $2, updated_at = now() WHERE order_id = $1`, c.OrderID, after); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE subscriptions SET quantity = $2 WHERE order_id = $1`, c.OrderID, after); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE charges SET status = 'applied' WHERE id = $1`, chargeID); err != nil {
			return err
		}
		seats = after
		return insertEvent(ctx, tx, c.OrderID, "seats:"+chargeID, order.InstallerReady, fmt.Sprintf("seats %d -> %d", sv.Seats, after), "system")
	})
	return seats, err
}

// VoidCharge is the one void, of any charge, the order's own included
// (VoidInvoice). Nothing of the purchase stands afterwards: its pro-forma
// and VAT invoice are void. Only a VAT invoice is corrected: a paid charge
// gets one credit note (faktura korygująca) that takes its VAT invoice to
// zero and is returned; an unpaid one has only a pro-forma, which is not a
// VAT invoice and is simply void, and the returned Invoice is empty. A later
// charge also gives back seats it applied and owes back money paid for it
// (the order's payments are the RefundPayments undo step's). A second call
// returns the same credit note.
func (s *Store) VoidCharge(ctx context.Context, chargeID, reason string, issued time.Time) (Invoice, error) {
	var kor Invoice
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		c, err := lockCharge(ctx, tx, chargeID)
		if err != nil {
			return err
		}
		if err := unapply(ctx, tx, c, reason); err != nil {
			return err
		}
		docs, err := chargeDocuments(ctx, tx, chargeID)
		if err != nil {
			return err
		}
		rules := make([]billing.Document, len(docs))
		for i, d := range docs {
			if d.Kind == billing.KindCorrection {
				kor = d // issued by an earlier call
				return nil
			}
			rules[i] = billing.Document{Kind: d.Kind, Status: d.Status}
		}
		if len(docs) == 0 {
			return nil // nothing was billed (a reduction)
		}
		what := "pro-forma " + docs[0].Number + " void"
		if i, ok := billing.Corrects(rules); ok {
			fv := docs[i]
			// Taken back whole, at the invoice's VAT: its totals negated
			// (billing.VAT.Amounts rounds a negative net as the positive).
			if kor, err = s.issue(ctx, tx, c.OrderID, chargeID, billing.KindCorrection, SeriesCorrection, -fv.Net, issued, nil, &fv.ID); err != nil {
				return err
			}
			kor.Status = billing.CorrectionStatus(fv.Status)
			if _, err := tx.Exec(ctx, `UPDATE invoices SET status = $2 WHERE id = $1`, kor.ID, kor.Status); err != nil {
				return err
			}
			what = "credit note " + kor.Number + " corrects " + fv.Number
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'void' WHERE charge_id = $1 AND kind IN ('proforma', 'invoice')`, chargeID); err != nil {
			return err
		}
		if c.Kind == ChargeOrder {
			return insertEvent(ctx, tx, c.OrderID, "undo:void_invoice", order.Compensating, what+": "+reason, "system")
		}
		return insertEvent(ctx, tx, c.OrderID, "charge_void:"+chargeID, order.InstallerReady, what+": "+reason, "system")
	})
	return kor, err
}

// unapply ends a charge before its documents are voided: it is cancelled,
// and a later charge gives back the seats it applied (the tenant refused
// what the database had taken on) and owes back money paid for it.
func unapply(ctx context.Context, tx pgx.Tx, c Charge, reason string) error {
	if _, err := tx.Exec(ctx, `UPDATE charges SET status = 'cancelled' WHERE id = $1`, c.ID); err != nil || c.Kind == ChargeOrder {
		return err
	}
	if c.Status == "applied" {
		if _, err := tx.Exec(ctx, `UPDATE services SET seats = seats - $2, updated_at = now() WHERE order_id = $1`, c.OrderID, c.Seats); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE subscriptions SET quantity = quantity - $2 WHERE order_id = $1`, c.OrderID, c.Seats); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO refunds (order_id, payment_id, amount_grosze, currency, reason)
		SELECT order_id, payment_id, amount_grosze, currency, $2 FROM payments WHERE charge_id = $1 AND status = 'completed'
		ON CONFLICT (payment_id) DO NOTHING`, c.ID, reason)
	return err
}

// ChargeDocument is a later charge's document of kind, for an email; none
// is ErrNotFound, unwrapped.
func (s *Store) ChargeDocument(ctx context.Context, chargeID, kind string) (Invoice, error) {
	return documentOf(ctx, s.db(ctx), chargeID, kind)
}

// chargeDocuments are a charge's documents, oldest first.
func chargeDocuments(ctx context.Context, tx pgx.Tx, chargeID string) ([]Invoice, error) {
	rows, err := tx.Query(ctx, `SELECT id, kind, number, status, net_grosze, vat_grosze, gross_grosze, currency, issued_at, due_date, order_id, charge_id, vat_code
		FROM invoices WHERE charge_id = $1 ORDER BY id`, chargeID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invoice, error) { return scanDocument(r) })
}
