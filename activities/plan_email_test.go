package activities

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// SendEmail gives the installer_ready email the order's plan facts: each
// plan's email points where that plan's apps are and says what it gives
// (what each says in both languages is internal/mail's
// TestPlanEmailsSayWhatEachPlanGives).
func TestInstallerEmailFollowsTheOrdersPlan(t *testing.T) {
	a, sink := mailEnv(t)
	ctx := context.Background()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	for i, p := range order.Plans {
		r := order.Request{OrderID: "plan-" + p.Code, Customer: order.Customer{Company: "Acme sp. z o.o.", Email: p.Code + "@acme.pl", FirstName: "Jan", LastName: "Kowalski",
			TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1"},
			Plan: p.Code, Seats: 1, DomainPrefix: "acmeplan" + string(rune('a'+i)), BillingCycle: "monthly", Language: "en"}
		r.Normalize()
		_, err := a.Store.PlaceOrder(ctx, r, time.Now().Add(time.Hour))
		require.NoError(t, err)
		_, err = env.ExecuteActivity(a.SendEmail, r.OrderID, EmailInstallerReady)
		require.NoError(t, err, p.Code)
	}
	byPlan := map[string]string{}
	for _, m := range sink.Messages() {
		code, _, _ := strings.Cut(m.To[0], "@")
		byPlan[code] = m.Subject + "\n" + strings.Join(strings.Fields(m.Text), " ")
	}
	require.Len(t, byPlan, len(order.Plans))
	for code, text := range byPlan {
		p, _ := order.PlanByCode(code)
		require.Contains(t, text, p.InstallerURL(), code)
	}
	require.Contains(t, byPlan["business-standard"], "Install in 3 steps")
	require.Contains(t, byPlan["business-basic"], "does not include desktop apps")
	require.Contains(t, byPlan["apps-for-business"], "The plan does not include a mailbox")
	ex := byPlan["exchange-online-plan-1"]
	require.Contains(t, ex, "50 GB Exchange mailbox")
	require.Contains(t, ex, order.OutlookWeb)
	for _, never := range []string{"Word", "Excel", "PowerPoint", "nstaller", order.WebApps} {
		require.NotContains(t, ex, never)
	}
}

// SendNotice gives the post-purchase emails the order's plan facts too: a
// suspended subscription's email says what that plan's users cannot use
// and keep (what each such email says in both languages is internal/mail's
// TestPassingMentionsFollowThePlan and TestNoEmailClaimsWhatThePlanLacks).
func TestNoticeEmailsFollowTheOrdersPlan(t *testing.T) {
	a, sink := mailEnv(t)
	ctx := context.Background()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	for i, p := range order.Plans {
		r := order.Request{OrderID: "notice-" + p.Code, Customer: order.Customer{Company: "Acme sp. z o.o.", Email: p.Code + "@acme.pl", FirstName: "Jan", LastName: "Kowalski",
			TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1"},
			Plan: p.Code, Seats: 1, DomainPrefix: "acmenotice" + string(rune('a'+i)), BillingCycle: "monthly", Language: "en"}
		r.Normalize()
		_, err := a.Store.PlaceOrder(ctx, r, time.Now().Add(time.Hour))
		require.NoError(t, err)
		_, err = env.ExecuteActivity(a.SendNotice, Notice{OrderID: r.OrderID, Kind: EmailSubscriptionSuspended, Key: EmailSubscriptionSuspended + "#1"})
		require.NoError(t, err, p.Code)
	}
	byPlan := map[string]string{}
	for _, m := range sink.Messages() {
		code, _, _ := strings.Cut(m.To[0], "@")
		byPlan[code] = strings.Join(strings.Fields(m.Text), " ")
	}
	require.Len(t, byPlan, len(order.Plans))
	for code, want := range map[string]string{
		"business-basic":         "cannot use the Office apps and email for now, but all data (mailboxes, files in OneDrive) is kept.",
		"business-standard":      "cannot use the Office apps and email for now, but all data (mailboxes, files in OneDrive) is kept.",
		"business-premium":       "cannot use the Office apps and email for now, but all data (mailboxes, files in OneDrive) is kept.",
		"apps-for-business":      "cannot use the Office apps for now, but all data (files in OneDrive) is kept.",
		"exchange-online-plan-1": "cannot use email for now, but all data (mailboxes) is kept.",
	} {
		require.Contains(t, byPlan[code], want, code)
	}
}
