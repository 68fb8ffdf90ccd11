package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/telemetry"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Emails the saga sends, one of each per order.
const (
	EmailBillingAccess   = string(mail.KindBillingAccess)
	EmailPaymentReceived = string(mail.KindPaymentReceived)
	EmailCredentials     = string(mail.KindCredentials)
	EmailInstallerReady  = string(mail.KindInstallerReady)
	EmailCancelled       = string(mail.KindCancelled)
	EmailRefunded        = string(mail.KindRefunded)
)

// ReminderEmail names the n-th payment reminder (from 1): a kind of its own,
// so that each is sent once.
func ReminderEmail(n int) string { return string(mail.KindPaymentReminder) + "#" + strconv.Itoa(n) }

// SendEmail sends the order's email of one kind, once: a retry after the
// message left finds it recorded. A payment reminder is skipped when the
// order no longer waits for payment: it may have been paid since the timer
// fired. The message id is derived from order and
// kind, so that the rare resend after a crash between sending and recording
// is recognisable by the receiving side.
func (a *Activities) SendEmail(ctx context.Context, orderID, kind string) error {
	return a.once(ctx, func(ctx context.Context) (*outgoing, error) { return a.orderEmail(ctx, orderID, kind) })
}

// orderEmail is SendEmail's email, nil when none is due.
func (a *Activities) orderEmail(ctx context.Context, orderID, kind string) (*outgoing, error) {
	o, sent, err := a.Store.OrderForEmail(ctx, orderID, kind)
	if err != nil || sent {
		return nil, dbError(err)
	}
	template, _, _ := strings.Cut(kind, "#")
	if template == string(mail.KindPaymentReminder) && o.Status != order.AwaitingPayment {
		activity.GetLogger(ctx).Info("reminder not needed", "OrderID", orderID, "Kind", kind, "Status", o.Status)
		return nil, nil
	}
	plan, _ := order.PlanByCode(o.Plan)
	d := mail.Data{
		Plan:     plan,
		Language: o.Language, OrderID: o.ID, Company: o.Customer.Company,
		FirstName: o.Customer.FirstName, LastName: o.Customer.LastName,
		PlanName: o.PlanName, Seats: o.Seats, BillingCycle: o.BillingCycle,
		BillingPanelURL: a.panelURL(orderID), Domain: o.Domain, Reason: o.Reason,
	}
	if inv := o.Invoice; inv != nil {
		lang := o.Language
		d.InvoiceNumber, d.Net, d.VAT, d.Gross, d.Currency = inv.Number, inv.Net.Local(lang), inv.VAT.Local(lang), inv.Gross.Local(lang), inv.Currency
		d.VATRate = billing.VATLabel(inv.VATCode)
		if inv.DueDate != nil {
			d.DueDate = inv.DueDate.Format("2006-01-02")
		}
	}
	credentials := kind == EmailCredentials
	var attachments []mail.Attachment
	switch kind {
	case EmailCredentials:
		t := o.Tenant
		if t == nil {
			return nil, temporal.NewNonRetryableApplicationError("no tenant made for "+orderID, fail.InvalidOrder, nil)
		}
		if t.PasswordSealed == nil {
			return nil, temporal.NewNonRetryableApplicationError("no temporary password kept for "+orderID, fail.InvalidOrder, nil)
		}
		pw, err := a.Box.Open(t.PasswordSealed, orderID)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), fail.InvalidOrder, nil)
		}
		d.AdminUser, d.TempPassword, d.AdminURL, d.Domain = t.AdminUser, pw, order.AdminURL, t.Domain
		d.AdminLicence, d.FreeSeats = adminLicence(o)
	case EmailPaymentReceived:
		// The VAT invoice, issued with the payment, goes with the confirmation.
		if attachments, _, err = a.document(ctx, store.OrderCharge(orderID), billing.KindInvoice); err != nil {
			return nil, err
		}
	case EmailCancelled, EmailRefunded:
		// Billing access is revoked by now: no link to a panel that refuses.
		d.BillingPanelURL = ""
		// A refund's correction goes with it; an unpaid order has none (its
		// pro-forma is void).
		if attachments, d.CreditNote, err = a.document(ctx, store.OrderCharge(orderID), billing.KindCorrection); err != nil {
			return nil, err
		}
	case EmailInstallerReady:
		// What the email says the plan gives comes with d.Plan.
		d.InstallerURL = plan.InstallerURL()
	}
	return &outgoing{orderID: orderID, key: kind, template: mail.Kind(template), to: o.Customer.Email, data: d, attachments: attachments,
		record: func(ctx context.Context, msgID string) (bool, error) {
			return a.Store.RecordEmail(ctx, orderID, kind, o.Customer.Email, msgID, credentials)
		}}, nil
}

// adminLicence is what the credentials email says of the admin's licence:
// "held" once AssignAdminLicence recorded it (with the seats left for other
// users; none are taken yet at provisioning), "none" when the order asked
// for none, "" for a run that gave none without being asked (started before
// the admin got one).
func adminLicence(o store.Order) (string, int) {
	switch {
	case o.AdminLicensed:
		return "held", max(o.Seats-1, 0)
	case !o.AdminLicence:
		return "none", o.Seats
	}
	return "", o.Seats
}

// outgoing is an email that is due: what once claims, renders and sends.
type outgoing struct {
	orderID, key string // the key is unique per order: the email goes out once per key
	template     mail.Kind
	to           string
	data         mail.Data
	attachments  []mail.Attachment
	// record claims the key (store.RecordEmail or RecordUserEmail) and
	// says whether this call took it.
	record func(ctx context.Context, msgID string) (bool, error)
}

// once sends one email of an order's, once, in one database transaction
// (store.InTx): compose reads what the email needs, through its
// context, and returns it, or nil when none is due (sent already, or no
// longer needed); its key is then claimed and the message sent, and the
// claim commits with the send. A second attempt running beside this one
// waits for the claim and finds it taken, so the message goes out once; a
// failed send leaves no claim behind. Should the commit fail after the
// message left, the record is written again, through a database outage
// (persist).
func (a *Activities) once(ctx context.Context, compose func(ctx context.Context) (*outgoing, error)) error {
	var sent *outgoing
	msgID := ""
	err := a.Store.InTx(ctx, func(ctx context.Context) error {
		m, err := compose(ctx)
		if err != nil || m == nil {
			return err
		}
		msgID = messageID(m.orderID, m.key)
		if claimed, err := m.record(ctx, msgID); err != nil || !claimed {
			return dbError(err)
		}
		if err := a.deliver(ctx, m, msgID); err != nil {
			return err
		}
		sent = m
		return nil
	})
	if sent != nil && errors.Is(err, store.ErrNotCommitted) {
		return persist(ctx, activity.GetInfo(ctx).Deadline, func(ctx context.Context) error {
			_, err := sent.record(ctx, msgID)
			return err
		})
	}
	return err
}

// deliver renders and sends m.
func (a *Activities) deliver(ctx context.Context, m *outgoing, msgID string) error {
	subject, text, html, err := mail.Render(m.template, m.data)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), fail.InvalidOrder, nil)
	}
	err = a.Mail.Send(ctx, mail.Message{To: m.to, Subject: subject, Text: text, HTML: html, MessageID: msgID, Attachments: m.attachments})
	result := "sent"
	if err != nil {
		result = "failed"
	}
	activity.GetMetricsHandler(ctx).WithTags(map[string]string{"kind": string(m.template), "result": result}).Counter(telemetry.MetricEmails).Inc(1)
	if err != nil {
		if !mail.IsTemporary(err) {
			return temporal.NewNonRetryableApplicationError(err.Error(), fail.EmailRejected, nil)
		}
		return err
	}
	activity.GetLogger(ctx).Info("email sent", "OrderID", m.orderID, "Kind", m.key)
	return nil
}

// persist keeps trying to record what has already happened outside: once a
// message has left, a failed record would make the activity's retry send it
// again. It goes on through the activity's cancellation (the message is out
// either way) but stops a second before the activity's deadline, after
// which the server may give the retry to another worker.
func persist(ctx context.Context, deadline time.Time, record func(context.Context) error) error {
	ctx = context.WithoutCancel(ctx)
	until := deadline.Add(-time.Second)
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithDeadline(ctx, until)
		err := record(rctx)
		cancel()
		if err == nil || errors.Is(err, store.ErrNotFound) || time.Now().Add(wait).After(until) {
			return dbError(err)
		}
		if activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("recording a sent email failed, trying again", "Attempt", attempt, "Error", err)
		}
		t := time.NewTimer(wait)
		<-t.C
		wait = min(2*wait, 2*time.Second)
	}
}

// panelURL is the order's billing panel sign-in link. Its token is derived
// from the order, so a retried email carries the same link.
func (a *Activities) panelURL(orderID string) string {
	return a.loginURL(a.Box.Token(secret.PurposeBilling, orderID))
}

// loginURL is the panel's sign-in address for a token.
func (a *Activities) loginURL(token string) string {
	u, err := url.Parse(a.BillingPanelURL)
	if err != nil {
		return a.BillingPanelURL
	}
	u = u.JoinPath("login")
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String()
}

func messageID(orderID, kind string) string {
	h := sha256.Sum256([]byte(orderID))
	if strings.ContainsFunc(kind, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_#-.", r)
	}) {
		// Keys naming a user, a domain or a charge hold "@" or ":", which a
		// Message-ID's left part may not: such keys go in hashed.
		k := sha256.Sum256([]byte(kind))
		prefix, _, _ := strings.Cut(kind, ":")
		kind = prefix + "." + hex.EncodeToString(k[:8])
	}
	return hex.EncodeToString(h[:10]) + "." + kind + "@officeflow"
}

// document is a charge's document of kind (the order's own are its order
// charge's) as a PDF attachment named after its number, with that number;
// none if the charge has no such document, or if KSeF issues it. The one
// way an email carries a document.
func (a *Activities) document(ctx context.Context, chargeID, kind string) ([]mail.Attachment, string, error) {
	doc, inKSeF, pdf, err := a.Store.Attachment(ctx, chargeID, kind)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", dbError(err)
	}
	if inKSeF {
		if a.KSeF != nil {
			// Issued through KSeF: its own email (SendKSeFEmail) carries
			// it, with the KSeF number or the offline QR codes its PDF only
			// has then; the customer does not get it twice.
			return nil, doc.Number, nil
		}
		if _, pdf, err = a.Store.DocumentPDF(ctx, doc.ID); err != nil {
			return nil, "", dbError(err)
		}
	}
	name := strings.ReplaceAll(doc.Number, "/", "_") + ".pdf"
	return []mail.Attachment{{Name: name, ContentType: "application/pdf", Data: pdf}}, doc.Number, nil
}
