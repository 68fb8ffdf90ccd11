package mail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// gives is what Microsoft puts in each plan for each user, written out here
// again so that this test pins what the emails promise, not just that they
// follow package order.
var gives = map[string]struct {
	apps      order.Apps
	mailboxGB int
	teams     bool
}{
	"business-basic":         {order.AppsWeb, 50, true},
	"business-standard":      {order.AppsDesktop, 50, true},
	"business-premium":       {order.AppsDesktop, 50, true},
	"apps-for-business":      {order.AppsDesktop, 0, false},
	"exchange-online-plan-1": {order.AppsNone, 50, false},
}

// planNames are the plans' names as the plans table has them.
var planNames = map[string]string{
	"business-basic":         "Microsoft 365 Business Basic",
	"business-standard":      "Microsoft 365 Business Standard",
	"business-premium":       "Microsoft 365 Business Premium",
	"apps-for-business":      "Microsoft 365 Apps for business",
	"exchange-online-plan-1": "Exchange Online (Plan 1)",
}

// planData is sampleData for an order of plan p, filled as the activities
// fill it: the plan's facts and the installer step's address.
func planData(lang string, p order.Plan) Data {
	d := sampleData(lang)
	d.Plan, d.PlanName, d.InstallerURL = p, planNames[p.Code], p.InstallerURL()
	return d
}

// claim is what the installer_ready email says, in each language, when the
// plan gives (or does not give) something; mailbox is formatted with the
// plan's size.
var claims = map[string]struct {
	installer, desktop, noDesktop, webMobile, mailbox, noMailbox, noOffice, outlookWeb string
}{
	"en": {
		installer:  "Install in 3 steps",
		desktop:    "the Office desktop apps (Word, Excel, PowerPoint, Outlook)",
		noDesktop:  "does not include desktop apps",
		webMobile:  "in the browser and on phones and tablets",
		mailbox:    "a %d GB Exchange mailbox",
		noMailbox:  "The plan does not include a mailbox",
		noOffice:   "The plan does not include the Office apps, neither to install nor in the browser.",
		outlookWeb: "Outlook on the web",
	},
	"pl": {
		installer:  "Instalacja w 3 krokach",
		desktop:    "aplikacje Office do zainstalowania na komputerze (Word, Excel, PowerPoint, Outlook)",
		noDesktop:  "Plan nie zawiera aplikacji klasycznych",
		webMobile:  "w przeglądarce oraz na telefonie i tablecie",
		mailbox:    "skrzynkę pocztową Exchange o pojemności %d GB",
		noMailbox:  "Plan nie obejmuje skrzynki pocztowej",
		noOffice:   "Plan nie obejmuje aplikacji Office – ani do instalacji, ani w przeglądarce.",
		outlookWeb: "Outlook w przeglądarce",
	},
}

// The installer_ready email of every plan on sale, in both languages, text
// and HTML, says what the plan gives each user and promises nothing else:
// Exchange Online no Office apps at all, Apps for business no mailbox,
// Business Basic no installer, Teams only where the plan has it.
func TestInstallerReadySaysWhatEachPlanGives(t *testing.T) {
	require.Len(t, order.Plans, len(gives), "every plan on sale is checked")
	for _, p := range order.Plans {
		for _, lang := range Languages() {
			t.Run(p.Code+"/"+lang, func(t *testing.T) {
				w, ok := gives[p.Code]
				require.True(t, ok, "what %s gives", p.Code)
				d := planData(lang, p)
				subject, text, html := render(t, KindInstallerReady, d)
				c := claims[lang]
				mailbox := fmt.Sprintf(c.mailbox, w.mailboxGB)
				for part, s := range map[string]string{"text": subject + "\n" + words(text), "html": words(html)} {
					says := func(phrase string) { t.Helper(); require.Contains(t, s, phrase, part) }
					never := func(phrase string) { t.Helper(); require.NotContains(t, s, phrase, part) }
					says(d.PlanName)
					says(d.Domain)
					says(p.InstallerURL())

					switch w.apps {
					case order.AppsDesktop:
						says(c.installer)
						says(c.desktop)
						says(c.webMobile)
						never(c.noDesktop)
						never(c.noOffice)
					case order.AppsWeb:
						says(c.noDesktop)
						says(c.webMobile)
						for _, app := range []string{"Word", "Excel", "PowerPoint"} {
							says(app)
						}
						never(c.installer)
						never(c.desktop)
						never(c.noOffice)
						never(order.DesktopInstaller)
						require.NotContains(t, strings.ToLower(s), map[string]string{"en": "installer", "pl": "instalator"}[lang], part)
					case order.AppsNone:
						says(c.noOffice)
						says(c.outlookWeb)
						for _, phrase := range []string{"Word", "Excel", "PowerPoint", "OneDrive", "Teams", order.WebApps, order.DesktopInstaller, c.webMobile} {
							never(phrase)
						}
						require.NotContains(t, strings.ToLower(s), map[string]string{"en": "installer", "pl": "instalator"}[lang], part)
					default:
						t.Fatalf("plan %s: apps %q", p.Code, w.apps)
					}

					if w.mailboxGB > 0 {
						says(mailbox)
						never(c.noMailbox)
					} else {
						says(c.noMailbox)
						never("GB")
						never("Exchange")
					}

					if w.teams {
						says("Microsoft Teams")
					} else {
						never("Teams")
					}
				}
			})
		}
	}
}

// A Plan without its facts cannot render installer_ready: it would claim
// what the plan may not give.
func TestInstallerReadyNeedsThePlansFacts(t *testing.T) {
	d := sampleData("en")
	d.Plan = order.Plan{}
	_, _, _, err := Render(KindInstallerReady, d)
	require.ErrorContains(t, err, "plan's apps")
}

// The order's other emails describe no plan: whatever the plan, they say
// nothing of apps, mailboxes or Teams that the plan might not give.
func TestOrderEmailsClaimNothingOfThePlan(t *testing.T) {
	kinds := []Kind{KindBillingAccess, KindPaymentReminder, KindPaymentReceived, KindCredentials, KindCancelled, KindRefunded}
	for _, p := range order.Plans {
		for _, lang := range Languages() {
			for _, kind := range kinds {
				d := planData(lang, p)
				subject, text, html := render(t, kind, d)
				for part, s := range map[string]string{"text": subject + "\n" + words(text), "html": words(html)} {
					s = strings.ReplaceAll(s, d.PlanName, "") // "Exchange Online (Plan 1)" is a name, no claim
					for _, w := range []string{"Word", "Excel", "PowerPoint", "Teams", "Exchange", " GB"} {
						require.NotContains(t, s, w, "%s %s %s %s", p.Code, lang, kind, part)
					}
					lower := strings.ToLower(s)
					for _, w := range []string{"mailbox", "skrzynk", "desktop", "klasyczn", "installer", "instalator", "web app", "przeglądar"} {
						require.NotContains(t, lower, w, "%s %s %s %s", p.Code, lang, kind, part)
					}
				}
			}
		}
	}
}
