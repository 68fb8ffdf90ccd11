package fault

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
)

// rows are the gateway's side of the table.
func (g *gatewayRun) rows(r *run, orders []*ord) []row {
	rq := r.require()
	ctx := context.Background()
	is := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	orderOf := func(session string) string { id, _, _ := strings.Cut(session, "."); return id }

	// The fake: the run's transactions, by order, and its refunds.
	copies := notificationCopies()
	registered := map[string]int{}
	paid := map[string][]p24.Record{}
	var sent, lost, dup, paidAll int
	for _, t := range st.P24Fake.Transactions() {
		if !strings.HasPrefix(t.SessionID, r.prefix) {
			continue
		}
		id := orderOf(t.SessionID)
		registered[id]++
		if t.State == p24.NoPayment {
			continue
		}
		paid[id] = append(paid[id], t)
		paidAll++
		sent += copies[t.SessionID]
		switch copies[t.SessionID] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	fakeRefunds := map[string][]p24.RefundNotification{}
	for _, n := range st.P24Fake.Refunds() {
		if strings.HasPrefix(n.SessionID, r.prefix) {
			fakeRefunds[orderOf(n.SessionID)] = append(fakeRefunds[orderOf(n.SessionID)], n)
		}
	}

	// Ours: payments, refunds, the VAT invoices' payments.
	type payment struct {
		status string
		amount int64
	}
	payments := map[string]map[string]payment{}
	refunds := map[string]map[string]payment{} // order -> payment id -> refund status, amount
	settledBy := map[string]string{}
	scan := func(sql string, each func(id, pid, status string, amount int64)) {
		rows, err := st.Store.Pool.Query(ctx, sql, r.prefix+"%")
		rq.NoError(err, sql)
		defer rows.Close()
		for rows.Next() {
			var id, pid, status string
			var amount int64
			rq.NoError(rows.Scan(&id, &pid, &status, &amount))
			each(id, pid, status, amount)
		}
		rq.NoError(rows.Err())
	}
	scan(`SELECT order_id, payment_id, status, amount_grosze FROM payments WHERE order_id LIKE $1`, func(id, pid, status string, amount int64) {
		if payments[id] == nil {
			payments[id] = map[string]payment{}
		}
		payments[id][pid] = payment{status, amount}
	})
	scan(`SELECT order_id, payment_id, status, amount_grosze FROM refunds WHERE order_id LIKE $1`, func(id, pid, status string, amount int64) {
		if refunds[id] == nil {
			refunds[id] = map[string]payment{}
		}
		refunds[id][pid] = payment{status, amount}
	})
	scan(`SELECT order_id, coalesce(payment_id, ''), status, gross_grosze FROM invoices WHERE order_id LIKE $1 AND kind = 'invoice'`,
		func(id, pid, _ string, _ int64) { settledBy[id] = pid })

	wantPaid := func(o *ord) int { return 1 + is(g.double[o.id]) }
	taken := func(o *ord) map[string]bool {
		m := map[string]bool{}
		for pid, p := range payments[o.id] {
			if _, owed := refunds[o.id][pid]; p.status == "completed" && !owed {
				m[pid] = true
			}
		}
		return m
	}
	var rows []row
	add := func(name string, want, got func(o *ord) int) { rows = append(rows, tally(name, orders, want, got)) }
	add("p24 transactions registered (fake)", wantPaid, func(o *ord) int { return registered[o.id] })
	add("  paid (fake)", wantPaid, func(o *ord) int { return len(paid[o.id]) })
	add("  verified (fake: completed or returned)", wantPaid, func(o *ord) int {
		n := 0
		for _, t := range paid[o.id] {
			n += is(t.State == p24.Completed || t.State == p24.Returned)
		}
		return n
	})
	add("  recorded as payment p24-<orderId> (db)", wantPaid, func(o *ord) int {
		n := 0
		for _, t := range paid[o.id] {
			p, ok := payments[o.id][store.P24PaymentID(t.OrderID)]
			n += is(ok && p.status == "completed" && p.amount == t.Amount)
		}
		return n
	})
	// Payments of ours that no paid transaction of the fake stands for.
	var madeUp []string
	for _, o := range orders {
		at := map[string]bool{}
		for _, t := range paid[o.id] {
			at[store.P24PaymentID(t.OrderID)] = true
		}
		for pid := range payments[o.id] {
			if !at[pid] {
				madeUp = append(madeUp, o.id+" "+pid)
			}
		}
	}
	sort.Strings(madeUp)
	rows = append(rows, row{name: "payments (db) not paid at the fake", got: len(madeUp), dup: len(madeUp), bad: madeUp})
	add("payments taken (db: completed, not owed back)", (*ord).provisioned, func(o *ord) int { return len(taken(o)) })
	add("  settling the VAT invoice", (*ord).provisioned, func(o *ord) int { return is(taken(o)[settledBy[o.id]]) })
	add("refunds refunded (db)", func(o *ord) int { return o.wantRefunds }, func(o *ord) int {
		n := 0
		for _, rf := range refunds[o.id] {
			n += is(rf.status == store.RefundRefunded)
		}
		return n
	})
	add("  Refund workflow done", func(o *ord) int { return o.wantRefunds }, func(o *ord) int {
		n := 0
		g.mu.Lock()
		defer g.mu.Unlock()
		for pid := range refunds[o.id] {
			n += is(g.refundDone[pid].Stage == workflows.StageDone)
		}
		return n
	})
	add("refunds made (fake)", func(o *ord) int { return o.wantRefunds }, func(o *ord) int { return len(fakeRefunds[o.id]) })
	add("  of the payment owed back, in full", func(o *ord) int { return o.wantRefunds }, func(o *ord) int {
		n := 0
		for _, f := range fakeRefunds[o.id] {
			rf, ok := refunds[o.id][store.P24PaymentID(f.OrderID)]
			n += is(ok && f.Completed() && f.Amount == rf.amount)
		}
		return n
	})
	add("  transactions returned (fake)", func(o *ord) int { return o.wantRefunds }, func(o *ord) int {
		n := 0
		for _, t := range paid[o.id] {
			n += is(t.State == p24.Returned)
		}
		return n
	})
	g.mu.Lock()
	checks := map[string]workflows.AfterResult{}
	for k, v := range g.checks {
		checks[k] = v
	}
	g.mu.Unlock()
	add("lost notifications recovered by PaymentCheck", func(o *ord) int {
		n := 0
		for _, t := range paid[o.id] {
			n += is(copies[t.SessionID] == 0)
		}
		return n
	}, func(o *ord) int {
		n := 0
		for _, t := range paid[o.id] {
			res := checks[t.SessionID]
			n += is(copies[t.SessionID] == 0 && strings.Contains(res.Reason, store.P24PaymentID(t.OrderID)+" recovered"))
		}
		return n
	})

	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.id
	}
	unsettled, err := st.Store.UnsettledPayments(ctx, ids...)
	rq.NoError(err)
	var bad []string
	for _, p := range unsettled {
		bad = append(bad, fmt.Sprintf("%s %s (%s)", p.OrderID, p.PaymentID, p.OrderStatus))
	}
	rows = append(rows, row{name: "completed payments neither taken nor refunded", got: len(bad), bad: bad, total: "unrecorded payments"})
	double, err := st.Store.DoublySettledPayments(ctx, ids...)
	rq.NoError(err)
	bad = nil
	for _, p := range double {
		bad = append(bad, fmt.Sprintf("%s %s (%s)", p.OrderID, p.PaymentID, p.OrderStatus))
	}
	rows = append(rows, row{name: "completed payments taken and refunded", got: len(bad), dup: len(bad), bad: bad})
	byStatus, failed := queueWorkflows(r)
	rows = append(rows, row{name: "FAILED workflows (Temporal)", got: len(failed), bad: failed, total: "FAILED workflows"})

	// The figures.
	g.mu.Lock()
	defer g.mu.Unlock()
	answers := map[string]int{}
	for _, q := range g.calls.since(0, nil) {
		op := q.Method + " " + strings.TrimPrefix(q.Path, "/api/v1/transaction/")
		if strings.HasPrefix(q.Path, "/api/v1/transaction/by/sessionId/") {
			op = q.Method + " by/sessionId"
		}
		status := strconv.Itoa(q.Status)
		if q.Aborted {
			status = "aborted"
		}
		answers[op+" "+status]++
		switch {
		case strings.HasSuffix(q.Path, "/verify") && q.Status == http.StatusInternalServerError:
			g.seen.VerifyFailed++
		case strings.HasSuffix(q.Path, "/refund") && q.Status == http.StatusInternalServerError:
			g.seen.RefundAnswersLost++
		}
	}
	g.seen.LostNotifications, g.seen.DuplicatedNotifications = lost, dup
	reasons := map[string]int{}
	for _, res := range checks {
		reason := res.Reason
		if strings.Contains(reason, "recovered") {
			reason = "recovered"
		}
		reasons[reason]++
	}
	calls, distinct := g.front.refundCalls()
	g.lostAnswers, g.resent, g.notResent = g.front.resent()
	g.notices.mu.Lock()
	waited, early := g.notices.held, g.notices.early
	g.notices.mu.Unlock()
	r.stat("Przelewy24 faults planned: %+v", g.planned)
	r.stat("Przelewy24 faults served:  %+v", g.seen)
	r.stat("paid transactions %d: notifications sent %d (lost %d, sent twice %d); not taken by the intake after the fake's tries: %d %v",
		paidAll, sent, lost, dup, len(g.notTaken), g.notTaken)
	r.stat("Przelewy24 API calls by answer: %s", sortedCounts(answers))
	r.stat("refund calls: %d for %d refunds; request %s held across the kill of the worker", calls, distinct, g.front.heldRequest())
	r.stat("refund calls answered 500: %d, called again and answered as the first: %d %v; their notifications waited for the retry: %d (in vain: %d)",
		g.lostAnswers, g.resent, g.notResent, waited, early)
	r.stat("PaymentChecks of the lost notifications by result: %s", sortedCounts(reasons))
	r.stat("workflows of the run by status: %s", sortedCounts(byStatus))
	return rows
}
