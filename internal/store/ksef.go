package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// KSeF states of a document (ksef_documents.status), as the API shows them.
const (
	KSeFPending  = "pending"
	KSeFOffline  = "offline"
	KSeFAccepted = "accepted"
	KSeFRejected = "rejected"
)

// KSeFDoc is a document's KSeF state.
type KSeFDoc struct {
	ID         int64 // the document's (invoices.id)
	OrderID    string
	Shop       string
	Kind       string
	Number     string // the document's own number
	Status     string
	KSeFNumber string
	Offline    bool
	Deadline   *time.Time // offline: the legal deadline to send it
	SessionRef string
	InvoiceRef string
	Reason     string
	HasXML     bool
	HasUPO     bool
	// RefersTo is the invoice a correction corrects (0 for none), with its
	// KSeF state ("" when it has none: issued before KSeF).
	RefersTo       int64
	RefersStatus   string
	RefersKSeFNumb string
	AcceptedAt     *time.Time
	// XML is the document's FA(3) XML as kept, read by KSeFDocumentToSend
	// only; nil from the other reads.
	XML []byte
}

const ksefColumns = `k.invoice_id, o.order_id, o.shop, i.kind, i.number, k.status, coalesce(k.ksef_number, ''), k.offline, k.deadline,
	coalesce(k.session_ref, ''), coalesce(k.invoice_ref, ''), k.reason, k.xml IS NOT NULL, k.upo IS NOT NULL,
	coalesce(i.refers_to, 0), coalesce(rk.status, ''), coalesce(rk.ksef_number, ''), k.accepted_at
	FROM ksef_documents k JOIN invoices i ON i.id = k.invoice_id JOIN orders o ON o.order_id = i.order_id
	LEFT JOIN ksef_documents rk ON rk.invoice_id = i.refers_to`

// scanKSeF scans ksefColumns, after the columns before them into first.
func scanKSeF(row pgx.Row, first ...any) (KSeFDoc, error) {
	var k KSeFDoc
	err := row.Scan(append(first, &k.ID, &k.OrderID, &k.Shop, &k.Kind, &k.Number, &k.Status, &k.KSeFNumber, &k.Offline, &k.Deadline,
		&k.SessionRef, &k.InvoiceRef, &k.Reason, &k.HasXML, &k.HasUPO, &k.RefersTo, &k.RefersStatus, &k.RefersKSeFNumb, &k.AcceptedAt)...)
	return k, err
}

// KSeFDocument is one document's KSeF state; ErrNotFound when it has none
// (a pro-forma, or a document issued with KSeF off).
func (s *Store) KSeFDocument(ctx context.Context, id int64) (KSeFDoc, error) {
	k, err := scanKSeF(s.db(ctx).QueryRow(ctx, `SELECT `+ksefColumns+` WHERE k.invoice_id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("KSeF document %d: %w", id, ErrNotFound)
	}
	return k, err
}

// KSeFDocumentToSend is KSeFDocument with the XML kept for it, in one
// round trip: what sending it needs.
func (s *Store) KSeFDocumentToSend(ctx context.Context, id int64) (KSeFDoc, error) {
	var x []byte
	k, err := scanKSeF(s.db(ctx).QueryRow(ctx, `SELECT k.xml, `+ksefColumns+` WHERE k.invoice_id = $1`, id), &x)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("KSeF document %d: %w", id, ErrNotFound)
	}
	k.XML = x
	return k, err
}

// KSeFDocumentWithSource is KSeFDocument with the document's Source, in
// one round trip: what building its XML needs. err is KSeFDocument's;
// srcErr is Source's own (an unknown VAT code), for the caller to return
// only where it needs the Source.
func (s *Store) KSeFDocumentWithSource(ctx context.Context, id int64) (k KSeFDoc, src Source, srcErr, err error) {
	return s.ksefWithSource(ctx, id, s.db(ctx).QueryRow(ctx, `SELECT `+sourceColumns+`, `+ksefColumns+sourceJoins+`
		WHERE k.invoice_id = $1`, id))
}

// KSeFEmail is what a document's e-invoice email needs.
type KSeFEmail struct {
	Doc KSeFDoc
	// Order holds what the email says only: ID, Language, PlanName, Seats,
	// BillingCycle, and the Customer's Company, FirstName, LastName, Email.
	Order Order
	// Sent: the email went already; Source and PDF may then be unset.
	Sent   bool
	Source Source
	PDF    []byte
}

// KSeFDocumentForEmail is what document id's e-invoice email, sent under
// key, needs, in one round trip instead of KSeFDocument, OrderForEmail,
// Source and DocumentPDF: with their errors in that order (ErrNotFound for
// a document without KSeF state), none of the later ones once the email
// was sent. A PDF never kept is rendered now, once, as DocumentPDF does.
func (s *Store) KSeFDocumentForEmail(ctx context.Context, id int64, key string) (KSeFEmail, error) {
	var m KSeFEmail
	o, c := &m.Order, &m.Order.Customer
	row := s.db(ctx).QueryRow(ctx, `SELECT `+sourceColumns+`, i.pdf, o.language, p.name, o.seats, o.billing_cycle,
			c.company, c.first_name, c.last_name, c.email, EXISTS (SELECT 1 FROM sent_emails e WHERE e.order_id = o.order_id AND e.key = $2),
			`+ksefColumns+sourceJoins+` JOIN customers c ON c.id = o.customer_id
		WHERE k.invoice_id = $1`, id, key)
	var srcErr, err error
	m.Doc, m.Source, srcErr, err = s.ksefWithSource(ctx, id, row,
		&m.PDF, &o.Language, &o.PlanName, &o.Seats, &o.BillingCycle, &c.Company, &c.FirstName, &c.LastName, &c.Email, &m.Sent)
	o.ID = m.Doc.OrderID
	switch {
	case err != nil || m.Sent:
		return m, err
	case srcErr != nil:
		return m, srcErr
	case m.PDF == nil:
		m.PDF, err = s.renderPDF(ctx, s.db(ctx), id, false)
	}
	return m, err
}

// ksefWithSource makes a document's KSeF state and its Source from row: a
// statement's of sourceColumns, more columns (scanned into more), then
// ksefColumns (whose FROM, with sourceJoins, holds source's tables).
// source makes the Source from it as from its own query. No row is
// KSeFDocument's ErrNotFound: the other joins are foreign keys'.
func (s *Store) ksefWithSource(ctx context.Context, id int64, row pgx.Row, more ...any) (k KSeFDoc, src Source, srcErr, err error) {
	src, srcErr = s.source(ctx, replay(func(dest ...any) error {
		k, err = scanKSeF(row, slices.Concat(dest, more)...)
		return err
	}), id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return k, src, nil, fmt.Errorf("KSeF document %d: %w", id, ErrNotFound)
	case err != nil:
		return k, src, nil, err
	}
	return k, src, srcErr, nil
}

// replay is a querier whose every query's row is one already asked for
// (ksefWithSource's), its Scan the function itself.
type replay func(dest ...any) error

func (r replay) QueryRow(context.Context, string, ...any) pgx.Row { return r }
func (r replay) Scan(dest ...any) error                           { return r(dest...) }

// KSeFDocuments are the KSeF states of an order's documents, by document id.
func (s *Store) KSeFDocuments(ctx context.Context, orderID string) (map[int64]KSeFDoc, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT `+ksefColumns+` WHERE i.order_id = $1`, orderID)
	if err != nil {
		return nil, err
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KSeFDoc, error) { return scanKSeF(r) })
	m := make(map[int64]KSeFDoc, len(docs))
	for _, d := range docs {
		m[d.ID] = d
	}
	return m, err
}

// KSeFToSend are the documents of an order whose KSeF workflow may still
// have to start: not accepted yet.
func (s *Store) KSeFToSend(ctx context.Context, orderID string) ([]int64, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT k.invoice_id FROM ksef_documents k JOIN invoices i ON i.id = k.invoice_id
		WHERE i.order_id = $1 AND k.status <> 'accepted' ORDER BY k.invoice_id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// KSeFXML is the FA(3) XML of a document as sent (or as it will be sent),
// and whose document it is; ErrNotFound when it has none yet.
func (s *Store) KSeFXML(ctx context.Context, id int64) (DocumentOf, []byte, error) {
	return s.ksefBlob(ctx, id, false)
}

// KSeFUPO is KSeF's receipt (UPO) of an accepted document; ErrNotFound
// before KSeF confirmed it.
func (s *Store) KSeFUPO(ctx context.Context, id int64) (DocumentOf, []byte, error) {
	return s.ksefBlob(ctx, id, true)
}

func (s *Store) ksefBlob(ctx context.Context, id int64, upo bool) (of DocumentOf, b []byte, err error) {
	err = s.db(ctx).QueryRow(ctx, `SELECT o.shop, o.order_id, i.number, CASE WHEN $2 THEN k.upo ELSE k.xml END FROM ksef_documents k
		JOIN invoices i ON i.id = k.invoice_id JOIN orders o ON o.order_id = i.order_id WHERE k.invoice_id = $1`, id, upo).
		Scan(&of.Shop, &of.OrderID, &of.Number, &b)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && b == nil) {
		return of, nil, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	return of, b, err
}

// SetKSeFXML keeps the XML to send with its hash and QR links, unless the
// document already has XML that was sent: then that is kept, byte for
// byte, and returned. A rejected document's XML is replaced (it is built
// again after the operator's fix) and its sending forgotten.
func (s *Store) SetKSeFXML(ctx context.Context, id int64, xml []byte, hash, verifyURL string) ([]byte, error) {
	var kept []byte
	err := s.db(ctx).QueryRow(ctx, `UPDATE ksef_documents SET
			xml = CASE WHEN xml IS NULL OR status = 'rejected' THEN $2 ELSE xml END,
			xml_hash = CASE WHEN xml IS NULL OR status = 'rejected' THEN $3 ELSE xml_hash END,
			verify_url = CASE WHEN xml IS NULL OR status = 'rejected' THEN $4 ELSE verify_url END,
			session_ref = CASE WHEN status = 'rejected' THEN NULL ELSE session_ref END,
			invoice_ref = CASE WHEN status = 'rejected' THEN NULL ELSE invoice_ref END,
			status = CASE WHEN status = 'rejected' THEN CASE WHEN offline THEN 'offline' ELSE 'pending' END ELSE status END,
			reason = CASE WHEN status = 'rejected' THEN '' ELSE reason END
		WHERE invoice_id = $1 RETURNING xml`, id, xml, hash, verifyURL).Scan(&kept)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("KSeF document %d: %w", id, ErrNotFound)
	}
	return kept, err
}

// KSeFSending records the references KSeF gave the sending of a document,
// before its status is polled.
func (s *Store) KSeFSending(ctx context.Context, id int64, sessionRef, invoiceRef string) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE ksef_documents SET session_ref = $2, invoice_ref = $3, sends = sends + 1
		WHERE invoice_id = $1 AND status <> 'accepted'`, id, sessionRef, invoiceRef)
	return err
}

// KSeFForgetSending clears a sending KSeF refused or lost (its session
// expired without a status), so that the document is sent afresh.
func (s *Store) KSeFForgetSending(ctx context.Context, id int64) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE ksef_documents SET session_ref = NULL, invoice_ref = NULL
		WHERE invoice_id = $1 AND status <> 'accepted'`, id)
	return err
}

// KSeFGoOffline marks a document issued in offline mode, with the deadline
// to send it and its KOD II link, and renders its PDF again with the
// offline QR codes. Once only: a later call finds it offline and keeps it.
func (s *Store) KSeFGoOffline(ctx context.Context, id int64, deadline time.Time, certificateURL string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE ksef_documents SET status = 'offline', offline = true, deadline = $2, certificate_url = $3
			WHERE invoice_id = $1 AND status = 'pending' AND NOT offline`, id, deadline, certificateURL)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = s.renderPDF(ctx, tx, id, true)
		return err
	})
}

// KSeFAccept records KSeF's number and receipt of a document and renders its
// PDF again with the number and KOD I. Accepting an accepted document again
// changes nothing.
func (s *Store) KSeFAccept(ctx context.Context, id int64, number string, upo []byte, at time.Time) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE ksef_documents SET status = 'accepted', ksef_number = $2, upo = $3, accepted_at = $4, reason = ''
			WHERE invoice_id = $1 AND status <> 'accepted'`, id, number, upo, at)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = s.renderPDF(ctx, tx, id, true)
		return err
	})
}

// KSeFReject records why KSeF refused a document, for an operator.
func (s *Store) KSeFReject(ctx context.Context, id int64, reason string) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE ksef_documents SET status = 'rejected', reason = $2
		WHERE invoice_id = $1 AND status <> 'accepted'`, id, reason)
	return err
}

// KSeFNote records why a document waits (KSeF unreachable, the offline
// deadline near) without changing its state.
func (s *Store) KSeFNote(ctx context.Context, id int64, reason string) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE ksef_documents SET reason = $2 WHERE invoice_id = $1 AND status <> 'accepted'`, id, reason)
	return err
}
