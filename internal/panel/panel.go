// Package panel is the customer's billing panel: server-rendered HTML
// under /panel/ on the intake, in the order's language, that works without
// JavaScript. A customer signs in with a link from an email, sees one
// order (its status, what is due, its documents and, once paid, its
// subscription, users and domains) and asks for changes through forms.
//
// The panel records nothing of an order itself: its forms call Actions,
// the same code the shop's JSON API runs, so a request starts the same
// workflow under the same id from either side.
package panel

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"go.uber.org/zap"
)

// Actions are the requests after the purchase that the panel makes for its
// customer, and the mailing of sign-in links; intake.Server is one. A
// refusal is an *order.FieldError, store.ErrConflict, store.ErrNotActive or
// a *store.SeatsError; any other error means try again later.
type Actions interface {
	AddSeats(ctx context.Context, o store.Order, requestID string, n int) (store.Charge, error)
	AddUser(ctx context.Context, o store.Order, userName, displayName string, licence bool) (store.User, error)
	AddDomain(ctx context.Context, o store.Order, domain string, makeDefault bool) (store.Domain, error)
	MailPanelLinks(ctx context.Context, email string, links []store.PanelLink) error
	CancelAtPeriodEnd(ctx context.Context, o store.Order, actor, reason string) error
	RemoveUser(ctx context.Context, o store.Order, userName string) (store.User, error)
	// SeatWindow is until when seats can be given back, and how many (0:
	// any); a zero time when none can.
	SeatWindow(ctx context.Context, o store.Order) (until time.Time, seats int, err error)
}

// Payer sends the customer to a payment gateway for what the order has
// due, in the order's language, and answers the gateway's page to send
// them to.
type Payer interface {
	Pay(ctx context.Context, orderID string, lang string) (redirectURL string, err error)
}

// Limit is how many sign-in attempts a key (an address, a client) may
// make at once (Burst), and how often one more after that (Every).
type Limit struct {
	Every time.Duration
	Burst int
}

// Options are the panel's dependencies and settings.
type Options struct {
	Store   *store.Store
	Actions Actions
	// Payer offers the pay button; nil offers none (payments then arrive
	// only as the gateway's notification).
	Payer Payer
	// Box derives mailed links' tokens and forms' CSRF tokens
	// (CREDENTIALS_KEY, the worker's too).
	Box *secret.Box
	// BaseURL is the panel's public address, BILLING_PANEL_URL: redirects
	// go there, links and the cookie use its path, https makes the
	// cookie Secure.
	BaseURL string
	// LinkTTL is how long a sign-in link works (PANEL_LINK_TTL).
	LinkTTL time.Duration
	Log     *zap.Logger
	// PerClient and PerEmail limit sign-in attempts (links opened, links
	// asked for) per client address and per email address; zero is
	// DefaultPerClient, DefaultPerEmail.
	PerClient, PerEmail Limit
}

// Defaults of Options.PerClient and Options.PerEmail: a person retrying a
// link or two passes, a script trying tokens or flooding an inbox does not.
var (
	DefaultPerClient = Limit{Every: 30 * time.Second, Burst: 20}
	DefaultPerEmail  = Limit{Every: 10 * time.Minute, Burst: 3}
)

// sessionTTL is how long a sign-in lasts; then the customer opens the
// link again (or asks for a new one).
const sessionTTL = 12 * time.Hour

// Panel serves the billing panel under /panel/.
type Panel struct {
	o       Options
	base    string // BaseURL without a trailing slash
	path    string // its path: "/panel" by default, "" at a host's root
	secure  bool
	pages   map[string]map[string]*template.Template // language, page
	clients *limiter
	emails  *limiter
	mux     *http.ServeMux
}

// New checks the options and builds the panel.
func New(o Options) (*Panel, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("panel: base URL %q is not an http(s) URL", o.BaseURL)
	}
	if o.Store == nil || o.Actions == nil || o.Box == nil || o.LinkTTL <= 0 {
		return nil, fmt.Errorf("panel: a store, actions, a key and a link lifetime are required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.PerClient.Burst == 0 {
		o.PerClient = DefaultPerClient
	}
	if o.PerEmail.Burst == 0 {
		o.PerEmail = DefaultPerEmail
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	p := &Panel{
		o: o, base: strings.TrimSuffix(o.BaseURL, "/"), path: strings.TrimSuffix(u.EscapedPath(), "/"),
		secure: u.Scheme == "https", pages: pages,
		clients: newLimiter(o.PerClient), emails: newLimiter(o.PerEmail), mux: http.NewServeMux(),
	}
	// The routes are the intake's /panel/ whatever the public address: a
	// proxy may serve the panel at another path (BaseURL's), which the
	// pages' links and the cookie follow.
	m := p.mux
	m.HandleFunc("GET /panel/{$}", p.linkPage)
	m.HandleFunc("GET /panel/login", p.login)
	m.HandleFunc("POST /panel/link", p.requestLink)
	m.HandleFunc("POST /panel/logout", p.logout)
	m.HandleFunc("GET /panel/orders/{order_id}", p.signedIn(p.orderPage))
	m.HandleFunc("GET /panel/orders/{order_id}/documents/{file}", p.signedIn(p.documentPDF))
	m.HandleFunc("POST /panel/orders/{order_id}/pay", p.form(p.pay))
	m.HandleFunc("POST /panel/orders/{order_id}/licences", p.form(p.licences))
	m.HandleFunc("POST /panel/orders/{order_id}/users", p.form(p.users))
	m.HandleFunc("POST /panel/orders/{order_id}/users/remove", p.form(p.removeUser))
	m.HandleFunc("POST /panel/orders/{order_id}/domains", p.form(p.domains))
	m.HandleFunc("POST /panel/orders/{order_id}/subscription/cancel", p.form(p.cancelSubscription))
	m.HandleFunc("/panel/", func(w http.ResponseWriter, r *http.Request) {
		p.message(w, r, http.StatusNotFound, "notfound")
	})
	return p, nil
}

// ServeHTTP answers every request with the panel's security headers.
func (p *Panel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Inline CSS only, no scripts, no frames; the sign-in URL holds a
	// token, so no page sends a Referer; nothing a customer sees
	// (invoices, users) stays in a cache.
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			p.o.Log.Error("panel handler panicked", zap.Any("panic", v), zap.String("path", r.URL.Path))
			p.message(w, r, http.StatusInternalServerError, "unavailable")
		}
	}()
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	p.mux.ServeHTTP(w, r)
}

// maxForm bounds a form's body: the largest holds a name and a domain.
const maxForm = 16 << 10

// orderURL is the public address of an order's page.
func (p *Panel) orderURL(orderID string) string {
	return p.base + "/orders/" + url.PathEscape(orderID)
}

// unavailable answers a failure of the database, Temporal or the gateway:
// the customer may try again.
func (p *Panel) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.o.Log.Error("panel: "+what, zap.Error(err))
	w.Header().Set("Retry-After", "5")
	p.message(w, r, http.StatusServiceUnavailable, "unavailable")
}
