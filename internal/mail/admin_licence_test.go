package mail

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var htmlTags = regexp.MustCompile(`<[^>]*>`)

// The credentials email says whether the admin holds one of the plan's
// licences and how many are left for other users, or that it holds none as
// the order asked; orders provisioned before the admin got one say nothing.
func TestCredentialsSayWhatTheAdminsLicenceIs(t *testing.T) {
	says := map[string]map[string][]string{
		"en": {
			"held5":  {"holds one of your 5 Microsoft 365 Business Standard licences", "Licences free for your other users: 4"},
			"held1":  {"holds your one Microsoft 365 Business Standard licence", "Licences free for your other users: 0", "buy more licences"},
			"none":   {"holds no Microsoft 365 Business Standard licence", "Licences free for your users: 5"},
			"silent": nil,
		},
		"pl": {
			"held5":  {"jedną z 5 licencji Microsoft 365 Business Standard", "Wolne licencje dla pozostałych użytkowników: 4"},
			"held1":  {"Państwa jedyną licencję Microsoft 365 Business Standard", "Wolne licencje dla pozostałych użytkowników: 0", "dokupić licencje"},
			"none":   {"nie ma przypisanej licencji", "Wolne licencje dla użytkowników: 5"},
			"silent": nil,
		},
	}
	for lang, cases := range says {
		for name, want := range cases {
			d := sampleData(lang)
			switch name {
			case "held5":
				d.AdminLicence, d.FreeSeats = "held", 4
			case "held1":
				d.AdminLicence, d.Seats, d.FreeSeats = "held", 1, 0
			case "none":
				d.AdminLicence, d.FreeSeats = "none", 5
			}
			_, text, html, err := Render(KindCredentials, d)
			require.NoError(t, err)
			flat := strings.Join(strings.Fields(text), " ")
			html = htmlTags.ReplaceAllString(html, "")
			for _, w := range want {
				require.Contains(t, flat, w, "%s/%s text", lang, name)
				require.Contains(t, html, w, "%s/%s html", lang, name)
			}
			require.Equal(t, name != "silent", strings.Contains(html, "Licences free") || strings.Contains(html, "Wolne licencje"), "%s/%s", lang, name)
			if name != "held1" {
				require.NotContains(t, flat, "buy more licences", "%s/%s", lang, name)
				require.NotContains(t, flat, "dokupić", "%s/%s", lang, name)
			}
			require.Contains(t, text, d.TempPassword)
		}
	}
}
