package mail

import (
	"fmt"
	"regexp"
	"strconv"
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

// claims are what the emails say, in each language, when the plan gives
// (or does not give) something; mailbox is formatted with the plan's size.
// The no… sentences are whole, so that a check for what a plan lacks can
// take them out first.
var claims = map[string]struct {
	installer, install, desktop, noDesktop, webMobile, mailbox, noMailbox, noOffice, outlookWeb string
}{
	"en": {
		installer:  "Install in 3 steps",
		install:    "install",
		desktop:    "the Office desktop apps (Word, Excel, PowerPoint, Outlook)",
		noDesktop:  "The plan does not include desktop apps to install on a computer.",
		webMobile:  "in the browser and on phones and tablets",
		mailbox:    "a %d GB Exchange mailbox",
		noMailbox:  "The plan does not include a mailbox",
		noOffice:   "The plan does not include the Office apps, neither to install nor in the browser.",
		outlookWeb: "Outlook on the web",
	},
	"pl": {
		installer:  "Instalacja w 3 krokach",
		install:    "zainstal",
		desktop:    "aplikacje Office do zainstalowania na komputerze (Word, Excel, PowerPoint, Outlook)",
		noDesktop:  "Plan nie zawiera aplikacji klasycznych do instalacji na komputerze.",
		webMobile:  "w przeglądarce oraz na telefonie i tablecie",
		mailbox:    "skrzynkę pocztową Exchange o pojemności %d GB",
		noMailbox:  "Plan nie obejmuje skrzynki pocztowej",
		noOffice:   "Plan nie obejmuje aplikacji Office – ani do instalacji, ani w przeglądarce.",
		outlookWeb: "Outlook w przeglądarce",
	},
}

// email is one rendered email of one plan in one language.
type email struct {
	kind     Kind
	licensed bool // user_created: the user got the plan's licence
	plan     order.Plan
	lang     string
	d        Data
	parts    map[string]string // "text" (with the subject) and "html", as read
}

func (e email) name() string {
	n := string(e.kind) + "/" + e.plan.Code + "/" + e.lang
	if e.kind == KindUserCreated && !e.licensed {
		n += "/unlicensed"
	}
	return n
}

// renderPlan renders kind for plan p in lang, as a reader sees it.
func renderPlan(t *testing.T, kind Kind, p order.Plan, lang string, licensed bool) email {
	t.Helper()
	d := planData(lang, p)
	d.Licensed = licensed
	subject, text, html := render(t, kind, d)
	return email{kind, licensed, p, lang, d, map[string]string{"text": subject + "\n" + words(text), "html": words(html)}}
}

// everyPlanEmail renders every email kind for every plan on sale in both
// languages (user_created with and without the plan's licence).
// mailOnly are the kinds never sent for a plan without a mailbox: the
// domain workflow stops at verified for it (FetchDomainRecords).
var mailOnly = map[Kind]bool{KindDomainRecords: true, KindDomainReady: true, KindDomainRecordsMissing: true}

func everyPlanEmail(t *testing.T) []email {
	t.Helper()
	require.Len(t, order.Plans, len(gives), "every plan on sale is checked")
	var all []email
	for _, kind := range Kinds() {
		for _, p := range order.Plans {
			if p.MailboxGB == 0 && mailOnly[kind] {
				continue
			}
			for _, lang := range Languages() {
				all = append(all, renderPlan(t, kind, p, lang, true))
				if kind == KindUserCreated {
					all = append(all, renderPlan(t, kind, p, lang, false))
				}
			}
		}
	}
	return all
}

// The emails that tell what each user gets, installer_ready and a licensed
// user's user_created, in every plan and language, text and HTML, say what
// the plan gives each user and promise nothing else: the desktop plans the
// desktop apps to install, Business Basic the web and mobile apps and no
// desktop install, Apps for business no mailbox, Exchange Online a mailbox
// only and no Office app by name; each where to start, the plan's mailbox
// size, Teams only where the plan has it.
func TestPlanEmailsSayWhatEachPlanGives(t *testing.T) {
	require.Len(t, order.Plans, len(gives), "every plan on sale is checked")
	for _, kind := range []Kind{KindInstallerReady, KindUserCreated} {
		for _, p := range order.Plans {
			for _, lang := range Languages() {
				e := renderPlan(t, kind, p, lang, true)
				t.Run(e.name(), func(t *testing.T) {
					w, ok := gives[p.Code]
					require.True(t, ok, "what %s gives", p.Code)
					c := claims[lang]
					for part, s := range e.parts {
						says := func(phrase string) { t.Helper(); require.Contains(t, s, phrase, part) }
						never := func(phrase string) { t.Helper(); require.NotContains(t, s, phrase, part) }
						lower := strings.ToLower(s)
						says(e.d.PlanName)
						says(p.InstallerURL()) // where to start
						if kind == KindInstallerReady {
							says(e.d.Domain)
						}

						switch w.apps {
						case order.AppsDesktop:
							if kind == KindInstallerReady {
								says(c.installer)
							}
							says(c.desktop)
							require.Contains(t, lower, c.install, part)
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
						case order.AppsNone:
							says(c.noOffice)
							says(c.outlookWeb)
						default:
							t.Fatalf("plan %s: apps %q", p.Code, w.apps)
						}

						if w.mailboxGB > 0 {
							says(fmt.Sprintf(c.mailbox, w.mailboxGB))
							never(c.noMailbox)
						} else {
							says(c.noMailbox)
						}

						if w.teams {
							says("Microsoft Teams")
						}
					}
				})
			}
		}
	}
}

// The mailbox size is the plan's, not a number in a template: a plan of
// another size shows that size wherever a size is said.
func TestMailboxSizeIsThePlans(t *testing.T) {
	p := order.Plan{Code: "business-standard", Apps: order.AppsDesktop, MailboxGB: 100, Teams: true}
	for _, kind := range []Kind{KindInstallerReady, KindUserCreated} {
		for _, lang := range Languages() {
			e := renderPlan(t, kind, p, lang, true)
			for part, s := range e.parts {
				require.Contains(t, s, fmt.Sprintf(claims[lang].mailbox, 100), "%s %s", e.name(), part)
				for _, m := range gigabytes.FindAllStringSubmatch(s, -1) {
					require.Equal(t, "100", m[1], "%s %s", e.name(), part)
				}
			}
		}
	}
}

// officeApp is an Office app by name, in any form ("Word", "Worda",
// "Excelu", "PowerPointa"), but not "password".
var officeApp = regexp.MustCompile(`(?i)\b(word|excel|power ?point)`)

// gigabytes are the sizes an email speaks of.
var gigabytes = regexp.MustCompile(`(\d+)\s*GB\b`)

// without takes out of s each sentence that begins with one of the
// phrases (up to its full stop), so that what a plan lacks can be said
// in those words and nowhere else.
func without(s string, phrases ...string) string {
	for _, p := range phrases {
		p = strings.TrimSuffix(p, ".")
		s = regexp.MustCompile(regexp.QuoteMeta(p)+`.*?\.(\s|$)`).ReplaceAllString(s, " ")
	}
	return s
}

// No email of any kind claims what the plan does not give, in any plan or
// language, text or HTML: the plan's own "does not include" sentences
// aside, Apps for business speaks of no mailbox, no address to receive
// mail at, no size; Business Basic of nothing to install; Exchange Online
// of no Office app, no files, nothing to install; a plan without Teams of
// no Teams; and every size is the plan's mailbox size.
func TestNoEmailClaimsWhatThePlanLacks(t *testing.T) {
	forbidden := map[string]struct{ noMailbox, noDesktop, noOffice []string }{
		"en": {
			noMailbox: []string{"mailbox", "email address", "receive email", "email at", "and email", "use email", "calendar", "exchange", "outlook on the web", "mail records"},
			noDesktop: []string{"desktop", "install"},
			noOffice:  []string{"office apps", "web apps", "apps in the browser", "desktop", "install", "files", "onedrive", "phones and tablets"},
		},
		"pl": {
			noMailbox: []string{"skrzynk", "e-mail", "poczt", "kalendarz", "exchange", "outlook w przeglądarce"},
			noDesktop: []string{"klasyczn", "instal", "na komputerze"},
			noOffice:  []string{"aplikacj", "klasyczn", "instal", "plik", "onedrive", "telefonie i tablecie"},
		},
	}
	for _, e := range everyPlanEmail(t) {
		w := gives[e.plan.Code]
		c, f := claims[e.lang], forbidden[e.lang]
		for part, s := range e.parts {
			at := e.name() + " " + part
			s = strings.ReplaceAll(s, e.d.PlanName, "") // "Exchange Online (Plan 1)", "… Apps for business" are names, no claim
			for _, m := range gigabytes.FindAllStringSubmatch(s, -1) {
				require.Equal(t, strconv.Itoa(w.mailboxGB), m[1], "%s: a size that is not the plan's mailbox: %q", at, m[0])
			}
			if !w.teams {
				require.NotContains(t, s, "Teams", at)
			}
			if w.mailboxGB == 0 {
				rest := strings.ToLower(without(s, c.noMailbox))
				for _, word := range f.noMailbox {
					require.NotContains(t, rest, word, "%s: no mailbox in the plan\n%s", at, s)
				}
				require.NotContains(t, s, order.OutlookWeb, at)
			}
			switch w.apps {
			case order.AppsWeb:
				rest := strings.ToLower(without(s, c.noDesktop))
				for _, word := range f.noDesktop {
					require.NotContains(t, rest, word, "%s: nothing to install in the plan\n%s", at, s)
				}
				require.NotContains(t, s, order.DesktopInstaller, at)
			case order.AppsNone:
				require.False(t, officeApp.MatchString(s), "%s: an Office app named in a mailbox-only plan: %q", at, officeApp.FindString(s))
				rest := strings.ToLower(without(s, c.noOffice))
				for _, word := range f.noOffice {
					require.NotContains(t, rest, word, "%s: a mailbox only in the plan\n%s", at, s)
				}
				for _, url := range []string{order.WebApps, order.DesktopInstaller} {
					require.NotContains(t, s, url, at)
				}
			}
		}
	}
}

// The emails that mention what the users use or keep, in passing, name it
// from the plan: a suspended subscription's users cannot use what the plan
// gives, and keep its data; an ending subscription's data to save; an
// unlicensed user cannot use what the licence would give; a verified
// domain needs the mail records only for a plan with mailboxes.
func TestPassingMentionsFollowThePlan(t *testing.T) {
	type words struct{ use, data string }
	// what each plan's users use and keep, by (apps, mailbox).
	say := map[string]map[string]words{
		"en": {
			"apps+mail": {"the Office apps and email", " (mailboxes, files in OneDrive)"},
			"apps":      {"the Office apps", " (files in OneDrive)"},
			"mail":      {"email", " (mailboxes)"},
		},
		"pl": {
			"apps+mail": {"aplikacji Office i poczty", " (skrzynki pocztowe, pliki w OneDrive)"},
			"apps":      {"aplikacji Office", " (pliki w OneDrive)"},
			"mail":      {"poczty", " (skrzynki pocztowe)"},
		},
	}
	mentions := map[string]map[Kind]string{ // %[1]s: use, %[2]s: data
		"en": {
			KindSubscriptionSuspended: "Your users cannot use %[1]s for now, but all data%[2]s is kept.",
			KindSubscriptionEnding:    "please save any data you want to keep%[2]s:",
			KindUserCreated:           "so it cannot use %[1]s until it gets one.",
		},
		"pl": {
			KindSubscriptionSuspended: "Użytkownicy nie mogą teraz korzystać z %[1]s, ale wszystkie dane%[2]s są zachowane.",
			KindSubscriptionEnding:    "które chcą Państwo zachować%[2]s:",
			KindUserCreated:           "użytkownik nie skorzysta z %[1]s.",
		},
	}
	mx := map[string]string{"en": "Microsoft 365's mail records (MX, CNAME and TXT)", "pl": "rekordy poczty Microsoft 365 (MX, CNAME i TXT)"}
	keepMX := map[string]string{"en": "leave the domain's MX records as they are", "pl": "rekordy MX domeny należy zostawić bez zmian"}
	for _, p := range order.Plans {
		w := gives[p.Code]
		key := map[bool]string{true: "apps", false: "mail"}[w.apps != order.AppsNone]
		if w.apps != order.AppsNone && w.mailboxGB > 0 {
			key = "apps+mail"
		}
		for _, lang := range Languages() {
			for kind, sentence := range mentions[lang] {
				e := renderPlan(t, kind, p, lang, false)
				want := fmt.Sprintf(sentence, say[lang][key].use, say[lang][key].data)
				for part, s := range e.parts {
					require.Contains(t, s, want, "%s %s", e.name(), part)
				}
			}
			e := renderPlan(t, KindDomainVerified, p, lang, false)
			for part, s := range e.parts {
				if w.mailboxGB > 0 {
					require.Contains(t, s, mx[lang], "%s %s", e.name(), part)
					require.NotContains(t, s, claims[lang].noMailbox, "%s %s", e.name(), part)
				} else {
					require.Contains(t, s, claims[lang].noMailbox, "%s %s", e.name(), part)
					require.Contains(t, s, keepMX[lang], "%s %s", e.name(), part)
				}
			}
		}
	}
}

// Without the plan's facts (a plan no longer on sale) the emails other
// than installer_ready still render and claim nothing of apps, mailboxes
// or files: "the services", "data".
func TestEmailsWithoutThePlanClaimNothing(t *testing.T) {
	for _, lang := range Languages() {
		for _, kind := range Kinds() {
			if kind == KindInstallerReady {
				continue
			}
			for _, licensed := range []bool{true, false} {
				d := sampleData(lang)
				d.Plan, d.Licensed = order.Plan{}, licensed
				subject, text, html := render(t, kind, d)
				for part, s := range map[string]string{"text": subject + "\n" + words(text), "html": words(html)} {
					s = strings.ReplaceAll(s, d.PlanName, "")
					require.False(t, officeApp.MatchString(s), "%s %s %s", lang, kind, part)
					lower := strings.ToLower(s)
					for _, word := range []string{"mailbox", "skrzynk", "office apps", "aplikacj", "onedrive", "files", "plik", "teams", " gb", "desktop", "klasyczn", "install", "instal"} {
						require.NotContains(t, lower, word, "%s %s %s", lang, kind, part)
					}
				}
			}
		}
		d := sampleData(lang)
		d.Plan, d.Licensed = order.Plan{}, false
		_, text, _ := render(t, KindSubscriptionSuspended, d)
		require.Contains(t, words(text), map[string]string{"en": "cannot use the Microsoft 365 services", "pl": "korzystać z usług Microsoft 365"}[lang])
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
