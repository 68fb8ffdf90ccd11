package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// DefaultSeller is printed on documents when the configuration names no
// seller (the -dev mode).
var DefaultSeller = document.Party{
	Name: "Officeflow sp. z o.o.", Address: "ul. Marszałkowska 1", PostalCode: "00-001", City: "Warszawa",
	Country: "PL", NIP: "5260250995", BankAccount: "PL61 1090 1014 0000 0712 1981 2874",
}

func (s *Store) seller() document.Party {
	if s.Seller.Name == "" {
		return DefaultSeller
	}
	return s.Seller
}

type execQuerier interface {
	querier
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// renderPDF renders a document just issued, from what the database holds in
// the issuing transaction, and stores it with the row. The buyer is the one
// copied onto the document row when it was issued, never the customer row.
func (s *Store) renderPDF(ctx context.Context, q execQuerier, id int64) ([]byte, error) {
	var d document.Document
	var b = &d.Buyer
	var seats int
	var cycle, planName string
	var price money.Grosze
	var due *time.Time
	var refNumber *string
	var refNet, refVAT, refGross *money.Grosze
	var chKind *string
	var chSeats *int
	var chStart, chEnd *time.Time
	var vatCode string
	err := q.QueryRow(ctx, `
		SELECT i.kind, i.number, i.issued_at, i.due_date, i.net_grosze, i.vat_grosze, i.gross_grosze, i.currency,
			o.seats, o.billing_cycle, p.name, p.price_net_grosze, o.placed_at,
			i.buyer_name, i.buyer_address, i.buyer_postal_code, i.buyer_city, i.buyer_country, i.buyer_tax_id,
			r.number, r.net_grosze, r.vat_grosze, r.gross_grosze, ch.kind, ch.seats, ch.period_start, ch.period_end,
			i.vat_code, i.vat_note
		FROM invoices i JOIN orders o ON o.order_id = i.order_id
		JOIN plans p ON p.code = o.plan LEFT JOIN invoices r ON r.id = i.refers_to LEFT JOIN charges ch ON ch.id = i.charge_id AND ch.kind <> 'order'
		WHERE i.id = $1`, id).Scan(
		&d.Kind, &d.Number, &d.Issued, &due, &d.Totals.Net, &d.Totals.VAT, &d.Totals.Gross, &d.Currency,
		&seats, &cycle, &planName, &price, &d.SaleDate,
		&b.Name, &b.Address, &b.PostalCode, &b.City, &b.Country, &b.NIP,
		&refNumber, &refNet, &refVAT, &refGross, &chKind, &chSeats, &chStart, &chEnd,
		&vatCode, &d.VATNote)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	d.Seller = s.seller()
	months := order.Months(cycle)
	d.Lines = []document.Line{{
		Name: planName, Seats: seats, Period: strconv.Itoa(months) + " mies.", UnitNet: price * money.Grosze(months),
		Net: d.Totals.Net, VAT: d.Totals.VAT, Gross: d.Totals.Gross, Rate: billing.VATLabel(vatCode),
	}}
	if chKind != nil {
		// A later charge bills its own seats for its own dates: added licences
		// from the day of purchase, or the renewed period.
		l := &d.Lines[0]
		l.Seats = max(*chSeats, 1)
		l.Period = chStart.Format("2006-01-02") + " – " + chEnd.AddDate(0, 0, -1).Format("2006-01-02")
		l.UnitNet = money.Grosze((int64(l.Net) + int64(l.Seats)/2) / int64(l.Seats))
		if l.UnitNet < 0 {
			l.UnitNet = -l.UnitNet
		}
		d.SaleDate = *chStart
	}
	d.PaymentMethod = "przelew lub płatność online (bramka płatności)"
	if refNumber != nil {
		d.Refers = *refNumber
	}
	switch d.Kind {
	case document.Proforma:
		d.Due = due
	case document.Invoice:
		d.PaidOn, d.SaleDate = &d.Issued, d.Issued
	case document.Correction:
		if refNet != nil {
			d.Before = &document.Totals{Net: *refNet, VAT: *refVAT, Gross: *refGross}
			d.After = &document.Totals{Net: *refNet + d.Totals.Net, VAT: *refVAT + d.Totals.VAT, Gross: *refGross + d.Totals.Gross}
		}
		d.Reason = "anulowanie zamówienia"
	}
	pdf, err := document.Render(d)
	if err != nil {
		return nil, err
	}
	_, err = q.Exec(ctx, `UPDATE invoices SET pdf = $2 WHERE id = $1 AND pdf IS NULL`, id, pdf)
	return pdf, err
}

// DocumentOf names whose a document is: the shop and order it belongs to,
// and its number.
type DocumentOf struct {
	Shop, OrderID, Number string
}

// DocumentPDF is a document's PDF and whose it is; the caller checks that
// it is the asker's. A document issued before PDFs were kept is rendered
// now, once.
func (s *Store) DocumentPDF(ctx context.Context, id int64) (of DocumentOf, pdf []byte, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT o.shop, o.order_id, i.number, i.pdf FROM invoices i JOIN orders o ON o.order_id = i.order_id WHERE i.id = $1`, id).
		Scan(&of.Shop, &of.OrderID, &of.Number, &pdf)
	if errors.Is(err, pgx.ErrNoRows) {
		return of, nil, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	if err != nil || pdf != nil {
		return of, pdf, err
	}
	pdf, err = s.renderPDF(ctx, s.Pool, id)
	return of, pdf, err
}
