package mail

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func render(t *testing.T, kind Kind, d Data) (subject, text, html string) {
	t.Helper()
	subject, text, html, err := Render(kind, d)
	require.NoError(t, err)
	return subject, text, html
}

var tags = regexp.MustCompile(`<[^>]*>`)

// words is what a reader sees: tags dropped, whitespace collapsed.
func words(s string) string { return strings.Join(strings.Fields(tags.ReplaceAllString(s, "")), " ") }

func TestRenderLicencesInvoice(t *testing.T) {
	for lang, added := range map[string]string{"en": "3 more licences", "pl": "3 licencje więcej"} {
		d := sampleData(lang)
		_, text, html := render(t, KindLicencesInvoice, d)
		for _, want := range []string{added, d.Gross + " PLN", d.DueDate, d.BillingPanelURL} {
			require.Contains(t, text, want, lang)
			require.Contains(t, html, want, lang)
		}
	}
}

func TestRenderPolishLicencePlurals(t *testing.T) {
	for n, want := range map[int][3]string{
		// invoice (accusative + "więcej"), added (subject, accusative), renewal (nominative)
		1: {"za 1 licencję więcej", "obejmuje teraz 1 licencję", "1 licencja,"},
		3: {"za 3 licencje więcej", "obejmuje teraz 3 licencje", "3 licencje,"},
		5: {"za 5 licencji więcej", "obejmuje teraz 5 licencji", "5 licencji,"},
	} {
		d := sampleData("pl")
		d.AddedSeats, d.Seats = n, n
		_, text, html := render(t, KindLicencesInvoice, d)
		require.Contains(t, words(text), want[0])
		require.Contains(t, words(html), want[0])
		subject, _, _ := render(t, KindLicencesAdded, d)
		require.Contains(t, subject, want[1])
		_, text, _ = render(t, KindRenewalInvoice, d)
		require.Contains(t, text, want[2])
	}
	for n, want := range map[int]string{1: "for 1 more licence for", 3: "for 3 more licences for"} {
		d := sampleData("en")
		d.AddedSeats = n
		_, text, html := render(t, KindLicencesInvoice, d)
		require.Contains(t, words(text), want)
		require.Contains(t, words(html), want)
	}
}

func TestRenderLicencesReducedShowsTheDrop(t *testing.T) {
	for lang, want := range map[string]string{"en": "by 2 licences", "pl": "o 2 licencje"} {
		d := sampleData(lang)
		d.Seats, d.AddedSeats = 3, -2
		_, text, html := render(t, KindLicencesReduced, d)
		require.Contains(t, text, want)
		require.Contains(t, html, want)
		require.NotContains(t, text, " -2 ")
	}
}

func TestRenderUserCreatedPasswordOnlyInBody(t *testing.T) {
	for _, lang := range Languages() {
		for _, licensed := range []bool{true, false} {
			d := sampleData(lang)
			d.Licensed = licensed
			subject, text, html := render(t, KindUserCreated, d)
			require.NotContains(t, subject, d.TempPassword)
			require.NotContains(t, subject, d.UserName)
			for _, want := range []string{d.UserName, d.TempPassword} {
				require.Contains(t, text, want)
				require.Contains(t, html, want)
			}
			// "No … licence" / "nie przypisano" only when none was assigned.
			notAssigned := map[string]string{"en": "No " + d.PlanName + " licence", "pl": "nie przypisano jeszcze licencji"}[lang]
			require.Equal(t, !licensed, strings.Contains(text, notAssigned), "licensed=%v:\n%s", licensed, text)
			require.Equal(t, !licensed, strings.Contains(html, notAssigned))
		}
	}
}

func TestRenderHTMLEscapesDisplayName(t *testing.T) {
	for _, lang := range Languages() {
		d := sampleData(lang)
		d.Company = "Acme"
		d.DisplayName = "<script>alert(2)</script> Jan"
		_, text, html := render(t, KindUserCreated, d)
		require.Contains(t, text, d.DisplayName, "text part is not escaped")
		require.NotContains(t, html, "<script>")
		require.Contains(t, html, "&lt;script&gt;alert(2)&lt;/script&gt; Jan")
	}
}

func TestRenderDomainRecord(t *testing.T) {
	for _, lang := range Languages() {
		for _, kind := range []Kind{KindDomainDNS, KindDomainReminder} {
			d := sampleData(lang)
			d.Domain = "acme.pl"
			_, text, html := render(t, kind, d)
			for _, want := range []string{d.DNSName, d.DNSText, "TXT"} {
				require.Contains(t, text, want)
				require.Contains(t, html, want)
			}
			// The "@" hint belongs only to a record on the domain itself.
			require.Contains(t, text, "@")
			d.DNSName = "_ms.acme.pl"
			_, text, _ = render(t, kind, d)
			require.Contains(t, text, d.DNSName)
			require.NotContains(t, text, "@")
		}
	}
}

func TestRenderSubscriptionSuspendedTerminateOn(t *testing.T) {
	for _, lang := range Languages() {
		d := sampleData(lang)
		_, text, html := render(t, KindSubscriptionSuspended, d)
		require.Contains(t, text, d.TerminateOn)
		require.Contains(t, html, d.TerminateOn)

		d.TerminateOn = ""
		_, text, _ = render(t, KindSubscriptionSuspended, d)
		require.NotContains(t, text, map[string]string{"en": "before ", "pl": "przed "}[lang])
	}
}

// Fields each new kind cannot do without; every other field may be empty
// and must then leave no gap in a sentence.
var requiredFields = map[Kind][]string{
	KindLicencesInvoice:         {"InvoiceNumber", "Net", "VAT", "Gross", "DueDate", "BillingPanelURL"},
	KindLicencesAdded:           {"Seats"},
	KindLicencesReduced:         {"Seats"},
	KindLicencesCancelled:       nil,
	KindUserCreated:             {"UserName", "TempPassword"},
	KindDomainDNS:               {"Domain", "DNSName", "DNSText"},
	KindDomainReminder:          {"Domain", "DNSName", "DNSText"},
	KindDomainVerified:          {"Domain"},
	KindDomainFailed:            {"Domain"},
	KindDomainRecords:           {"Domain", "Records"},
	KindDomainReady:             {"Domain", "Records"},
	KindDomainRecordsMissing:    {"Domain", "Records"},
	KindRenewalInvoice:          {"InvoiceNumber", "Net", "VAT", "Gross", "DueDate", "BillingPanelURL", "PeriodStart", "PeriodEnd", "Seats"},
	KindRenewalPaid:             {"PeriodEnd"},
	KindSubscriptionSuspended:   {"BillingPanelURL"},
	KindSubscriptionReactivated: nil,
	KindSubscriptionEnding:      {"PeriodEnd"},
	KindSubscriptionTerminated:  nil,
	KindPanelLink:               {"BillingPanelURL", "LinkValidUntil", "PlanName"},
	KindEInvoice:                {"InvoiceNumber", "Gross", "BillingPanelURL"},
	KindSeatsWindow:             {"WindowEnds", "FreeSeats", "Seats"},
}

// onlyRequired keeps the language, order id, company and the named fields
// of sampleData, and zeroes everything else.
func onlyRequired(lang string, keep []string) Data {
	full := sampleData(lang)
	var d Data
	src, dst := reflect.ValueOf(full), reflect.ValueOf(&d).Elem()
	for _, name := range append([]string{"Language", "OrderID", "Company"}, keep...) {
		dst.FieldByName(name).Set(src.FieldByName(name))
	}
	return d
}

var (
	textGaps = regexp.MustCompile(`\s[.,;]|\(\s*\)|[ \t]+\n|:\n\n[^ \n]|(?m)^[ \t]+[^\n]*:$|[^\s:] {2,}\S|<no value>|\b0 licen`)
	htmlGaps = regexp.MustCompile(`\s[.,;]|\(\s*\)|<p>\s*</p>|<(strong|code)></|href=""|[^\s:] {2,}\S|<no value>|\b0 licen`)
)

func TestRenderOptionalFieldsLeaveNoGaps(t *testing.T) {
	require.Len(t, requiredFields, len(Kinds())-7, "every new kind needs its required fields")
	for _, lang := range Languages() {
		for kind, keep := range requiredFields {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				d := onlyRequired(lang, keep)
				subject, text, html := render(t, kind, d)
				require.NotEmpty(t, strings.TrimSpace(subject))
				require.False(t, textGaps.MatchString(subject+"\n"+text), "gap %q in:\n%s\n%s", textGaps.FindString(subject+"\n"+text), subject, text)
				require.False(t, htmlGaps.MatchString(html), "gap %q in:\n%s", htmlGaps.FindString(html), html)
				full := reflect.ValueOf(d)
				for _, name := range keep {
					if s, ok := full.FieldByName(name).Interface().(string); ok {
						require.Contains(t, text, s, name)
					}
				}
			})
		}
	}
}
