package activities

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// panelEnv is a billed order in a database of its own, a mail sink and the
// activities that mail through it.
func panelEnv(t *testing.T) (*Activities, *mail.Sink, string) {
	t.Helper()
	ctx := context.Background()
	a, sink := mailEnv(t)
	r := order.Request{OrderID: "panel-1", Customer: order.Customer{Company: "Acme sp. z o.o.", Email: "jan@acme.pl", FirstName: "Jan", LastName: "Kowalski",
		TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1"},
		Plan: "business-standard", Seats: 5, DomainPrefix: "acmepanel", BillingCycle: "monthly", Language: "en"}
	r.Normalize()
	_, err := a.Store.PlaceOrder(ctx, r, time.Now().Add(time.Hour))
	require.NoError(t, err)
	_, err = a.OpenBilling(ctx, r.OrderID)
	require.NoError(t, err)
	return a, sink, r.OrderID
}

// mailEnv is Activities on a database of their own, mailing to a sink.
func mailEnv(t *testing.T) (*Activities, *mail.Sink) {
	t.Helper()
	u, drop, err := pgtest.NewDatabase("officeflow_activities_test")
	require.NoError(t, err)
	t.Cleanup(drop)
	st, err := store.Open(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	sink, err := mail.StartSink("127.0.0.1:0", "", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sink.Close() })
	sender, err := mail.NewSender(mail.Config{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, From: "officeflow <no-reply@officeflow.local>"}, nil)
	require.NoError(t, err)
	box, err := secret.NewBox(make([]byte, 32))
	require.NoError(t, err)
	return &Activities{Store: st, Mail: sender, Box: box, BillingPanelURL: "https://billing.example/panel", Location: time.UTC}, sink
}

// The billing access email's link signs in: <panel>/login?token=, the
// token derived from the order (so a retried email holds the same link),
// its hash the one billing was opened with.
func TestBillingEmailLinkIsThePanelSignIn(t *testing.T) {
	box, err := secret.NewBox(make([]byte, 32))
	require.NoError(t, err)
	a := &Activities{Box: box, BillingPanelURL: "https://billing.example/panel"}
	token := box.Token(secret.PurposeBilling, "shop-1")
	require.Equal(t, "https://billing.example/panel/login?token="+token, a.panelURL("shop-1"))
}

// A requested link is mailed once to the order's address, in its
// language, holding the token its nonce derives; a retry sends nothing new.
func TestSendPanelLinkMailsTheLinkOnce(t *testing.T) {
	a, sink, id := panelEnv(t)
	ctx := context.Background()
	nonce := "0123456789abcdef0123456789abcdef"
	token := a.Box.Token(secret.PurposePanelLink, nonce)
	require.NoError(t, a.Store.AddPanelLink(ctx, store.PanelLink{Hash: secret.Hash(token), OrderID: id, Nonce: nonce, ExpiresAt: time.Now().Add(time.Hour)}))

	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	for range 2 {
		_, err := env.ExecuteActivity(a.SendPanelLink, PanelLink{OrderID: id, Nonce: nonce})
		require.NoError(t, err)
	}
	msgs := sink.Messages()
	require.Len(t, msgs, 1, "a retry finds the email recorded")
	m := msgs[0]
	require.Equal(t, []string{"jan@acme.pl"}, m.To)
	require.Contains(t, m.Subject, "sign-in link")
	require.Contains(t, m.Text, "https://billing.example/panel/login?token="+token)
	require.NotContains(t, m.Text, nonce)
}

func TestSendPanelLinkRefusesAnotherOrdersLinkAndSkipsAnExpiredOne(t *testing.T) {
	a, sink, id := panelEnv(t)
	ctx := context.Background()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)

	_, err := env.ExecuteActivity(a.SendPanelLink, PanelLink{OrderID: id, Nonce: "never-stored"})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable(), "no row for the nonce's token: retrying will not make one")

	nonce := "expired-nonce"
	token := a.Box.Token(secret.PurposePanelLink, nonce)
	require.NoError(t, a.Store.AddPanelLink(ctx, store.PanelLink{Hash: secret.Hash(token), OrderID: id, Nonce: nonce, ExpiresAt: time.Now().Add(-time.Minute)}))
	_, err = env.ExecuteActivity(a.SendPanelLink, PanelLink{OrderID: "someone-else", Nonce: nonce})
	require.ErrorAs(t, err, &appErr, "the link is not the named order's")
	_, err = env.ExecuteActivity(a.SendPanelLink, PanelLink{OrderID: id, Nonce: nonce})
	require.NoError(t, err)
	for _, m := range sink.Messages() {
		require.False(t, strings.Contains(m.Text, token), "an expired link is not mailed")
	}
}
