package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/stretchr/testify/require"
)

// TestLoad1000OrdersThroughIntake places 1,000 orders through the intake
// API from 32 concurrent clients, mixed with repeated and conflicting order
// submissions, forged payment notifications and repeated payments, pays
// every order once it waits for payment, and checks that each order ends
// installer_ready with exactly one payment, one tenant and one credentials
// email, and that every request was answered as it should: no 5xx, repeats
// as repeats, forgeries 401, conflicts 409. It logs counts and throughput
// figures; it asserts nothing about speed.
func TestLoad1000OrdersThroughIntake(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const (
		orders  = 1000
		clients = 32
	)
	l := newLoadRun(t, orders)
	logsFrom := logs.Len()
	began := time.Now()

	// fresh holds the first submission of every order; urgent everything
	// that follows from an answer (repeats, conflicts, forgeries, payments).
	// Both are big enough that no send ever blocks.
	fresh := make(chan loadTask, orders)
	urgent := make(chan loadTask, 8*orders)
	for i := range orders {
		fresh <- loadTask{kind: kindOrder, i: i}
	}
	close(fresh)
	// pending counts tasks not yet done plus the poller, which may still
	// add payments; urgent is closed once nothing can add to it.
	var pending sync.WaitGroup
	pending.Add(orders + 1)
	l.enqueue = func(t loadTask) { pending.Add(1); urgent <- t }

	ctx, cancel := context.WithDeadline(context.Background(), loadDeadline(t))
	defer cancel()
	go l.pollPayable(ctx, &pending)
	go func() { pending.Wait(); close(urgent) }()

	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer c.CloseIdleConnections()
			f, u := fresh, urgent
			for f != nil || u != nil {
				select {
				case task, ok := <-f:
					if !ok {
						f = nil
						continue
					}
					l.do(c, task)
					pending.Done()
				case task, ok := <-u:
					if !ok {
						u = nil
						continue
					}
					l.do(c, task)
					pending.Done()
				}
			}
		}()
	}
	wg.Wait()
	requestsDone := time.Since(began)

	// Every accepted order must now run to its end on its own.
	statuses := l.waitTerminal(ctx)
	elapsed := time.Since(began)
	l.report(statuses, requestsDone, elapsed)
	l.logSummary(logsFrom)
	if statuses["installer_ready"] != orders {
		l.diagnose(5)
	}
	// Repeated payment notifications reach sagas that have moved on; each
	// reads them before it ends rather than leaving them unhandled.
	unhandled := 0
	for _, e := range logs.All()[logsFrom:] {
		if e.Message == "Workflow has unhandled signals" {
			unhandled++
		}
	}
	require.Zero(t, unhandled, "runs ended with payment notifications unread")

	// The answers.
	l.mu.Lock()
	problems := slices.Clone(l.problems)
	l.mu.Unlock()
	if len(problems) > 20 {
		problems = append(problems[:20], fmt.Sprintf("... and %d more", len(l.problems)-20))
	}
	require.Empty(t, problems, "every request answered as it should:\n%s", strings.Join(problems, "\n"))
	for kind, by := range l.counts() {
		for status, n := range by {
			require.Less(t, status, 500, "%d %s requests answered %d", n, kind, status)
			require.NotZero(t, status, "%d %s requests got no answer", n, kind)
		}
	}
	nRepeat, nConflict, nForged, nPayRepeat := l.planned()
	require.Equal(t, map[int]int{202: orders}, l.countsOf(kindOrder), "every order accepted once")
	require.Equal(t, map[int]int{202: nRepeat}, l.countsOf(kindRepeat), "repeats answered 202")
	require.Equal(t, map[int]int{409: nConflict}, l.countsOf(kindConflict), "another body under a used id is 409")
	require.Equal(t, map[int]int{401: nForged}, l.countsOf(kindForged), "forged notifications 401")
	require.Equal(t, map[int]int{200: orders}, l.countsOf(kindPay), "every order paid once")
	require.Equal(t, map[int]int{200: nPayRepeat}, l.countsOf(kindPayRepeat), "repeated payments answered 200")

	// The database: every order there once and finished; nothing else.
	require.Equal(t, map[string]int{"installer_ready": orders}, statuses, "every order installer_ready")
	require.Equal(t, orders, dbCount(t, `SELECT count(*) FROM orders WHERE order_id LIKE $1`, l.idPrefix+"%"), "one orders row per order")
	require.Equal(t, orders, dbCount(t, `SELECT count(DISTINCT order_id) FROM orders WHERE order_id = ANY($1)`, l.ids), "every order id has its row")
	require.Equal(t, orders, dbCount(t, `SELECT count(*) FROM orders WHERE domain_prefix LIKE $1`, l.domainPrefix+"%"), "no order under another domain of the run")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM domain_reservations WHERE domain_prefix LIKE $1`, l.domainPrefix+"c%"), "a conflicting body reserves nothing")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM customers WHERE email LIKE $1`, l.emailPrefix+"c%"), "a conflicting body records no customer")
	require.Equal(t, orders, dbCount(t, `SELECT count(*) FROM payments WHERE order_id LIKE $1`, l.idPrefix+"%"), "one payment per order")
	require.Equal(t, orders, dbCount(t, `SELECT count(*) FROM payments WHERE order_id LIKE $1 AND payment_id = 'pay-' || order_id AND status = 'completed'`, l.idPrefix+"%"),
		"every payment is the signed one")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM payments WHERE payment_id LIKE 'forged-%' AND order_id LIKE $1`, l.idPrefix+"%"), "no payment from a forgery")
	require.Equal(t, 0, dbCount(t, `SELECT count(*) FROM refunds WHERE order_id LIKE $1`, l.idPrefix+"%"), "nothing owed back")
	require.Equal(t, orders, dbCount(t, `SELECT count(*) FROM tenants WHERE order_id LIKE $1`, l.idPrefix+"%"), "one tenant row per order")
	require.Equal(t, orders, dbCount(t, `SELECT count(*) FROM sent_emails WHERE order_id LIKE $1 AND key = 'credentials'`, l.idPrefix+"%"),
		"one credentials email recorded per order")

	// The tenant API: one tenant per order's domain, none for a conflicting body.
	tenants := map[string]int{}
	for _, c := range st.Fake.Customers() {
		if d := strings.ToLower(c.CompanyProfile.Domain); strings.HasPrefix(d, l.domainPrefix) {
			tenants[d]++
		}
	}
	for i, d := range l.domains {
		require.Equal(t, 1, tenants[d+".onmicrosoft.com"], "order %s: tenants for %s", l.ids[i], d)
	}
	require.Len(t, tenants, orders, "no tenant for any other domain of the run")

	// The mail sink: one credentials email per customer.
	creds := map[string]int{}
	for _, m := range st.Sink.Messages() {
		if len(m.To) == 1 && strings.HasPrefix(m.To[0], l.emailPrefix) && strings.Contains(m.MessageID, ".credentials@") {
			creds[m.To[0]]++
		}
	}
	for i, e := range l.emails {
		require.Equal(t, 1, creds[e], "order %s: credentials emails to %s", l.ids[i], e)
	}
	require.Len(t, creds, orders, "no credentials email to any other address of the run")
}

// Kinds of request the load test sends.
const (
	kindOrder     = "order"          // first submission of an order
	kindRepeat    = "order repeat"   // the same body again
	kindConflict  = "order conflict" // another body under the same id
	kindForged    = "forged payment" // a notification with a bad signature
	kindPay       = "payment"        // the signed payment
	kindPayRepeat = "payment repeat" // the same signed payment again
)

var loadKinds = []string{kindOrder, kindRepeat, kindConflict, kindForged, kindPay, kindPayRepeat}

type loadTask struct {
	kind string
	i    int // index of the order
}

// loadRun is the shared state of one load test run.
type loadRun struct {
	t                                   *testing.T
	idPrefix, domainPrefix, emailPrefix string
	ids, domains, emails                []string
	bodies                              [][]byte // each order's JSON body
	enqueue                             func(loadTask)

	mu       sync.Mutex
	status   map[string]map[int]int // kind -> HTTP status (0: no answer) -> count
	first    []map[string]any       // each order's first answer
	accepted []bool                 // the order's first submission was accepted
	problems []string
	placed   atomic.Int64 // first submissions answered, accepted or not
}

func newLoadRun(t *testing.T, n int) *loadRun {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	run := hex.EncodeToString(b) // 6 characters: ids, domains and emails of this run only
	l := &loadRun{
		t: t, idPrefix: "load-" + run + "-", domainPrefix: "ld" + run, emailPrefix: "load-" + run + "-",
		status: map[string]map[int]int{}, first: make([]map[string]any, n), accepted: make([]bool, n),
	}
	for i := range n {
		l.ids = append(l.ids, fmt.Sprintf("%s%04d", l.idPrefix, i))
		l.domains = append(l.domains, fmt.Sprintf("%so%04d", l.domainPrefix, i))
		l.emails = append(l.emails, fmt.Sprintf("%s%04d@acme.pl", l.emailPrefix, i))
		raw, err := json.Marshal(l.orderBody(i, l.domains[i], l.emails[i]))
		require.NoError(t, err)
		l.bodies = append(l.bodies, raw)
	}
	return l
}

func (l *loadRun) orderBody(i int, domain, email string) map[string]any {
	return map[string]any{
		"order_id": l.ids[i],
		"customer": map[string]any{
			"company": "Load Test sp. z o.o.", "email": email, "first_name": "Jan", "last_name": "Kowalski",
			"tax_id": "5260250995", "country": "PL", "city": "Warszawa", "postal_code": "00-001", "address_line1": "ul. Prosta 1",
		},
		"plan": "business-standard", "seats": 5, "domain_prefix": domain, "billing_cycle": "monthly", "language": "pl",
	}
}

// Which orders get which extra request: fixed by index, so the counts are exact.
func repeatsOrder(i int) bool   { return i%10 == 3 }  // 10%
func conflictsOrder(i int) bool { return i%20 == 7 }  // 5%
func forgedEarly(i int) bool    { return i%20 == 5 }  // 5%, right after placement
func forgedLate(i int) bool     { return i%20 == 15 } // 5%, once it awaits payment
func repeatsPayment(i int) bool { return i%10 == 8 }  // 10%

func (l *loadRun) planned() (repeat, conflict, forged, payRepeat int) {
	for i := range l.ids {
		if repeatsOrder(i) {
			repeat++
		}
		if conflictsOrder(i) {
			conflict++
		}
		if forgedEarly(i) || forgedLate(i) {
			forged++
		}
		if repeatsPayment(i) {
			payRepeat++
		}
	}
	return
}

func (l *loadRun) problem(format string, args ...any) {
	l.mu.Lock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// loadAnswer is one HTTP answer; Status 0 means none came.
type loadAnswer struct {
	Status int
	Body   map[string]any
	Header http.Header
}

// send makes one request with the client's own connections and tallies it.
func (l *loadRun) send(c *http.Client, kind, path string, body []byte, header ...string) loadAnswer {
	req, err := http.NewRequest("POST", "http://"+st.HTTPAddr+path, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	var a loadAnswer
	resp, err := c.Do(req)
	if err == nil {
		var raw []byte
		raw, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		a.Status, a.Header = resp.StatusCode, resp.Header
		if err == nil && len(raw) > 0 {
			if jerr := json.Unmarshal(raw, &a.Body); jerr != nil {
				l.problem("%s %s: answer %d is not JSON: %q", kind, path, a.Status, raw)
			}
		}
	}
	if err != nil {
		a.Status = 0
		l.problem("%s %s: no answer: %v", kind, path, err)
	}
	l.mu.Lock()
	if l.status[kind] == nil {
		l.status[kind] = map[int]int{}
	}
	l.status[kind][a.Status]++
	l.mu.Unlock()
	return a
}

func (l *loadRun) placeBody(c *http.Client, kind string, body []byte) loadAnswer {
	return l.send(c, kind, "/v1/orders", body, "Authorization", "Bearer "+shopKey)
}

func (l *loadRun) notification(i int) []byte {
	raw, err := json.Marshal(intake.Notification{OrderID: l.ids[i], PaymentID: "pay-" + l.ids[i], Status: "completed", Amount: "332.10", Currency: "PLN"})
	if err != nil {
		panic(err)
	}
	return raw
}

// do runs one task and queues what follows from its answer.
func (l *loadRun) do(c *http.Client, task loadTask) {
	i, id := task.i, l.ids[task.i]
	switch task.kind {
	case kindOrder:
		defer l.placed.Add(1)
		a := l.placeBody(c, kindOrder, l.bodies[i])
		if a.Status != 202 || a.Header.Get("Idempotent-Replayed") != "" {
			l.problem("order %s: first submission answered %d (Idempotent-Replayed %q): %v", id, a.Status, a.Header.Get("Idempotent-Replayed"), a.Body)
			return
		}
		l.mu.Lock()
		l.first[i], l.accepted[i] = a.Body, true
		l.mu.Unlock()
		if repeatsOrder(i) {
			l.enqueue(loadTask{kind: kindRepeat, i: i})
		}
		if conflictsOrder(i) {
			l.enqueue(loadTask{kind: kindConflict, i: i})
		}
		if forgedEarly(i) {
			l.enqueue(loadTask{kind: kindForged, i: i})
		}
	case kindRepeat:
		a := l.placeBody(c, kindRepeat, l.bodies[i])
		l.mu.Lock()
		first := l.first[i]
		l.mu.Unlock()
		if a.Status != 202 || a.Header.Get("Idempotent-Replayed") != "true" || !reflect.DeepEqual(a.Body, first) {
			l.problem("order %s: repeat answered %d (Idempotent-Replayed %q) %v, first answer %v", id, a.Status, a.Header.Get("Idempotent-Replayed"), a.Body, first)
		}
	case kindConflict:
		other, err := json.Marshal(l.orderBody(i, fmt.Sprintf("%sc%04d", l.domainPrefix, i), fmt.Sprintf("%sc%04d@acme.pl", l.emailPrefix, i)))
		if err != nil {
			panic(err)
		}
		a := l.placeBody(c, kindConflict, other)
		if field, _ := errorOf(a.Body)["field"].(string); a.Status != 409 || field != "order_id" {
			l.problem("order %s: conflicting body answered %d %v", id, a.Status, a.Body)
		}
	case kindForged:
		// Four kinds of forgery, all of a payment the order would take.
		raw, err := json.Marshal(intake.Notification{OrderID: id, PaymentID: "forged-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"})
		if err != nil {
			panic(err)
		}
		var sig string
		switch i / 20 % 4 {
		case 0:
			sig = intake.Sign([]byte("not-"+secret), raw) // wrong secret
		case 1:
			sig = intake.Sign([]byte(secret), l.notification(i)) // signature of another body
		case 2:
			sig = "sha256=" + strings.Repeat("0", 64)
		case 3:
			sig = "" // none at all
		}
		a := l.send(c, kindForged, "/v1/payments/notifications", raw, "X-Signature", sig)
		if field, _ := errorOf(a.Body)["field"].(string); a.Status != 401 || field != "X-Signature" {
			l.problem("order %s: forged notification answered %d %v", id, a.Status, a.Body)
		}
	case kindPay, kindPayRepeat:
		raw := l.notification(i)
		a := l.send(c, task.kind, "/v1/payments/notifications", raw, "X-Signature", intake.Sign([]byte(secret), raw))
		dup := task.kind == kindPayRepeat
		if a.Status != 200 || a.Body["duplicate"] != dup || a.Body["refund"] != nil {
			l.problem("order %s: %s answered %d %v", id, task.kind, a.Status, a.Body)
			return
		}
		if task.kind == kindPay && repeatsPayment(i) {
			l.enqueue(loadTask{kind: kindPayRepeat, i: i})
		}
	}
}

func errorOf(body map[string]any) map[string]any {
	e, _ := body["error"].(map[string]any)
	return e
}

// pollPayable reads the run's orders from the database and queues the
// payment (and some forgeries) of each one that waits for payment, until
// every accepted order has been queued or ctx ends.
func (l *loadRun) pollPayable(ctx context.Context, pending *sync.WaitGroup) {
	defer pending.Done()
	queued := make(map[string]bool, len(l.ids))
	index := make(map[string]int, len(l.ids))
	for i, id := range l.ids {
		index[id] = i
	}
	for {
		rows, err := st.Store.Pool.Query(ctx, `SELECT order_id FROM orders WHERE order_id LIKE $1 AND status = 'awaiting_payment'`, l.idPrefix+"%")
		if err == nil {
			for rows.Next() {
				var id string
				if rows.Scan(&id) == nil && !queued[id] {
					queued[id] = true
					i := index[id]
					if forgedLate(i) {
						l.enqueue(loadTask{kind: kindForged, i: i})
					}
					l.enqueue(loadTask{kind: kindPay, i: i})
				}
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil && ctx.Err() == nil {
			l.problem("polling for orders awaiting payment: %v", err)
		}
		if int(l.placed.Load()) == len(l.ids) {
			l.mu.Lock()
			accepted := 0
			for _, a := range l.accepted {
				if a {
					accepted++
				}
			}
			l.mu.Unlock()
			if len(queued) == accepted {
				return
			}
		}
		select {
		case <-ctx.Done():
			l.problem("only %d orders were seen awaiting payment before the deadline", len(queued))
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
