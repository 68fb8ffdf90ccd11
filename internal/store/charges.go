package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// Kinds of charges.
const (
	ChargeLicences  = "licences"  // more seats, prorated to the period's end
	ChargeReduction = "reduction" // fewer seats: nothing to pay
	ChargeRenewal   = "renewal"   // the next billing period
)

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

// Charge is a later purchase of an order with its own documents.
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
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
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
			net = prorate(sv.Price*money.Grosze(sv.Months*r.Change), day(r.Today), sv.PeriodStart, sv.PeriodEnd)
		}
		deadline := r.Deadline
		if end := sv.PeriodEnd; deadline.After(end) {
			deadline = end
		}
		_, err = tx.Exec(ctx, `INSERT INTO charges (id, order_id, kind, request_hash, workflow_id, seats, period, period_start, period_end, net_grosze, status, payment_deadline)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			r.ID, r.OrderID, kind, r.Hash, r.WorkflowID, r.Change, sv.Period, day(r.Today), sv.PeriodEnd, net, status, deadline)
		if err != nil {
			return err
		}
		c, err = chargeOf(ctx, tx, r.ID)
		c.Created = true
		return err
	})
	return c, err
}

// prorate is full × the days from from to end over the period's days,
// rounded to the grosz.
func prorate(full money.Grosze, from, start, end time.Time) money.Grosze {
	days := int64(end.Sub(start).Hours()/24 + 0.5)
	left := int64(end.Sub(from).Hours()/24 + 0.5)
	if days <= 0 || left >= days {
		return full
	}
	if left <= 0 {
		left = 1 // the last day is still a day of use
	}
	return money.Grosze((int64(full)*left*2 + days) / (days * 2))
}

// addMonths moves a date by months as PostgreSQL does for the first period:
// the 31st plus a month is the last day of a shorter month, not the 3rd of
// the one after.
func addMonths(d time.Time, months int) time.Time {
	first := time.Date(d.Year(), d.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, 0, min(d.Day(), first.AddDate(0, 1, -1).Day())-1)
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// OpenRenewal makes the charge for the period after the service's current
// one, with its pro-forma, and marks the service renewal_due. Called again
// for the same period, it returns what the first call made.
func (s *Store) OpenRenewal(ctx context.Context, orderID, workflowID string, deadline, issued time.Time) (Charge, error) {
	var c Charge
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
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
		end := addMonths(start, sv.Months)
		net := sv.Price * money.Grosze(sv.Months*sv.Seats)
		if _, err := tx.Exec(ctx, `INSERT INTO charges (id, order_id, kind, workflow_id, seats, period, period_start, period_end, net_grosze, status, payment_deadline)
			VALUES ($1, $2, 'renewal', $3, $4, $5, $6, $7, $8, 'awaiting_payment', $9)`,
			id, orderID, workflowID, sv.Seats, sv.Period+1, start, end, net, deadline); err != nil {
			return err
		}
		due := deadline
		inv, err := s.issueFor(ctx, tx, orderID, id, "proforma", SeriesProforma, net, money.VAT(net), issued, &due, nil)
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
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		if c, err = lockCharge(ctx, tx, chargeID); err != nil {
			return err
		}
		if c.Invoice != nil || c.Kind == ChargeReduction {
			return nil
		}
		due := c.Deadline
		inv, err := s.issueFor(ctx, tx, c.OrderID, c.ID, "proforma", SeriesProforma, c.Net, money.VAT(c.Net), issued, &due, nil)
		c.Invoice = &inv
		return err
	})
	return c, err
}

// GetCharge reads a charge with its pro-forma.
func (s *Store) GetCharge(ctx context.Context, chargeID string) (Charge, error) {
	return chargeOf(ctx, s.Pool, chargeID)
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
	var invNumber, invStatus, invCurrency *string
	var invNet, invVAT, invGross *money.Grosze
	var invIssued *time.Time
	err := q.QueryRow(ctx, `SELECT c.id, c.order_id, c.kind, c.workflow_id, c.seats, c.period, c.period_start, c.period_end, c.net_grosze,
			c.status, c.payment_deadline, i.id, i.number, i.status, i.net_grosze, i.vat_grosze, i.gross_grosze, i.currency, i.issued_at, i.due_date
		FROM charges c LEFT JOIN invoices i ON i.charge_id = c.id AND i.kind = 'proforma' WHERE c.id = $1`, id).Scan(
		&c.ID, &c.OrderID, &c.Kind, &c.WorkflowID, &c.Seats, &c.Period, &c.PeriodStart, &c.PeriodEnd, &c.Net, &c.Status, &c.Deadline,
		&invID, &invNumber, &invStatus, &invNet, &invVAT, &invGross, &invCurrency, &invIssued, &inv.DueDate)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("charge %s: %w", id, ErrNotFound)
	}
	if invID != nil {
		inv.ID, inv.Kind, inv.Number, inv.Status, inv.Currency = *invID, "proforma", *invNumber, *invStatus, *invCurrency
		inv.Net, inv.VAT, inv.Gross, inv.IssuedAt, inv.ChargeID = *invNet, *invVAT, *invGross, *invIssued, c.ID
		c.Invoice = &inv
	}
	return c, err
}

func chargeInvoice(ctx context.Context, q querier, chargeID, kind string) (Invoice, error) {
	var inv Invoice
	err := q.QueryRow(ctx, `SELECT id, kind, number, status, net_grosze, vat_grosze, gross_grosze, currency, issued_at, due_date
		FROM invoices WHERE charge_id = $1 AND kind = $2`, chargeID, kind).Scan(
		&inv.ID, &inv.Kind, &inv.Number, &inv.Status, &inv.Net, &inv.VAT, &inv.Gross, &inv.Currency, &inv.IssuedAt, &inv.DueDate)
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, ErrNotFound
	}
	inv.ChargeID = chargeID
	return inv, err
}

// SettleCharge records that a charge's pro-forma is paid and issues its VAT
// invoice in the same transaction. A renewal moves the service into the
// period it paid for and makes it active. A second call returns the first
// call's invoice.
func (s *Store) SettleCharge(ctx context.Context, chargeID, paymentID string, paidOn time.Time) (Invoice, error) {
	var fv Invoice
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := chargeOf(ctx, tx, chargeID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM payments WHERE payment_id = $1 AND charge_id = $2 AND status = 'completed'`,
			paymentID, chargeID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("payment %s of charge %s: %w", paymentID, chargeID, ErrNotFound)
		}
		if c, err = lockCharge(ctx, tx, chargeID); err != nil {
			return err
		}
		if fv, err = chargeInvoice(ctx, tx, chargeID, "invoice"); !errors.Is(err, ErrNotFound) {
			return err
		}
		if c.Invoice == nil {
			return fmt.Errorf("charge %s has no pro-forma: %w", chargeID, ErrNotFound)
		}
		pf := *c.Invoice
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'paid' WHERE id = $1 AND status = 'unpaid'`, pf.ID); err != nil {
			return err
		}
		if fv, err = s.issueFor(ctx, tx, c.OrderID, chargeID, "invoice", SeriesInvoice, pf.Net, pf.VAT, paidOn, nil, &pf.ID); err != nil {
			return err
		}
		if err := takePayment(ctx, tx, fv.ID, c.OrderID, chargeID, paymentID); err != nil {
			return err
		}
		fv.Status = "paid"
		if _, err := tx.Exec(ctx, `UPDATE charges SET status = 'paid' WHERE id = $1 AND status = 'awaiting_payment'`, chargeID); err != nil {
			return err
		}
		if c.Kind == ChargeRenewal {
			if _, err := tx.Exec(ctx, `UPDATE services SET period = $2, period_start = $3, period_end = $4, suspended_at = NULL, updated_at = now()
				WHERE order_id = $1 AND period < $2`, c.OrderID, c.Period, c.PeriodStart, c.PeriodEnd); err != nil {
				return err
			}
			if _, err := setService(ctx, tx, c.OrderID, "renewed:"+fmt.Sprint(c.Period), ServiceActive,
				"renewal paid: "+fv.Number+", period "+c.PeriodStart.Format(time.DateOnly)+" to "+c.PeriodEnd.AddDate(0, 0, -1).Format(time.DateOnly)); err != nil {
				return err
			}
		}
		return insertEvent(ctx, tx, c.OrderID, "charge_paid:"+chargeID, order.InstallerReady, "payment "+paymentID+" of "+pf.Number+": VAT invoice "+fv.Number, "gateway")
	})
	return fv, err
}

// ApplySeats makes a paid change of seats the service's, once, and returns
// the seats the subscription must have now. The change is checked again
// here: licences assigned since the request may forbid a reduction.
func (s *Store) ApplySeats(ctx context.Context, chargeID string) (int, error) {
	var seats int
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
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

// VoidCharge ends a charge that will not be paid (or cannot be applied): a
// credit note corrects its latest document to zero, the pro-forma is void,
// and money paid for it is owed back. A second call returns the same note.
func (s *Store) VoidCharge(ctx context.Context, chargeID, reason string, issued time.Time) (Invoice, error) {
	var kor Invoice
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := lockCharge(ctx, tx, chargeID)
		if err != nil {
			return err
		}
		if c.Status == "applied" {
			// The tenant refused what the database had taken on: back.
			if _, err := tx.Exec(ctx, `UPDATE services SET seats = seats - $2, updated_at = now() WHERE order_id = $1`, c.OrderID, c.Seats); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE subscriptions SET quantity = quantity - $2 WHERE order_id = $1`, c.OrderID, c.Seats); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE charges SET status = 'cancelled' WHERE id = $1`, chargeID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refunds (order_id, payment_id, amount_grosze, currency, reason)
			SELECT order_id, payment_id, amount_grosze, currency, $2 FROM payments WHERE charge_id = $1 AND status = 'completed'
			ON CONFLICT (payment_id) DO NOTHING`, chargeID, reason); err != nil {
			return err
		}
		if kor, err = chargeInvoice(ctx, tx, chargeID, "correction"); !errors.Is(err, ErrNotFound) {
			return err
		}
		orig, err := chargeInvoice(ctx, tx, chargeID, "invoice")
		if errors.Is(err, ErrNotFound) {
			orig, err = chargeInvoice(ctx, tx, chargeID, "proforma")
		}
		if errors.Is(err, ErrNotFound) {
			return nil // nothing was billed (a reduction)
		}
		if err != nil {
			return err
		}
		if kor, err = s.issueFor(ctx, tx, c.OrderID, chargeID, "correction", SeriesCorrection, -orig.Net, -orig.VAT, issued, nil, &orig.ID); err != nil {
			return err
		}
		status := "paid"
		if orig.Status == "paid" {
			status = "unpaid"
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = $2 WHERE id = $1`, kor.ID, status); err != nil {
			return err
		}
		kor.Status = status
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'void' WHERE charge_id = $1 AND kind IN ('proforma', 'invoice')`, chargeID); err != nil {
			return err
		}
		return insertEvent(ctx, tx, c.OrderID, "charge_void:"+chargeID, order.InstallerReady, "credit note "+kor.Number+" corrects "+orig.Number+": "+reason, "system")
	})
	return kor, err
}

// ChargeDocument is the charge's latest document of kind, for an email.
func (s *Store) ChargeDocument(ctx context.Context, chargeID, kind string) (Invoice, error) {
	return chargeInvoice(ctx, s.Pool, chargeID, kind)
}
