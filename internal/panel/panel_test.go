package panel_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/panel"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// The tests run the panel on a real store (a database of their own) behind
// an httptest server, with fakes for what it asks of the intake and the
// payment gateway. Each test takes fresh order ids, so they share one
// database and need no cleanup.

var (
	st  *store.Store
	seq atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	u, drop, err := pgtest.NewDatabase("officeflow_panel_test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "panel test:", err)
		return 1
	}
	defer drop()
	if st, err = store.Open(context.Background(), u); err != nil {
		fmt.Fprintln(os.Stderr, "panel test: open:", err)
		return 1
	}
	defer st.Close()
	return m.Run()
}

const base = "http://panel.test/panel"

// call is one request the panel made of its Actions.
type call struct {
	Method  string
	OrderID string
	Args    []any
}

type fakeActions struct {
	mu     sync.Mutex
	calls  []call
	err    error // answered by every call but MailPanelLinks
	mailed chan []store.PanelLink
	// window and windowSeats answer SeatWindow, which is not a request
	// and so not a call.
	window      time.Time
	windowSeats int
}

func (f *fakeActions) SeatWindow(context.Context, store.Order) (time.Time, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.window, f.windowSeats, nil
}

func (f *fakeActions) record(c call) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return f.err
}

func (f *fakeActions) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeActions) AddSeats(_ context.Context, o store.Order, requestID string, n int) (store.Charge, error) {
	return store.Charge{}, f.record(call{"AddSeats", o.ID, []any{requestID, n}})
}

func (f *fakeActions) AddUser(_ context.Context, o store.Order, userName, displayName string, licence bool) (store.User, error) {
	return store.User{}, f.record(call{"AddUser", o.ID, []any{userName, displayName, licence}})
}

func (f *fakeActions) AddDomain(_ context.Context, o store.Order, domain string, makeDefault bool) (store.Domain, error) {
	return store.Domain{}, f.record(call{"AddDomain", o.ID, []any{domain, makeDefault}})
}

func (f *fakeActions) CancelAtPeriodEnd(_ context.Context, o store.Order, actor, reason string) error {
	return f.record(call{"CancelAtPeriodEnd", o.ID, []any{actor}})
}

func (f *fakeActions) RemoveUser(_ context.Context, o store.Order, userName string) (store.User, error) {
	return store.User{}, f.record(call{"RemoveUser", o.ID, []any{userName}})
}

func (f *fakeActions) MailPanelLinks(_ context.Context, email string, links []store.PanelLink) error {
	f.mu.Lock()
	f.calls = append(f.calls, call{"MailPanelLinks", "", []any{email}})
	f.mu.Unlock()
	f.mailed <- links
	return nil
}

type fakePayer struct{ orders []string }

func (f *fakePayer) Pay(_ context.Context, orderID, lang string) (string, error) {
	f.orders = append(f.orders, orderID+"/"+lang)
	return "https://pay.test/trnRequest/" + orderID, nil
}

// env is a panel and what it talks to.
type env struct {
	t       *testing.T
	box     *secret.Box
	actions *fakeActions
	payer   *fakePayer
	srv     *httptest.Server
}

func newEnv(t *testing.T, change ...func(*panel.Options)) *env {
	t.Helper()
	box, err := secret.NewBox([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	e := &env{t: t, box: box, actions: &fakeActions{mailed: make(chan []store.PanelLink, 4)}, payer: &fakePayer{}}
	o := panel.Options{Store: st, Actions: e.actions, Payer: e.payer, Box: box, BaseURL: base, LinkTTL: time.Hour}
	for _, c := range change {
		c(&o)
	}
	p, err := panel.New(o)
	require.NoError(t, err)
	e.srv = httptest.NewServer(p)
	t.Cleanup(e.srv.Close)
	return e
}

// billed places an order in lang and opens its billing, as the saga does
// up to awaiting_payment; it answers the order id and its billing email's
// token.
func (e *env) billed(lang string) (string, string) {
	e.t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("panel-%d", seq.Add(1))
	r := order.Request{OrderID: id, Customer: order.Customer{Company: "Acme sp. z o.o.", Email: id + "@acme.pl", FirstName: "Jan", LastName: "Kowalski",
		TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1"},
		Plan: "business-standard", Seats: 5, DomainPrefix: strings.ReplaceAll(id, "-", ""), BillingCycle: "monthly", Language: lang}
	r.Normalize()
	_, err := st.PlaceOrder(ctx, r, time.Now().Add(168*time.Hour))
	require.NoError(e.t, err)
	token := e.box.Token(secret.PurposeBilling, id)
	_, err = st.OpenBilling(ctx, id, secret.Hash(token), time.Now())
	require.NoError(e.t, err)
	require.NoError(e.t, st.Transition(ctx, id, order.AwaitingPayment, "billing email sent"))
	return id, token
}

// provisioned is a billed order paid and made at the tenant: installer_ready.
func (e *env) provisioned(lang string) (string, string) {
	e.t.Helper()
	ctx := context.Background()
	id, token := e.billed(lang)
	o, err := st.GetOrder(ctx, id)
	require.NoError(e.t, err)
	_, err = st.RecordPayment(ctx, store.Payment{PaymentID: "p-" + id, OrderID: id, Status: "completed", Amount: o.Invoice.Gross, Currency: "PLN"})
	require.NoError(e.t, err)
	_, err = st.Settle(ctx, id, "p-"+id, time.Now())
	require.NoError(e.t, err)
	domain := o.DomainPrefix + ".onmicrosoft.com"
	_, err = st.SaveTenant(ctx, store.Tenant{OrderID: id, PartnerCustomer: "pc-" + id, TenantID: "t-" + id, Domain: domain, AdminUser: "admin@" + domain})
	require.NoError(e.t, err)
	_, err = st.SaveSubscription(ctx, store.Subscription{ID: "sub-" + id, OrderID: id, OfferID: "CFQ7TTC0LDPB:0001", Quantity: 5, Status: "active"})
	require.NoError(e.t, err)
	_, _, err = st.FinishOrder(ctx, id, func(store.Order) (string, error) { return order.DesktopInstaller, nil })
	require.NoError(e.t, err)
	return id, token
}

// response is a finished answer, its body read.
type response struct {
	*http.Response
	Body string
}

func (e *env) do(method, path, cookie string, form url.Values) response {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	require.NoError(e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "officeflow_panel", Value: cookie})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return response{res, string(b)}
}

func (e *env) get(path, cookie string) response { return e.do("GET", path, cookie, nil) }

func (e *env) post(path, cookie string, form url.Values) response {
	return e.do("POST", path, cookie, form)
}

// login opens a sign-in link and answers the session's cookie.
func (e *env) login(token string) string {
	e.t.Helper()
	r := e.get("/panel/login?token="+url.QueryEscape(token), "")
	require.Equal(e.t, http.StatusSeeOther, r.StatusCode, r.Body)
	c := cookieOf(r.Response)
	require.NotNil(e.t, c)
	return c.Value
}

func cookieOf(r *http.Response) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == "officeflow_panel" {
			return c
		}
	}
	return nil
}

var (
	csrfRe      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	requestIDRe = regexp.MustCompile(`name="request_id" value="([^"]+)"`)
)

// field is a hidden field of the page, as a browser would send it back.
func field(t *testing.T, re *regexp.Regexp, page string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	require.NotNil(t, m, "no %s in the page", re)
	return m[1]
}
