package order_test

import (
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// What Microsoft puts in each plan, per user, as the emails, the panel and
// the installer step are told it.
func TestPlanFacts(t *testing.T) {
	type facts struct {
		apps      order.Apps
		mailboxGB int
		teams     bool
		installer string
	}
	want := map[string]facts{
		"business-basic":         {order.AppsWeb, 50, true, order.WebApps},
		"business-standard":      {order.AppsDesktop, 50, true, order.DesktopInstaller},
		"business-premium":       {order.AppsDesktop, 50, true, order.DesktopInstaller},
		"apps-for-business":      {order.AppsDesktop, 0, false, order.DesktopInstaller},
		"exchange-online-plan-1": {order.AppsNone, 50, false, order.OutlookWeb},
	}
	require.Len(t, order.Plans, len(want))
	for _, p := range order.Plans {
		w, ok := want[p.Code]
		require.True(t, ok, p.Code)
		require.True(t, p.Apps.Valid(), p.Code)
		require.Equal(t, w, facts{p.Apps, p.MailboxGB, p.Teams, p.InstallerURL()}, p.Code)
		require.Equal(t, w.apps == order.AppsDesktop, p.DesktopApps(), p.Code)
		require.Equal(t, w.mailboxGB > 0, p.Mailbox(), p.Code)
		require.Equal(t, p.Code != "exchange-online-plan-1", p.OneDrive(), p.Code)
		byCode, ok := order.PlanByCode(p.Code)
		require.True(t, ok)
		require.Equal(t, p, byCode)
	}
	_, ok := order.PlanByCode("no-such-plan")
	require.False(t, ok)
}

func TestAppsValid(t *testing.T) {
	for _, a := range []order.Apps{order.AppsDesktop, order.AppsWeb, order.AppsNone} {
		require.True(t, a.Valid(), a)
	}
	for _, a := range []order.Apps{"", "Desktop", "mobile"} {
		require.False(t, a.Valid(), a)
	}
}
