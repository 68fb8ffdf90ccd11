package fault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/tenant"
)

// ord is everything counted for one order, on every side.
type ord struct {
	id, email, domain string
	fails             bool
	wantRefunds       int
	wantPayments      int

	status           string
	tenants          int
	subs, subsActive int
	invoices         map[string]int // by kind
	proforma         string         // its status
	payments         int
	refunds          int
	recorded         map[string]string // sent_emails: kind -> message id

	mailCopies   map[string]int             // sink: kind -> messages
	mailIDs      map[string]map[string]bool // sink: kind -> distinct Message-IDs
	customers    int                        // fake: customers for the domain
	fakeSubs     int                        // fake: subscriptions of those customers
	fakeSubsLive int                        // ... of them active
}

// want is what the order must hold once terminal.
func (o *ord) wantStatus() string {
	if o.fails {
		return string(order.Cancelled)
	}
	return string(order.InstallerReady)
}

func (o *ord) wantKinds() []string {
	if o.fails {
		return []string{activities.EmailBillingAccess, activities.EmailCancelled}
	}
	return []string{activities.EmailBillingAccess, activities.EmailPaymentReceived, activities.EmailCredentials, activities.EmailInstallerReady}
}

func (o *ord) provisioned() int {
	if o.fails {
		return 0
	}
	return 1
}

// totalColumns are the counts of what must not be that a scenario with
// rows of its own adds to the totals line, by row.total.
var totalColumns = []string{"FAILED workflows", "wrong buyer", "unrecorded payments"}

// allKinds are the email kinds the table shows, in the saga's order.
var allKinds = []string{activities.EmailBillingAccess, activities.EmailPaymentReceived, activities.EmailCredentials,
	activities.EmailInstallerReady, activities.EmailCancelled, activities.EmailRefunded}

// collect reads the run's orders from PostgreSQL, the mail sink and the
// tenant API fake.
func (r *run) collect(sinkBefore int) []*ord {
	rq := r.require()
	ctx := context.Background()
	byID := map[string]*ord{}
	byEmail := map[string]*ord{}
	byDomain := map[string]*ord{}
	byHash := map[string]*ord{} // the left part of the order's Message-IDs
	var all []*ord
	for _, q := range r.reqs {
		o := &ord{id: q.OrderID, email: strings.ToLower(q.Customer.Email), domain: q.DomainPrefix + ".onmicrosoft.com",
			fails: r.fails[q.OrderID], wantRefunds: r.refunds[q.OrderID], wantPayments: 1, invoices: map[string]int{}, recorded: map[string]string{},
			mailCopies: map[string]int{}, mailIDs: map[string]map[string]bool{}}
		if n, ok := r.payments[q.OrderID]; ok {
			o.wantPayments = n
		}
		byID[o.id], byDomain[o.domain], byHash[messageIDHash(o.id)] = o, o, o
		if byEmail[o.email] == nil { // orders sharing an address: the first
			byEmail[o.email] = o
		}
		all = append(all, o)
	}
	like := r.prefix + "%"
	scan := func(sql string, each func(id string, vals []any)) {
		rows, err := st.Store.Pool.Query(ctx, sql, like)
		rq.NoError(err, sql)
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			rq.NoError(err)
			id := vals[0].(string)
			if o := byID[id]; o != nil {
				each(id, vals[1:])
			} else {
				r.t.Errorf("row of an unknown order %s: %s", id, sql)
			}
		}
		rq.NoError(rows.Err())
	}
	num := func(v any) int {
		switch n := v.(type) {
		case int64:
			return int(n)
		case int32:
			return int(n)
		}
		panic(fmt.Sprintf("not a count: %T", v))
	}
	scan(`SELECT order_id, status FROM orders WHERE order_id LIKE $1`, func(id string, v []any) { byID[id].status = v[0].(string) })
	scan(`SELECT order_id, count(*) FROM tenants WHERE order_id LIKE $1 GROUP BY 1`, func(id string, v []any) { byID[id].tenants = num(v[0]) })
	scan(`SELECT order_id, count(*), count(*) FILTER (WHERE status = 'active') FROM subscriptions WHERE order_id LIKE $1 GROUP BY 1`,
		func(id string, v []any) { byID[id].subs, byID[id].subsActive = num(v[0]), num(v[1]) })
	scan(`SELECT order_id, kind, count(*), max(status) FROM invoices WHERE order_id LIKE $1 GROUP BY 1, 2`, func(id string, v []any) {
		kind := v[0].(string)
		byID[id].invoices[kind] = num(v[1])
		if kind == "proforma" {
			byID[id].proforma = v[2].(string)
		}
	})
	scan(`SELECT order_id, count(*) FROM payments WHERE order_id LIKE $1 GROUP BY 1`, func(id string, v []any) { byID[id].payments = num(v[0]) })
	scan(`SELECT order_id, count(*) FROM refunds WHERE order_id LIKE $1 GROUP BY 1`, func(id string, v []any) { byID[id].refunds = num(v[0]) })
	scan(`SELECT order_id, key, message_id FROM sent_emails WHERE order_id LIKE $1`, func(id string, v []any) {
		byID[id].recorded[v[0].(string)] = v[1].(string)
	})

	// The sink: messages to the run's customers, by the kind in their
	// Message-ID (<hash of the order id>.<kind>@officeflow). A message goes
	// to the order its Message-ID names when it went to that order's
	// address (orders may share one), else to the order of the address.
	for _, m := range st.Sink.Messages()[sinkBefore:] {
		if len(m.To) != 1 {
			continue
		}
		to := strings.ToLower(m.To[0])
		o := byEmail[to]
		if o == nil {
			continue
		}
		kind := "?"
		hash, rest, ok := strings.Cut(m.MessageID, ".")
		if ok {
			kind, _, _ = strings.Cut(rest, "@")
		}
		if named := byHash[hash]; named != nil && named.email == to {
			o = named
		}
		o.mailCopies[kind]++
		if o.mailIDs[kind] == nil {
			o.mailIDs[kind] = map[string]bool{}
		}
		o.mailIDs[kind][m.MessageID] = true
	}

	// The fake: customers by domain, and their subscriptions.
	for _, c := range st.Fake.Customers() {
		o := byDomain[c.CompanyProfile.Domain]
		if o == nil {
			continue
		}
		o.customers++
		for _, s := range st.Fake.Subscriptions(c.ID) {
			o.fakeSubs++
			if s.Status == tenant.StatusActive {
				o.fakeSubsLive++
			}
		}
	}
	return all
}

// row is a line of the table: a figure summed over the orders, what it
// should be, and the orders where it is not.
type row struct {
	name      string
	want, got int
	lost, dup int // summed over the orders: short of want, beyond it
	bad       []string
	tolerated bool // reported below the table, not failed
	// total names the column of the totals line (see printTable) that
	// this row's got adds to; such a row counts what must not be (want 0),
	// and adds nothing to lost and duplicated.
	total string
}

// tally is a row of a figure summed over the orders.
func tally(name string, orders []*ord, want, got func(o *ord) int) row {
	rw := row{name: name}
	for _, o := range orders {
		w, g := want(o), got(o)
		rw.want += w
		rw.got += g
		rw.lost += max(w-g, 0)
		rw.dup += max(g-w, 0)
		if w != g {
			rw.bad = append(rw.bad, fmt.Sprintf("%s: want %d, got %d", o.id, w, g))
		}
	}
	return rw
}

// messageIDHash is the left part of an order's Message-IDs (see
// activities' messageID): the first 10 bytes of the order id's SHA-256.
func messageIDHash(orderID string) string {
	h := sha256.Sum256([]byte(orderID))
	return hex.EncodeToString(h[:10])
}

// check counts, prints the table and fails for every figure that is off.
func (r *run) check(sc scenario, mark, suspensions, sinkBefore int, took time.Duration) {
	orders := r.collect(sinkBefore)
	var rows []row
	add := func(name string, want, got func(o *ord) int) {
		rows = append(rows, tally(name, orders, want, got))
	}
	one := func(*ord) int { return 1 }
	zero := func(*ord) int { return 0 }
	is := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}

	add("orders in PostgreSQL", one, func(o *ord) int { return is(o.status != "") })
	add("orders terminal", one, func(o *ord) int { return is(order.Status(o.status).Terminal()) })
	for _, s := range []string{string(order.InstallerReady), string(order.Cancelled), string(order.Refunded)} {
		add("  "+s, func(o *ord) int { return is(o.wantStatus() == s) }, func(o *ord) int { return is(o.status == s) })
	}
	add("  other (not terminal)", zero, func(o *ord) int { return is(o.status != "" && !order.Status(o.status).Terminal()) })
	add("tenants (db)", (*ord).provisioned, func(o *ord) int { return o.tenants })
	add("subscriptions (db)", (*ord).provisioned, func(o *ord) int { return o.subs })
	add("  active", (*ord).provisioned, func(o *ord) int { return o.subsActive })
	add("invoices proforma (db)", one, func(o *ord) int { return o.invoices["proforma"] })
	add("  paid", (*ord).provisioned, func(o *ord) int { return is(o.proforma == "paid") })
	add("  void", func(o *ord) int { return 1 - o.provisioned() }, func(o *ord) int { return is(o.proforma == "void") })
	// A correction exists only against a VAT invoice (paid, then refunded):
	// an unpaid cancelled order's pro-forma is void, with none.
	add("invoices correction (db)", func(o *ord) int { return is(o.wantStatus() == string(order.Refunded)) }, func(o *ord) int { return o.invoices["correction"] })
	add("invoices invoice (db)", (*ord).provisioned, func(o *ord) int { return o.invoices["invoice"] })
	add("payments (db)", func(o *ord) int { return o.wantPayments }, func(o *ord) int { return o.payments })
	add("refunds (db)", func(o *ord) int { return o.wantRefunds }, func(o *ord) int { return o.refunds })
	for _, k := range allKinds {
		want := func(o *ord) int { return is(contains(o.wantKinds(), k)) }
		add("sent_emails "+k+" (db)", want, func(o *ord) int { return is(o.recorded[k] != "") })
		add("sink "+k+" Message-IDs", want, func(o *ord) int { return len(o.mailIDs[k]) })
	}
	add("sink other kinds", zero, func(o *ord) int {
		n := 0
		for k := range o.mailIDs {
			if !contains(allKinds, k) && !isEInvoice(k) {
				n += len(o.mailIDs[k])
			}
		}
		return n
	})
	add("sink Message-ID = recorded one", func(o *ord) int { return len(o.wantKinds()) }, func(o *ord) int {
		n := 0
		for _, k := range o.wantKinds() {
			if id := o.recorded[k]; id != "" && o.mailIDs[k][id] && len(o.mailIDs[k]) == 1 {
				n++
			}
		}
		return n
	})
	// Copies beyond one per Message-ID: the same email sent again. Where
	// the fault can stop a worker between sending and recording, they are
	// reported rather than failed.
	add("sink resent copies", zero, func(o *ord) int {
		n := 0
		for k, c := range o.mailCopies {
			n += c - len(o.mailIDs[k])
		}
		return n
	})
	rows[len(rows)-1].tolerated = sc.resendPossible
	add("fake customers (by domain)", (*ord).provisioned, func(o *ord) int { return o.customers })
	add("fake subscriptions", (*ord).provisioned, func(o *ord) int { return o.fakeSubs })
	add("  active", (*ord).provisioned, func(o *ord) int { return o.fakeSubsLive })
	susp := st.Fake.Suspensions() - suspensions
	rows = append(rows, row{name: "fake suspensions", want: 0, got: susp, dup: susp})
	if g := rows[len(rows)-1].got; g != 0 {
		rows[len(rows)-1].bad = []string{fmt.Sprintf("%d suspensions", g)}
	}

	rows = append(rows, r.ksefRows(orders)...)
	if sc.extra != nil {
		rows = append(rows, sc.extra(r, orders)...)
	}
	r.printTable(rows, mark, took)
	stuck := 0
	for _, o := range orders {
		if !order.Status(o.status).Terminal() && stuck < 3 {
			stuck++
			r.t.Logf("%s at %q:\n%s", o.id, o.status, r.diagnose(o.id))
		}
	}
	for _, rw := range rows {
		if len(rw.bad) == 0 {
			continue
		}
		ex := rw.bad[:min(5, len(rw.bad))]
		if rw.tolerated {
			r.t.Logf("REPORT %s: %d orders (%d copies), e.g. %s — an email sent again after a crash or outage between sending and recording it; same Message-ID",
				rw.name, len(rw.bad), rw.got, strings.Join(ex, "; "))
			continue
		}
		r.t.Errorf("%s: want %d, got %d; %d orders off, e.g. %s", rw.name, rw.want, rw.got, len(rw.bad), strings.Join(ex, "; "))
	}
}

func (r *run) printTable(rows []row, mark int, took time.Duration) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "what\twant\tgot\tlost\tduplicated\n")
	var notes []string
	for _, rw := range rows {
		if rw.tolerated {
			notes = append(notes, fmt.Sprintf("%s: %d in %d orders (the same Message-ID again, after a worker died between sending and recording; the mailbox keeps one)", rw.name, rw.got, len(rw.bad)))
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", rw.name, rw.want, rw.got, rw.lost, rw.dup)
	}
	if r.sc.extra != nil {
		// The totals: what was lost or made twice over all the rows above,
		// and the scenario's own counts of what must not be.
		var lost, dup int
		sums := map[string]int{}
		for _, rw := range rows {
			if rw.tolerated {
				continue
			}
			lost += rw.lost
			dup += rw.dup
			if rw.total != "" {
				sums[rw.total] += rw.got
			}
		}
		tw.Flush()
		b.WriteString("\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "TOTAL\tlost\tduplicated\t%s\n", strings.Join(totalColumns, "\t"))
		fmt.Fprintf(tw, "\t%d\t%d", lost, dup)
		for _, c := range totalColumns {
			fmt.Fprintf(tw, "\t%d", sums[c])
		}
		fmt.Fprintf(tw, "\n")
	}
	tw.Flush()
	for _, n := range notes {
		b.WriteString(n + "\n")
	}

	var out strings.Builder
	fmt.Fprintf(&out, "%s: %d orders, all terminal after %.1fs\n", r.t.Name(), len(r.reqs), took.Seconds())
	out.WriteString(b.String())

	// What the faults did.
	reqs := partner.since(mark, r.corr)
	byStatus := map[string]int{}
	for _, q := range reqs {
		switch {
		case q.Aborted:
			byStatus["answer lost (connection aborted)"]++
		case q.Abandoned:
			byStatus["client gave up (timeout)"]++
		default:
			byStatus[fmt.Sprint(q.Status)]++
		}
	}
	fmt.Fprintf(&out, "tenant API requests: %d, by answer: %s\n", len(reqs), sortedCounts(byStatus))
	logs := map[string]int{}
	r.mu.Lock()
	for _, w := range r.workers {
		for k, v := range w.LogCounts() {
			logs[k] += v
		}
	}
	fmt.Fprintf(&out, "worker processes: %d; their logs: %s\n", len(r.workers), sortedCounts(logs))
	for _, s := range r.stats {
		out.WriteString(s + "\n")
	}
	r.mu.Unlock()
	r.t.Log("\n" + out.String())
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
