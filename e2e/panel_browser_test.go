package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

// The billing panel in a real browser: what it refuses first, then an
// order's whole way from the billing email to a tenant with users, paid
// through the Przelewy24 fake.

// desktop is the window of the tests that do not look at the layout.
const desktopWidth, desktopHeight = 1280, 900

// A wrong, an expired and a revoked sign-in link each show the 401 page,
// which names no order; revoking billing access also ends a session.
func TestPanelBrowserRefusesBadLinks(t *testing.T) {
	b := newBrowser(t, desktopWidth, desktopHeight)
	o := newOrder(t)
	id := o["order_id"].(string)
	require.Equal(t, 202, place(t, o).Status)
	link := billingLink(t, o)

	// A token nobody was given.
	require.Equal(t, int64(http.StatusUnauthorized), b.open(panelBase(link)+"/login?token="+strings.Repeat("x", 43)))
	b.visible("#login-refused")
	b.visible("#link-form") // and offers to mail a new link
	require.False(t, b.has("#status"), "no order shown")

	// The order's own link works, until PANEL_LINK_TTL after it was made.
	b.signIn(link, id)
	_, err := st.Store.Pool.Exec(context.Background(), `UPDATE billing_accounts SET created_at = $2 WHERE order_id = $1`,
		id, time.Now().Add(-cfg.PanelLinkTTL-time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(http.StatusUnauthorized), b.open(link), "an expired link")
	b.visible("#login-refused")
	require.NotContains(t, result(b, chromedp.OuterHTML(chromedp.CSS("main"))), id, "the 401 page names no order")

	// Revoked: the shop cancels the order, which revokes billing access.
	o2 := newOrder(t)
	id2 := o2["order_id"].(string)
	require.Equal(t, 202, place(t, o2).Status)
	link2 := billingLink(t, o2)
	b.signIn(link2, id2)
	require.Equal(t, 202, call(t, "POST", "/v1/orders/"+id2+"/cancel", shopKey, map[string]string{"reason": "browser test"}).Status)
	require.Equal(t, order.Cancelled, waitDone(t, id2).Status)
	require.Equal(t, int64(http.StatusUnauthorized), b.open(orderPage(link2, id2)), "the session ended with billing access")
	b.visible(`#message[data-kind="ended"]`)
	require.Equal(t, int64(http.StatusUnauthorized), b.open(link2), "a revoked link")
	b.visible("#login-refused")
}

// A session sees only its own order: another order's page and documents do
// not exist for it. A form posted without the page's CSRF token is refused
// with 403 and changes nothing. A user for whom no seat is free is refused
// on the page, with 422, and what was typed stays in the form.
func TestPanelBrowserRefusesOtherOrdersForgedFormsAndNoSeat(t *testing.T) {
	id, o := provisioned(t, 2) // the admin holds one seat
	other := newOrder(t)
	otherID := other["order_id"].(string)
	require.Equal(t, 202, place(t, other).Status)
	waitMail(t, emailOf(other), "billing_access")
	otherDocs, err := st.Store.Documents(context.Background(), otherID)
	require.NoError(t, err)
	require.NotEmpty(t, otherDocs)

	b := newBrowser(t, desktopWidth, desktopHeight)
	link := billingLink(t, o)
	page := orderPage(link, id)
	b.signIn(link, id)
	b.visible(`#status[data-status="installer_ready"]`)

	require.Equal(t, int64(http.StatusNotFound), b.open(orderPage(link, otherID)), "another order's page")
	b.visible(`#message[data-kind="notfound"]`)
	require.NotContains(t, result(b, chromedp.OuterHTML(chromedp.CSS("main"))), otherID)
	for _, u := range []string{
		fmt.Sprintf("%s/documents/%d.pdf", page, otherDocs[0].ID),
		fmt.Sprintf("%s/documents/%d.pdf", orderPage(link, otherID), otherDocs[0].ID),
	} {
		status, _, _ := b.fetch(u)
		require.Equal(t, http.StatusNotFound, status, "another order's document through %s", u)
	}

	// Forged forms: the page's own forms with the token taken out, or
	// replaced by one of another browser's.
	stranger := newBrowser(t, desktopWidth, desktopHeight)
	require.Equal(t, int64(http.StatusOK), stranger.open(panelBase(link)+"/"))
	strangerToken := stranger.attr(`#link-form input[name="csrf"]`, "value")
	before := changes(t, id)
	forms := []struct {
		form, button string
		fields       map[string]string
	}{
		{"#users-form", "#add-user", map[string]string{"#user_name": "forged", "#display_name": "Forged"}},
		{"#licences-form", "#add-licences", map[string]string{"#add_seats": "3"}},
		{"#domains-form", "#add-domain", map[string]string{"#domain": "forged.example"}},
	}
	for _, f := range forms {
		for _, forge := range []chromedp.Action[chromedp.Void]{
			chromedp.RemoveAttribute(chromedp.CSS(f.form+` input[name="csrf"]`), "name"),
			chromedp.SetAttributeValue(chromedp.CSS(f.form+` input[name="csrf"]`), "value", strangerToken),
		} {
			require.Equal(t, int64(http.StatusOK), b.open(page))
			b.fill(f.fields)
			b.do(forge)
			require.Equal(t, int64(http.StatusForbidden), b.submit(f.button), "%s without its token", f.form)
			b.visible(`#message[data-kind="forbidden"]`)
		}
	}
	require.Equal(t, before, changes(t, id), "a forged form changes nothing")

	// One seat left beside the admin's: the first licensed user takes it,
	// the second is refused.
	user := func(name string) int64 {
		require.Equal(t, int64(http.StatusOK), b.open(page))
		b.fill(map[string]string{"#user_name": name, "#display_name": strings.ToUpper(name[:1]) + name[1:]})
		b.visible("#assign_licence:checked") // a licence is the default
		return b.submit("#add-user")
	}
	require.Equal(t, int64(http.StatusOK), user("anna"), "303 back to the order page")
	require.Equal(t, page, b.location())
	require.Contains(t, b.text("#users"), "anna@"+o["domain_prefix"].(string)+".onmicrosoft.com")
	require.Equal(t, int64(http.StatusUnprocessableEntity), user("bartek"))
	b.visible(`#refused[data-form="users"]`)
	require.NotEmpty(t, b.text("#refused"))
	require.Equal(t, "bartek", b.value("#user_name"), "what was typed stays")
	require.Equal(t, 2, dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1`, id), "the admin and anna")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND user_name LIKE 'bartek@%'`, id))
}

// changes counts what a request from the panel would add to an order.
func changes(t *testing.T, orderID string) map[string]int {
	out := map[string]int{}
	for _, table := range []string{"tenant_users", "tenant_domains", "charges", "order_events", "invoices"} {
		out[table] = dbCount(t, `SELECT count(*) FROM `+table+` WHERE order_id = $1`, orderID)
	}
	return out
}

// An order's whole way through the panel, as its customer takes it: the
// link in the billing email, paying through Przelewy24's payer page, the
// VAT invoice, two more seats paid the same way, a user with a licence and
// a domain of the customer's own, verified once its TXT record is out.
func TestPanelBrowserFullPath(t *testing.T) {
	o := newOrder(t)
	id, prefix := o["order_id"].(string), o["domain_prefix"].(string)
	require.Equal(t, 202, place(t, o).Status)
	link := billingLink(t, o)
	page := orderPage(link, id)
	b := newBrowser(t, desktopWidth, desktopHeight)
	b.signIn(link, id)
	b.visible(`#status[data-status="awaiting_payment"]`)
	b.visible("#due .due-item")

	// The pay form needs its token too: without it nothing is registered.
	registered := len(st.P24Fake.Transactions())
	b.do(chromedp.RemoveAttribute(chromedp.CSS(`#pay-form input[name="csrf"]`), "name"))
	require.Equal(t, int64(http.StatusForbidden), b.submit("#pay"))
	require.Len(t, st.P24Fake.Transactions(), registered, "no transaction without the token")
	require.Equal(t, int64(http.StatusOK), b.open(page))

	payThroughP24(t, b, page)
	b.reloadUntil(page, shows(`#status[data-status="installer_ready"]`), 90*time.Second)
	require.False(t, b.has("#due"), "nothing due once paid")
	b.visible("#subscription")
	require.Equal(t, "5", b.text("#seats"))

	// The VAT invoice, downloaded with the browser's session.
	invoice := `#documents li[data-kind="invoice"]`
	number := b.text(invoice + " .number")
	status, ctype, pdf := b.fetch(b.abs(b.attr(invoice+" a.pdf", "href")))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "application/pdf", ctype)
	text := pdftest.Text(t, pdf)
	require.Contains(t, text, number)
	require.Contains(t, text, "Acme sp. z o.o.")
	require.Contains(t, text, "5260250995")

	// Two more seats: a pro-forma of their own, paid the same way.
	b.fill(map[string]string{"#add_seats": "2"})
	require.Equal(t, int64(http.StatusOK), b.submit("#add-licences"))
	require.Equal(t, page, b.location())
	b.reloadUntil(page, shows("#pay"), 30*time.Second)
	payThroughP24(t, b, page)
	b.reloadUntil(page, reads("#seats", "7"), 60*time.Second)
	require.False(t, b.has("#due"), "the seats are paid")
	notified := 0
	for _, n := range st.P24Fake.Notifications() {
		if strings.HasPrefix(n.SessionID, id+".") {
			notified++
		}
	}
	require.Equal(t, 2, notified, "both payments came as Przelewy24's notifications")

	// A user with a licence.
	upn := "anna@" + prefix + ".onmicrosoft.com"
	b.fill(map[string]string{"#user_name": "anna", "#display_name": "Anna Nowak"})
	b.visible("#assign_licence:checked")
	require.Equal(t, int64(http.StatusOK), b.submit("#add-user"))
	require.Equal(t, page, b.location())
	require.Contains(t, b.text("#users"), upn)
	// Anna's removal is offered once she is made; the admin, listed with
	// the licence it got at provisioning, is never offered for removal.
	b.reloadUntil(page, shows("#users form.remove-user"), 60*time.Second)
	require.Contains(t, b.text("#users"), "Anna Nowak")
	require.Contains(t, b.text("#users"), "admin@"+prefix+".onmicrosoft.com")
	require.Equal(t, "administrator", b.text("#users .tag.admin"))
	require.Equal(t, upn, b.attr(`#users form.remove-user input[name="user_name"]`, "value"), "only anna can be removed")

	// A domain of the customer's own: its TXT record is on the page; once
	// published, the domain is verified.
	domain := fmt.Sprintf("panel%d.pl", time.Now().UnixNano()%1e9)
	b.fill(map[string]string{"#domain": domain})
	b.do(chromedp.Click(chromedp.CSS("#make_default")))
	require.Equal(t, int64(http.StatusOK), b.submit("#add-domain"))
	require.Equal(t, page, b.location())
	b.reloadUntil(page, shows(`#domains li[data-state="pending"] code.txt`), 30*time.Second)
	var txtName, txtText string
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(),
		`SELECT txt_name, txt_text FROM tenant_domains WHERE order_id = $1 AND domain = $2`, id, domain).Scan(&txtName, &txtText))
	require.Equal(t, txtText, b.text("#domains code.txt"))
	require.Contains(t, b.text("#domains"), txtName)
	dns.SetTXT(txtName, txtText)
	b.reloadUntil(page, shows(`#domains li[data-state="verified"]`), 30*time.Second)
	require.Contains(t, b.text("#domains"), domain)

	// The user removed again: gone from the tenant, its seat free.
	require.Equal(t, int64(http.StatusOK), b.submit("#users form.remove-user button"))
	require.Equal(t, page, b.location())
	b.reloadUntil(page, shows("#users li .tag.removed"), 30*time.Second)
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM tenant_users WHERE order_id = $1 AND user_name = $2 AND status = 'removed'`, id, upn))
	require.False(t, b.has("#users form.remove-user"), "no removal offered for a removed user")
	cust, _ := atTenant(t, id)
	for _, u := range st.Fake.Users(cust) {
		require.NotEqual(t, upn, u.UserPrincipalName, "deleted at the tenant API")
	}

	// The subscription ends with its paid period, at the customer's word.
	require.Equal(t, int64(http.StatusOK), b.submit("#cancel-subscription"))
	require.Equal(t, page, b.location())
	require.False(t, b.has("#cancel-form"), "asked once, the form is gone")
	require.Contains(t, b.text("#subscription"), "subskrypcja kończy się")
	require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM services WHERE order_id = $1 AND cancel_at_period_end`, id))
}

// payThroughP24 presses the order page's pay button, chooses "paid" on the
// Przelewy24 fake's payer page, and comes back to the order's page.
func payThroughP24(t *testing.T, b *browser, page string) {
	t.Helper()
	require.Equal(t, int64(http.StatusOK), b.submit("#pay"))
	payer := b.location()
	require.True(t, strings.HasPrefix(payer, st.P24FakeURL+"/trnRequest/"), "the pay button leads to the payer page, not %s", payer)
	paid := `form:has(input[name="outcome"][value="paid"]) button`
	b.visible(`form:has(input[name="outcome"][value="failed"]) button`)
	require.Equal(t, int64(http.StatusOK), b.submit(paid))
	require.Equal(t, page, b.location(), "back on the order's page")
}
