package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

const orderJSON = `{"order_id":"shop-123","customer":{"company":"Acme sp. z o.o.","email":"it@acme.pl","first_name":"Jan","last_name":"Kowalski","tax_id":"5260250995","country":"PL","city":"Warszawa","postal_code":"00-001","address_line1":"ul. Prosta 1"},"plan":"business-standard","seats":5,"domain_prefix":"acme","billing_cycle":"monthly","language":"pl"}`

// fakeAPI is the intake API's outside behaviour in memory: shop-1 has an
// invoice, shop-new has none yet, anything else is unknown.
type fakeAPI struct {
	key, secret string

	mu       sync.Mutex
	notified []intake.Notification
	cancels  []string
	posted   []string // path and body of the post-purchase requests
	seen     map[string]bool
}

func (f *fakeAPI) handler() http.Handler {
	orders := map[string]intake.OrderView{
		"shop-1":   {OrderID: "shop-1", Status: "awaiting_payment", Invoice: &intake.InvoiceView{Number: "PF/2026/000001", Gross: "332.10", Currency: "PLN"}},
		"shop-new": {OrderID: "shop-new", Status: "placed"},
	}
	fail := func(w http.ResponseWriter, status int, code, field, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(intake.ErrorBody{Error: intake.ErrorDetail{Code: code, Field: field, Message: msg}})
	}
	shop := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+f.key {
				fail(w, 401, "unauthorized", "Authorization", "a valid shop key is required")
				return
			}
			next(w, r)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/orders", shop(func(w http.ResponseWriter, r *http.Request) {
		var req order.Request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			fail(w, 400, "invalid_json", "", "body is not valid JSON")
			return
		}
		if req.Seats < 1 || req.Seats > 300 {
			fail(w, 400, "invalid", "seats", "seats must be between 1 and 300")
			return
		}
		w.WriteHeader(202)
		_ = json.NewEncoder(w).Encode(intake.Placed{OrderID: req.OrderID, Status: "placed", WorkflowID: "order-" + req.OrderID})
	}))
	mux.HandleFunc("GET /v1/orders/{order_id}", shop(func(w http.ResponseWriter, r *http.Request) {
		v, ok := orders[r.PathValue("order_id")]
		if !ok {
			fail(w, 404, "not_found", "order_id", "no order "+r.PathValue("order_id"))
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}))
	mux.HandleFunc("POST /v1/orders/{order_id}/cancel", shop(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ Reason string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		f.mu.Lock()
		f.cancels = append(f.cancels, r.PathValue("order_id")+": "+b.Reason)
		f.mu.Unlock()
		w.WriteHeader(202)
		_ = json.NewEncoder(w).Encode(map[string]string{"order_id": r.PathValue("order_id"), "status": "compensating"})
	}))
	mux.HandleFunc("GET /v1/orders/{order_id}/documents", shop(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("order_id") != "shop-1" {
			fail(w, 404, "not_found", "order_id", "no order "+r.PathValue("order_id"))
			return
		}
		_ = json.NewEncoder(w).Encode(intake.Documents{Documents: []intake.DocumentView{
			{ID: "7", Kind: "proforma", Number: "PF/2026/000001", IssuedAt: "2026-11-25", Status: "paid", Gross: "332.10", Currency: "PLN", PDF: "/v1/documents/7.pdf"},
			{ID: "9", Kind: "invoice", Number: "FV/2026/000001", IssuedAt: "2026-11-26", Status: "paid", Gross: "332.10", Currency: "PLN", PDF: "/v1/documents/9.pdf"},
			{ID: "11", Kind: "proforma", Number: "PF/2026/000002", IssuedAt: "2026-12-01", Status: "unpaid", Gross: "81.00", Currency: "PLN",
				PDF: "/v1/documents/11.pdf", ChargeID: "shop-1:licences:r1"},
		}})
	}))
	for _, path := range []string{"/licences", "/users", "/domains", "/subscription/cancel"} {
		mux.HandleFunc("POST /v1/orders/{order_id}"+path, shop(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.posted = append(f.posted, r.URL.Path+" "+string(raw))
			f.mu.Unlock()
			w.WriteHeader(202)
			_, _ = io.WriteString(w, `{"order_id":"`+r.PathValue("order_id")+`","status":"accepted"}`)
		}))
	}
	mux.HandleFunc("GET /v1/documents/{file}", shop(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("file") != "9.pdf" {
			fail(w, 404, "not_found", "id", "no document "+r.PathValue("file"))
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = io.WriteString(w, fakePDF)
	}))
	mux.HandleFunc("POST /v1/payments/notifications", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if !intake.Verify([]byte(f.secret), raw, r.Header.Get("X-Signature")) {
			fail(w, 401, "bad_signature", "X-Signature", "missing or wrong signature")
			return
		}
		var n intake.Notification
		_ = json.Unmarshal(raw, &n)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.notified = append(f.notified, n)
		dup := f.seen[n.PaymentID]
		f.seen[n.PaymentID] = true
		_ = json.NewEncoder(w).Encode(map[string]any{"order_id": n.OrderID, "payment_id": n.PaymentID, "duplicate": dup})
	})
	return mux
}

// startFake runs the fake API and points the CLI's environment at it.
func startFake(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{key: "shop-key", secret: "hook-secret", seen: map[string]bool{}}
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	t.Setenv("INTAKE_URL", srv.URL)
	t.Setenv("INTAKE_API_KEY", f.key)
	t.Setenv("INTAKE_API_KEYS", "")
	t.Setenv("PAYMENT_WEBHOOK_SECRET", f.secret)
	return f
}

type result struct {
	code           int
	stdout, stderr string
}

func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// requireOneLine checks the CLI's promise about failures.
func requireOneLine(t *testing.T, r result, code int) {
	t.Helper()
	require.Equal(t, code, r.code, "stderr: %s", r.stderr)
	require.True(t, strings.HasPrefix(r.stderr, "starter: "), "stderr %q", r.stderr)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), "stderr %q", r.stderr)
	require.True(t, strings.HasSuffix(r.stderr, "\n"))
	require.Empty(t, r.stdout)
}

func TestPlaceFromFilePrintsTheAnswer(t *testing.T) {
	startFake(t)
	file := filepath.Join(t.TempDir(), "order.json")
	require.NoError(t, os.WriteFile(file, []byte(orderJSON), 0o600))

	r := cli(t, "", "place", "-f", file)
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stderr)
	require.Contains(t, r.stdout, "\n  \"order_id\": \"shop-123\"", "indented")
	var p intake.Placed
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &p))
	require.Equal(t, intake.Placed{OrderID: "shop-123", Status: "placed", WorkflowID: "order-shop-123"}, p)
}

func TestPlaceFromStdin(t *testing.T) {
	startFake(t)
	r := cli(t, orderJSON, "place", "-f", "-")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"status": "placed"`)
}

func TestPlaceInvalidOrderIsOneLine(t *testing.T) {
	startFake(t)
	r := cli(t, strings.Replace(orderJSON, `"seats":5`, `"seats":301`, 1), "place", "-f", "-")
	requireOneLine(t, r, 1)
	require.Equal(t, "starter: 400 invalid seats: seats must be between 1 and 300\n", r.stderr)
}

func TestPlaceMissingFile(t *testing.T) {
	startFake(t)
	file := filepath.Join(t.TempDir(), "order.json")
	r := cli(t, "", "place", "-f", file)
	requireOneLine(t, r, 1)
	require.Equal(t, "starter: "+file+": no such file or directory\n", r.stderr)
}

func TestStatusPrintsTheOrder(t *testing.T) {
	startFake(t)
	r := cli(t, "", "status", "shop-1")
	require.Equal(t, 0, r.code, r.stderr)
	var v intake.OrderView
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v))
	require.Equal(t, "awaiting_payment", v.Status)
	require.Equal(t, "332.10", v.Invoice.Gross)
}

func TestStatusUnknownOrder(t *testing.T) {
	startFake(t)
	r := cli(t, "", "status", "nope")
	requireOneLine(t, r, 1)
	require.Contains(t, r.stderr, "404")
}

func TestWrongKeyIsOneLine(t *testing.T) {
	startFake(t)
	t.Setenv("INTAKE_API_KEY", "stolen")
	r := cli(t, "", "status", "shop-1")
	requireOneLine(t, r, 1)
	require.Contains(t, r.stderr, "401")
}

func TestKeyFromIntakeAPIKeys(t *testing.T) {
	startFake(t)
	t.Setenv("INTAKE_API_KEY", "")
	t.Setenv("INTAKE_API_KEYS", " shop-key , other-key")
	r := cli(t, "", "status", "shop-1")
	require.Equal(t, 0, r.code, r.stderr)
}

func TestPaySendsTheInvoiceGrossSigned(t *testing.T) {
	f := startFake(t)
	r := cli(t, "", "pay", "shop-1")
	require.Equal(t, 0, r.code, r.stderr)
	want := intake.Notification{OrderID: "shop-1", PaymentID: "cli-shop-1", Status: "completed", Amount: "332.10", Currency: "PLN"}
	require.Equal(t, []intake.Notification{want}, f.notified, "only correctly signed notifications are recorded")
	require.Contains(t, r.stdout, `"duplicate": false`)

	r = cli(t, "", "pay", "shop-1")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"duplicate": true`, "a repeated pay is the same payment")
	require.Equal(t, []intake.Notification{want, want}, f.notified)
}

func TestPayFlags(t *testing.T) {
	f := startFake(t)
	r := cli(t, "", "pay", "shop-1", "-failed", "-payment-id", "gw-7")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, []intake.Notification{{OrderID: "shop-1", PaymentID: "gw-7", Status: "failed", Amount: "332.10", Currency: "PLN"}}, f.notified)
}

func TestPayFailures(t *testing.T) {
	f := startFake(t)
	requireOneLine(t, cli(t, "", "pay", "shop-new"), 1) // no invoice yet
	requireOneLine(t, cli(t, "", "pay", "nope"), 1)
	t.Setenv("PAYMENT_WEBHOOK_SECRET", "wrong")
	r := cli(t, "", "pay", "shop-1")
	requireOneLine(t, r, 1)
	require.Contains(t, r.stderr, "401 bad_signature")
	require.Empty(t, f.notified)
}

func TestCancelSendsTheReason(t *testing.T) {
	f := startFake(t)
	r := cli(t, "", "cancel", "shop-1", "-reason", "changed my mind")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, []string{"shop-1: changed my mind"}, f.cancels)
	require.Contains(t, r.stdout, `"order_id": "shop-1"`)
}

func TestUsageErrors(t *testing.T) {
	startFake(t)
	for _, args := range [][]string{
		{},
		{"foo"},
		{"status"},
		{"status", "a", "b"},
		{"place"},
		{"place", "-f", "x.json", "extra"},
		{"pay", "-bogus", "shop-1"},
		{"cancel", "-reason"},
		{"serve", "now"},
		{"op"},
		{"op", "undo", "shop-1"},
		{"op", "resolve"},
		{"op", "retry-compensation", "a", "b"},
		{"op", "extend-deadline", "-until", "someday", "shop-1"},
	} {
		r := cli(t, "", args...)
		requireOneLine(t, r, 2)
	}
	require.Equal(t, "starter: unknown command \"foo\"\n", cli(t, "", "foo").stderr)
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"pay", "-h"}} {
		r := cli(t, "", args...)
		require.Equal(t, 0, r.code)
		require.Empty(t, r.stderr)
		require.Contains(t, r.stdout, "place -f FILE")
	}
}

func TestBadEnvironmentIsOneLine(t *testing.T) {
	startFake(t)
	t.Setenv("INTAKE_URL", "localhost:8080")
	r := cli(t, "", "status", "shop-1")
	requireOneLine(t, r, 1)
	require.Contains(t, r.stderr, "INTAKE_URL")
}

func TestServeNeedsItsSecrets(t *testing.T) {
	t.Setenv("PAYMENT_WEBHOOK_SECRET", "")
	t.Setenv("INTAKE_API_KEYS", "k")
	r := cli(t, "", "serve")
	requireOneLine(t, r, 1)
	require.Contains(t, r.stderr, "PAYMENT_WEBHOOK_SECRET")
}

const fakePDF = "%PDF-1.3\nnot really\n%%EOF\n"

func TestDocumentsListsTheOrdersDocuments(t *testing.T) {
	startFake(t)
	r := cli(t, "", "documents", "shop-1")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 4)
	require.Regexp(t, `^ID\s+KIND\s+NUMBER`, lines[0])
	require.Regexp(t, `^9\s+invoice\s+FV/2026/000001\s+2026-11-26\s+paid\s+332.10 PLN\s+/v1/documents/9.pdf\s*$`, lines[2])
	require.Regexp(t, `^11\s+proforma\s+PF/2026/000002\s+2026-12-01\s+unpaid\s+81.00 PLN\s+/v1/documents/11.pdf\s+shop-1:licences:r1$`, lines[3])
	requireOneLine(t, cli(t, "", "documents", "nope"), 1)
}

func TestPDFWritesTheFile(t *testing.T) {
	startFake(t)
	out := filepath.Join(t.TempDir(), "fv.pdf")
	r := cli(t, "", "pdf", "9", "-o", out)
	require.Equal(t, 0, r.code, r.stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, fakePDF, string(b))
	require.Contains(t, r.stdout, "wrote "+out)

	r = cli(t, "", "pdf", "-o", "-", "9")
	require.Equal(t, fakePDF, r.stdout)
	requireOneLine(t, cli(t, "", "pdf", "-o", out, "8"), 1)
	requireOneLine(t, cli(t, "", "pdf", "9"), 2)
}
