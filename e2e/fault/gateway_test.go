package fault

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/gateway"
	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
)

// TestFaultGateway: the orders are paid through Przelewy24 (the stack's
// fake) instead of the shop's signed notification, while the fake
// misbehaves. Each order's pay button (intake.Server.Pay) registers a
// transaction and starts its PaymentCheck; the payer pays it at the fake,
// whose notification reaches the run's intake instance. Meanwhile:
//
//   - a share of the notifications is lost (the PaymentCheck asks the
//     gateway 2 s after the transaction was registered, and records the
//     payment), a share is sent twice, and some verify calls answer 500;
//   - every 20th order's payer fails at the fake (nothing is notified), the
//     shop cancels the order, and then the payer pays after all: late, so
//     the payment is owed back;
//   - every 10th order is paid twice (two transactions of one pro-forma,
//     the second once every order has ended): the second is owed back;
//   - refunds' answers are lost (the refund is made, the call answered 500),
//     and the worker process is killed (SIGKILL) while a refund call it made
//     is held unanswered in front of the fake; a new worker retries the
//     refund once the dead one's activity times out, and the dead worker's
//     call then reaches the fake after the retry, as a late duplicate.
//
// Besides the harness's table (every order ends as it should, once), the
// table counts, order by order: transactions paid at the fake against
// payments recorded under their p24-<orderId> ids (none lost, none made
// up), one payment taken per paid order, settling its VAT invoice, every
// owed refund refunded in our books and exactly once at the fake (for the
// payment owed back, in full), each Refund workflow done, each lost
// notification recovered by its PaymentCheck, and no FAILED workflow.
func TestFaultGateway(t *testing.T) {
	t.Parallel()
	require.NotNil(t, st.P24Fake, "the stack runs the Przelewy24 fake (-dev without P24_URL)")
	g := &gatewayRun{double: map[string]bool{}, index: map[string]int{}, refundDone: map[string]workflows.AfterResult{},
		checks: map[string]workflows.AfterResult{}}
	g.calls = newRecorder(st.P24Fake.Handler())
	g.front = newRefundHold(g.calls)
	fake := httptest.NewServer(g.front)
	t.Cleanup(fake.Close)
	t.Cleanup(g.front.let) // before the server closes: it waits for the held call
	g.fakeURL = fake.URL
	r := runScenario(t, "gateway", scenario{
		orders: 100, intake: g.intake, prepare: g.prepare, pay: g.pay, during: g.during, extra: g.rows,
		// It kills a worker while a refund call is held: an email leaving
		// that moment (a KSeF invoice's, often) goes out again.
		resendPossible: true,
	})

	// The faults planned were served, and seen by our side.
	g.mu.Lock()
	defer g.mu.Unlock()
	require.Equal(t, g.planned, g.seen, "faults planned (left) and served by the fake (right)")
	require.Len(t, r.workers, 2, "the worker process was killed once, and replaced")
	require.True(t, g.retried, "the refund call held across the kill was retried by the new worker, then reached the fake")
	require.Equal(t, g.planned.RefundAnswersLost, g.lostAnswers, "refund calls answered 500")
	// A refund whose answer was lost is sent again under the same request
	// id and answered as the first, unless its notification (held here up to
	// 8 s for the retry) closed it first: then the retry finds it closed and
	// sends nothing. Either way the table shows one refund at the fake per
	// payment owed back.
	g.notices.mu.Lock()
	early := g.notices.early
	g.notices.mu.Unlock()
	require.Equal(t, g.lostAnswers, g.resent+early, "refunds whose answer was lost were sent again under the same request id, or closed by their notification first: not resent %v, closed first %d", g.notResent, early)
	require.LessOrEqual(t, len(g.notResent), early)
}

// gatewayFaults are counts of the fake's faults.
type gatewayFaults struct {
	LostNotifications, DuplicatedNotifications, VerifyFailed, RefundAnswersLost int
}

// gatewayRun is TestFaultGateway's plan and what it saw.
type gatewayRun struct {
	fakeURL string         // the fake, through front
	calls   *recorder      // every call at the fake's API, as answered
	front   *refundHold    // in front of calls
	notices *refundNotices // in front of the run's intake
	client  p24.Client     // the stack's merchant account, at fakeURL
	double  map[string]bool
	index   map[string]int // order id -> its number in the run

	mu         sync.Mutex
	planned    gatewayFaults
	seen       gatewayFaults
	notTaken   []string                         // payments whose notification the intake did not take, as the fake gave up
	refundDone map[string]workflows.AfterResult // payment id -> its Refund workflow's result
	checks     map[string]workflows.AfterResult // session id -> its PaymentCheck's result (of lost notifications)
	retried    bool
	// Refund calls answered 500 (a lost answer), and of them those the
	// worker sent again and the fake answered as the first.
	lostAnswers, resent int
	notResent           []string
}

// intake gives the run's intake instance the stack's merchant account, at
// the fake through front, with its notifications coming back to the run's
// own instance; the worker processes get the same account.
func (g *gatewayRun) intake(r *run, in *intake.Server) {
	g.client = *st.Gateway.Client
	g.client.BaseURL, g.client.HTTP = g.fakeURL, nil
	c := g.client
	u, err := url.Parse(r.api)
	r.require().NoError(err)
	g.notices = &refundNotices{next: httputil.NewSingleHostReverseProxy(u), hold: g.front}
	notices := httptest.NewServer(g.notices)
	r.t.Cleanup(notices.Close)
	in.P24 = &intake.P24{
		Gateway:  &gateway.Gateway{Client: &c, Store: st.Store, RefundStatusURL: notices.URL + "/v1/payments/p24/refund"},
		PanelURL: r.api + "/panel", StatusURL: r.api + "/v1/payments/p24/status",
		CheckAfter: 2 * time.Second, CheckFor: time.Hour,
	}
	// The PaymentCheck's schedule is the intake's (above, in the
	// workflow's input); the worker's P24_CHECK_AFTER is set alike.
	r.env = append(r.env,
		"P24_URL="+g.fakeURL, "P24_MERCHANT_ID="+strconv.Itoa(c.MerchantID), "P24_POS_ID="+strconv.Itoa(c.PosID),
		"P24_API_KEY="+c.APIKey, "P24_CRC="+c.CRC, "P24_CHECK_AFTER=2s", "P24_REFUND_SWEEP=500ms",
		// The refunds' notifications go to the worker's public address
		// (BILLING_PANEL_URL without /panel): the run's intake, through
		// notices.
		"BILLING_PANEL_URL="+notices.URL+"/panel",
	)
}

// prepare plans the failed-then-late and the double payments, and the
// faults injected before each order's payment.
func (g *gatewayRun) prepare(r *run) {
	for i, q := range r.reqs {
		id := q.OrderID
		g.index[id] = i
		switch {
		case r.fails[id]:
			// Failed at the fake, cancelled, then paid late: one payment,
			// owed back.
			r.refunds[id] = 1
		case i%10 == 4:
			g.double[id] = true
			r.payments[id], r.refunds[id] = 2, 1
		}
		switch {
		case i%8 == 1:
			g.planned.LostNotifications++
		case i%8 == 5:
			g.planned.DuplicatedNotifications++
		}
		if i%10 == 7 {
			g.planned.VerifyFailed++
		}
		if g.double[id] && i%30 == 4 {
			g.planned.RefundAnswersLost++ // before its second payment
		}
	}
	if len(g.double) == 0 {
		r.t.Fatalf("the run needs an order paid twice (its 5th): FAULT_ORDERS=%d is too few", len(r.reqs))
	}
	// The refunds of the cancelled orders' late payments come first; as
	// many lost answers as there are of them, so that no count is left
	// over whatever comes first.
	early := len(r.fails)
	g.planned.RefundAnswersLost += early
	st.P24Fake.LoseRefundAnswers(early)
	r.t.Logf("gateway: %d orders failed at Przelewy24, cancelled, then paid late; %d paid twice; faults planned %+v",
		len(r.fails), len(g.double), g.planned)
}

// txn is a registered transaction.
type txn struct{ token, session string }

// register presses the order's pay button: a transaction registered at the
// fake for what is due, its PaymentCheck started.
func (g *gatewayRun) register(r *run, id string) (txn, bool) {
	var u string
	var err error
	for try := range 5 {
		if try > 0 {
			select {
			case <-r.ctx.Done():
				return txn{}, false
			case <-time.After(500 * time.Millisecond):
			}
		}
		if u, err = r.in.Pay(r.ctx, id, "pl"); err == nil || r.ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		if r.ctx.Err() == nil {
			r.t.Errorf("pay button of %s: %v", id, err)
		}
		return txn{}, false
	}
	_, token, ok := strings.Cut(u, "/trnRequest/")
	if !ok {
		r.t.Errorf("pay button of %s: payer page %q", id, u)
		return txn{}, false
	}
	var session string
	if err := st.Store.Pool.QueryRow(r.ctx, `SELECT session_id FROM p24_transactions WHERE token = $1 AND order_id = $2`, token, id).Scan(&session); err != nil {
		r.t.Errorf("transaction of %s (token %s): %v", id, token, err)
		return txn{}, false
	}
	return txn{token: token, session: session}, true
}

// payAt does what the payer does on the fake's page. An error is a
// notification the intake did not take after the fake's tries: the
// PaymentCheck is to find that payment.
func (g *gatewayRun) payAt(r *run, t txn, outcome p24.Outcome) {
	if err := st.P24Fake.Pay(t.token, outcome); err != nil {
		g.mu.Lock()
		g.notTaken = append(g.notTaken, t.session+": "+err.Error())
		g.mu.Unlock()
	}
}

// pay pays an order waiting for payment through Przelewy24, as planned.
func (g *gatewayRun) pay(r *run, id string, _ int64, _ string) bool {
	i := g.index[id]
	// The faults, by the next payments made (this one or another's).
	switch {
	case i%8 == 1:
		st.P24Fake.LoseNotifications(1)
	case i%8 == 5:
		st.P24Fake.DuplicateNotifications(1)
	}
	if i%10 == 7 {
		st.P24Fake.FailVerify(1)
	}
	first, ok := g.register(r, id)
	if !ok {
		return false
	}
	var second txn
	if g.double[id] {
		// Registered while the pro-forma is due; paid once every order
		// has ended.
		if second, ok = g.register(r, id); !ok {
			return false
		}
		g.front.holdRefundOf(second.session)
	}
	if r.fails[id] {
		g.payAt(r, first, p24.Failed)
		var err error
		for try := range 5 {
			if try > 0 {
				select {
				case <-r.ctx.Done():
					return false
				case <-time.After(500 * time.Millisecond):
				}
			}
			if err = r.client(id).Cancel(r.ctx, id, "the payment failed at Przelewy24"); err == nil || r.ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			if r.ctx.Err() == nil {
				r.t.Errorf("cancel %s: %v", id, err)
			}
			return false
		}
		g.payAt(r, first, p24.Paid) // late: after the cancel
		return true
	}
	g.payAt(r, first, p24.Paid)
	if second.token == "" {
		return true
	}
	if !r.until(func(p progress) bool { return p.Terminal >= len(r.reqs) }) {
		return true
	}
	if i%30 == 4 {
		st.P24Fake.LoseRefundAnswers(1)
	}
	g.payAt(r, second, p24.Paid)
	return true
}

// during kills the worker process once one of the second payments' refund
// calls is held in front of the fake, starts a new one, lets the dead
// worker's call on once the new worker's retry of the refund is through,
// then waits until every owed refund is refunded and its Refund workflow
// closed, and every lost notification's PaymentCheck closed.
func (g *gatewayRun) during(r *run) {
	over := make(chan struct{})
	go func() {
		r.until(func(progress) bool { return false })
		close(over)
	}()
	// A refund call is held soon after the orders have ended (the second
	// payments); should none come, the run fails instead of hanging.
	var late <-chan time.Time
	ended := (<-chan struct{})(over)
	for held := false; !held; {
		select {
		case <-g.front.held:
			held = true
		case <-ended:
			ended, late = nil, time.After(2*time.Minute)
		case <-late:
			r.t.Errorf("no refund call of a second payment came within 2 minutes of the orders' end")
			return
		case <-r.ctx.Done():
			return
		}
	}
	w := r.current()
	w.Kill(r.t)
	p := r.progress()
	r.note("SIGKILL worker pid %d while its refund call (request %s) is held unanswered at the fake (terminal %d of %d)",
		w.Pid(), g.front.heldRequest(), p.Terminal, len(r.reqs))
	nw := r.startWorker()
	r.note("worker pid %d runs; the dead one's refund activity is retried once its start-to-close timeout passes", nw.Pid())
	select {
	case <-g.front.retried:
	case <-time.After(3 * time.Minute):
		r.t.Errorf("the refund held across the kill was not retried within 3 minutes")
		g.front.let()
		return
	case <-r.ctx.Done():
		return
	}
	g.front.let()
	g.mu.Lock()
	g.retried = true
	g.mu.Unlock()
	r.note("the new worker's retry of request %s reached the fake; the dead worker's call follows it", g.front.heldRequest())

	// Every owed refund refunded: the orders' refunds rows as planned.
	want := 0
	for _, n := range r.refunds {
		want += n
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var pids []string
	for {
		pids = pids[:0]
		var refunded int
		rows, err := st.Store.Pool.Query(r.ctx, `SELECT payment_id, status FROM refunds WHERE order_id LIKE $1`, r.prefix+"%")
		if err == nil {
			for rows.Next() {
				var pid, status string
				if err = rows.Scan(&pid, &status); err != nil {
					break
				}
				pids = append(pids, pid)
				if status == store.RefundRefunded {
					refunded++
				}
			}
			rows.Close()
		}
		if err == nil && len(pids) >= want && refunded == len(pids) {
			break
		}
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
	}
	r.note("%d refunds refunded", len(pids))
	// Their Refund workflows closed: the one whose activity died with the
	// worker too.
	for _, pid := range pids {
		var res workflows.AfterResult
		if err := st.Client.GetWorkflow(r.ctx, workflows.RefundWorkflowID(pid), "").Get(r.ctx, &res); err != nil {
			r.t.Errorf("Refund workflow of %s: %v", pid, err)
			continue
		}
		g.mu.Lock()
		g.refundDone[pid] = res
		g.mu.Unlock()
	}
	// The PaymentChecks of the transactions whose notification was lost.
	copies := notificationCopies()
	for _, t := range st.P24Fake.Transactions() {
		if !strings.HasPrefix(t.SessionID, r.prefix) || t.State == p24.NoPayment || copies[t.SessionID] > 0 {
			continue
		}
		var res workflows.AfterResult
		if err := st.Client.GetWorkflow(r.ctx, workflows.PaymentCheckWorkflowID(t.SessionID), "").Get(r.ctx, &res); err != nil {
			r.t.Errorf("PaymentCheck of %s: %v", t.SessionID, err)
			continue
		}
		g.mu.Lock()
		g.checks[t.SessionID] = res
		g.mu.Unlock()
	}
	r.note("Refund workflows and the lost notifications' PaymentChecks closed")
}

// notificationCopies is how many copies of each session's paid
// notification the fake sent.
func notificationCopies() map[string]int {
	copies := map[string]int{}
	for _, n := range st.P24Fake.Notifications() {
		copies[n.SessionID]++
	}
	return copies
}
