package mail

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// recordFacts are what every mail about the mail records must show: each
// record's type, name and value.
func recordFacts(d Data) []string {
	out := []string{d.Domain}
	for _, r := range d.Records {
		out = append(out, r.Type, r.Name, r.Value)
	}
	return out
}

// The records mail lists each record with its state; with ReminderDay it
// is the reminder, saying the day; the missing mail says which are missing.
func TestRenderDomainRecordsEachRecordAndItsState(t *testing.T) {
	states := map[string][2]string{"en": {"published", "not visible yet"}, "pl": {"opublikowany", "jeszcze niewidoczny"}}
	for _, lang := range Languages() {
		d := sampleData(lang)
		d.Domain, d.ReminderDay = "acme.pl", 0
		subject, text, html := render(t, KindDomainRecords, d)
		for _, want := range recordFacts(d) {
			require.Contains(t, text, want)
			require.Contains(t, html, want)
		}
		require.Contains(t, text, map[string]string{"en": "Priority: 0", "pl": "Priorytet: 0"}[lang], "the MX record's priority")
		require.Equal(t, 1, strings.Count(text, states[lang][0]+"\n"), "one record published")
		require.Equal(t, 2, strings.Count(text, states[lang][1]+"\n"), "two not yet")
		require.NotContains(t, subject, map[string]string{"en": "Reminder", "pl": "Przypomnienie"}[lang])

		d.ReminderDay = 3
		subject, text, _ = render(t, KindDomainRecords, d)
		require.Contains(t, subject, map[string]string{"en": "Reminder", "pl": "Przypomnienie"}[lang])
		require.Contains(t, text, map[string]string{"en": "day 3 ", "pl": "To 3. dzień"}[lang])

		d.Reason = "MX acme.pl"
		_, text, html = render(t, KindDomainRecordsMissing, d)
		require.Contains(t, text, map[string]string{"en": "Missing: MX acme.pl", "pl": "Brakuje: MX acme.pl"}[lang])
		require.Contains(t, html, "MX acme.pl")
	}
}
