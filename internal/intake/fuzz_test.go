package intake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/workflows"
)

// sampleOrderBody is the example order of the outside interface, as in
// internal/order/request_test.go.
const sampleOrderBody = `{"order_id":"shop-123","customer":{"company":"Acme sp. z o.o.","email":"it@acme.pl","first_name":"Jan","last_name":"Kowalski","tax_id":"5260250995","country":"PL","city":"Warszawa","postal_code":"00-001","address_line1":"ul. Prosta 1"},"plan":"business-standard","seats":5,"domain_prefix":"acme","billing_cycle":"monthly","language":"pl"}`

const sampleNotificationBody = `{"order_id":"shop-123","payment_id":"p-1","status":"completed","amount":"332.10","currency":"PLN"}`

// FuzzPlaceOrderBody sends arbitrary bytes as the body of POST /v1/orders,
// with a valid shop key, to the real handler on a stand-in PostgreSQL and
// Temporal (see standins_test.go), and checks the answer against a decode,
// Normalize and Validate of its own:
//
//   - no panic (the recoverer would answer 500) and never a 5xx;
//   - every answer is JSON; an error is {"error":{code,field,message}} with a
//     code, and a field for every field error (but for an unknown key "",
//     which has no name to give);
//   - a body that is not one JSON object of the request's fields is a 400,
//     one over 64 KiB a 413 (or 400 when only white space runs over), and
//     touches neither the store nor Temporal;
//   - a decodable body that Validate refuses is a 400 naming the same code
//     and field, and touches neither;
//   - a body accepted (2xx) must have decoded and validated here too, every
//     customer field it stores must be one line without NUL (the rule
//     Validate states for the customer fields, applied to all of them), and
//     the store got exactly the normalized request and Temporal a start for
//     it; conversely every valid request is accepted.
func FuzzPlaceOrderBody(f *testing.F) {
	f.Add([]byte(sampleOrderBody))
	f.Add([]byte(`{"order_id":"  shop-124 ","customer":{"company":"Acme","email":" IT@Acme.PL ","first_name":"Jan","last_name":"Kowalski","tax_id":"PL 526-025-09-95","country":"pl","city":"Warszawa\t","postal_code":"00-001","address_line1":"ul. Prosta 1"},"plan":"Business-Standard","seats":1,"domain_prefix":" ACME","billing_cycle":"","language":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"order_id":"shop-1","seats":"5"}`))
	f.Add([]byte(`{"order_id":"shop-1","unknown":1}`))
	f.Add([]byte(`{"order_id":"` + strings.Repeat("a", maxBody) + `"}`)) // over the limit inside the object
	f.Add([]byte(sampleOrderBody + strings.Repeat(" ", maxBody)))        // over the limit after it

	si := newStandIn(f)
	h := si.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		si.reset()
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/v1/orders", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+fuzzShopKey)
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(w, r)
		checkPlaceOrder(t, si, body, w)
	})
}

// expectedOrder is this test's own reading of a body: one JSON object of
// order.Request's fields, normalized and validated.
type expectedOrder struct {
	decoded bool
	req     order.Request
	fe      *order.FieldError
}

func expectOrder(body []byte) expectedOrder {
	var e expectedOrder
	if len(body) > maxBody || !json.Valid(body) {
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&e.req) != nil {
		return e
	}
	e.decoded = true
	e.req.Normalize()
	e.req.Shop = ShopID(fuzzShopKey)
	e.fe = e.req.Validate()
	if e.fe == nil {
		e.fe = e.req.CheckAcceptedBy(time.Now())
	}
	return e
}

// emptyKeyRefused tells whether the decoder refuses body for a key "": the
// one unknown field the answer cannot name, its "field" being empty.
func emptyKeyRefused(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(new(order.Request))
	return err != nil && err.Error() == `json: unknown field ""`
}

var fieldErrorCodes = map[string]bool{"required": true, "invalid": true, "unknown": true, "out_of_range": true, "invalid_type": true, "unknown_field": true, "reserved": true}

func checkPlaceOrder(t *testing.T, si *standIn, body []byte, w *httptest.ResponseRecorder) {
	t.Helper()
	calls, refused := si.db.snapshot()
	starts, _ := si.temporal.snapshot()
	status, answer := w.Code, w.Body.Bytes()
	if status >= 500 {
		t.Fatalf("POST /v1/orders answered %d %s\nbody: %q\nstand-in PostgreSQL refused: %q", status, answer, body, refused)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q for %d %s", ct, status, answer)
	}
	want := expectOrder(body)

	if status < 200 || status > 299 {
		var eb ErrorBody
		dec := json.NewDecoder(bytes.NewReader(answer))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%d answer is not an error body with a code and message: %s (%v)", status, answer, err)
		}
		if fieldErrorCodes[eb.Error.Code] && eb.Error.Field == "" && !(eb.Error.Code == "unknown_field" && emptyKeyRefused(body)) {
			t.Fatalf("field error %q names no field: %s", eb.Error.Code, answer)
		}
		if len(calls) > 0 || len(starts) > 0 {
			t.Fatalf("refused with %d %s, yet the store saw %d statements and Temporal %d starts", status, answer, len(calls), len(starts))
		}
		switch {
		case len(body) > maxBody:
			if status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest {
				t.Fatalf("%d-byte body answered %d %s, want 413 or 400", len(body), status, answer)
			}
		case !want.decoded:
			if status != http.StatusBadRequest || (eb.Error.Code != "invalid_json" && eb.Error.Code != "invalid_type" && eb.Error.Code != "unknown_field") {
				t.Fatalf("undecodable body %q answered %d %s, want 400 invalid_json, invalid_type or unknown_field", body, status, answer)
			}
		case want.fe != nil:
			if status != http.StatusBadRequest || eb.Error.Code != want.fe.Code || eb.Error.Field != want.fe.Field {
				t.Fatalf("body %q answered %d %s, want 400 %s on %s", body, status, answer, want.fe.Code, want.fe.Field)
			}
		default:
			t.Fatalf("valid request %+v refused: %d %s\nbody: %q", want.req, status, answer, body)
		}
		return
	}

	// Accepted: only ever from a request that is valid by this test's own
	// decode and Validate, and with exactly that request recorded and started.
	if !want.decoded {
		t.Fatalf("accepted (%d %s) a body that is not one JSON object of the request's fields: %q", status, answer, body)
	}
	if want.fe != nil {
		t.Fatalf("accepted (%d %s) a request that Validate refuses (%s %s: %s): %q", status, answer, want.fe.Code, want.fe.Field, want.fe.Message, body)
	}
	if status != http.StatusAccepted {
		t.Fatalf("accepted with %d, want 202: %s", status, answer)
	}
	var p Placed
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("202 answer %s: %v", answer, err)
	}
	placedAt, _ := time.Parse("2006-01-02 15:04:05-07", fakePlacedAt)
	if p.OrderID != want.req.OrderID || p.Status != "placed" || p.WorkflowID != workflows.WorkflowID(want.req.OrderID) || !p.PlacedAt.Equal(placedAt) {
		t.Fatalf("202 answer %+v for order %q", p, want.req.OrderID)
	}
	c := want.req.Customer
	// Beyond Validate: the validator's own rule for customer text (one line,
	// no NUL) must hold for every customer field the order stores, since all
	// of them end up on invoices and in mails.
	for name, v := range map[string]string{"company": c.Company, "email": c.Email, "first_name": c.FirstName, "last_name": c.LastName,
		"tax_id": c.TaxID, "country": c.Country, "city": c.City, "postal_code": c.PostalCode, "address_line1": c.AddressLine1} {
		if strings.ContainsAny(v, "\x00\r\n") {
			t.Fatalf("accepted (%d %s) an order whose customer.%s %q is not one line: %q", status, answer, name, v, body)
		}
	}
	checkRow(t, calls, "customers", map[string]string{
		"email": c.Email, "company": c.Company, "first_name": c.FirstName, "last_name": c.LastName, "tax_id": c.TaxID,
		"country": c.Country, "city": c.City, "postal_code": c.PostalCode, "address_line1": c.AddressLine1,
	})
	checkRow(t, calls, "orders", map[string]string{
		"order_id": want.req.OrderID, "shop": ShopID(fuzzShopKey), "plan": want.req.Plan, "seats": strconv.Itoa(want.req.Seats),
		"billing_cycle": want.req.BillingCycle, "domain_prefix": want.req.DomainPrefix, "language": want.req.Language, "status": string(order.Placed),
	})
	if len(starts) != 1 {
		t.Fatalf("accepted order %q started %d workflows", want.req.OrderID, len(starts))
	}
	in := starts[0].Input
	if starts[0].ID != workflows.WorkflowID(want.req.OrderID) || in.OrderID != want.req.OrderID || in.Plan != want.req.Plan ||
		in.Seats != want.req.Seats || in.DomainPrefix != want.req.DomainPrefix {
		t.Fatalf("started %+v for request %+v", starts[0], want.req)
	}
}

// insertRe matches each INSERT of a statement, also one inside a WITH, with
// its values as VALUES (...) or as SELECT ... FROM.
var insertRe = regexp.MustCompile(`(?s)INSERT INTO (\w+)\s*\(([^)]*)\)\s*(?:VALUES\s*\(([^)]*)\)|SELECT\s+(.*?)\s+FROM\b)`)

// checkRow finds the one INSERT into table among calls and compares the
// values it binds to the named columns with want.
func checkRow(t *testing.T, calls []pgCall, table string, want map[string]string) {
	t.Helper()
	var rows []map[string]string
	for _, c := range calls {
		for _, m := range insertRe.FindAllStringSubmatch(c.SQL, -1) {
			if m[1] != table {
				continue
			}
			values := m[3]
			if values == "" {
				values = m[4]
			}
			cols, vals := strings.Split(m[2], ","), strings.Split(values, ",")
			if len(cols) != len(vals) {
				t.Fatalf("cannot read INSERT INTO %s: %s", table, c.SQL)
			}
			row := map[string]string{}
			for i, col := range cols {
				v := strings.TrimSpace(vals[i])
				if n, err := strconv.Atoi(strings.TrimPrefix(v, "$")); err == nil && strings.HasPrefix(v, "$") && n >= 1 && n <= len(c.Params) {
					v = c.Params[n-1]
				}
				row[strings.TrimSpace(col)] = v
			}
			rows = append(rows, row)
		}
	}
	if len(rows) != 1 {
		t.Fatalf("%d inserts into %s, want 1; statements: %+v", len(rows), table, calls)
	}
	for col, v := range want {
		if got, ok := rows[0][col]; !ok || got != v {
			t.Fatalf("INSERT INTO %s stored %s = %q, want %q", table, col, got, v)
		}
	}
}

// FuzzPaymentNotification checks the payment gateway's signature and the
// notification endpoint on an arbitrary body and X-Signature header; pos and
// flip choose one byte to change:
//
//   - Verify never panics and accepts a header only if it is the body's
//     HMAC (up to the case of its hex digits and surrounding white space);
//   - Sign(secret, body) always verifies, and not under another secret;
//   - changing any one byte of the body, or any one byte of the signature
//     other than the case of a hex letter, makes it fail, as does cutting
//     or lengthening the hex;
//   - through the real handler: a header that does not verify is a 401
//     bad_signature on X-Signature that reads nothing from the store; the
//     body correctly signed is never a 5xx nor a 401, is a 400 naming the
//     field when it does not decode or validate, and only a valid
//     notification reaches the store (which knows no order: 404) and nothing
//     is ever signalled for an unknown order.
func FuzzPaymentNotification(f *testing.F) {
	secret := []byte(fuzzSecret)
	f.Add([]byte(sampleNotificationBody), Sign(secret, []byte(sampleNotificationBody)), uint16(0), byte(1))
	f.Add([]byte(sampleNotificationBody), strings.ToUpper(Sign(secret, []byte(sampleNotificationBody))), uint16(10), byte(0x20))
	f.Add([]byte(sampleNotificationBody), Sign([]byte("wrong"), []byte(sampleNotificationBody)), uint16(70), byte(0x20))
	f.Add([]byte(`{"order_id":"shop-123","payment_id":"p-1","status":"refunded","amount":"1e3","currency":"pln"}`), "sha256=00", uint16(7), byte(0x80))
	f.Add([]byte{}, "", uint16(0), byte(0))

	si := newStandIn(f)
	h := si.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte, header string, pos uint16, flip byte) {
		ok := Verify(secret, body, header)
		good := Sign(secret, body)
		if ok && !strings.EqualFold(strings.TrimSpace(header), good) {
			t.Fatalf("Verify accepted %q for body %q; the signature is %q", header, body, good)
		}
		if !Verify(secret, body, good) {
			t.Fatalf("Sign(secret, %q) = %q does not verify", body, good)
		}
		if Verify([]byte(fuzzSecret+"x"), body, good) {
			t.Fatalf("signature of %q verifies under another secret", body)
		}
		d := flip
		if d == 0 {
			d = 1
		}
		if len(body) > 0 {
			mb := bytes.Clone(body)
			i := int(pos) % len(mb)
			mb[i] ^= d
			if Verify(secret, mb, good) {
				t.Fatalf("body %q with byte %d changed to %q still verifies", body, i, mb[i])
			}
		}
		ms := []byte(good)
		j := int(pos) % len(ms)
		ms[j] ^= d
		if !(j >= len("sha256=") && isHexLetter(good[j]) && d == 0x20) { // a-f -> A-F is the same signature
			if Verify(secret, body, string(ms)) {
				t.Fatalf("signature %q with byte %d changed to %q still verifies", good, j, ms[j])
			}
		}
		for _, bad := range []string{good[:len(good)-1], good[:len(good)-2], good + "0", good + "00", strings.TrimPrefix(good, "sha256="), "sha256=", ""} {
			if Verify(secret, body, bad) {
				t.Fatalf("%q verifies for body %q", bad, body)
			}
		}

		// Through the handler, first with the header as given.
		status, answer := postNotification(t, si, h, body, header)
		if !ok {
			want := http.StatusUnauthorized
			if len(body) > maxBody {
				want = http.StatusRequestEntityTooLarge
			}
			eb := errorBody(t, status, answer)
			if status != want || (want == http.StatusUnauthorized && (eb.Error.Code != "bad_signature" || eb.Error.Field != "X-Signature")) {
				t.Fatalf("wrong signature %q answered %d %s, want %d bad_signature on X-Signature", header, status, answer, want)
			}
			if calls, _ := si.db.snapshot(); len(calls) > 0 {
				t.Fatalf("a notification with a wrong signature reached the store: %+v", calls)
			}
			if _, signals := si.temporal.snapshot(); len(signals) > 0 {
				t.Fatalf("a notification with a wrong signature was signalled: %v", signals)
			}
		} else {
			checkSignedNotification(t, si, body, status, answer)
		}
		// Then correctly signed: what the body holds decides.
		status, answer = postNotification(t, si, h, body, good)
		checkSignedNotification(t, si, body, status, answer)
	})
}

func isHexLetter(c byte) bool { return c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func postNotification(t *testing.T, si *standIn, h http.Handler, body []byte, sig string) (int, []byte) {
	t.Helper()
	si.reset()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/v1/payments/notifications", bytes.NewReader(body))
	if sig != "" {
		r.Header.Set("X-Signature", sig)
	}
	h.ServeHTTP(w, r)
	if w.Code >= 500 {
		_, refused := si.db.snapshot()
		t.Fatalf("POST /v1/payments/notifications answered %d %s\nbody: %q\nX-Signature: %q\nstand-in PostgreSQL refused: %q", w.Code, w.Body.Bytes(), body, sig, refused)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q for %d %s", ct, w.Code, w.Body.Bytes())
	}
	return w.Code, w.Body.Bytes()
}

func errorBody(t *testing.T, status int, answer []byte) ErrorBody {
	t.Helper()
	var eb ErrorBody
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("%d answer is not an error body with a code and message: %s (%v)", status, answer, err)
	}
	if fieldErrorCodes[eb.Error.Code] && eb.Error.Field == "" {
		t.Fatalf("field error %q names no field: %s", eb.Error.Code, answer)
	}
	return eb
}

// checkSignedNotification judges the answer to a correctly signed body.
func checkSignedNotification(t *testing.T, si *standIn, body []byte, status int, answer []byte) {
	t.Helper()
	calls, _ := si.db.snapshot()
	if _, signals := si.temporal.snapshot(); len(signals) > 0 {
		t.Fatalf("signalled %v for an order the store does not know", signals)
	}
	eb := errorBody(t, status, answer) // the stand-in store knows no order: never a 2xx
	if len(body) > maxBody {
		if status != http.StatusRequestEntityTooLarge || len(calls) > 0 {
			t.Fatalf("%d-byte body answered %d %s with %d statements, want 413 and none", len(body), status, answer, len(calls))
		}
		return
	}
	if status == http.StatusUnauthorized {
		t.Fatalf("correctly signed body %q answered 401 %s", body, answer)
	}
	// The handler decodes the first JSON value and ignores what follows it.
	var n Notification
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		if status != http.StatusBadRequest || (eb.Error.Code != "invalid_json" && eb.Error.Code != "invalid_type" && eb.Error.Code != "unknown_field") || len(calls) > 0 {
			t.Fatalf("undecodable body %q (%v) answered %d %s with %d statements, want 400 and none", body, err, status, answer, len(calls))
		}
		return
	}
	if _, fe := n.validate(); fe != nil {
		if status != http.StatusBadRequest || eb.Error.Code != fe.Code || eb.Error.Field != fe.Field || len(calls) > 0 {
			t.Fatalf("invalid notification %+v answered %d %s with %d statements, want 400 %s on %s and none", n, status, answer, len(calls), fe.Code, fe.Field)
		}
		return
	}
	// Valid by the handler's own rules; check them against the documented
	// ones before the store may see it.
	if _, err := money.Parse(n.Amount); err != nil || n.OrderID == "" || (n.Status != "completed" && n.Status != "failed") || len(n.Currency) != 3 {
		t.Fatalf("notification %+v passed validation", n)
	}
	if status != http.StatusNotFound || eb.Error.Code != "not_found" || eb.Error.Field != "order_id" {
		t.Fatalf("valid notification for an unknown order answered %d %s, want 404 not_found on order_id", status, answer)
	}
	if len(calls) == 0 || len(calls[0].Params) == 0 || calls[0].Params[0] != n.OrderID {
		t.Fatalf("valid notification %+v read %+v from the store", n, calls)
	}
}

// TestStandInPlacesTheSample makes sure the stand-ins carry a valid order all
// the way through, so that the fuzzers' accepting branch is reached at all.
func TestStandInPlacesTheSample(t *testing.T) {
	si := newStandIn(t)
	h := si.srv.Handler()
	for i := 0; i < 2; i++ { // the second reuses the pooled connection
		si.reset()
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/v1/orders", strings.NewReader(sampleOrderBody))
		r.Header.Set("Authorization", "Bearer "+fuzzShopKey)
		h.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			_, refused := si.db.snapshot()
			t.Fatalf("sample answered %d %s; refused: %q", w.Code, w.Body.Bytes(), refused)
		}
		checkPlaceOrder(t, si, []byte(sampleOrderBody), w)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/v1/orders", strings.NewReader(sampleOrderBody))
	r.Header.Set("Authorization", "Bearer not-a-shop")
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("unknown key answered %d", w.Code)
	}
}
