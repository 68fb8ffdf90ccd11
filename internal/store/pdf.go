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

// Source is what a document's PDF and its FA(3) XML are both made from, so
// that the two agree: the document as printed, its VAT treatment and, for
// a correction, the invoice it corrects.
type Source struct {
	Doc document.Document
	VAT billing.VAT
	// OrderID is the order the document bills.
	OrderID string
	// RefersIssued and RefersKSeF are the corrected invoice's issue date and
	// KSeF number ("" if it has none) of a correction.
	RefersIssued time.Time
	RefersKSeF   string
}

// sourceColumns are what source scans, in its order; besides invoices i
// and orders o they need sourceJoins, rk (the KSeF state of r) and k (of
// i). The KSeF reads that take a document's Source with them build on both
// (ksefWithSource).
const (
	sourceColumns = `i.kind, i.number, i.issued_at, i.due_date, i.net_grosze, i.vat_grosze, i.gross_grosze, i.currency,
	o.seats, o.billing_cycle, p.name, p.price_net_grosze, o.placed_at,
	i.buyer_name, i.buyer_address, i.buyer_postal_code, i.buyer_city, i.buyer_country, i.buyer_tax_id,
	r.number, r.net_grosze, r.vat_grosze, r.gross_grosze, r.issued_at, rk.ksef_number,
	ch.kind, ch.seats, ch.period_start, ch.period_end,
	i.vat_code, i.vat_note, i.order_id, k.status, k.ksef_number, k.verify_url, k.certificate_url`
	sourceJoins = ` JOIN plans p ON p.code = o.plan LEFT JOIN invoices r ON r.id = i.refers_to
	LEFT JOIN charges ch ON ch.id = i.charge_id AND ch.kind <> 'order'`
)

// source reads a document as the database holds it, in q's transaction.
// The buyer is the one copied onto the document row when it was issued,
// never the customer row. Doc.KSeF is set once KSeF accepted the document
// or it was issued offline.
func (s *Store) source(ctx context.Context, q querier, id int64) (Source, error) {
	var src Source
	d := &src.Doc
	var b = &d.Buyer
	var seats int
	var cycle, planName string
	var price money.Grosze
	var due *time.Time
	var refNumber *string
	var refNet, refVAT, refGross *money.Grosze
	var refIssued *time.Time
	var refKSeF *string
	var chKind *string
	var chSeats *int
	var chStart, chEnd *time.Time
	var vatCode string
	var kStatus, kNumber, kVerify, kCert *string
	err := q.QueryRow(ctx, `SELECT `+sourceColumns+` FROM invoices i JOIN orders o ON o.order_id = i.order_id`+sourceJoins+`
		LEFT JOIN ksef_documents rk ON rk.invoice_id = r.id
		LEFT JOIN ksef_documents k ON k.invoice_id = i.id
		WHERE i.id = $1`, id).Scan(
		&d.Kind, &d.Number, &d.Issued, &due, &d.Totals.Net, &d.Totals.VAT, &d.Totals.Gross, &d.Currency,
		&seats, &cycle, &planName, &price, &d.SaleDate,
		&b.Name, &b.Address, &b.PostalCode, &b.City, &b.Country, &b.NIP,
		&refNumber, &refNet, &refVAT, &refGross, &refIssued, &refKSeF,
		&chKind, &chSeats, &chStart, &chEnd,
		&vatCode, &d.VATNote, &src.OrderID, &kStatus, &kNumber, &kVerify, &kCert)
	if errors.Is(err, pgx.ErrNoRows) {
		return src, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return src, err
	}
	var ok bool
	if src.VAT, ok = billing.VATOfCode(vatCode, d.VATNote); !ok {
		return src, fmt.Errorf("document %d has VAT code %q, not one officeflow issues", id, vatCode)
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
		src.RefersIssued = *refIssued
		if refKSeF != nil {
			src.RefersKSeF = *refKSeF
		}
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
	if kStatus != nil && kVerify != nil && (*kStatus == KSeFAccepted || *kStatus == KSeFOffline) {
		m := &document.KSeF{VerifyURL: *kVerify}
		if kNumber != nil && *kStatus == KSeFAccepted {
			m.Number = *kNumber
		}
		if kCert != nil && m.Number == "" {
			m.CertificateURL = *kCert
		}
		d.KSeF = m
	}
	return src, nil
}

// Source is a document's Source (see source).
func (s *Store) Source(ctx context.Context, id int64) (Source, error) {
	return s.source(ctx, s.db(ctx), id)
}

// renderPDF renders a document from what the database holds in q's
// transaction and stores it with the row: once when it is issued (a
// document for KSeF on its first read instead, see issue), and again when
// KSeF's mark is added (again is true).
func (s *Store) renderPDF(ctx context.Context, q execQuerier, id int64, again bool) ([]byte, error) {
	src, err := s.source(ctx, q, id)
	if err != nil {
		return nil, err
	}
	pdf, err := document.Render(src.Doc)
	if err != nil {
		return nil, err
	}
	_, err = q.Exec(ctx, `UPDATE invoices SET pdf = $2 WHERE id = $1 AND (pdf IS NULL OR $3)`, id, pdf, again)
	return pdf, err
}

// DocumentOf names whose a document is: the shop and order it belongs to,
// and its number.
type DocumentOf struct {
	Shop, OrderID, Number string
}

// DocumentPDF is a document's PDF and whose it is; the caller checks that
// it is the asker's. A document issued before PDFs were kept, or one for
// KSeF read before KSeF marked it, is rendered now, once.
func (s *Store) DocumentPDF(ctx context.Context, id int64) (of DocumentOf, pdf []byte, err error) {
	err = s.db(ctx).QueryRow(ctx, `SELECT o.shop, o.order_id, i.number, i.pdf FROM invoices i JOIN orders o ON o.order_id = i.order_id WHERE i.id = $1`, id).
		Scan(&of.Shop, &of.OrderID, &of.Number, &pdf)
	if errors.Is(err, pgx.ErrNoRows) {
		return of, nil, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	if err != nil || pdf != nil {
		return of, pdf, err
	}
	pdf, err = s.renderPDF(ctx, s.db(ctx), id, false)
	return of, pdf, err
}
