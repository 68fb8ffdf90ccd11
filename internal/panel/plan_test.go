package panel_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

var planFactsLine = regexp.MustCompile(`<dd id="plan-facts" data-apps="([a-z]+)">([^<]*)</dd>`)

// The subscription shows in one line what the order's plan gives each
// user, from the plan facts, and the installer link goes where the plan's
// apps are: the desktop installer, the web apps, or Outlook on the web for
// Exchange Online, whatever address the installer step kept.
func TestOrderPageShowsWhatThePlanGives(t *testing.T) {
	want := map[string]map[string]string{
		"en": {
			"business-basic":         "Office web and mobile apps (no desktop apps) · a 50 GB mailbox · Microsoft Teams",
			"business-standard":      "Office desktop, web and mobile apps · a 50 GB mailbox · Microsoft Teams",
			"business-premium":       "Office desktop, web and mobile apps · a 50 GB mailbox · Microsoft Teams",
			"apps-for-business":      "Office desktop, web and mobile apps · no mailbox",
			"exchange-online-plan-1": "no Office apps · a 50 GB mailbox",
		},
		"pl": {
			"business-basic":         "aplikacje Office w przeglądarce i na telefon (bez aplikacji klasycznych) · skrzynka pocztowa 50 GB · Microsoft Teams",
			"business-standard":      "aplikacje Office na komputer, w przeglądarce i na telefon · skrzynka pocztowa 50 GB · Microsoft Teams",
			"business-premium":       "aplikacje Office na komputer, w przeglądarce i na telefon · skrzynka pocztowa 50 GB · Microsoft Teams",
			"apps-for-business":      "aplikacje Office na komputer, w przeglądarce i na telefon · bez skrzynki pocztowej",
			"exchange-online-plan-1": "bez aplikacji Office · skrzynka pocztowa 50 GB",
		},
	}
	link := map[order.Apps]map[string]string{
		order.AppsDesktop: {"en": "Install the Office desktop apps", "pl": "Zainstaluj aplikacje Office na komputerze"},
		order.AppsWeb:     {"en": "Open the Office web apps", "pl": "Otwórz aplikacje Office w przeglądarce"},
		order.AppsNone:    {"en": "Open Outlook on the web", "pl": "Otwórz Outlooka w przeglądarce"},
	}
	e := newEnv(t)
	for _, lang := range []string{"en", "pl"} {
		require.Len(t, want[lang], len(order.Plans))
		for _, p := range order.Plans {
			id, token := e.provisioned(lang)
			_, err := st.Pool.Exec(context.Background(), `UPDATE orders SET plan = $2 WHERE order_id = $1`, id, p.Code)
			require.NoError(t, err)
			page := e.get("/panel/orders/"+id, e.login(token)).Body
			m := planFactsLine.FindStringSubmatch(page)
			require.NotNil(t, m, "%s %s: no plan facts line", p.Code, lang)
			require.Equal(t, string(p.Apps), m[1], p.Code)
			require.Equal(t, want[lang][p.Code], m[2], "%s %s", p.Code, lang)
			require.Contains(t, page, `<a href="`+p.InstallerURL()+`" id="installer" data-apps="`+string(p.Apps)+`">`+link[p.Apps][lang]+`</a>`, p.Code)
			if p.Apps == order.AppsNone {
				require.NotContains(t, page, order.WebApps, "no web apps for a mailbox-only plan")
			}
			require.False(t, strings.Contains(page, "plan.") || strings.Contains(page, "tenant.start"), "a message key shows")
		}
	}
}

var windowHint = regexp.MustCompile(`<span class="hint" id="window-hint"[^>]*>([^<]*)</span>`)

// The licence form says until when seats can be given back, as the
// subscription answers it, in Polish time; or that the time has passed.
func TestOrderPageShowsTheCancellationWindow(t *testing.T) {
	e := newEnv(t)
	id, token := e.provisioned("en")
	cookie := e.login(token)
	hint := func() string {
		m := windowHint.FindStringSubmatch(e.get("/panel/orders/"+id, cookie).Body)
		require.NotNil(t, m, "the licence form has the window's hint")
		return m[1]
	}
	require.Contains(t, hint(), "has passed", "no window open")
	e.actions.mu.Lock()
	e.actions.window = time.Date(2027, 1, 17, 9, 0, 0, 0, time.UTC)
	e.actions.mu.Unlock()
	require.Equal(t, "Licences can be given back until 2027-01-17 10:00 (168 hours from their purchase or renewal).", hint())
	e.actions.mu.Lock()
	e.actions.windowSeats = 2
	e.actions.mu.Unlock()
	require.Equal(t, "Until 2027-01-17 10:00, 2 licences bought can be given back (168 hours from their purchase).", hint())
}
