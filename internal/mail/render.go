package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/officeflow/officeflow/internal/order"
)

// Kind identifies one customer email of the order saga.
type Kind string

const (
	KindBillingAccess   Kind = "billing_access"
	KindPaymentReminder Kind = "payment_reminder"
	KindPaymentReceived Kind = "payment_received"
	KindCredentials     Kind = "credentials"
	KindInstallerReady  Kind = "installer_ready"
	KindCancelled       Kind = "cancelled"
	KindRefunded        Kind = "refunded"

	// Licence changes of a running subscription.
	KindLicencesInvoice   Kind = "licences_invoice"
	KindLicencesAdded     Kind = "licences_added"
	KindLicencesReduced   Kind = "licences_reduced"
	KindLicencesCancelled Kind = "licences_cancelled"
	KindUserCreated       Kind = "user_created"

	// Adding the customer's own domain to the tenant.
	KindDomainDNS      Kind = "domain_dns"
	KindDomainReminder Kind = "domain_reminder"
	KindDomainVerified Kind = "domain_verified"
	KindDomainFailed   Kind = "domain_failed"
	// The verified domain's mail records: to publish (and reminders, with
	// ReminderDay), all published, or some never seen.
	KindDomainRecords        Kind = "domain_records"
	KindDomainReady          Kind = "domain_ready"
	KindDomainRecordsMissing Kind = "domain_records_missing"

	// Renewal and the end of a subscription.
	KindRenewalInvoice          Kind = "renewal_invoice"
	KindRenewalPaid             Kind = "renewal_paid"
	KindSubscriptionSuspended   Kind = "subscription_suspended"
	KindSubscriptionReactivated Kind = "subscription_reactivated"
	KindSubscriptionEnding      Kind = "subscription_ending"
	KindSubscriptionTerminated  Kind = "subscription_terminated"
	// A day before a cancellation window closes, while seats are unassigned.
	KindSeatsWindow Kind = "seats_window"

	// A billing panel sign-in link the customer asked for on the panel.
	KindPanelLink Kind = "panel_link"

	// A VAT invoice or correction issued through KSeF, with its PDF: once
	// KSeF gave its number, or at once when it is issued offline.
	KindEInvoice Kind = "e_invoice"
)

// Kinds lists every Kind: the order saga's in saga order, then the ones
// sent while a subscription runs, then the panel's. Reminders for licence and renewal
// payments reuse KindPaymentReminder.
func Kinds() []Kind {
	return []Kind{KindBillingAccess, KindPaymentReminder, KindPaymentReceived,
		KindCredentials, KindInstallerReady, KindCancelled, KindRefunded,
		KindLicencesInvoice, KindLicencesAdded, KindLicencesReduced, KindLicencesCancelled,
		KindUserCreated,
		KindDomainDNS, KindDomainReminder, KindDomainVerified, KindDomainFailed,
		KindDomainRecords, KindDomainReady, KindDomainRecordsMissing,
		KindRenewalInvoice, KindRenewalPaid, KindSubscriptionSuspended,
		KindSubscriptionReactivated, KindSubscriptionEnding, KindSubscriptionTerminated,
		KindSeatsWindow, KindPanelLink, KindEInvoice}
}

// Languages lists the template languages; the first is the fallback.
func Languages() []string { return []string{"pl", "en"} }

// Data is everything the templates may show. Money is pre-formatted by the
// caller so that rounding lives in one place (billing), not in templates.
type Data struct {
	Language                              string // "pl" or "en"; anything else -> "pl"
	OrderID, Company, FirstName, LastName string
	PlanName                              string
	Seats                                 int    // licences of the subscription (after the change, for licence mails)
	AddedSeats                            int    // licence mails: the change; negative when lowered
	BillingCycle                          string // "monthly" / "annual"
	InvoiceNumber, Net, VAT, Gross        string
	VATRate                               string // the document's VAT rate as it prints it: "23%" ("" -> "23%") or "np"
	Currency                              string // "" -> "PLN"
	DueDate                               string // e.g. "2026-12-02"
	BillingPanelURL                       string // pay, download invoices, order more licences
	Domain                                string // "acme.onmicrosoft.com"
	AdminUser, TempPassword, AdminURL     string // credentials mail only
	// AdminLicence (credentials): "held" when the admin holds one of the
	// Seats licences of PlanName (FreeSeats are left for other users),
	// "none" when the order asked for none; "" says nothing (orders
	// provisioned before the admin got one).
	AdminLicence           string
	FreeSeats              int
	InstallerURL           string   // where the plan's apps are: desktop installer, web apps or Outlook on the web
	Reason                 string   // cancellation / refund reason, human readable
	CreditNote             string   // the correcting invoice's number, when one was issued
	PeriodStart, PeriodEnd string   // billing period, YYYY-MM-DD
	UserName, DisplayName  string   // user_created: the new user's UPN and name
	Licensed               bool     // user_created: a PlanName licence was assigned
	DNSName, DNSText       string   // TXT record the customer must publish: name and value
	CheckUntil             string   // date the automatic domain checks stop
	ReminderDay            int      // domain_reminder: the day of checking
	IsDefault              bool     // domain_verified: now the default domain
	Records                []Record // domain_records, domain_ready, domain_records_missing: the mail records
	TerminateOn            string   // subscription_suspended: date the subscription ends unless paid
	WindowEnds             string   // seats_window: when seats can no longer be given back, e.g. "2026-12-25 14:00" (FreeSeats are unassigned)
	LinkValidUntil         string   // panel_link: when the link stops working, e.g. "2026-12-25 14:00"
	KSeFNumber             string   // e_invoice: the number KSeF gave the document; "" while offline
	Correction             bool     // e_invoice: InvoiceNumber is a correction, not a VAT invoice

	// Plan is what the plan gives each user (apps, mailbox, Teams), as
	// package order knows it. Every email that speaks of apps, mailboxes,
	// files or Teams says it from Plan, through the partials of
	// templates/<lang>/_plan*.txt/html; installer_ready needs it, the others
	// say nothing plan-specific without it (see PlanKnown).
	Plan order.Plan
}

// Record is one DNS record a domain needs for mail, as the customer
// publishes it; Published tells whether the last check saw it.
type Record struct {
	Type, Name, Value string
	Preference        int // MX only
	Published         bool
}

// view is what templates execute against; Subject lets the HTML layout put
// the subject into <title> without rendering it twice.
type view struct {
	Data
	Subject string
}

// PlanKnown tells the templates whether Plan holds a plan's facts. Without
// them an email claims nothing of apps or mailboxes: it speaks of "the
// services" and "data".
func (v view) PlanKnown() bool { return v.Plan.Apps.Valid() }

// NoMailbox tells the templates that the plan is known to give no
// mailbox, so nothing may speak of email addresses or receiving mail.
func (v view) NoMailbox() bool { return v.PlanKnown() && !v.Plan.Mailbox() }

//go:embed templates/*/*.txt templates/*/*.html
var templateFS embed.FS

type tmplSet struct {
	text *texttemplate.Template // defines "subject" and "text"
	html *htmltemplate.Template // defines "layout" (which calls "content")
}

type setKey struct {
	lang string
	kind Kind
}

// Sets are parsed on first use per (language, kind) so a broken or missing
// file fails only the mails that need it, with an error instead of a panic.
var (
	setsMu sync.Mutex
	sets   = map[setKey]*tmplSet{}
)

func normalize(d Data) Data {
	d.Language = strings.ToLower(strings.TrimSpace(d.Language))
	if d.Language != "en" {
		d.Language = "pl"
	}
	if d.Currency == "" {
		d.Currency = "PLN"
	}
	if d.VATRate == "" {
		d.VATRate = "23%"
	}
	return d
}

// Render produces the subject, the plain-text part and the HTML part of one
// email. Only the HTML part escapes data; the text part is sent as text/plain.
func Render(kind Kind, d Data) (subject, text, html string, err error) {
	if !validKind(kind) {
		return "", "", "", fmt.Errorf("mail: unknown kind %q", kind)
	}
	d = normalize(d)
	if kind == KindInstallerReady && !d.Plan.Apps.Valid() {
		// Without the plan's facts the email would promise what the
		// plan may not give.
		return "", "", "", fmt.Errorf("mail: %s needs the plan's apps, got %q", kind, d.Plan.Apps)
	}
	set, err := loadSet(d.Language, kind)
	if err != nil {
		return "", "", "", err
	}
	v := view{Data: d}
	var buf bytes.Buffer
	if err := set.text.ExecuteTemplate(&buf, "subject", v); err != nil {
		return "", "", "", fmt.Errorf("mail: %s/%s subject: %w", d.Language, kind, err)
	}
	// Data must never be able to inject header lines through the subject.
	v.Subject = strings.Join(strings.Fields(buf.String()), " ")
	buf.Reset()
	if err := set.text.ExecuteTemplate(&buf, "text", v); err != nil {
		return "", "", "", fmt.Errorf("mail: %s/%s text: %w", d.Language, kind, err)
	}
	text = strings.TrimSpace(buf.String()) + "\n"
	buf.Reset()
	if err := set.html.ExecuteTemplate(&buf, "layout", v); err != nil {
		return "", "", "", fmt.Errorf("mail: %s/%s html: %w", d.Language, kind, err)
	}
	return v.Subject, text, buf.String(), nil
}

func validKind(k Kind) bool {
	for _, known := range Kinds() {
		if k == known {
			return true
		}
	}
	return false
}

func loadSet(lang string, kind Kind) (*tmplSet, error) {
	setsMu.Lock()
	defer setsMu.Unlock()
	key := setKey{lang, kind}
	if s, ok := sets[key]; ok {
		return s, nil
	}
	dir := "templates/" + lang + "/"
	fm := funcs(lang)
	// _plan_words.txt holds the plan's phrases with no markup, shared by
	// both parts; _plan.txt and _plan.html the plan's facts laid out for
	// each.
	t, err := texttemplate.New(string(kind)).Option("missingkey=error").Funcs(fm).
		ParseFS(templateFS, dir+"_common.txt", dir+"_plan_words.txt", dir+"_plan.txt", dir+string(kind)+".txt")
	if err != nil {
		return nil, fmt.Errorf("mail: template %s%s.txt: %w", dir, kind, err)
	}
	h, err := htmltemplate.New(string(kind)).Option("missingkey=error").Funcs(htmltemplate.FuncMap(fm)).
		ParseFS(templateFS, dir+"_layout.html", dir+"_plan_words.txt", dir+"_plan.html", dir+string(kind)+".html")
	if err != nil {
		return nil, fmt.Errorf("mail: template %s%s.html: %w", dir, kind, err)
	}
	for _, name := range []string{"subject", "text"} {
		if t.Lookup(name) == nil {
			return nil, fmt.Errorf("mail: template %s%s.txt does not define %q", dir, kind, name)
		}
	}
	if h.Lookup("layout") == nil || h.Lookup("content") == nil {
		return nil, fmt.Errorf("mail: template %s%s.html lacks \"layout\" or \"content\"", dir, kind)
	}
	s := &tmplSet{text: t, html: h}
	sets[key] = s
	return s, nil
}

func funcs(lang string) texttemplate.FuncMap {
	if lang == "en" {
		return texttemplate.FuncMap{
			"seats": enSeats,
			// English has no cases; Polish needs the accusative after
			// verbs and prepositions, so the templates share the name.
			"seatsAcc": enSeats,
			"moreSeats": func(n int) string {
				if n == 1 {
					return "1 more licence"
				}
				return strconv.Itoa(n) + " more licences"
			},
			"abs": abs,
			"cycle": func(c string) string {
				switch c {
				case "monthly":
					return "billed monthly"
				case "annual":
					return "billed annually"
				}
				return c
			},
		}
	}
	return texttemplate.FuncMap{
		"seats": func(n int) string {
			return strconv.Itoa(n) + " " + plPlural(n, "licencja", "licencje", "licencji")
		},
		// Accusative ("dodaliśmy 1 licencję", "obejmuje 5 licencji").
		"seatsAcc": func(n int) string {
			return strconv.Itoa(n) + " " + plPlural(n, "licencję", "licencje", "licencji")
		},
		// "za 1 licencję więcej", "na 5 licencji więcej".
		"moreSeats": func(n int) string {
			return strconv.Itoa(n) + " " + plPlural(n, "licencję", "licencje", "licencji") + " więcej"
		},
		"abs": abs,
		"cycle": func(c string) string {
			switch c {
			case "monthly":
				return "rozliczenie miesięczne"
			case "annual":
				return "rozliczenie roczne"
			}
			return c
		},
	}
}

func enSeats(n int) string {
	if n == 1 {
		return "1 licence"
	}
	return strconv.Itoa(n) + " licences"
}

// plPlural picks the Polish plural form: 1 licencja, 2–4 licencje (but
// 12–14 licencji), otherwise licencji.
func plPlural(n int, one, few, many string) string {
	if n == 1 {
		return one
	}
	if d, h := n%10, n%100; d >= 2 && d <= 4 && (h < 12 || h > 14) {
		return few
	}
	return many
}

// abs lets a template show a lowered licence count (negative AddedSeats)
// as a positive number.
func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
