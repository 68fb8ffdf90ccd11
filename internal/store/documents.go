package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// documentColumns are what scanDocument scans, in its order.
const documentColumns = `id, kind, number, status, net_grosze, vat_grosze, gross_grosze, currency, issued_at, due_date, order_id, charge_id, vat_code`

// withMore scans a row of documentColumns followed by more columns into
// more, so that a query reading a document and more needs no copy of
// scanDocument.
type withMore struct {
	pgx.Row
	more []any
}

func (r withMore) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.more...)...) }

// scanDocument reads a document's row: id, kind, number, status, net_grosze,
// vat_grosze, gross_grosze, currency, issued_at, due_date, order_id,
// charge_id, vat_code. A document of the order charge says ChargeID "": it
// is the order's own.
func scanDocument(row pgx.Row) (Invoice, error) {
	var inv Invoice
	var orderID string
	err := row.Scan(&inv.ID, &inv.Kind, &inv.Number, &inv.Status, &inv.Net, &inv.VAT, &inv.Gross, &inv.Currency, &inv.IssuedAt, &inv.DueDate, &orderID, &inv.ChargeID, &inv.VATCode)
	inv.ChargeID = laterCharge(orderID, inv.ChargeID)
	return inv, err
}

// documentOf is the one read of a document: the charge's document of kind
// (the order's own are its order charge's, see OrderCharge). A charge has at
// most one of each kind; none is ErrNotFound, unwrapped.
func documentOf(ctx context.Context, q querier, chargeID, kind string) (Invoice, error) {
	inv, err := scanDocument(q.QueryRow(ctx, `SELECT `+documentColumns+` FROM invoices WHERE charge_id = $1 AND kind = $2`, chargeID, kind))
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, ErrNotFound
	}
	return inv, err
}

// Attachment is what an email of a charge's document of kind carries, in
// one round trip: the document, whether it went to KSeF (whose own email
// carries it, with the KSeF number its PDF only has then), and its PDF when
// it did not. A PDF never kept is rendered now, once. No such document is
// ErrNotFound, unwrapped.
func (s *Store) Attachment(ctx context.Context, chargeID, kind string) (inv Invoice, inKSeF bool, pdf []byte, err error) {
	inv, err = scanDocument(withMore{s.db(ctx).QueryRow(ctx, `SELECT `+documentColumns+`,
			EXISTS (SELECT 1 FROM ksef_documents k WHERE k.invoice_id = i.id),
			CASE WHEN NOT EXISTS (SELECT 1 FROM ksef_documents k WHERE k.invoice_id = i.id) THEN pdf END
		FROM invoices i WHERE charge_id = $1 AND kind = $2`, chargeID, kind), []any{&inKSeF, &pdf}})
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, false, nil, ErrNotFound
	}
	if err != nil || inKSeF || pdf != nil {
		return inv, inKSeF, pdf, err
	}
	pdf, err = s.renderPDF(ctx, s.db(ctx), inv.ID, false)
	return inv, false, pdf, err
}
