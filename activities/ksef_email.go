package activities

import (
	"context"
	"strconv"
	"strings"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/store"
)

// SendKSeFEmail sends the customer a document issued through KSeF with the
// PDF as it now stands: with its KSeF number and KOD I once accepted, or
// with the offline QR codes. Once per document, whichever it is then: the
// customer is not sent the same invoice twice.
//
// All it reads is one round trip (KSeFDocumentForEmail), in the email's
// one transaction (once).
func (a *Activities) SendKSeFEmail(ctx context.Context, id int64) error {
	return a.once(ctx, func(ctx context.Context) (*outgoing, error) { return a.eInvoiceEmail(ctx, id) })
}

// eInvoiceEmail is SendKSeFEmail's email, nil when none is due.
func (a *Activities) eInvoiceEmail(ctx context.Context, id int64) (*outgoing, error) {
	if err := a.ksefOn(); err != nil {
		return nil, err
	}
	key := EInvoiceEmail(id)
	m, err := a.Store.KSeFDocumentForEmail(ctx, id, key)
	if err != nil || m.Sent {
		return nil, dbError(err)
	}
	k, o, src, pdf := m.Doc, m.Order, m.Source, m.PDF
	lang := o.Language
	d := mail.Data{
		Language: lang, OrderID: o.ID, Company: o.Customer.Company, FirstName: o.Customer.FirstName, LastName: o.Customer.LastName,
		PlanName: o.PlanName, Seats: o.Seats, BillingCycle: o.BillingCycle, BillingPanelURL: a.panelURL(k.OrderID),
		InvoiceNumber: k.Number, Net: src.Doc.Totals.Net.Local(lang), VAT: src.Doc.Totals.VAT.Local(lang),
		Gross: src.Doc.Totals.Gross.Local(lang), Currency: src.Doc.Currency, VATRate: billing.VATLabel(src.VAT.Code),
		KSeFNumber: k.KSeFNumber, Correction: k.Kind == billing.KindCorrection,
	}
	if k.Status != store.KSeFAccepted {
		d.KSeFNumber = ""
	}
	att := []mail.Attachment{{Name: strings.ReplaceAll(k.Number, "/", "_") + ".pdf", ContentType: "application/pdf", Data: pdf}}
	return &outgoing{orderID: k.OrderID, key: key, template: mail.KindEInvoice, to: o.Customer.Email, data: d, attachments: att,
		record: func(ctx context.Context, msgID string) (bool, error) {
			return a.Store.RecordEmail(ctx, k.OrderID, key, o.Customer.Email, msgID, false)
		}}, nil
}

// EInvoiceEmail is the key of document id's e-invoice email: one per
// document.
func EInvoiceEmail(id int64) string {
	return string(mail.KindEInvoice) + "#" + strconv.FormatInt(id, 10)
}
