package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	_ "image/png" // DecodeConfig reads the screenshots
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// screenshots is where TestPanelScreenshots writes the README's pictures of
// the billing panel (scripts/screenshots sets it); without it they go to a
// temporary directory and are only checked.
var screenshots = flag.String("screenshots", "", "directory for the billing panel's README screenshots (scripts/screenshots)")

// The phone the awaiting-payment page is shown on: CSS pixels, at twice
// the density.
const phoneWidth, phoneHeight, phoneScale = 390, 844, 2

// TestPanelScreenshots takes the README's two pictures of the panel: an
// order awaiting payment on a phone, where a customer opens the billing
// email, and a provisioned order with users, a domain and documents on a
// desktop. Each is a whole page, as a PNG of the window's width.
func TestPanelScreenshots(t *testing.T) {
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))

	// Awaiting payment, on a phone.
	o, id := screenshotOrder(t)
	link := billingLink(t, o)
	phone := newBrowser(t, phoneWidth, phoneHeight)
	phone.do(chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateScale(phoneScale), chromedp.EmulatePortrait, chromedp.EmulateMobile))
	phone.signIn(link, id)
	phone.visible(`#status[data-status="awaiting_payment"]`)
	phone.visible("#pay")
	shoot(t, phone, filepath.Join(dir, "panel-awaiting-payment.png"), phoneWidth*phoneScale, phoneHeight*phoneScale)

	// Provisioned, on a desktop: paid through the payer page, the admin and two users
	// with licences, a domain waiting for its TXT record.
	o, id = screenshotOrder(t)
	link = billingLink(t, o)
	page := orderPage(link, id)
	desk := newBrowser(t, desktopWidth, desktopHeight)
	desk.signIn(link, id)
	payThroughP24(t, desk, page)
	desk.reloadUntil(page, shows(`#status[data-status="installer_ready"]`), 90*time.Second)
	for _, u := range [][2]string{{"anna.nowak", "Anna Nowak"}, {"piotr.wisniewski", "Piotr Wiśniewski"}} {
		desk.fill(map[string]string{"#user_name": u[0], "#display_name": u[1]})
		require.Equal(t, int64(http.StatusOK), desk.submit("#add-user"))
	}
	desk.reloadUntil(page, "document.querySelectorAll('#users li .tag.created').length === 3", 60*time.Second)
	desk.fill(map[string]string{"#domain": fmt.Sprintf("acme-%d.pl", time.Now().UnixNano()%1e5)})
	desk.do(chromedp.Click(chromedp.CSS("#make_default")))
	require.Equal(t, int64(http.StatusOK), desk.submit("#add-domain"))
	desk.reloadUntil(page, shows(`#domains li[data-state="pending"] code.txt`), 30*time.Second)
	desk.visible(`#documents li[data-kind="invoice"]`)
	shoot(t, desk, filepath.Join(dir, "panel-provisioned.png"), desktopWidth, desktopHeight)
}

// screenshotOrder places an order in English (the README's language) under
// an id that reads like a shop's.
func screenshotOrder(t *testing.T) (map[string]any, string) {
	t.Helper()
	o := newOrder(t)
	id := fmt.Sprintf("WEB-%05d", seq.Add(1)*1000+time.Now().UnixNano()%1000)
	o["order_id"], o["language"] = id, "en"
	require.Equal(t, 202, place(t, o).Status)
	return o, id
}

// shoot saves the whole page as a PNG, which must be the window's width
// and at least its height (in device pixels).
func shoot(t *testing.T, b *browser, path string, width, minHeight int) {
	t.Helper()
	png := result(b, chromedp.FullScreenshot(100))
	c, format, err := image.DecodeConfig(bytes.NewReader(png))
	require.NoError(t, err, "the screenshot is an image")
	require.Equal(t, "png", format)
	require.Equal(t, width, c.Width, "%s is as wide as the window", path)
	require.GreaterOrEqual(t, c.Height, minHeight, "%s is the whole page", path)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("%s: %d×%d, %d KB", path, c.Width, c.Height, len(png)/1024)
}
