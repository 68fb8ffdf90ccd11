package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

// TestHostileTextIsRefusedNamingTheField: control and bidirectional
// characters in any customer text, addresses our mail must not go to and
// reserved domain prefixes are refused with a 400 that names the field, and
// nothing is recorded or started.
func TestHostileTextIsRefusedNamingTheField(t *testing.T) {
	type edit struct {
		field string
		set   func(o, c map[string]any)
	}
	var cases []edit
	for _, bad := range []string{"\x1b[2J", "\x7f", "\u202e", "\u2028", "\u2066", "\u200f", "\u0085"} {
		for _, f := range []string{"company", "city", "address_line1", "first_name", "last_name"} {
			cases = append(cases, edit{"customer." + f, func(o, c map[string]any) { c[f] = "Acme" + bad + "gpj.exe" }})
		}
	}
	for _, e := range []string{"j@[127.0.0.1]", "j@-acme.pl", strings.Repeat("j", 190) + "@acme.pl", `"j k"@acme.pl`, "j@localhost"} {
		cases = append(cases, edit{"customer.email", func(o, c map[string]any) { c["email"] = e }})
	}
	for _, p := range []string{"admin", "microsoft", "www", "localhost", "123", "postmaster", "office365"} {
		cases = append(cases, edit{"domain_prefix", func(o, c map[string]any) { o["domain_prefix"] = p }})
	}
	for _, tc := range cases {
		o := newOrder(t)
		tc.set(o, o["customer"].(map[string]any))
		id := o["order_id"].(string)
		a := place(t, o)
		require.Equal(t, 400, a.Status, "%s: %s", tc.field, a.Raw)
		require.Equal(t, tc.field, a.errField(), "%s", a.Raw)
		require.NotEmpty(t, a.Body["error"].(map[string]any)["code"])
		require.NotEmpty(t, a.Body["error"].(map[string]any)["message"])
		require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM orders WHERE order_id = $1`, id), "nothing recorded for %s", a.Raw)
		require.False(t, workflowExists(t, id), "no workflow for %s", a.Raw)
	}
}

// TestEmojiAndRightToLeftOrderIsPrintedAndProvisioned: emoji and Hebrew or
// Arabic text are a customer's to use. Such an order is placed, paid and
// provisioned; its documents render, the characters the PDF font has no
// glyph for print as '?', and the Polish letters beside them as they are.
func TestEmojiAndRightToLeftOrderIsPrintedAndProvisioned(t *testing.T) {
	o := newOrder(t)
	c := o["customer"].(map[string]any)
	c["company"] = "Acme 🚀"
	c["first_name"], c["last_name"] = "Jan 😀", "כהן"
	c["city"] = "Łódź ❤️"
	c["address_line1"] = "ul. Gęśla Łąka Żółw 5 / شارع"
	id := placeAndPay(t, o, "completed")
	waitStatus(t, id, string(order.InstallerReady))
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)

	list := call(t, "GET", "/v1/orders/"+id+"/documents", shopKey, nil)
	require.Equal(t, 200, list.Status, string(list.Raw))
	require.Equal(t, "no-store", list.Header.Get("Cache-Control"))
	docs := documentsOf(t, id)
	require.Len(t, docs, 2)
	require.Equal(t, []any{"proforma", "invoice"}, []any{docs[0]["kind"], docs[1]["kind"]})
	for _, d := range docs {
		resp, pdf := fetchDocument(t, d["pdf"].(string))
		require.Equal(t, 200, resp.StatusCode, "%s", pdf)
		require.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		text := pdftest.Text(t, pdf)
		for _, want := range []string{d["number"].(string), "Acme ?", "ul. Gęśla Łąka Żółw 5 / ????", "00-001 Łódź ?"} {
			require.Contains(t, text, want, "%s:\n%s", d["number"], text)
		}
		require.NotContains(t, text, "🚀", "%s", d["number"])
	}
}

// fetchDocument GETs a document with the shop's key, headers and all.
func fetchDocument(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+st.HTTPAddr+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+shopKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "reading %s", path)
	return resp, b
}
