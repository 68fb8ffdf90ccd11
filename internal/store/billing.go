package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// Series of documents, numbered per calendar year (see billing.Number).
const (
	SeriesProforma   = billing.SeriesProforma
	SeriesInvoice    = billing.SeriesInvoice
	SeriesCorrection = billing.SeriesCorrection
)

// Billing is what OpenBilling made.
type Billing struct {
	Invoice  Invoice
	Customer order.Customer
	Plan     string
	PlanName string
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// OpenBilling gives the order a billing account, its order charge (the first
// purchase, a charge like any later one) and that charge's pro-forma for the
// plan's price x seats x months, and moves it to billing_access, all in one
// transaction. Called again, it returns what the first call made.
func (s *Store) OpenBilling(ctx context.Context, orderID string, tokenHash []byte, issued time.Time) (Billing, error) {
	var b Billing
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		var customerID int64
		var seats int
		var cycle string
		var price money.Grosze
		var due time.Time
		c := &b.Customer
		err := tx.QueryRow(ctx, `
			SELECT o.customer_id, o.seats, o.billing_cycle, o.payment_deadline, o.plan, p.name, p.price_net_grosze,
				c.company, c.email, c.first_name, c.last_name, c.tax_id, c.country, c.city, c.postal_code, c.address_line1
			FROM orders o JOIN plans p ON p.code = o.plan JOIN customers c ON c.id = o.customer_id
			WHERE o.order_id = $1 FOR UPDATE OF o`, orderID).Scan(
			&customerID, &seats, &cycle, &due, &b.Plan, &b.PlanName, &price,
			&c.Company, &c.Email, &c.FirstName, &c.LastName, &c.TaxID, &c.Country, &c.City, &c.PostalCode, &c.AddressLine1)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("order %s: %w", orderID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO billing_accounts (order_id, customer_id, token_hash) VALUES ($1, $2, $3)
			ON CONFLICT (order_id) DO NOTHING`, orderID, customerID, tokenHash); err != nil {
			return err
		}
		id := OrderCharge(orderID)
		b.Invoice, err = documentOf(ctx, tx, id, billing.KindProforma)
		if errors.Is(err, ErrNotFound) {
			net := billing.Price(price, seats, cycle)
			start := billing.Day(issued)
			if _, err := tx.Exec(ctx, `INSERT INTO charges (id, order_id, kind, workflow_id, seats, period, period_start, period_end, net_grosze, status, payment_deadline)
				VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
				id, orderID, ChargeOrder, "order-"+orderID, seats, start, billing.AddMonths(start, order.Months(cycle)), net, billing.ChargeAwaiting, due); err != nil {
				return err
			}
			b.Invoice, err = s.issue(ctx, tx, orderID, id, billing.KindProforma, SeriesProforma, net, issued, &due, nil)
		}
		if err != nil {
			return err
		}
		_, err = transition(ctx, tx, orderID, string(order.BillingAccess), order.BillingAccess,
			"billing account and pro-forma "+b.Invoice.Number)
		return err
	})
	return b, err
}

// issue numbers and writes a document of a charge (the order's own is its
// order charge); the counter row stays locked until the transaction ends,
// so numbers have no gaps and no repeats under concurrency.
//
// net is what the document bills before VAT (negative for a correction);
// issue adds the VAT itself, with the treatment of vatOf: a pro-forma
// follows the buyer the order named (billing.VATFor of the customer row's
// country and tax id, read in this transaction); a document that refers to
// another (the VAT invoice to the pro-forma it settles, a correction to
// the invoice it corrects) takes that one's VAT code, so that it bills
// exactly what was asked for and paid.
func (s *Store) issue(ctx context.Context, tx pgx.Tx, orderID, chargeID, kind, series string, net money.Grosze, issued time.Time, due *time.Time, refersTo *int64) (Invoice, error) {
	vat, err := vatOf(ctx, tx, orderID, refersTo)
	if err != nil {
		return Invoice{}, err
	}
	t := vat.Amounts(net)
	year := issued.Year()
	var seq int
	err = tx.QueryRow(ctx, `INSERT INTO document_counters (series, year, last) VALUES ($1, $2, 1)
		ON CONFLICT (series, year) DO UPDATE SET last = document_counters.last + 1 RETURNING last`, series, year).Scan(&seq)
	if err != nil {
		return Invoice{}, err
	}
	inv := Invoice{
		Kind:     kind,
		Number:   billing.Number(series, year, seq),
		Status:   billing.DocUnpaid,
		Net:      t.Net,
		VAT:      t.VAT,
		Gross:    t.Gross,
		Currency: "PLN",
		VATCode:  vat.Code,
		IssuedAt: issued,
		DueDate:  due,
		ChargeID: laterCharge(orderID, chargeID),
	}
	// The buyer is copied onto the document here, from the customer the
	// order named when it was placed (its own row, which nothing rewrites):
	// the document, and its PDF rendered below, name that buyer for good.
	err = tx.QueryRow(ctx, `INSERT INTO invoices (order_id, kind, number, net_grosze, vat_grosze, gross_grosze, currency, status, issued_at, due_date, refers_to, charge_id,
			buyer_name, buyer_address, buyer_postal_code, buyer_city, buyer_country, buyer_tax_id, vat_code, vat_note)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
			c.company, c.address_line1, c.postal_code, c.city, c.country, c.tax_id, $13, $14
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_id = $1
		RETURNING id, issued_at, due_date`,
		orderID, kind, inv.Number, inv.Net, inv.VAT, inv.Gross, inv.Currency, inv.Status, issued, due, refersTo, chargeID, vat.Code, vat.Note).Scan(&inv.ID, &inv.IssuedAt, &inv.DueDate)
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return inv, err
	}
	if s.KSeF && (kind == billing.KindInvoice || kind == billing.KindCorrection) {
		// Its KSeF state is born with it, pending until its workflow sends it.
		// Its PDF is not rendered here: KSeFAccept or KSeFGoOffline renders
		// it with KSeF's mark, and that one is the PDF its email carries
		// (SendKSeFEmail; the payment email attaches none). Rendered here
		// too it would be rendered twice, the first replaced unread, and in
		// the transaction that holds the series' counter. A read before
		// then (the panel, the shop's API) renders it through DocumentPDF
		// from this same row, to the bytes it would have had here.
		_, err = tx.Exec(ctx, `INSERT INTO ksef_documents (invoice_id) VALUES ($1)`, inv.ID)
		inv.ksefOrder = orderID
		return inv, err
	}
	// Rendered in the issuing transaction: a document never exists without
	// its PDF, and a retried step that finds the document finds the PDF.
	_, err = s.renderPDF(ctx, tx, inv.ID, false)
	return inv, err
}

// vatOf is the VAT treatment of a document about to be issued (see issue):
// the one of the document it refers to, or else the order's buyer's.
func vatOf(ctx context.Context, tx pgx.Tx, orderID string, refersTo *int64) (billing.VAT, error) {
	if refersTo != nil {
		var code, note string
		err := tx.QueryRow(ctx, `SELECT vat_code, vat_note FROM invoices WHERE id = $1`, *refersTo).Scan(&code, &note)
		if errors.Is(err, pgx.ErrNoRows) {
			return billing.VAT{}, fmt.Errorf("document %d: %w", *refersTo, ErrNotFound)
		}
		if err != nil {
			return billing.VAT{}, err
		}
		v, ok := billing.VATOfCode(code, note)
		if !ok {
			return v, fmt.Errorf("document %d has VAT code %q, not one officeflow issues", *refersTo, code)
		}
		return v, nil
	}
	var country, taxID string
	err := tx.QueryRow(ctx, `SELECT c.country, c.tax_id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_id = $1`,
		orderID).Scan(&country, &taxID)
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.VAT{}, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	return billing.VATFor(country, taxID), err
}

// Payment is one notification from the payment gateway.
type Payment struct {
	PaymentID string
	OrderID   string
	// ChargeID names a later purchase of the order (more licences, a
	// renewal); empty for the order's own pro-forma.
	ChargeID string
	Status   string
	Amount   money.Grosze
	Currency string
}

// Recorded is what RecordPayment did with a notification.
type Recorded struct {
	First  bool // this call stored it, or upgraded a failed one of its id to completed; false for a repeat
	Refund bool // the money is owed back: it came after the order stopped waiting for it, the order was paid already, or it did not match
	// Mismatch: a completed payment the order (or charge) waited for whose
	// amount or currency is not the pro-forma's. It is refused for the order,
	// which keeps waiting, and owed back (Refund is true as well). A repeat
	// of it says so again.
	Mismatch bool
	// Upgraded: this completed notification replaced a failed one of the
	// same payment id.
	Upgraded bool
	// Differs: a repeat that says something else than the payment recorded
	// under its id (a failed one after the money came, another amount). The
	// recorded payment stands; the saga need not hear of it.
	Differs bool
}

// ErrPaymentConflict is RecordPayment's answer to a notification whose
// payment id is already another order's (or another charge's) payment. It
// is permanent. The notification is kept in payment_conflicts, and the
// order that got it has an order_events line 'payment_conflict:<id>',
// for an operator.
var ErrPaymentConflict = errors.New("payment id belongs to another order")

// RecordPayment keeps a notification once per payment id, so that no money
// that arrives is lost: a completed payment is stored and then either taken
// (Settle, SettleCharge) or marked for refund, once. It is marked for
// refund in the same transaction when it comes for an order or charge that
// no longer waits for one (cancelled, being compensated, refunded, or paid
// already), when the order already has a payment it keeps, or when its
// amount or currency does not match the pro-forma (Mismatch: the order keeps
// waiting). A completed notification after a failed one of the same id
// upgrades the row (failed_at keeps when the failed one came) and counts as
// the payment arriving now; a failed one after a completed one changes
// nothing. A payment id that is another order's is ErrPaymentConflict. The
// order row is locked, so a payment and the order's cancellation are
// ordered: whichever comes second sees the other (see Record).
func (s *Store) RecordPayment(ctx context.Context, p Payment) (Recorded, error) {
	var r Recorded
	var conflict string
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		r, conflict = Recorded{}, ""
		var status order.Status
		err := tx.QueryRow(ctx, `SELECT status FROM orders WHERE order_id = $1 FOR UPDATE`, p.OrderID).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("order %s: %w", p.OrderID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		arrival := billing.Arrival{Of: billing.OfOrder, Status: string(status), Amount: p.Amount, Currency: p.Currency}
		if p.ChargeID != "" {
			arrival.Of = billing.OfCharge
			err := tx.QueryRow(ctx, `SELECT status FROM charges WHERE id = $1 AND order_id = $2 AND kind <> $3`, p.ChargeID, p.OrderID, ChargeOrder).Scan(&arrival.Status)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("charge %s of order %s: %w", p.ChargeID, p.OrderID, ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO payments (payment_id, order_id, status, amount_grosze, currency, charge_id)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')) ON CONFLICT (payment_id) DO NOTHING`,
			p.PaymentID, p.OrderID, p.Status, p.Amount, p.Currency, p.ChargeID)
		if err != nil {
			return err
		}
		r.First = tag.RowsAffected() == 1
		// The row of this id, locked: notifications of one id for another
		// order are not ordered by this order's lock.
		st := Payment{PaymentID: p.PaymentID}
		if err := tx.QueryRow(ctx, `SELECT order_id, coalesce(charge_id, ''), status, amount_grosze, currency, mismatch
			FROM payments WHERE payment_id = $1 FOR UPDATE`, p.PaymentID).Scan(
			&st.OrderID, &st.ChargeID, &st.Status, &st.Amount, &st.Currency, &r.Mismatch); err != nil {
			return err
		}
		if st.OrderID != p.OrderID || st.ChargeID != p.ChargeID {
			r.Mismatch = false // the other order's
			conflict = "order " + st.OrderID
			if st.ChargeID != "" {
				conflict += " (charge " + st.ChargeID + ")"
			}
			if _, err := tx.Exec(ctx, `INSERT INTO payment_conflicts (payment_id, order_id, charge_id, status, amount_grosze, currency, owner_order_id, owner_charge_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
				p.PaymentID, p.OrderID, p.ChargeID, p.Status, p.Amount, p.Currency, st.OrderID, st.ChargeID); err != nil {
				return err
			}
			return insertEvent(ctx, tx, p.OrderID, "payment_conflict:"+p.PaymentID, status,
				fmt.Sprintf("payment %s (%s, %s %s) is a payment of %s: refused, kept in payment_conflicts for an operator",
					p.PaymentID, p.Status, p.Amount, p.Currency, conflict), "gateway")
		}
		fresh := r.First && p.Status == "completed"
		switch {
		case !r.First && st.Status == "failed" && p.Status == "completed":
			// The gateway reported the attempt failed, then the money came:
			// the payment is the completed one, arriving now.
			if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'completed', amount_grosze = $2, currency = $3,
				failed_at = received_at, received_at = now() WHERE payment_id = $1`, p.PaymentID, p.Amount, p.Currency); err != nil {
				return err
			}
			if err := insertEvent(ctx, tx, p.OrderID, "payment_upgraded:"+p.PaymentID, status,
				fmt.Sprintf("payment %s completed (%s %s) after it was reported failed", p.PaymentID, p.Amount, p.Currency), "gateway"); err != nil {
				return err
			}
			st.Status, st.Amount, st.Currency = p.Status, p.Amount, p.Currency
			r.First, r.Upgraded, fresh = true, true, true
		case !r.First && (st.Status != p.Status || st.Amount != p.Amount || st.Currency != p.Currency):
			// A repeat that says something else (a failed after the money
			// came, another amount): the recorded payment stands.
			r.Differs = true
			if err := insertEvent(ctx, tx, p.OrderID, fmt.Sprintf("payment_differs:%s:%s:%s:%s", p.PaymentID, p.Status, p.Amount, p.Currency), status,
				fmt.Sprintf("notification of payment %s says %s %s %s; recorded as %s %s %s, which stands",
					p.PaymentID, p.Status, p.Amount, p.Currency, st.Status, st.Amount, st.Currency), "gateway"); err != nil {
				return err
			}
		}
		if fresh {
			// The facts are read here; billing.Decide is the policy.
			due, err := proformaOf(ctx, tx, p.OrderID, p.ChargeID)
			switch {
			case err == nil:
				arrival.Due = &billing.Due{Number: due.Number, Gross: due.Gross, Currency: due.Currency}
			case !errors.Is(err, ErrNotFound):
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payments p WHERE order_id = $1 AND status = 'completed' AND payment_id <> $2
				AND charge_id IS NOT DISTINCT FROM NULLIF($3, '')
				AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.payment_id))`, p.OrderID, p.PaymentID, p.ChargeID).Scan(&arrival.PaidBefore); err != nil {
				return err
			}
			d := billing.Decide(arrival)
			key := "late_payment:" + p.PaymentID
			if d.Verdict == billing.RefundMismatch {
				r.Mismatch, key = true, "payment_mismatch:"+p.PaymentID
				if _, err := tx.Exec(ctx, `UPDATE payments SET mismatch = true WHERE payment_id = $1`, p.PaymentID); err != nil {
					return err
				}
			}
			if d.Refund() {
				if _, err := tx.Exec(ctx, `INSERT INTO refunds (order_id, payment_id, amount_grosze, currency, reason)
					VALUES ($1, $2, $3, $4, $5) ON CONFLICT (payment_id) DO NOTHING`, p.OrderID, p.PaymentID, st.Amount, st.Currency, d.Reason); err != nil {
					return err
				}
				if err := insertEvent(ctx, tx, p.OrderID, key, status, d.Reason+": payment "+p.PaymentID+" marked for refund", "gateway"); err != nil {
					return err
				}
			}
		}
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refunds WHERE payment_id = $1)`, p.PaymentID).Scan(&r.Refund)
	})
	if err == nil && conflict != "" {
		return r, fmt.Errorf("payment %s is a payment of %s: %w", p.PaymentID, conflict, ErrPaymentConflict)
	}
	return r, err
}

// proformaOf is the pro-forma a payment of the order (chargeID "") or of
// one of its charges must match.
func proformaOf(ctx context.Context, q querier, orderID, chargeID string) (Invoice, error) {
	return documentOf(ctx, q, cmp.Or(chargeID, OrderCharge(orderID)), billing.KindProforma)
}

// refundPayments marks every completed payment of the order that is not yet
// owed back for refund.
func refundPayments(ctx context.Context, tx pgx.Tx, orderID, reason string) error {
	_, err := tx.Exec(ctx, `INSERT INTO refunds (order_id, payment_id, amount_grosze, currency, reason)
		SELECT order_id, payment_id, amount_grosze, currency, $2 FROM payments
		WHERE order_id = $1 AND status = 'completed'
		ON CONFLICT (payment_id) DO NOTHING`, orderID, reason)
	return err
}

// takePayment records that paymentID settles the VAT invoice invoiceID (it
// is taken) and marks every other completed payment of the same charge (the
// order's own included) that is not owed back yet for refund: one the saga
// never took (such as a gateway payment that came while an operator marked
// the order paid by hand) would otherwise be neither taken nor refunded.
// A payment of the order names no charge: it pays the order charge.
func takePayment(ctx context.Context, tx pgx.Tx, invoiceID int64, orderID, chargeID, paymentID string) error {
	if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'paid', payment_id = $2 WHERE id = $1`, invoiceID, paymentID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO refunds (order_id, payment_id, amount_grosze, currency, reason)
		SELECT order_id, payment_id, amount_grosze, currency, 'the order was paid by payment ' || $3 FROM payments
		WHERE order_id = $1 AND charge_id IS NOT DISTINCT FROM NULLIF($2, '') AND status = 'completed' AND payment_id <> $3
		ON CONFLICT (payment_id) DO NOTHING`, orderID, laterCharge(orderID, chargeID), paymentID)
	return err
}

// Settle records that the order's pro-forma is paid and issues the VAT
// invoice for it: SettleCharge of the order charge, which also moves the
// order on to provisioning. A second call returns the invoice the first
// one issued.
func (s *Store) Settle(ctx context.Context, orderID, paymentID string, paidOn time.Time) (Invoice, error) {
	return s.SettleCharge(ctx, OrderCharge(orderID), paymentID, paidOn)
}

// RecordRefund (kept for orders started before the compensation stack) ends a paid order whose tenant could not be made: the money
// is marked for refund to the gateway and the order is refunded.
func (s *Store) RecordRefund(ctx context.Context, orderID, reason string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if _, err := transition(ctx, tx, orderID, string(order.Compensating), order.Compensating, reason); err != nil {
			return err
		}
		if err := refundPayments(ctx, tx, orderID, reason); err != nil {
			return err
		}
		_, err := transition(ctx, tx, orderID, string(order.Refunded), order.Refunded, reason)
		return err
	})
}

// CancelOrder (kept for orders started before the compensation stack) ends an order that was never provisioned: the pro-forma is
// voided, billing access revoked, and the order cancelled, in one
// transaction.
func (s *Store) CancelOrder(ctx context.Context, orderID, reason string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if _, err := transition(ctx, tx, orderID, string(order.Compensating), order.Compensating, reason); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'void' WHERE charge_id = $1 AND kind = 'proforma' AND status = 'unpaid'`, OrderCharge(orderID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE billing_accounts SET active = false, revoked_at = now() WHERE order_id = $1 AND active`, orderID); err != nil {
			return err
		}
		_, err := transition(ctx, tx, orderID, string(order.Cancelled), order.Cancelled, reason)
		return err
	})
}
