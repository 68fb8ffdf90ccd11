package panel_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/panel"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// The billing email's link signs in: 303 to the order's page with a
// session cookie the page script cannot read, sent to the panel only.
func TestLoginWithTheBillingLinkOpensTheOrder(t *testing.T) {
	e := newEnv(t)
	id, token := e.billed("pl")
	r := e.get("/panel/login?token="+url.QueryEscape(token), "")
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, base+"/orders/"+id, r.Header.Get("Location"))
	require.Equal(t, "no-referrer", r.Header.Get("Referrer-Policy"), "the sign-in URL holds the token")
	c := cookieOf(r.Response)
	require.NotNil(t, c)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Equal(t, "/panel/", c.Path)
	require.False(t, c.Secure, "the panel's address is http")
	require.Equal(t, 12*60*60, c.MaxAge)
	require.NotContains(t, c.Value, token)

	page := e.get("/panel/orders/"+id, c.Value)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Contains(t, page.Body, `data-status="awaiting_payment"`)
}

func TestSessionCookieIsSecureOnAnHTTPSPanel(t *testing.T) {
	e := newEnv(t, func(o *panel.Options) { o.BaseURL = "https://billing.example/panel" })
	id, token := e.billed("en")
	r := e.get("/panel/login?token="+url.QueryEscape(token), "")
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "https://billing.example/panel/orders/"+id, r.Header.Get("Location"))
	require.True(t, cookieOf(r.Response).Secure)
}

// A wrong, expired or revoked link is one 401 page that tells which of
// them it was to no one, and offers a new link; no session is made.
func TestBadLinksAreRefusedAlike(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	revokedID, revokedToken := e.billed("pl")
	id, token := e.billed("pl")
	require.NoError(t, st.RevokeBilling(ctx, revokedID))

	expired := "expired-" + id
	require.NoError(t, st.AddPanelLink(ctx, store.PanelLink{Hash: secret.Hash(expired), OrderID: id, Nonce: "n-" + id, ExpiresAt: time.Now().Add(-time.Minute)}))
	var pages []string
	for _, bad := range []string{"", "wrong", token + "x", expired, revokedToken} {
		r := e.get("/panel/login?token="+url.QueryEscape(bad), "")
		require.Equal(t, http.StatusUnauthorized, r.StatusCode, "token %q", bad)
		require.Contains(t, r.Body, `id="login-refused"`)
		require.Contains(t, r.Body, `id="link-form"`, "a new link is offered")
		for _, c := range r.Cookies() {
			_, err := st.PanelSession(ctx, secret.Hash(c.Value), time.Now())
			require.ErrorIs(t, err, store.ErrNotFound, "no session for a refused link")
		}
		pages = append(pages, csrfRe.ReplaceAllString(r.Body, ""))
	}
	for _, p := range pages[1:] {
		require.Equal(t, pages[0], p, "every refusal is the same page")
	}

	// The billing link works for LinkTTL from when billing was opened.
	short := newEnv(t, func(o *panel.Options) { o.LinkTTL = time.Nanosecond })
	require.Equal(t, http.StatusUnauthorized, short.get("/panel/login?token="+url.QueryEscape(token), "").StatusCode)
}

// A session sees its own order only: another one, known or not, is 404;
// without a session the page asks to sign in.
func TestSessionSeesOnlyItsOwnOrder(t *testing.T) {
	e := newEnv(t)
	id, token := e.billed("en")
	other, _ := e.billed("en")
	cookie := e.login(token)
	require.Equal(t, http.StatusOK, e.get("/panel/orders/"+id, cookie).StatusCode)
	for _, path := range []string{"/panel/orders/" + other, "/panel/orders/no-such-order", "/panel/orders/" + other + "/documents/1.pdf"} {
		r := e.get(path, cookie)
		require.Equal(t, http.StatusNotFound, r.StatusCode, path)
		require.NotContains(t, r.Body, other)
	}
	require.Equal(t, http.StatusUnauthorized, e.get("/panel/orders/"+id, "").StatusCode)
	require.Equal(t, http.StatusUnauthorized, e.get("/panel/orders/"+id, "bm90LWEtc2Vzc2lvbg").StatusCode)

	// Revoking billing access ends the session too.
	require.NoError(t, st.RevokeBilling(context.Background(), id))
	require.Equal(t, http.StatusUnauthorized, e.get("/panel/orders/"+id, cookie).StatusCode)
}

// The "send me a link" page answers the same for an address with an order
// and one without; the one with an order gets a fresh link that signs in,
// whose token the mailing run never carries.
func TestLinkRequestAnswersAlikeAndMailsAFreshLink(t *testing.T) {
	e := newEnv(t)
	id, _ := e.billed("pl")
	form := e.get("/panel/", "")
	require.Equal(t, http.StatusOK, form.StatusCode)
	require.Contains(t, form.Body, `id="link-form"`)
	require.Contains(t, form.Body, `<label for="email">`)
	browser := cookieOf(form.Response).Value
	csrf := field(t, csrfRe, form.Body)

	unknown := e.post("/panel/link", browser, url.Values{"csrf": {csrf}, "email": {"nobody-" + id + "@acme.pl"}})
	known := e.post("/panel/link", browser, url.Values{"csrf": {csrf}, "email": {strings.ToUpper(id) + "@ACME.PL"}})
	require.Equal(t, http.StatusOK, known.StatusCode)
	require.Equal(t, unknown.StatusCode, known.StatusCode)
	require.Equal(t, unknown.Body, known.Body, "the page does not tell whether the address has an order")
	require.Contains(t, known.Body, `id="link-sent"`)

	var links []store.PanelLink
	select {
	case links = <-e.actions.mailed:
	case <-time.After(10 * time.Second):
		t.Fatal("no link mailed for the address with an order")
	}
	require.Len(t, links, 1)
	require.Equal(t, id, links[0].OrderID)
	for _, c := range e.actions.Calls() {
		require.Equal(t, []any{id + "@acme.pl"}, c.Args, "only the known address is mailed")
	}
	token := e.box.Token(secret.PurposePanelLink, links[0].Nonce)
	require.Equal(t, secret.Hash(token), links[0].Hash)
	cookie := e.login(token)
	require.Equal(t, http.StatusOK, e.get("/panel/orders/"+id, cookie).StatusCode)
}

// Every POST needs the page's CSRF token, the link request too.
func TestLinkRequestWithoutCSRFIsForbidden(t *testing.T) {
	e := newEnv(t)
	id, _ := e.billed("pl")
	form := e.get("/panel/", "")
	browser := cookieOf(form.Response).Value
	for _, c := range []struct{ cookie, csrf string }{{browser, ""}, {browser, "forged"}, {"", field(t, csrfRe, form.Body)}} {
		r := e.post("/panel/link", c.cookie, url.Values{"csrf": {c.csrf}, "email": {id + "@acme.pl"}})
		require.Equal(t, http.StatusForbidden, r.StatusCode)
	}
	require.Empty(t, e.actions.Calls())
}

// Opening links and asking for them is limited per client and per
// address: past the limit, 429 and nothing is looked up or sent.
func TestSignInAttemptsAreRateLimited(t *testing.T) {
	e := newEnv(t, func(o *panel.Options) {
		o.PerClient = panel.Limit{Every: time.Hour, Burst: 4}
		o.PerEmail = panel.Limit{Every: time.Hour, Burst: 1}
	})
	id, token := e.billed("en")
	form := e.get("/panel/", "")
	browser, csrf := cookieOf(form.Response).Value, field(t, csrfRe, form.Body)
	ask := func(email string) int {
		return e.post("/panel/link", browser, url.Values{"csrf": {csrf}, "email": {email}}).StatusCode
	}
	require.Equal(t, http.StatusOK, ask("first-"+id+"@acme.pl"))
	require.Equal(t, http.StatusTooManyRequests, ask("first-"+id+"@acme.pl"), "one request per address")
	require.Equal(t, http.StatusOK, ask("second-"+id+"@acme.pl"), "another address still may")
	require.Equal(t, http.StatusUnauthorized, e.get("/panel/login?token=wrong", "").StatusCode)
	r := e.get("/panel/login?token="+url.QueryEscape(token), "")
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode, "the client's attempts are spent")
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	require.Nil(t, cookieOf(r.Response), "no session")
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	id, token := e.billed("en")
	cookie := e.login(token)
	page := e.get("/panel/orders/"+id, cookie)
	require.Equal(t, http.StatusForbidden, e.post("/panel/logout", cookie, url.Values{}).StatusCode)
	r := e.post("/panel/logout", cookie, url.Values{"csrf": {field(t, csrfRe, page.Body)}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, base+"/", r.Header.Get("Location"))
	require.Equal(t, http.StatusUnauthorized, e.get("/panel/orders/"+id, cookie).StatusCode)
}
