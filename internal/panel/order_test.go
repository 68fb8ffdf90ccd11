package panel_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/panel"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// An unpaid order's page: its status in an element the browser test finds
// by data-status, what is due and by when, each document with its PDF, and
// the pay button; in the order's language, with the security headers.
func TestOrderPageShowsStatusDueAndDocuments(t *testing.T) {
	e := newEnv(t)
	id, token := e.billed("en")
	cookie := e.login(token)
	o, err := st.GetOrder(context.Background(), id)
	require.NoError(t, err)
	docs, err := st.Documents(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, docs, 1)

	r := e.get("/panel/orders/"+id, cookie)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
	require.Contains(t, r.Header.Get("Content-Security-Policy"), "default-src 'self'")
	require.Contains(t, r.Body, `<html lang="en">`)
	require.Contains(t, r.Body, `<meta name="viewport"`)
	require.Contains(t, r.Body, `data-status="awaiting_payment"`)
	require.Contains(t, r.Body, "Awaiting payment")
	require.Contains(t, r.Body, `id="documents"`)
	require.Contains(t, r.Body, docs[0].Number)
	require.Contains(t, r.Body, `class="pdf" href="/panel/orders/`+id+`/documents/`+strconv.FormatInt(docs[0].ID, 10)+`.pdf"`)
	for _, amount := range []string{o.Invoice.Gross.Local("en"), o.Invoice.Net.Local("en"), o.Invoice.VAT.Local("en")} {
		require.Contains(t, r.Body, amount)
	}
	require.Contains(t, r.Body, o.PaymentDeadline.In(warsaw(t)).Format("2006-01-02 15:04"), "due by the deadline")
	require.Contains(t, r.Body, `id="pay"`)
	require.NotContains(t, r.Body, "<script")
	require.NotContains(t, r.Body, `id="users-form"`, "nothing to manage before payment")

	// Polish for a Polish order; without a payment gateway, no pay button.
	pl := newEnv(t, func(o *panel.Options) { o.Payer = nil })
	plID, plToken := pl.billed("pl")
	page := pl.get("/panel/orders/"+plID, pl.login(plToken)).Body
	require.Contains(t, page, `<html lang="pl">`)
	require.Contains(t, page, "Czeka na płatność")
	require.Contains(t, page, "Faktura pro forma")
	require.NotContains(t, page, `id="pay"`)
}

func warsaw(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	return loc
}

// A document's PDF is served to its order's session only, never cached.
func TestDocumentPDFIsTheSessionsOwn(t *testing.T) {
	e := newEnv(t)
	id, token := e.billed("en")
	other, _ := e.billed("en")
	cookie := e.login(token)
	mine, err := st.Documents(context.Background(), id)
	require.NoError(t, err)
	theirs, err := st.Documents(context.Background(), other)
	require.NoError(t, err)

	r := e.get("/panel/orders/"+id+"/documents/"+strconv.FormatInt(mine[0].ID, 10)+".pdf", cookie)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	require.True(t, strings.HasPrefix(r.Body, "%PDF"))

	for _, path := range []string{
		"/panel/orders/" + id + "/documents/" + strconv.FormatInt(theirs[0].ID, 10) + ".pdf", // another order's document
		"/panel/orders/" + id + "/documents/" + strconv.FormatInt(mine[0].ID, 10),            // not .pdf
		"/panel/orders/" + id + "/documents/x.pdf",
	} {
		require.Equal(t, http.StatusNotFound, e.get(path, cookie).StatusCode, path)
	}
	require.Equal(t, http.StatusUnauthorized, e.get("/panel/orders/"+id+"/documents/"+strconv.FormatInt(mine[0].ID, 10)+".pdf", "").StatusCode)
}

// After payment the page shows the subscription, seats, users and
// domains with the TXT record to publish, the admin address and the
// installer, and offers the forms.
func TestProvisionedOrderPageShowsWhatWasMade(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id, token := e.provisioned("en")
	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	_, err = st.AddUser(ctx, store.UserRequest{OrderID: id, UserName: "anna@" + o.Domain, DisplayName: "Anna Nowak", Licensed: true, Hash: []byte("h")})
	require.NoError(t, err)
	domain := strings.ReplaceAll(id, "-", "") + ".pl"
	_, err = st.AddDomain(ctx, id, domain, true, time.Now().Add(336*time.Hour))
	require.NoError(t, err)
	require.NoError(t, st.DomainRecord(ctx, domain, "@", "MS=ms12345678"))

	page := e.get("/panel/orders/"+id, e.login(token)).Body
	require.Contains(t, page, `data-status="installer_ready"`)
	require.Contains(t, page, `id="subscription"`)
	require.Contains(t, page, `<dd id="seats">5</dd>`)
	require.Contains(t, page, `<dd id="term" data-term="P1M">1 month</dd>`, "the term at Microsoft")
	require.Contains(t, page, "anna@"+o.Domain)
	require.Contains(t, page, "Anna Nowak")
	require.Contains(t, page, domain)
	require.Contains(t, page, "MS=ms12345678")
	require.Contains(t, page, o.Tenant.AdminUser)
	require.Contains(t, page, `id="installer"`)
	require.Contains(t, page, order.DesktopInstaller)
	for _, name := range []string{"add_seats", "request_id", "user_name", "display_name", "assign_licence", "domain", "make_default"} {
		require.Contains(t, page, `name="`+name+`"`)
	}
	require.NotContains(t, page, `id="pay"`, "nothing is due")
}

// Every form needs the page's CSRF token: without it, 403 and nothing is
// asked of the intake.
func TestFormsWithoutCSRFChangeNothing(t *testing.T) {
	e := newEnv(t)
	id, token := e.provisioned("en")
	cookie := e.login(token)
	page := e.get("/panel/orders/"+id, cookie).Body
	rid := field(t, requestIDRe, page)
	forms := map[string]url.Values{
		"licences":            {"add_seats": {"3"}, "request_id": {rid}},
		"users":               {"user_name": {"jan"}, "display_name": {"Jan Nowak"}, "assign_licence": {"true"}},
		"domains":             {"domain": {"acme.pl"}},
		"pay":                 {},
		"subscription/cancel": {},
		"users/remove":        {"user_name": {"jan@acme.onmicrosoft.com"}},
	}
	for path, form := range forms {
		for _, csrf := range []string{"", "forged", field(t, csrfRe, e.get("/panel/", "").Body)} {
			form.Set("csrf", csrf)
			r := e.post("/panel/orders/"+id+"/"+path, cookie, form)
			require.Equal(t, http.StatusForbidden, r.StatusCode, "%s with csrf %q", path, csrf)
		}
	}
	require.Empty(t, e.actions.Calls())
	require.Empty(t, e.payer.orders)
}

// Each form asks the intake with what was typed (the licence form with
// the page's request id, so a second submit is the same request) and
// sends the browser back to the order page.
func TestFormsAskTheIntakeAndReturnToTheOrder(t *testing.T) {
	e := newEnv(t)
	id, token := e.provisioned("en")
	other, _ := e.provisioned("en")
	cookie := e.login(token)
	page := e.get("/panel/orders/"+id, cookie).Body
	csrf, rid := field(t, csrfRe, page), field(t, requestIDRe, page)
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"licences", url.Values{"add_seats": {"3"}, "request_id": {rid}}},
		{"licences", url.Values{"add_seats": {"3"}, "request_id": {rid}}},
		{"users", url.Values{"user_name": {" jan "}, "display_name": {"Jan Nowak"}, "assign_licence": {"true"}}},
		{"domains", url.Values{"domain": {"acme.pl"}, "make_default": {"true"}}},
		{"domains", url.Values{"domain": {"acme.pl"}}},
		{"subscription/cancel", url.Values{}},
		{"users/remove", url.Values{"user_name": {"jan@acme.onmicrosoft.com"}}},
	} {
		c.form.Set("csrf", csrf)
		r := e.post("/panel/orders/"+id+"/"+c.path, cookie, c.form)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, "%s: %s", c.path, r.Body)
		require.Equal(t, base+"/orders/"+id, r.Header.Get("Location"))
	}
	require.Equal(t, []call{
		{"AddSeats", id, []any{rid, 3}},
		{"AddSeats", id, []any{rid, 3}},
		{"AddUser", id, []any{"jan", "Jan Nowak", true}},
		{"AddDomain", id, []any{"acme.pl", true}},
		{"AddDomain", id, []any{"acme.pl", false}},
		{"CancelAtPeriodEnd", id, []any{"customer"}},
		{"RemoveUser", id, []any{"jan@acme.onmicrosoft.com"}},
	}, e.actions.Calls())

	// Another order's forms do not exist for this session.
	r := e.post("/panel/orders/"+other+"/users", cookie, url.Values{"csrf": {csrf}, "user_name": {"x"}, "display_name": {"X"}})
	require.Equal(t, http.StatusNotFound, r.StatusCode)
	require.Len(t, e.actions.Calls(), 7)
}

// A refused request shows the page again with the reason, in the order's
// language, and what was typed; 422.
func TestRefusedRequestShowsTheReason(t *testing.T) {
	e := newEnv(t)
	id, token := e.provisioned("pl")
	cookie := e.login(token)
	csrf := field(t, csrfRe, e.get("/panel/orders/"+id, cookie).Body)

	e.actions.err = &store.SeatsError{Seats: 5, InUse: 5, Message: "no free seat"}
	r := e.post("/panel/orders/"+id+"/users", cookie, url.Values{"csrf": {csrf}, "user_name": {"jan"}, "display_name": {"Jan Nowak"}, "assign_licence": {"true"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Body, `id="refused"`)
	require.Contains(t, r.Body, "Brak wolnej licencji")
	require.Contains(t, r.Body, `value="Jan Nowak"`, "what was typed is kept")
	require.Contains(t, r.Body, `data-status="installer_ready"`)

	e.actions.err = &order.FieldError{Field: "domain", Code: "invalid", Message: "domain must be a registered domain name"}
	r = e.post("/panel/orders/"+id+"/domains", cookie, url.Values{"csrf": {csrf}, "domain": {"not a domain"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Body, "zarejestrowaną domenę")

	e.actions.err = nil
	r = e.post("/panel/orders/"+id+"/licences", cookie, url.Values{"csrf": {csrf}, "add_seats": {"many"}, "request_id": {"r1"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "not a number: refused before the intake is asked")

	e.actions.err = errors.New("temporal: connection refused")
	r = e.post("/panel/orders/"+id+"/licences", cookie, url.Values{"csrf": {csrf}, "add_seats": {"1"}, "request_id": {"r2"}})
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "not a refusal: try again")
	require.NotContains(t, r.Body, "connection refused")
}

// The pay form sends the customer to the gateway's page for what is due.
func TestPayGoesToTheGateway(t *testing.T) {
	e := newEnv(t)
	id, token := e.billed("pl")
	cookie := e.login(token)
	csrf := field(t, csrfRe, e.get("/panel/orders/"+id, cookie).Body)
	r := e.post("/panel/orders/"+id+"/pay", cookie, url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "https://pay.test/trnRequest/"+id, r.Header.Get("Location"))
	require.Equal(t, []string{id + "/pl"}, e.payer.orders)

	// Paid: nothing is due, and the form only shows the page again.
	paid, paidToken := e.provisioned("pl")
	paidCookie := e.login(paidToken)
	csrf = field(t, csrfRe, e.get("/panel/orders/"+paid, paidCookie).Body)
	r = e.post("/panel/orders/"+paid+"/pay", paidCookie, url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, base+"/orders/"+paid, r.Header.Get("Location"))
	require.Len(t, e.payer.orders, 1)
}

// The order's status is on one element only: a browser test finds it by
// [data-status] without meeting a document's or a domain's state first.
func TestOneElementCarriesTheOrderStatus(t *testing.T) {
	e := newEnv(t)
	id, token := e.provisioned("en")
	page := e.get("/panel/orders/"+id, e.login(token)).Body
	body := page[strings.Index(page, "<body"):]
	require.Equal(t, 1, strings.Count(body, "data-status="), body)
	require.Contains(t, body, `id="status" data-status="installer_ready"`)
}
