package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The billing panel as a customer sees it: a headless Chromium driven over
// the DevTools protocol (chromedp), against the stack TestMain started.
// Each browser has a profile of its own, so its cookies are one customer's
// session.

// browserStep bounds one action of a browser: a page load, a click and the
// pages it leads to, a wait for an element.
const browserStep = 30 * time.Second

// chromiumPath is the browser to drive: Debian's chromium, which .ci/run
// installs, or another Chromium or Chrome on the PATH. With none the test
// fails: the panel's browser tests are never skipped.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium on the PATH (looked for chromium, chromium-browser, google-chrome): " +
		"the billing panel's browser tests need one; on Debian: apt-get install -y chromium (.ci/run does)")
	return ""
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts a headless Chromium whose page is width×height CSS
// pixels; it is closed when the test ends.
func newBrowser(t *testing.T, width, height int64) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.DisableGPU,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox does not start
		chromedp.WindowSize(int(width), int(height)),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	// The first call starts the browser and binds it to ctx, which has no
	// deadline of its own; each later step has browserStep.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		require.NoError(t, err, "start %s", path)
	case <-time.After(browserStep):
		t.Fatalf("%s did not start within %s", path, browserStep)
	}
	b.do(chromedp.EmulateViewport(width, height))
	return b
}

// step is a context for one action.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, browserStep)
}

// do runs actions that return nothing.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...))
}

// result runs one action and returns its value.
func result[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(b.t, err)
	return v
}

// open loads a page and returns its HTTP status (after redirects).
func (b *browser) open(u string) int64 {
	b.t.Helper()
	resp := result(b, chromedp.NavigateResponse(u))
	require.NotNil(b.t, resp, "no response for %s", u)
	return resp.Status
}

// submit clicks a form's button and returns the status of the page the
// form leads to, after any redirects.
func (b *browser) submit(button string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	require.NoError(b.t, err, "submit %s", button)
	require.NotNil(b.t, resp, "no response after %s", button)
	return resp.Status
}

// fill types into a form's fields, emptied first.
func (b *browser) fill(fields map[string]string) {
	b.t.Helper()
	for sel, v := range fields {
		b.do(chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), v))
	}
}

func (b *browser) visible(sel string) { b.t.Helper(); b.do(chromedp.WaitVisible(chromedp.CSS(sel))) }

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(result(b, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	r := result(b, chromedp.AttributeValue(chromedp.CSS(sel), name))
	require.True(b.t, r.Exists, "%s has no attribute %s", sel, name)
	return r.Value
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return result(b, chromedp.Value(chromedp.CSS(sel)))
}

func (b *browser) location() string { b.t.Helper(); return result(b, chromedp.Location()) }

// has tells whether the current page has an element matching sel, without
// waiting for one.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	return result(b, chromedp.Evaluate[bool](shows(sel)))
}

// reloadUntil loads u again until its page makes the JavaScript expression
// cond true (see shows and reads): the panel has no scripts, so a customer
// waiting for the order to move on reloads the page too.
func (b *browser) reloadUntil(u, cond string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		status := b.open(u)
		if status == http.StatusOK && result(b, chromedp.Evaluate[bool](cond)) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never made %s true within %s (last status %d)", u, cond, within, status)
		}
		select {
		case <-b.ctx.Done():
			b.t.Fatalf("browser closed while waiting for %s", cond)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// shows is a condition for reloadUntil: the page has an element matching sel.
func shows(sel string) string { return fmt.Sprintf("document.querySelector(%s) !== null", js(sel)) }

// reads is a condition for reloadUntil: the element matching sel has the text.
func reads(sel, text string) string {
	return fmt.Sprintf("(document.querySelector(%s)?.textContent ?? '').trim() === %s", js(sel), js(text))
}

// js is s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// cookieHeader is the Cookie header the browser sends to u: its panel
// session, for requests made outside the browser.
func (b *browser) cookieHeader(u string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	require.NoError(b.t, err)
	var parts []string
	for _, c := range res.Cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	require.NotEmpty(b.t, parts, "the browser has no cookie for %s", u)
	return strings.Join(parts, "; ")
}

// fetch GETs u with the browser's cookies, as the browser would when the
// customer opens a link that downloads a file.
func (b *browser) fetch(u string) (status int, contentType string, body []byte) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(b.t, err)
	req.Header.Set("Cookie", b.cookieHeader(u))
	resp, err := (&http.Client{Timeout: browserStep}).Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// abs makes a link of the current page absolute.
func (b *browser) abs(href string) string {
	b.t.Helper()
	base, err := url.Parse(b.location())
	require.NoError(b.t, err)
	ref, err := url.Parse(href)
	require.NoError(b.t, err)
	return base.ResolveReference(ref).String()
}

var loginLink = regexp.MustCompile(`https?://[^\s"'<>]+/login\?token=[A-Za-z0-9_-]+`)

// billingLink is the sign-in link of the order's billing email. It must
// lead to this stack's panel: a customer cannot open any other.
func billingLink(t *testing.T, o map[string]any) string {
	t.Helper()
	m := waitMail(t, emailOf(o), "billing_access")
	link := loginLink.FindString(m.Text)
	require.NotEmpty(t, link, "no sign-in link in the billing email:\n%s", m.Text)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, st.HTTPAddr, u.Host, "the billing email's link %s is not the panel this stack serves", link)
	return link
}

// panelBase is the panel's address a sign-in link belongs to.
func panelBase(link string) string {
	base, _, _ := strings.Cut(link, "/login?")
	return base
}

// orderPage is the address of an order's page in the panel of link.
func orderPage(link, orderID string) string {
	return panelBase(link) + "/orders/" + url.PathEscape(orderID)
}

// signIn opens the order's sign-in link, which lands on its page.
func (b *browser) signIn(link, orderID string) {
	b.t.Helper()
	require.Equal(b.t, int64(http.StatusOK), b.open(link), "sign in with %s", link)
	require.Equal(b.t, orderPage(link, orderID), b.location(), "signing in lands on the order's page")
	b.visible("#status[data-status]")
}
