package fault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// TestFaultHostileOrders: no part of the stack fails; the orders do what
// shops and gateways do on a bad day, mixed into the normal ones:
//
//   - every tenth order has emoji (outside the BMP) and Hebrew and Arabic
//     text in every customer text field;
//   - pairs of orders share one email address, placed by two shops (two
//     intake keys) for two companies with their own NIPs;
//   - some payments are reported failed, then completed under the same
//     payment id (the order is cancelled, the money recorded and refunded);
//   - some orders, once paid, get a completed notification that reuses
//     another order's payment id (409, kept for an operator, neither order
//     changed).
//
// Besides lost and duplicated, the table counts the run's FAILED workflows
// (Temporal visibility), documents and customers naming a buyer other than
// the order's own (wrong buyer), and completed payments the intake accepted
// or refused with 422 that have no row, or that ended neither taken nor
// refunded (unrecorded payments). Every count must be 0.
func TestFaultHostileOrders(t *testing.T) {
	t.Parallel()
	h := &hostile{kind: map[string]string{}, pair: map[string]string{}, own: map[string]string{}}
	runScenario(t, "hostile", scenario{prepare: h.prepare, pay: h.pay, extra: h.rows})
}

// Kinds of hostile orders.
const (
	kindText    = "text"    // emoji and right-to-left text in every field
	kindPair    = "pair"    // shares its email with its pair, another shop's
	kindFlip    = "flip"    // failed, then completed under the same id
	kindForeign = "foreign" // then a completed notification with another's id
)

// hostileText are the customer fields of a kindText order: outside the
// BMP (emoji, a ZWJ sequence), Hebrew and Arabic in each; NFC already, so
// that they are stored as sent.
var hostileText = struct{ company, first, last, city, address string }{
	company: "Acme 🚀 sp. z o.o. שלום مرحبا",
	first:   "Jan 😀 יוסף",
	last:    "כהן 👩‍💻 الحسن",
	city:    "Warszawa 🌆 ירושלים القدس",
	address: "ul. Prosta 1 / شارع 🏢 רחוב",
}

// hostile is what the scenario sent and what it expects.
type hostile struct {
	kind map[string]string // order id -> kind; normal orders are not in it
	pair map[string]string // kindPair: order id -> the other order of the pair

	mu      sync.Mutex
	own     map[string]string // order id -> its completed payment, as accepted
	owners  []string          // orders whose own completed payment was accepted
	sent    []notice          // every payment notification, as answered last
	foreign []borrowed
}

// notice is a payment notification and the intake's last answer to it
// (0: none came).
type notice struct {
	n    intake.Notification
	code int
}

// borrowed is a completed notification for order that reuses owner's
// payment id.
type borrowed struct {
	order, owner, paymentID string
	code                    int
}

// nip makes a valid NIP of a number: nine digits and their checksum, the
// first three (the tax office's) not of the form x00, which FA(3)'s schema
// refuses and so KSeF (order.ValidNIP checks the checksum only).
func nip(n int) string {
	w := []int{6, 5, 7, 2, 3, 4, 5, 6, 7}
	for ; ; n++ {
		d := fmt.Sprintf("%09d", 110000000+n%890000000)
		sum := 0
		for i := range 9 {
			sum += int(d[i]-'0') * w[i]
		}
		if sum%11 != 10 && d[1:3] != "00" {
			return d + string(rune('0'+sum%11))
		}
	}
}

// prepare gives every order a company and NIP of its own (so that a
// document naming another order's buyer shows), then makes some hostile.
func (h *hostile) prepare(r *run) {
	other := r.newClient(otherShopKey)
	var seq int
	for i := range r.reqs {
		q := &r.reqs[i]
		id := q.OrderID
		seq += 7919
		q.Customer.Company = fmt.Sprintf("Fault %03d sp. z o.o.", i)
		q.Customer.TaxID = nip(seq)
		switch {
		case i%10 == 3:
			h.kind[id] = kindText
			c := &q.Customer
			c.Company = fmt.Sprintf("%s %03d", hostileText.company, i)
			c.FirstName, c.LastName = hostileText.first, hostileText.last
			c.City, c.AddressLine1 = hostileText.city, hostileText.address
		case i%25 == 6 && i > 0 && h.kind[r.reqs[i-1].OrderID] == kindPair:
			// The second of a pair: the first's address, another shop,
			// another company.
			first := r.reqs[i-1]
			h.kind[id] = kindPair
			h.pair[id], h.pair[first.OrderID] = first.OrderID, id
			q.Customer.Email = first.Customer.Email
			q.Customer.Company = fmt.Sprintf("Druga Firma %03d S.A.", i)
			q.Customer.FirstName, q.Customer.LastName = "Anna", "Nowak"
			r.clients[id] = other
		case i%25 == 5 && i+1 < len(r.reqs):
			h.kind[id] = kindPair
		case i%20 == 9:
			h.kind[id] = kindFlip
			r.fails[id] = true // the failed notification ends the order
			r.refunds[id] = 1  // and the money that came after goes back
		case i%20 == 14:
			h.kind[id] = kindForeign
		}
	}
	counts := map[string]int{}
	for _, k := range h.kind {
		counts[k]++
	}
	r.t.Logf("hostile orders: %s", sortedCounts(counts))
}

// send delivers a payment notification and records the intake's answer;
// it tries again while the answer is none or 5xx.
func (h *hostile) send(r *run, n intake.Notification) int {
	code := 0
	var err error
	for try := range 5 {
		if try > 0 {
			select {
			case <-r.ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
		_, err = r.shop.Notify(r.ctx, []byte(secret), n)
		var ae *intake.APIError
		switch {
		case err == nil:
			code = http.StatusOK
		case errors.As(err, &ae):
			code = ae.Status
		default:
			code = 0
		}
		if (code != 0 && code < 500) || r.ctx.Err() != nil {
			break
		}
	}
	if code == 0 || code >= 500 {
		r.t.Errorf("payment notification %+v: %v", n, err)
	}
	h.mu.Lock()
	h.sent = append(h.sent, notice{n: n, code: code})
	h.mu.Unlock()
	return code
}

// pay pays an order that waits for payment as its kind says.
func (h *hostile) pay(r *run, id string, gross int64, currency string) bool {
	amount := fmt.Sprintf("%d.%02d", gross/100, gross%100)
	note := func(pid, status string) intake.Notification {
		return intake.Notification{OrderID: id, PaymentID: pid, Status: status, Amount: amount, Currency: currency}
	}
	if h.kind[id] == kindFlip {
		pid := "flip-" + id
		failed, completed := h.send(r, note(pid, "failed")), h.send(r, note(pid, "completed"))
		if failed != http.StatusOK || completed != http.StatusOK {
			r.t.Errorf("flip %s: failed answered %d, completed %d; want 200 and 200", id, failed, completed)
		}
		return failed == http.StatusOK
	}
	status := "completed"
	if r.fails[id] {
		status = "failed"
	}
	pid := status + "-" + id
	if code := h.send(r, note(pid, status)); code != http.StatusOK {
		r.t.Errorf("payment of %s answered %d", id, code)
		return false
	}
	if status != "completed" {
		return true
	}
	h.mu.Lock()
	h.own[id] = pid
	if h.kind[id] != kindForeign {
		h.owners = append(h.owners, id)
	}
	h.mu.Unlock()
	if h.kind[id] != kindForeign {
		return true
	}
	// Paid: now a notification with the payment id of another order paid
	// before it.
	var owner string
	for owner == "" {
		h.mu.Lock()
		if len(h.owners) > 0 {
			owner = h.owners[len(h.foreign)%len(h.owners)]
		}
		h.mu.Unlock()
		if owner != "" {
			break
		}
		select {
		case <-r.ctx.Done():
			return true
		case <-time.After(100 * time.Millisecond):
		}
	}
	h.mu.Lock()
	theirs := h.own[owner]
	h.mu.Unlock()
	code := h.send(r, note(theirs, "completed"))
	h.mu.Lock()
	h.foreign = append(h.foreign, borrowed{order: id, owner: owner, paymentID: theirs, code: code})
	h.mu.Unlock()
	return true
}

// rows are the scenario's rows of the table.
func (h *hostile) rows(r *run, orders []*ord) []row {
	rq := r.require()
	ctx := context.Background()
	ids := make([]string, len(orders))
	byID := map[string]*ord{}
	for i, o := range orders {
		ids[i] = o.id
		byID[o.id] = o
	}
	placed := map[string]order.Customer{} // as the intake keeps it
	for _, q := range r.reqs {
		q.Normalize()
		placed[q.OrderID] = q.Customer
	}
	var rows []row
	must := func(name, total string, bad []string) {
		rows = append(rows, row{name: name, got: len(bad), bad: bad, total: total})
	}

	// FAILED workflows: every workflow of the run's task queue, once the
	// orders' own have closed (visibility lags behind the history).
	byStatus, failed := queueWorkflows(r)
	must("FAILED workflows (Temporal)", "FAILED workflows", failed)
	r.stat("workflows of the run by status: %s", sortedCounts(byStatus))

	// Wrong buyer: every document names the buyer of its own order as the
	// order was placed; so does the order's customer row.
	var wrongDocs, wrongCustomers []string
	docs := 0
	rows2, err := st.Store.Pool.Query(ctx, `SELECT order_id, number, buyer_name, buyer_tax_id, buyer_address, buyer_postal_code, buyer_city, buyer_country
		FROM invoices WHERE order_id LIKE $1 ORDER BY order_id, number`, r.prefix+"%")
	rq.NoError(err)
	for rows2.Next() {
		var id, number string
		var b order.Customer
		rq.NoError(rows2.Scan(&id, &number, &b.Company, &b.TaxID, &b.AddressLine1, &b.PostalCode, &b.City, &b.Country))
		docs++
		if d := buyerDiff(placed[id], b); d != "" {
			wrongDocs = append(wrongDocs, fmt.Sprintf("%s %s: %s", id, number, d))
		}
	}
	rq.NoError(rows2.Err())
	rows2.Close()
	rows3, err := st.Store.Pool.Query(ctx, `SELECT o.order_id, c.company, c.tax_id, c.address_line1, c.postal_code, c.city, c.country,
			c.email, c.first_name, c.last_name
		FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_id LIKE $1`, r.prefix+"%")
	rq.NoError(err)
	for rows3.Next() {
		var id string
		var c order.Customer
		rq.NoError(rows3.Scan(&id, &c.Company, &c.TaxID, &c.AddressLine1, &c.PostalCode, &c.City, &c.Country, &c.Email, &c.FirstName, &c.LastName))
		p := placed[id]
		d := buyerDiff(p, c)
		if c.Email != p.Email || c.FirstName != p.FirstName || c.LastName != p.LastName {
			d += fmt.Sprintf(" contact %q %q <%s>, placed %q %q <%s>", c.FirstName, c.LastName, c.Email, p.FirstName, p.LastName, p.Email)
		}
		if d != "" {
			wrongCustomers = append(wrongCustomers, id+": "+d)
		}
	}
	rq.NoError(rows3.Err())
	rows3.Close()
	must(fmt.Sprintf("documents naming another buyer (of %d)", docs), "wrong buyer", wrongDocs)
	must("customers not as placed", "wrong buyer", wrongCustomers)
	// The pairs' VAT invoices, as printed, fetched by their own shop: the
	// order's NIP, not its pair's.
	var wrongPDF []string
	pdfs := 0
	for id, other := range h.pair {
		if byID[id].status != string(order.InstallerReady) {
			continue
		}
		ds, err := r.client(id).Documents(ctx, id)
		rq.NoError(err, id)
		for _, d := range ds {
			if d.Kind != "invoice" {
				continue
			}
			pdf, err := r.client(id).PDF(ctx, d.ID)
			rq.NoError(err, id)
			pdfs++
			text := pdftest.Text(r.t, pdf)
			if !strings.Contains(text, placed[id].TaxID) || strings.Contains(text, placed[other].TaxID) ||
				!strings.Contains(text, placed[id].Company) || strings.Contains(text, placed[other].Company) {
				wrongPDF = append(wrongPDF, fmt.Sprintf("%s %s: NIP %s, company %q expected", id, d.Number, placed[id].TaxID, placed[id].Company))
			}
		}
	}
	must(fmt.Sprintf("pairs' invoice PDFs naming another buyer (of %d)", pdfs), "wrong buyer", wrongPDF)

	// Unrecorded payments: a completed notification the intake took (2xx)
	// or refused for its amount (422) has its row, for its order; a
	// completed payment of an ended order is taken or refunded.
	var unrecorded, conflicts []string
	answered := map[string]int{}
	completedSent := 0
	for _, s := range h.sent {
		answered[fmt.Sprint(s.code)]++
		if s.n.Status != "completed" || !(s.code/100 == 2 || s.code == http.StatusUnprocessableEntity) {
			continue
		}
		completedSent++
		var owner, status string
		err := st.Store.Pool.QueryRow(ctx, `SELECT order_id, status FROM payments WHERE payment_id = $1`, s.n.PaymentID).Scan(&owner, &status)
		if err != nil || owner != s.n.OrderID || status != "completed" {
			unrecorded = append(unrecorded, fmt.Sprintf("%s %s: answered %d, row %q %q (%v)", s.n.OrderID, s.n.PaymentID, s.code, owner, status, err))
		}
	}
	r.stat("payment notifications sent: %d (%d completed ones answered 2xx or 422), by answer: %s", len(h.sent), completedSent, sortedCounts(answered))
	must("completed notifications taken with no row", "unrecorded payments", unrecorded)
	unsettled, err := st.Store.UnsettledPayments(ctx, ids...)
	rq.NoError(err)
	var bad []string
	for _, p := range unsettled {
		bad = append(bad, fmt.Sprintf("%s %s (%s)", p.OrderID, p.PaymentID, p.OrderStatus))
	}
	must("completed payments neither taken nor refunded", "unrecorded payments", bad)
	double, err := st.Store.DoublySettledPayments(ctx, ids...)
	rq.NoError(err)
	bad = nil
	for _, p := range double {
		bad = append(bad, fmt.Sprintf("%s %s (%s)", p.OrderID, p.PaymentID, p.OrderStatus))
	}
	rows = append(rows, row{name: "completed payments taken and refunded", got: len(bad), dup: len(bad), bad: bad})

	// Foreign payment ids: each answered 409 and kept for an operator; the
	// owner's payment stays the owner's (the payments and invoice rows
	// above show that neither order changed).
	for _, f := range h.foreign {
		var n int
		rq.NoError(st.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM payment_conflicts WHERE payment_id = $1 AND order_id = $2 AND owner_order_id = $3 AND status = 'completed'`,
			f.paymentID, f.order, f.owner).Scan(&n))
		if f.code != http.StatusConflict || n != 1 {
			conflicts = append(conflicts, fmt.Sprintf("%s with %s's %s: answered %d, %d payment_conflicts rows", f.order, f.owner, f.paymentID, f.code, n))
		}
	}
	foreign := 0
	for _, k := range h.kind {
		if k == kindForeign {
			foreign++
		}
	}
	rows = append(rows, row{name: "foreign payment ids: 409 and kept", want: foreign, got: len(h.foreign) - len(conflicts),
		lost: foreign - (len(h.foreign) - len(conflicts)), bad: conflicts})
	if len(h.foreign) < foreign {
		rows[len(rows)-1].bad = append(rows[len(rows)-1].bad, fmt.Sprintf("%d of %d sent", len(h.foreign), foreign))
	}

	// Each VAT invoice is settled by its own order's payment; a flip's
	// payment is the one failed, then completed (failed_at kept).
	settledBy := map[string]string{}
	upgraded := map[string]bool{}
	scanPairs := func(sql string, each func(a, b string)) {
		rows, err := st.Store.Pool.Query(ctx, sql, r.prefix+"%")
		rq.NoError(err)
		defer rows.Close()
		for rows.Next() {
			var a, b string
			rq.NoError(rows.Scan(&a, &b))
			each(a, b)
		}
		rq.NoError(rows.Err())
	}
	scanPairs(`SELECT order_id, coalesce(payment_id, '') FROM invoices WHERE order_id LIKE $1 AND kind = 'invoice' AND charge_id = order_id || ':order'`,
		func(id, pid string) { settledBy[id] = pid })
	scanPairs(`SELECT order_id, payment_id FROM payments WHERE order_id LIKE $1 AND status = 'completed' AND failed_at IS NOT NULL`,
		func(id, pid string) { upgraded[id+" "+pid] = true })
	is := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	rows = append(rows, tally("VAT invoice settled by own payment", orders, (*ord).provisioned, func(o *ord) int {
		return is(settledBy[o.id] != "" && settledBy[o.id] == h.own[o.id])
	}))
	rows = append(rows, tally("failed, then completed: upgraded", orders, func(o *ord) int { return is(h.kind[o.id] == kindFlip) },
		func(o *ord) int { return is(upgraded[o.id+" flip-"+o.id]) }))
	return rows
}

// buyerDiff tells how a buyer differs from the customer as placed; empty
// if not.
func buyerDiff(placed, got order.Customer) string {
	var d []string
	for _, f := range []struct{ name, want, got string }{
		{"name", placed.Company, got.Company}, {"NIP", placed.TaxID, got.TaxID}, {"address", placed.AddressLine1, got.AddressLine1},
		{"postal code", placed.PostalCode, got.PostalCode}, {"city", placed.City, got.City}, {"country", placed.Country, got.Country},
	} {
		if f.want != f.got {
			d = append(d, fmt.Sprintf("%s %q, placed %q", f.name, f.got, f.want))
		}
	}
	return strings.Join(d, "; ")
}

// queueWorkflows waits (up to a minute) until the run's order workflows
// have closed, then counts the workflows of the run's task queue by status
// and names the failed ones.
func queueWorkflows(r *run) (map[string]int, []string) {
	list := func(q string) ([]string, map[string]int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var ids []string
		by := map[string]int{}
		var token []byte
		for {
			resp, err := st.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: "default", Query: q, PageSize: 1000, NextPageToken: token})
			if err != nil {
				return nil, nil, err
			}
			for _, e := range resp.Executions {
				by[e.GetStatus().String()]++
				if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
					ids = append(ids, e.GetExecution().GetWorkflowId())
				}
			}
			if token = resp.NextPageToken; len(token) == 0 {
				return ids, by, nil
			}
		}
	}
	queue := "TaskQueue = '" + r.queue + "'"
	orders := queue + " AND WorkflowId STARTS_WITH '" + workflows.WorkflowID(r.prefix) + "'"
	deadline := time.Now().Add(time.Minute)
	for {
		_, by, err := list(orders)
		r.require().NoError(err)
		open := by[enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING.String()]
		total := 0
		for _, n := range by {
			total += n
		}
		if open == 0 && total >= len(r.reqs) {
			break
		}
		if time.Now().After(deadline) {
			r.t.Logf("order workflows after a minute's wait: %s (of %d orders)", sortedCounts(by), len(r.reqs))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	failed, by, err := list(queue)
	r.require().NoError(err)
	sort.Strings(failed)
	return by, failed
}
