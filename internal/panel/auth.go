package panel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"go.uber.org/zap"
)

// Signing in. The browser holds one random id in a cookie: every form's
// CSRF token is an HMAC of it, so a page from another site cannot post a
// form, and, once a sign-in link is opened, it is also the session's id,
// whose hash the database keeps with the one order it may see. A browser
// without a cookie is given an id that opens nothing, so that the "send me
// a link" form has a token too; signing in always makes a new id, so an id
// planted before cannot be used after.

const cookieName = "officeflow_panel"

// maxLinks bounds the links one request mails: an address's most recent
// orders, each with its own link.
const maxLinks = 3

// browserID is the id in the browser's cookie, "" when it has none (or
// one that is not ours).
func browserID(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	if b, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil || len(b) != 32 {
		return ""
	}
	return c.Value
}

func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics if it cannot read)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie gives the browser id for maxAge (0: until the browser closes;
// negative: drops it).
func (p *Panel) setCookie(w http.ResponseWriter, id string, maxAge time.Duration) {
	c := &http.Cookie{Name: cookieName, Value: id, Path: p.path + "/", HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode}
	switch {
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	case maxAge < 0:
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// formID is the browser's id, given one when it has none: the CSRF token
// of a page's forms.
func (p *Panel) formID(w http.ResponseWriter, r *http.Request) string {
	if id := browserID(r); id != "" {
		return id
	}
	id := newID()
	p.setCookie(w, id, 0)
	return id
}

func (p *Panel) csrf(id string) string { return p.o.Box.Token(secret.PurposeCSRF, id) }

// checkCSRF tells whether a posted form holds the token of the browser's id.
func (p *Panel) checkCSRF(r *http.Request) bool {
	id := browserID(r)
	presented := r.PostFormValue("csrf")
	return id != "" && presented != "" && hmac.Equal([]byte(presented), []byte(p.csrf(id)))
}

// clientOf is who a sign-in attempt is counted against: the peer address.
// Behind a proxy that is the proxy's; the intake serves the panel directly.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// login opens a sign-in link: a good token makes a session for its order
// and sends the browser there; any other says only that the link does not
// work.
func (p *Panel) login(w http.ResponseWriter, r *http.Request) {
	if !p.clients.allow(clientOf(r)) {
		p.message(w, r, http.StatusTooManyRequests, "slowdown")
		return
	}
	orderID, err := p.grant(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		p.unavailable(w, r, "read sign-in link", err)
		return
	}
	if orderID == "" {
		p.linkForm(w, r, http.StatusUnauthorized, linkView{Refused: true})
		return
	}
	id := newID()
	if err := p.o.Store.OpenPanelSession(r.Context(), secret.Hash(id), orderID, time.Now().Add(sessionTTL)); err != nil {
		p.unavailable(w, r, "open session", err)
		return
	}
	p.setCookie(w, id, sessionTTL)
	http.Redirect(w, r, p.orderURL(orderID), http.StatusSeeOther)
}

// grant is the order a sign-in token opens, "" when it opens none: no row
// has its hash, the link expired, or the order's billing access was
// revoked. Which of these it was is told to no one.
func (p *Panel) grant(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > 256 {
		return "", nil
	}
	hash := secret.Hash(token)
	grants, err := p.o.Store.PanelGrants(ctx, hash)
	if err != nil {
		return "", err
	}
	now := time.Now()
	for _, g := range grants {
		expires := g.ExpiresAt
		if g.Billing {
			expires = g.CreatedAt.Add(p.o.LinkTTL)
		}
		// The index found the row by its hash; comparing again here, in
		// constant time, does not rest on how the database compares.
		if subtle.ConstantTimeCompare(g.Hash, hash) == 1 && g.Active && now.Before(expires) {
			return g.OrderID, nil
		}
	}
	return "", nil
}

// requestLink mails fresh sign-in links for the orders of an address and
// answers the same page whether it has any or not.
func (p *Panel) requestLink(w http.ResponseWriter, r *http.Request) {
	if !p.checkCSRF(r) {
		p.message(w, r, http.StatusForbidden, "forbidden")
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	if !p.clients.allow(clientOf(r)) || !p.emails.allow(email) {
		p.message(w, r, http.StatusTooManyRequests, "slowdown")
		return
	}
	if len(email) <= 254 && strings.Contains(email, "@") {
		// Off the request: an address with orders takes longer (a row, a
		// workflow), and the answer's timing must not tell. A failure is
		// only logged, for the same reason; the customer asks again.
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
			defer cancel()
			if err := p.mailLinks(ctx, email); err != nil {
				p.o.Log.Error("panel: links not mailed", zap.Error(err))
			}
		}()
	}
	p.linkForm(w, r, http.StatusOK, linkView{Sent: true})
}

// mailLinks records a link for each of the address's most recent orders
// and has them mailed. The token is derived from a random nonce, which is
// all the mailing workflow carries.
func (p *Panel) mailLinks(ctx context.Context, email string) error {
	ids, err := p.o.Store.PanelOrders(ctx, email, maxLinks)
	if err != nil || len(ids) == 0 {
		return err
	}
	links := make([]store.PanelLink, 0, len(ids))
	for _, id := range ids {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce := hex.EncodeToString(b)
		l := store.PanelLink{Hash: secret.Hash(p.o.Box.Token(secret.PurposePanelLink, nonce)), OrderID: id, Nonce: nonce,
			ExpiresAt: time.Now().Add(p.o.LinkTTL)}
		if err := p.o.Store.AddPanelLink(ctx, l); err != nil {
			return err
		}
		links = append(links, l)
	}
	return p.o.Actions.MailPanelLinks(ctx, email, links)
}

// logout ends the session; the browser keeps no id.
func (p *Panel) logout(w http.ResponseWriter, r *http.Request) {
	if !p.checkCSRF(r) {
		p.message(w, r, http.StatusForbidden, "forbidden")
		return
	}
	if err := p.o.Store.ClosePanelSession(r.Context(), secret.Hash(browserID(r))); err != nil {
		p.unavailable(w, r, "close session", err)
		return
	}
	p.setCookie(w, "", -1)
	http.Redirect(w, r, p.base+"/", http.StatusSeeOther)
}

// signedIn runs next for the session's own order; another order, known or
// not, does not exist for it.
func (p *Panel) signedIn(next func(w http.ResponseWriter, r *http.Request, o store.Order)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := browserID(r)
		orderID := ""
		if id != "" {
			var err error
			orderID, err = p.o.Store.PanelSession(r.Context(), secret.Hash(id), time.Now())
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				p.unavailable(w, r, "read session", err)
				return
			}
		}
		switch {
		case orderID == "":
			p.message(w, r, http.StatusUnauthorized, "ended")
			return
		case orderID != r.PathValue("order_id"):
			p.message(w, r, http.StatusNotFound, "notfound")
			return
		}
		o, err := p.o.Store.GetOrder(r.Context(), orderID)
		if err != nil {
			p.unavailable(w, r, "read order", err)
			return
		}
		next(w, r, o)
	}
}

// form is signedIn for a posted form, which must hold the page's CSRF
// token: without it nothing happens.
func (p *Panel) form(next func(w http.ResponseWriter, r *http.Request, o store.Order)) http.HandlerFunc {
	in := p.signedIn(next)
	return func(w http.ResponseWriter, r *http.Request) {
		if !p.checkCSRF(r) {
			p.message(w, r, http.StatusForbidden, "forbidden")
			return
		}
		in(w, r)
	}
}
