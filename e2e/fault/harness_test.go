package fault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/proctest"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/stretchr/testify/require"
)

// ordersPerRun is how many orders each test sends at once; FAULT_ORDERS
// changes it for a quick look.
func ordersPerRun() int {
	if n, err := strconv.Atoi(os.Getenv("FAULT_ORDERS")); err == nil && n > 0 {
		return n
	}
	return 200
}

// failEvery makes every n-th order's payment fail, so that compensation
// runs under the fault too.
const failEvery = 20

// runTimeout bounds one run: an order that never ends fails the test with
// the table of where things stand instead of hanging the package.
// FAULT_TIMEOUT (a duration) changes it.
var runTimeout = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("FAULT_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 10 * time.Minute
}()

// scenario is one fault test.
type scenario struct {
	// orders, if set, caps the run's orders (FAULT_ORDERS still lowers it).
	orders int
	// intake, if set, changes the run's intake API instance before it
	// serves; r.api is its address already (a gateway's notification URL
	// points at it).
	intake func(r *run, in *intake.Server)
	// env goes to every worker process of the run (after the defaults).
	env []string
	// resendPossible: the fault can stop a worker between an email leaving
	// and its being recorded (a crash, a database outage), after which the
	// retry sends it again under the same Message-ID. Such resends are
	// reported; where they are not possible they fail the test.
	resendPossible bool
	// before runs once the worker runs and before any order is placed.
	before func(r *run)
	// during runs beside the orders; it should return once r.until gives
	// false (the run is over).
	during func(r *run)
	// prepare changes the run's orders and what they should end as, before
	// any is placed.
	prepare func(r *run)
	// pay, if set, pays an order found waiting for payment instead of
	// r.pay; it tells whether the order's payment was accepted.
	pay func(r *run, id string, gross int64, currency string) bool
	// extra adds rows of the scenario's own to the table, once the orders
	// ended; with it the table ends with a line of totals.
	extra func(r *run, orders []*ord) []row
	// ksef, if set, is the KSeF fake the run's worker issues its VAT
	// invoices through (env then names its KSEF_URL); nil: the stack's.
	ksef *ksef.Fake
}

// run is one test's 200 orders and what is known of them.
type run struct {
	t      *testing.T
	ctx    context.Context
	queue  string
	prefix string // every order id of the run starts with it
	env    []string
	reqs   []order.Request
	fails  map[string]bool // orders whose payment fails
	// refunds is how many refunds rows an order should end with (none
	// unless set).
	refunds map[string]int
	// payments is how many payments rows an order should end with (one
	// unless set).
	payments map[string]int
	// clients are the shops placing some of the orders; the others go
	// through shop.
	clients map[string]*intake.Client
	corr    map[string]bool // MS-CorrelationId of the orders' tenant API calls
	shop    *intake.Client
	api     string         // the run's intake API
	in      *intake.Server // ... and the instance behind it
	began   time.Time
	mark    int // the run's first request at the tenant API recorder

	sc scenario

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every progress update
	prog     progress
	worker   *proctest.Process
	workers  []*proctest.Process
	stats    []string // fault figures for the table
	finished bool
}

// progress is where the run's orders are, from PostgreSQL.
type progress struct {
	Placed   int // rows in orders
	Awaiting int // seen at awaiting_payment (or paid since)
	Paid     int // payment notifications accepted
	Terminal int
	Status   map[string]int
}

// Step is a single measure of how far the run got: 0 .. 2n.
func (p progress) Step() int { return p.Awaiting + p.Terminal }

func newRun(t *testing.T, name string, sc scenario) *run {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	r := &run{
		t: t, queue: "fault-" + name + "-" + id, prefix: "f-" + name + "-" + id + "-",
		fails: map[string]bool{}, refunds: map[string]int{}, payments: map[string]int{}, clients: map[string]*intake.Client{},
		corr: map[string]bool{}, changed: make(chan struct{}), began: time.Now(),
		env: append([]string{}, sc.env...),
	}
	r.env = append(r.env, "TEMPORAL_TASK_QUEUE="+r.queue)
	n := ordersPerRun()
	if sc.orders > 0 {
		n = min(n, sc.orders)
	}
	for i := range n {
		oid := fmt.Sprintf("%s%03d", r.prefix, i)
		r.reqs = append(r.reqs, order.Request{
			OrderID: oid,
			Customer: order.Customer{
				Company: "Fault sp. z o.o.", Email: oid + "@fault.example", FirstName: "Jan", LastName: "Kowalski",
				TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1",
			},
			Plan: "business-standard", Seats: 5, BillingCycle: "monthly", Language: "pl",
			DomainPrefix: "f" + id + name[:1] + strconv.Itoa(i),
		})
		r.corr[tenant.RequestID(oid)] = true
		if i%failEvery == failEvery-1 {
			r.fails[oid] = true
		}
	}
	return r
}

// note logs a fault as it happens, with the run's clock.
func (r *run) note(format string, args ...any) {
	r.t.Log(fmt.Sprintf("%6.1fs  ", time.Since(r.began).Seconds()) + fmt.Sprintf(format, args...))
}

// stat adds a line of fault figures to the table.
func (r *run) stat(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats = append(r.stats, fmt.Sprintf(format, args...))
}

// current is the worker process running now.
func (r *run) current() *proctest.Process {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.worker
}

// startWorker starts a worker process for the run's queue.
func (r *run) startWorker() *proctest.Process {
	w := startWorkerProcess(r.t, r.env...)
	r.mu.Lock()
	r.worker = w
	r.workers = append(r.workers, w)
	r.mu.Unlock()
	return w
}

// until waits until cond holds for the run's progress and tells whether
// it does; false means the run is over (or timed out) first.
func (r *run) until(cond func(progress) bool) bool {
	for {
		r.mu.Lock()
		p, ch, fin := r.prog, r.changed, r.finished
		r.mu.Unlock()
		if cond(p) {
			return true
		}
		if fin {
			return false
		}
		select {
		case <-ch:
		case <-r.ctx.Done():
			return false
		}
	}
}

func (r *run) progress() progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.prog
}

// runScenario places the orders, pays each once it waits for payment,
// lets the scenario do its harm meanwhile (on the test's goroutine), waits
// for every order to end and checks what every side holds.
func runScenario(t *testing.T, name string, sc scenario) *run {
	r := newRun(t, name, sc)
	r.sc = sc
	// The run's own instance of the stack's intake API (same store,
	// Temporal client, keys and secret) starts the orders on the run's
	// task queue, which only the run's worker process serves; runs in
	// parallel thus never share a queue or touch the stack's intake.
	in := *st.Intake
	in.TaskQueue = r.queue
	// Unstarted, so that its address is known before the scenario changes
	// the instance.
	api := httptest.NewUnstartedServer(nil)
	r.api = "http://" + api.Listener.Addr().String()
	if sc.intake != nil {
		sc.intake(r, &in)
	}
	r.in = &in
	api.Config.Handler = in.Handler()
	api.Start()
	t.Cleanup(api.Close)
	r.shop = r.newClient(shopKey)
	if sc.prepare != nil {
		sc.prepare(r)
	}

	mark := partner.mark()
	suspensions := st.Fake.Suspensions()
	sinkBefore := len(st.Sink.Messages())
	r.startWorker()
	if sc.before != nil {
		sc.before(r)
	}

	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	r.ctx = ctx
	var bg sync.WaitGroup
	// Registered after the worker's cleanup, so it runs first: the run's
	// goroutines end before the worker processes are stopped.
	t.Cleanup(func() {
		cancel()
		bg.Wait()
	})
	r.began = time.Now()
	t.Logf("%d orders (every %dth payment fails) on task queue %s, order ids %s*", len(r.reqs), failEvery, r.queue, r.prefix)

	polled := make(chan struct{})
	bg.Go(func() {
		defer close(polled)
		r.poll()
	})
	var placedIn time.Duration
	bg.Go(func() {
		var placing sync.WaitGroup
		for _, req := range r.reqs {
			placing.Go(func() {
				if err := r.place(ctx, req); err != nil && ctx.Err() == nil {
					t.Errorf("place %s: %v", req.OrderID, err)
				}
			})
		}
		placing.Wait()
		r.mu.Lock()
		placedIn = time.Since(r.began)
		r.mu.Unlock()
	})
	if sc.during != nil {
		sc.during(r)
	}
	<-polled
	took := time.Since(r.began)
	p := r.progress()
	r.mu.Lock()
	t.Logf("placed in %.1fs; %d of %d orders terminal after %.1fs", placedIn.Seconds(), p.Terminal, len(r.reqs), took.Seconds())
	r.mu.Unlock()
	// An order ends without waiting for its VAT invoice's KSeF workflow.
	r.awaitKSeF()
	r.check(sc, mark, suspensions, sinkBefore, took)
	r.mark = mark
	return r
}

// poll reads the run's orders from PostgreSQL until all are terminal (or
// the run times out), pays every order it finds waiting for payment, and
// publishes the progress.
func (r *run) poll() {
	defer func() {
		r.mu.Lock()
		r.finished = true
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}()
	n := len(r.reqs)
	awaiting := map[string]bool{}
	var paid sync.Map
	var paying sync.WaitGroup
	defer paying.Wait()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		p := progress{Status: map[string]int{}}
		rows, err := st.Store.Pool.Query(r.ctx, `SELECT o.order_id, o.status, coalesce(i.gross_grosze, 0), coalesce(i.currency, '')
			FROM orders o LEFT JOIN invoices i ON i.order_id = o.order_id AND i.kind = 'proforma'
			WHERE o.order_id LIKE $1`, r.prefix+"%")
		if err == nil {
			for rows.Next() {
				var id, status, currency string
				var gross int64
				if err = rows.Scan(&id, &status, &gross, &currency); err != nil {
					break
				}
				p.Placed++
				p.Status[status]++
				if order.Status(status).Terminal() {
					p.Terminal++
				}
				if status == string(order.AwaitingPayment) && !awaiting[id] {
					awaiting[id] = true
					paying.Go(func() {
						pay := r.pay
						if r.sc.pay != nil {
							pay = func(id string, gross int64, currency string) bool { return r.sc.pay(r, id, gross, currency) }
						}
						if pay(id, gross, currency) {
							paid.Store(id, true)
						}
					})
				}
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		// A read cut short (the run's end) must not replace a whole one.
		if err == nil {
			p.Awaiting = len(awaiting)
			paid.Range(func(any, any) bool { p.Paid++; return true })
			r.mu.Lock()
			r.prog = p
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
			if p.Terminal == n {
				return
			}
		}
		select {
		case <-r.ctx.Done():
			if errors.Is(r.ctx.Err(), context.DeadlineExceeded) {
				p := r.progress()
				r.t.Errorf("run timed out after %s: %d of %d orders terminal, by status %v", runTimeout, p.Terminal, n, p.Status)
			}
			return
		case <-tick.C:
		}
	}
}

// newClient is a shop's client of the run's intake API, with key. It waits
// as long as intake.NewClient's does (60 s), beyond the intake's own bound
// on a placement (45 s, then 503 with Retry-After).
func (r *run) newClient(key string) *intake.Client {
	return intake.NewClient(r.api, key, &http.Client{
		Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256},
	})
}

// placeTries bounds a placement's tries; placing is idempotent.
const placeTries = 5

// place places req as a shop does: a 503 is sent again after its
// Retry-After (5 s), a lost answer at once. With 200 orders placed at once
// a few placements wait past the intake's 45 s for their run's first
// workflow task (the worker serves orders already running first), so a
// try that ends that way is counted in the log, not failed.
func (r *run) place(ctx context.Context, req order.Request) error {
	var err error
	for try := 1; try <= placeTries; try++ {
		if _, err = r.client(req.OrderID).Place(ctx, req); err == nil || ctx.Err() != nil {
			return err
		}
		var apiErr *intake.APIError
		if errors.As(err, &apiErr) && apiErr.Status != http.StatusServiceUnavailable {
			return err // the intake refused it: trying again cannot help
		}
		r.note("place %s: try %d: %v", req.OrderID, try, err)
		if apiErr != nil {
			select {
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return err
}

// client is the shop that places the order.
func (r *run) client(id string) *intake.Client {
	if c := r.clients[id]; c != nil {
		return c
	}
	return r.shop
}

// pay sends the order's signed payment notification, "failed" for the
// orders meant to fail, for the pro-forma's amount.
func (r *run) pay(id string, gross int64, currency string) bool {
	status := "completed"
	if r.fails[id] {
		status = "failed"
	}
	n := intake.Notification{OrderID: id, PaymentID: status + "-" + id, Status: status,
		Amount: fmt.Sprintf("%d.%02d", gross/100, gross%100), Currency: currency}
	var err error
	for range 5 {
		if _, err = r.shop.Notify(r.ctx, []byte(secret), n); err == nil {
			return true
		}
		select {
		case <-r.ctx.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
	r.t.Errorf("payment of %s: %v", id, err)
	return false
}

// require is testify's, bound to the run's test.
func (r *run) require() *require.Assertions { return require.New(r.t) }
