package mail

import (
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

const polishLetters = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"

func sampleData(lang string) Data {
	return Data{
		Language:        lang,
		OrderID:         "ORD-2026-0042",
		Company:         "<script>alert(1)</script> Acme Sp. z o.o.",
		FirstName:       "Anna",
		LastName:        "Nowak",
		PlanName:        "Microsoft 365 Business Standard",
		Seats:           5,
		BillingCycle:    "annual",
		InvoiceNumber:   "PF/2026/11/0042",
		Net:             "3000.00",
		VAT:             "690.00",
		Gross:           "3690.00",
		DueDate:         "2026-12-02",
		BillingPanelURL: "https://panel.officeflow.local/orders/ORD-2026-0042",
		Domain:          "acme.onmicrosoft.com",
		AdminUser:       "admin@acme.onmicrosoft.com",
		TempPassword:    "Tmp-9xQ!r7",
		AdminURL:        "https://admin.microsoft.com",
		InstallerURL:    "https://portal.office.com/account/#installs",
		Plan:            order.Plan{Code: "business-standard", Apps: order.AppsDesktop, MailboxGB: 50, Teams: true},
		Reason:          "payment not received before 2026-12-02",
		CreditNote:      "KOR/2026/000007",
		AddedSeats:      3,
		PeriodStart:     "2026-12-01",
		PeriodEnd:       "2027-11-30",
		UserName:        "jan.kowalski@acme.pl",
		DisplayName:     "Jan Kowalski",
		Licensed:        true,
		DNSName:         "acme.pl",
		DNSText:         "MS=ms12345678",
		CheckUntil:      "2026-12-09",
		ReminderDay:     3,
		IsDefault:       true,
		Records: []Record{
			{Type: "MX", Name: "acme.pl", Value: "acme-pl.mail.protection.outlook.com", Published: true},
			{Type: "CNAME", Name: "autodiscover.acme.pl", Value: "autodiscover.outlook.com"},
			{Type: "TXT", Name: "acme.pl", Value: "v=spf1 include:spf.protection.outlook.com -all"},
		},
		TerminateOn:    "2027-01-30",
		WindowEnds:     "2026-12-08 09:00",
		FreeSeats:      2,
		LinkValidUntil: "2026-12-25 14:00",
	}
}

// What each kind must tell the customer, beyond the order id every mail has.
var kindFacts = map[Kind]func(Data) []string{
	KindBillingAccess: func(d Data) []string {
		return []string{d.InvoiceNumber, d.Net + " PLN", d.VAT + " PLN", d.Gross + " PLN", d.DueDate, d.BillingPanelURL, "23%", d.PlanName}
	},
	KindPaymentReminder: func(d Data) []string {
		return []string{d.InvoiceNumber, d.Gross + " PLN", d.DueDate, d.BillingPanelURL}
	},
	KindPaymentReceived: func(d Data) []string { return []string{d.Gross + " PLN", d.InvoiceNumber} },
	KindCredentials: func(d Data) []string {
		return []string{d.AdminURL, d.AdminUser, d.TempPassword, d.Domain}
	},
	KindInstallerReady: func(d Data) []string { return []string{d.InstallerURL, d.Domain} },
	KindCancelled:      func(d Data) []string { return []string{d.Reason, d.InvoiceNumber} },
	KindRefunded:       func(d Data) []string { return []string{d.Reason, d.Gross + " PLN", d.CreditNote} },
	KindEInvoice: func(d Data) []string {
		return []string{d.InvoiceNumber, d.KSeFNumber, d.Gross + " PLN", d.BillingPanelURL}
	},

	KindLicencesInvoice: func(d Data) []string {
		return []string{d.InvoiceNumber, d.Net + " PLN", d.VAT + " PLN", d.Gross + " PLN", d.DueDate, d.BillingPanelURL, d.PeriodEnd, d.PlanName}
	},
	KindLicencesAdded:     func(d Data) []string { return []string{d.PlanName, d.InvoiceNumber, d.BillingPanelURL} },
	KindLicencesReduced:   func(d Data) []string { return []string{d.PlanName, d.PeriodEnd} },
	KindLicencesCancelled: func(d Data) []string { return []string{d.Reason, d.CreditNote} },
	KindUserCreated: func(d Data) []string {
		return []string{d.DisplayName, d.UserName, d.TempPassword, d.AdminURL, d.PlanName}
	},
	KindDomainDNS:      func(d Data) []string { return []string{d.Domain, d.DNSName, d.DNSText, d.CheckUntil} },
	KindDomainReminder: func(d Data) []string { return []string{d.Domain, d.DNSName, d.DNSText, d.CheckUntil} },
	KindDomainVerified: func(d Data) []string { return []string{d.Domain} },
	KindDomainFailed:   func(d Data) []string { return []string{d.Domain, d.DNSText, d.CheckUntil} },
	KindDomainRecords:  func(d Data) []string { return append(recordFacts(d), d.CheckUntil) },
	KindDomainReady:    recordFacts,
	KindDomainRecordsMissing: func(d Data) []string {
		return append(recordFacts(d), d.Reason)
	},
	KindRenewalInvoice: func(d Data) []string {
		return []string{d.InvoiceNumber, d.Net + " PLN", d.VAT + " PLN", d.Gross + " PLN", d.DueDate, d.BillingPanelURL, d.PeriodStart, d.PeriodEnd, d.PlanName}
	},
	KindRenewalPaid: func(d Data) []string { return []string{d.PeriodEnd, d.Gross + " PLN", d.InvoiceNumber} },
	KindSubscriptionSuspended: func(d Data) []string {
		return []string{d.TerminateOn, d.Gross + " PLN", d.InvoiceNumber, d.BillingPanelURL}
	},
	KindSubscriptionReactivated: func(d Data) []string { return []string{d.PeriodEnd, d.Gross + " PLN"} },
	KindSubscriptionEnding:      func(d Data) []string { return []string{d.PeriodEnd, d.PlanName} },
	KindSubscriptionTerminated:  func(d Data) []string { return []string{d.Reason, d.InvoiceNumber} },
	KindPanelLink:               func(d Data) []string { return []string{d.BillingPanelURL, d.LinkValidUntil, d.PlanName} },
	KindSeatsWindow:             func(d Data) []string { return []string{d.WindowEnds, d.BillingPanelURL, d.PlanName, "168"} },
}

func TestRenderAllKindsBothLanguages(t *testing.T) {
	require.Len(t, kindFacts, len(Kinds()), "every kind needs expectations")
	for _, lang := range Languages() {
		for _, kind := range Kinds() {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				d := sampleData(lang)
				subject, text, html, err := Render(kind, d)
				require.NoError(t, err)
				require.NotEmpty(t, strings.TrimSpace(subject))
				require.NotContains(t, subject, "\n")

				for _, want := range append(kindFacts[kind](d), d.OrderID) {
					require.Contains(t, text, want, "text part")
					require.Contains(t, html, want, "html part")
				}
				require.Contains(t, text, d.Company, "text part is not escaped")
				require.NotContains(t, html, "<script>")
				require.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt; Acme Sp. z o.o.")
				require.Contains(t, html, `<html lang="`+lang+`">`)

				if lang == "pl" {
					require.True(t, strings.ContainsAny(text, polishLetters), "Polish text without diacritics:\n%s", text)
					require.True(t, strings.ContainsAny(html, polishLetters))
				} else {
					require.False(t, strings.ContainsAny(subject+text+html, polishLetters), "English mail has Polish words")
				}
			})
		}
	}
}

func TestRenderBillingAccessPolishWording(t *testing.T) {
	_, text, html, err := Render(KindBillingAccess, sampleData("pl"))
	require.NoError(t, err)
	for _, want := range []string{"netto", "VAT (23%)", "brutto", "5 licencji", "rozliczenie roczne", "pro forma", "kolejne licencje", "pobior"} {
		require.Contains(t, text, want)
		require.Contains(t, html, want)
	}
}

func TestRenderLanguageFallbackAndCurrency(t *testing.T) {
	d := sampleData("de")
	d.Currency = ""
	plSubject, plText, _, err := Render(KindPaymentReminder, sampleData("pl"))
	require.NoError(t, err)
	subject, text, _, err := Render(KindPaymentReminder, d)
	require.NoError(t, err)
	require.Equal(t, plSubject, subject)
	require.Equal(t, plText, text)

	d = sampleData(" EN ")
	d.Currency = "EUR"
	_, text, _, err = Render(KindPaymentReminder, d)
	require.NoError(t, err)
	require.Contains(t, text, "3690.00 EUR")
	require.Contains(t, text, "Amount due")
}

func TestRenderUnknownKind(t *testing.T) {
	_, _, _, err := Render(Kind("welcome_pack"), sampleData("pl"))
	require.ErrorContains(t, err, "unknown kind")
}

func TestRenderHTMLRejectsJavascriptURL(t *testing.T) {
	d := sampleData("en")
	d.BillingPanelURL = "javascript:alert(1)"
	_, _, html, err := Render(KindBillingAccess, d)
	require.NoError(t, err)
	require.NotContains(t, html, `href="javascript:`)
}

func TestPolishPlural(t *testing.T) {
	for n, want := range map[int]string{
		1: "licencja", 2: "licencje", 4: "licencje", 5: "licencji", 11: "licencji",
		12: "licencji", 14: "licencji", 22: "licencje", 25: "licencji", 104: "licencje", 112: "licencji",
	} {
		require.Equal(t, want, plPlural(n, "licencja", "licencje", "licencji"), "n=%d", n)
	}
}

func TestRenderMissingTemplateIsAnError(t *testing.T) {
	// Render normalises the language, so reach the loader directly to
	// prove a missing file surfaces as an error rather than a panic.
	_, err := loadSet("de", KindCancelled)
	require.ErrorContains(t, err, "templates/de/cancelled.txt")
}

// A pro-forma is not a VAT invoice: an unpaid purchase that is cancelled has
// its pro-forma void and no correction, and its mail says so and names no
// correcting invoice. A correction is named only where one corrects a VAT
// invoice (a refund, licences paid and then refused).
func TestCancelledMailsSayTheProformaIsVoidWithNoCorrection(t *testing.T) {
	void := map[string]string{"pl": "jest nieważna", "en": "is void"}
	for _, lang := range Languages() {
		for _, kind := range []Kind{KindCancelled, KindLicencesCancelled, KindSubscriptionTerminated} {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				d := sampleData(lang)
				d.CreditNote = ""
				_, text, html, err := Render(kind, d)
				require.NoError(t, err)
				for _, part := range []string{text, html} {
					require.Contains(t, part, d.InvoiceNumber)
					require.Contains(t, part, void[lang])
					require.NotContains(t, part, "KOR/")
				}
			})
		}
	}
	for _, lang := range Languages() {
		d := sampleData(lang)
		_, text, html, err := Render(KindCancelled, d)
		require.NoError(t, err)
		require.NotContains(t, text+html, d.CreditNote, "an unpaid cancellation never names a correction")
	}
}
