package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/stack"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// orderTimeout bounds one order end to end: a stuck order fails the run with
// its id instead of hanging it.
const orderTimeout = 5 * time.Minute

// runner drives one stack; id keeps this run's orders apart from any other's.
type runner struct {
	o        Options
	st       *stack.Stack
	floor    *floorActivities
	shop     *intake.Client
	mail     *mailbox
	id       string
	gross    string // the bench order's invoice amount, read in the warm-up
	deadline time.Time
	ksefSeen map[string]bool // KSeF workflows already waited for
	retried  atomic.Int64    // placements answered 503 and sent again
	// the same in the accept phase, through the intake and directly
	intakeRetried, directRetried atomic.Int64
}

// retryAfter is the intake's Retry-After on a 503.
const retryAfter = 5 * time.Second

// client is a shop's client of the intake at base, with one idle connection
// per order in flight: the default two would dial for nearly every request.
// intakeOn serves an intake API of its own that starts its orders on queue,
// and returns a client of it and the func that stops it.
func (r *runner) intakeOn(queue string) (*intake.Client, func(), error) {
	cfg := r.o.Config
	srv := &intake.Server{
		Store: r.st.Store, Temporal: r.st.Client, TaskQueue: queue, Keys: cfg.IntakeKeys,
		WebhookSecret: cfg.WebhookSecret, Deadline: cfg.PaymentDeadline, Reminders: cfg.PaymentReminders, Log: r.o.Logger.Named("intake"),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	hs := intake.NewHTTPServer(r.st.Telemetry.WrapHTTP(srv.Handler(), "intake"))
	go func() { _ = hs.Serve(l) }()
	return r.client("http://" + l.Addr().String()), func() { _ = hs.Close() }, nil
}

// Its timeout is the one intake.NewClient gives a shop (60 s), past the
// intake's own bound on a placement (45 s, then 503): at 100 orders in
// flight a new order's first workflow task waits behind the in-flight
// orders' tasks, and a shorter timeout here failed the run where a shop
// would have had its answer.
func (r *runner) client(base string) *intake.Client {
	return intake.NewClient(base, r.o.Config.IntakeKeys[0], &http.Client{
		Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: r.o.Concurrency},
	})
}

// request is a valid order whose id, email and domain say run, kind and i.
func (r *runner) request(kind string, i int) order.Request {
	id := "bench-" + r.id + "-" + kind + strconv.Itoa(i)
	return order.Request{
		OrderID: id,
		Customer: order.Customer{
			Company: "Bench sp. z o.o.", Email: id + "@bench.example", FirstName: "Jan", LastName: "Kowalski",
			TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1",
		},
		Plan: "business-standard", Seats: 5, BillingCycle: "monthly", Language: "pl",
		// [a-z0-9]{3,27}: 1 + 8 + len(kind) + digits.
		DomainPrefix: "b" + r.id + kind + strconv.Itoa(i),
	}
}

// place posts the order through shop and returns when its billing email is
// in the sink, which the saga sends just before it waits for payment.
func (r *runner) place(ctx context.Context, shop *intake.Client, req order.Request) error {
	got := r.mail.expect(req.Customer.Email)
	if err := again(ctx, &r.retried, func() error { _, err := shop.Place(ctx, req); return err }); err != nil {
		return fmt.Errorf("place %s: %w", req.OrderID, err)
	}
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("order %s: no billing email: %w", req.OrderID, ctx.Err())
	}
}

// again places an order as a shop does: a placement the intake answers
// 503 (its own bound passed) is sent again after the Retry-After, counted
// in n and in the order's latency. A direct placement (intake.Place) that
// passed the same bound is sent again the same way.
func again(ctx context.Context, n *atomic.Int64, place func() error) error {
	for {
		err := place()
		var apiErr *intake.APIError
		var late *client.WorkflowUpdateServiceTimeoutOrCanceledError
		busy := errors.As(err, &apiErr) && apiErr.Status == http.StatusServiceUnavailable || errors.As(err, &late)
		if !busy || ctx.Err() != nil {
			return err
		}
		n.Add(1)
		select {
		case <-time.After(retryAfter):
		case <-ctx.Done():
			return err
		}
	}
}

// sagaOnce is one order through the intake: placed, paid when its billing
// email arrived (at paid), and waited for until installer_ready. Its
// invoice's KSeF workflow may still run.
func (r *runner) sagaOnce(ctx context.Context, req order.Request, paid *time.Time) error {
	if err := r.place(ctx, r.shop, req); err != nil {
		return err
	}
	*paid = time.Now()
	n := intake.Notification{OrderID: req.OrderID, PaymentID: "pay-" + req.OrderID, Status: "completed", Amount: r.gross, Currency: "PLN"}
	if _, err := r.shop.Notify(ctx, r.o.Config.WebhookSecret, n); err != nil {
		return fmt.Errorf("pay %s: %w", req.OrderID, err)
	}
	var res workflows.Result
	if err := r.st.Client.GetWorkflow(ctx, workflows.WorkflowID(req.OrderID), "").Get(ctx, &res); err != nil {
		return fmt.Errorf("order %s: %w", req.OrderID, err)
	}
	if res.Status != order.InstallerReady {
		return fmt.Errorf("order %s ended %s: %s", req.OrderID, res.Status, res.Reason)
	}
	return nil
}

// warmUp runs one order of each kind before anything is measured, so that
// connections, caches and the namespace are warm, and reads the invoice
// amount the bench's orders are paid with.
func (r *runner) warmUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	if err := floorOnce(ctx, r.st.Client, "bench-"+r.id+"-warm", r.deadline); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := r.st.Client.GetWorkflow(ctx, floorKSeFID("bench-"+r.id+"-warm"), "").Get(ctx, nil); err != nil {
		return fmt.Errorf("warm-up: floor KSeF: %w", err)
	}
	req := r.request("warm", 0)
	if err := r.place(ctx, r.shop, req); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	v, err := r.shop.Get(ctx, req.OrderID)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if v.Invoice == nil {
		return fmt.Errorf("warm-up: order %s has no invoice at %s", req.OrderID, v.Status)
	}
	r.gross = v.Invoice.Gross
	n := intake.Notification{OrderID: req.OrderID, PaymentID: "pay-" + req.OrderID, Status: "completed", Amount: r.gross, Currency: "PLN"}
	if _, err := r.shop.Notify(ctx, r.o.Config.WebhookSecret, n); err != nil {
		return fmt.Errorf("warm-up: pay: %w", err)
	}
	if err := r.st.Client.GetWorkflow(ctx, workflows.WorkflowID(req.OrderID), "").Get(ctx, nil); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if _, err := r.awaitKSeF(ctx, 1); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// awaitKSeF waits until visibility lists want KSeF workflows not yet
// waited for, and then until each has ended; it returns their ids. Each
// paid order's MarkPaid started one before the order went on, so they are
// all started when the orders have ended.
func (r *runner) awaitKSeF(ctx context.Context, want int) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	if r.ksefSeen == nil {
		r.ksefSeen = map[string]bool{}
	}
	var ids []string
	for {
		ids = ids[:0]
		var token []byte
		for {
			resp, err := r.st.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: r.o.Config.TemporalNamespace, Query: `WorkflowType = "` + workflows.KSeFWorkflowName + `"`,
				NextPageToken: token, PageSize: 1000,
			})
			if err != nil {
				return nil, fmt.Errorf("listing KSeF workflows: %w", err)
			}
			for _, e := range resp.GetExecutions() {
				if id := e.GetExecution().GetWorkflowId(); !r.ksefSeen[id] {
					ids = append(ids, id)
				}
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		if len(ids) >= want {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %d KSeF workflows (%d listed): %w", want, len(ids), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if len(ids) != want {
		return nil, fmt.Errorf("KSeF workflows: %d new, want %d", len(ids), want)
	}
	st := make([]workflows.KSeFState, len(ids))
	if err := each(ctx, len(ids), r.o.Concurrency, func(ctx context.Context, i int) error {
		if err := r.st.Client.GetWorkflow(ctx, ids[i], "").Get(ctx, &st[i]); err != nil {
			return fmt.Errorf("%s: %w", ids[i], err)
		}
		if st[i].Status != store.KSeFAccepted || !st[i].Emailed {
			return fmt.Errorf("%s ended %s (emailed %v): %s", ids[i], st[i].Status, st[i].Emailed, st[i].Reason)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("KSeF: %w", err)
	}
	for _, id := range ids {
		r.ksefSeen[id] = true
	}
	return ids, nil
}

// awaitingPayment waits until visibility lists want running orders at
// awaiting_payment: the saga sets that status in the same workflow task
// that starts its deadline timer, so they are all parked.
func (r *runner) awaitingPayment(ctx context.Context, want int) error {
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	q := workflows.OrderStatusKey.GetName() + ` = "awaiting_payment" AND ExecutionStatus = "Running"`
	for {
		resp, err := r.st.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: r.o.Config.TemporalNamespace, Query: q,
		})
		if err == nil && resp.GetCount() >= int64(want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d orders at awaiting_payment (got %d, last error %v): %w", want, resp.GetCount(), err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// timed runs f for 0..n-1 with c in flight and returns how long each took
// and the whole.
func timed(ctx context.Context, n, c int, f func(ctx context.Context, i int) error) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	began := time.Now()
	err := each(ctx, n, c, func(ctx context.Context, i int) error {
		ctx, cancel := context.WithTimeout(ctx, orderTimeout)
		defer cancel()
		t := time.Now()
		err := f(ctx, i)
		lat[i] = time.Since(t)
		return err
	})
	return lat, time.Since(began), err
}

// each runs f for 0..n-1 on c goroutines, each taking the next i when its
// last is done: a closed loop that keeps c in flight. The first error stops
// the others from taking more and is returned.
func each(ctx context.Context, n, c int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// mailbox tells each waiting order that its billing email arrived, and
// keeps when each recipient's credentials email arrived. One watcher reads
// the sink for all, instead of one Sink.WaitFor per order scanning every
// message.
type mailbox struct {
	mu          sync.Mutex
	want        map[string]chan struct{}
	credentials map[string]time.Time // recipient (lower case) -> the sink's arrival time of the first
}

func watchMail(ctx context.Context, sink *mail.Sink) *mailbox {
	m := &mailbox{want: map[string]chan struct{}{}, credentials: map[string]time.Time{}}
	// The match func sees every message once and never matches, so WaitFor
	// runs until ctx ends; it is called under the sink's lock, so it only
	// closes a channel.
	go func() { _, _ = sink.WaitFor(ctx, m.deliver) }()
	return m
}

// expect must be called before the order is placed, so that no email can
// come before anyone waits for it.
func (m *mailbox) expect(to string) <-chan struct{} {
	ch := make(chan struct{})
	m.mu.Lock()
	m.want[strings.ToLower(to)] = ch
	m.mu.Unlock()
	return ch
}

// credentialsAt is when the first credentials email to to arrived in the
// sink.
func (m *mailbox) credentialsAt(to string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.credentials[strings.ToLower(to)]
	return at, ok
}

func (m *mailbox) deliver(msg mail.Received) bool {
	if len(msg.To) != 1 {
		return false
	}
	to := strings.ToLower(msg.To[0])
	switch {
	case strings.Contains(msg.MessageID, "."+activities.EmailBillingAccess+"@"):
		m.mu.Lock()
		if ch, ok := m.want[to]; ok {
			close(ch)
			delete(m.want, to)
		}
		m.mu.Unlock()
	case strings.Contains(msg.MessageID, "."+activities.EmailCredentials+"@"):
		m.mu.Lock()
		if _, ok := m.credentials[to]; !ok {
			m.credentials[to] = msg.At
		}
		m.mu.Unlock()
	}
	return false
}
