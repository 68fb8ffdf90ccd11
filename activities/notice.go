package activities

import (
	"context"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Emails of the post-purchase workflows; each is sent once per Notice.Key.
const (
	EmailPaymentReminder         = string(mail.KindPaymentReminder)
	EmailLicencesInvoice         = string(mail.KindLicencesInvoice)
	EmailLicencesAdded           = string(mail.KindLicencesAdded)
	EmailLicencesReduced         = string(mail.KindLicencesReduced)
	EmailLicencesCancelled       = string(mail.KindLicencesCancelled)
	EmailUserCreated             = string(mail.KindUserCreated)
	EmailDomainDNS               = string(mail.KindDomainDNS)
	EmailDomainReminder          = string(mail.KindDomainReminder)
	EmailDomainVerified          = string(mail.KindDomainVerified)
	EmailDomainFailed            = string(mail.KindDomainFailed)
	EmailDomainRecords           = string(mail.KindDomainRecords)
	EmailDomainReady             = string(mail.KindDomainReady)
	EmailDomainRecordsMissing    = string(mail.KindDomainRecordsMissing)
	EmailRenewalInvoice          = string(mail.KindRenewalInvoice)
	EmailRenewalPaid             = string(mail.KindRenewalPaid)
	EmailSubscriptionSuspended   = string(mail.KindSubscriptionSuspended)
	EmailSubscriptionReactivated = string(mail.KindSubscriptionReactivated)
	EmailSubscriptionEnding      = string(mail.KindSubscriptionEnding)
	EmailSubscriptionTerminated  = string(mail.KindSubscriptionTerminated)
	EmailSeatsWindow             = string(mail.KindSeatsWindow)
)

// Notice is one email of a post-purchase workflow. It names what the email
// is about; the activity reads the rest (and any password) from the database.
type Notice struct {
	OrderID     string
	Kind        string
	Key         string // unique per order: the email goes out once per key
	ChargeID    string `json:",omitempty"`
	UserName    string `json:",omitempty"`
	Domain      string `json:",omitempty"`
	Reason      string `json:",omitempty"`
	Day         int    `json:",omitempty"`
	TerminateOn time.Time
	// Until is when a cancellation window closes (seats_window), or when
	// the checks of a domain's mail records end (they start at
	// verification, so the domain's CheckUntil is not theirs).
	Until time.Time `json:",omitzero"`
}

// SendNotice sends one post-purchase email to the customer's address, once
// per key. A payment reminder is skipped once its charge is no longer
// waiting for payment.
func (a *Activities) SendNotice(ctx context.Context, n Notice) error {
	return a.once(ctx, func(ctx context.Context) (*outgoing, error) { return a.notice(ctx, n) })
}

// notice is SendNotice's email, nil when none is due.
func (a *Activities) notice(ctx context.Context, n Notice) (*outgoing, error) {
	o, sent, err := a.Store.OrderForEmail(ctx, n.OrderID, n.Key)
	if err != nil || sent {
		return nil, dbError(err)
	}
	lang := o.Language
	// What the emails say of apps, mailboxes and files comes with d.Plan;
	// an order of a plan no longer on sale gets a zero Plan, and its
	// emails claim nothing plan-specific.
	plan, _ := order.PlanByCode(o.Plan)
	d := mail.Data{
		Plan:     plan,
		Language: lang, OrderID: o.ID, Company: o.Customer.Company, FirstName: o.Customer.FirstName, LastName: o.Customer.LastName,
		PlanName: o.PlanName, Seats: o.Seats, BillingCycle: o.BillingCycle, BillingPanelURL: a.panelURL(n.OrderID),
		Domain: o.Domain, Reason: n.Reason, AdminURL: order.AdminURL,
	}
	if sv, err := a.Store.GetService(ctx, n.OrderID); err == nil {
		d.Seats = sv.Seats
		d.PeriodStart, d.PeriodEnd = sv.PeriodStart.Format(time.DateOnly), lastDay(sv.PeriodEnd)
		if n.Kind == EmailSubscriptionEnding {
			// Cancelled mid-term, it runs (and is billed) to the term's end.
			d.PeriodEnd = lastDay(sv.TermEnd())
		}
	}
	if n.Kind == EmailSeatsWindow && !n.Until.IsZero() {
		d.WindowEnds = n.Until.In(a.loc()).Format("2006-01-02 15:04")
		if d.FreeSeats, err = a.Store.FreeSeats(ctx, n.OrderID); err != nil {
			return nil, dbError(err)
		}
	}
	if !n.TerminateOn.IsZero() {
		d.TerminateOn = n.TerminateOn.In(a.loc()).Format(time.DateOnly)
	}
	var attachments []mail.Attachment
	if n.ChargeID != "" {
		c, err := a.Store.GetCharge(ctx, n.ChargeID)
		if err != nil {
			return nil, dbError(err)
		}
		if n.Kind == EmailPaymentReminder && c.Status != billing.ChargeAwaiting {
			activity.GetLogger(ctx).Info("reminder not needed", "OrderID", n.OrderID, "ChargeID", n.ChargeID, "Status", c.Status)
			return nil, nil
		}
		d.AddedSeats = c.Seats
		d.PeriodStart, d.PeriodEnd = c.PeriodStart.Format(time.DateOnly), lastDay(c.PeriodEnd)
		if inv := c.Invoice; inv != nil {
			d.InvoiceNumber, d.Net, d.VAT, d.Gross, d.Currency = inv.Number, inv.Net.Local(lang), inv.VAT.Local(lang), inv.Gross.Local(lang), inv.Currency
			d.VATRate = billing.VATLabel(inv.VATCode)
			if inv.DueDate != nil {
				d.DueDate = inv.DueDate.Format(time.DateOnly)
			}
		}
		if attachments, d.CreditNote, err = a.chargeAttachment(ctx, n); err != nil {
			return nil, err
		}
	}
	record := func(ctx context.Context, msgID string) (bool, error) {
		return a.Store.RecordEmail(ctx, n.OrderID, n.Key, o.Customer.Email, msgID, false)
	}
	switch {
	case n.UserName != "":
		u, err := a.Store.GetUser(ctx, n.OrderID, n.UserName)
		if err != nil {
			return nil, dbError(err)
		}
		if u.PasswordSealed == nil {
			return nil, temporal.NewNonRetryableApplicationError("no temporary password kept for "+n.UserName, fail.InvalidOrder, nil)
		}
		pw, err := a.Box.Open(u.PasswordSealed, userSeal(n.OrderID, n.UserName))
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), fail.InvalidOrder, nil)
		}
		d.UserName, d.DisplayName, d.Licensed, d.TempPassword = u.UserName, u.DisplayName, u.Licensed, pw
		d.AdminURL = order.SignInURL
		record = func(ctx context.Context, msgID string) (bool, error) {
			return a.Store.RecordUserEmail(ctx, n.OrderID, n.Key, o.Customer.Email, msgID, n.UserName)
		}
	case n.Domain != "":
		dom, err := a.Store.GetDomain(ctx, n.Domain)
		if err != nil {
			return nil, dbError(err)
		}
		d.Domain, d.DNSName, d.DNSText, d.IsDefault, d.ReminderDay = dom.Domain, dom.TXTName, dom.TXTText, dom.MakeDefault, n.Day
		d.CheckUntil = dom.CheckUntil.In(a.loc()).Format(time.DateOnly)
		if !n.Until.IsZero() {
			d.CheckUntil = n.Until.In(a.loc()).Format(time.DateOnly)
		}
		if d.Records, err = a.mailRecords(ctx, n.Domain); err != nil {
			return nil, err
		}
	}
	return &outgoing{orderID: n.OrderID, key: n.Key, template: mail.Kind(n.Kind), to: o.Customer.Email, data: d, attachments: attachments, record: record}, nil
}

// chargeAttachment is the document a charge's email carries: the VAT
// invoice once paid, the correction once paid money is given back (a
// cancelled unpaid charge's pro-forma is void, with no correction); the
// number is the correction's, for the text.
func (a *Activities) chargeAttachment(ctx context.Context, n Notice) ([]mail.Attachment, string, error) {
	switch n.Kind {
	case EmailLicencesAdded, EmailRenewalPaid, EmailSubscriptionReactivated:
		att, _, err := a.document(ctx, n.ChargeID, billing.KindInvoice)
		return att, "", err
	case EmailLicencesCancelled, EmailSubscriptionTerminated:
		return a.document(ctx, n.ChargeID, billing.KindCorrection)
	}
	return nil, "", nil
}

// lastDay is the last day a period pays for: the day before its end.
func lastDay(end time.Time) string { return end.AddDate(0, 0, -1).Format(time.DateOnly) }
