package fault

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/faultnet"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/stretchr/testify/require"
)

// seed is FAULT_SEED, or the clock's; it is logged, so that a run can be
// repeated with the same random moments.
func seed(t *testing.T) uint64 {
	s := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("FAULT_SEED"), 10, 64); err == nil {
		s = v
	}
	t.Logf("FAULT_SEED=%d", s)
	return s
}

// TestFaultWorkerKilled: the only worker of the orders is killed with
// SIGKILL at five random moments of the run, and a new one started each
// time. Activities the dead process held time out (their start-to-close
// timeout, a minute) and run again on the new one; nothing is lost or
// made twice, and an email sent just before a kill may go out again, under
// the same Message-ID.
func TestFaultWorkerKilled(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(seed(t), 0))
	r := runScenario(t, "kill", scenario{
		resendPossible: true,
		during: func(r *run) {
			// Five moments, one at random in each fifth of the run's steps
			// (orders reaching awaiting_payment, then orders ending), from
			// the first orders' billing to shortly before the last ends.
			n := len(r.reqs)
			lo, hi := max(1, n/20), 2*n-max(1, n/10)
			const kills = 5
			seg := (hi - lo) / kills
			for i := range kills {
				at := lo + i*seg + rng.IntN(max(1, seg))
				if !r.until(func(p progress) bool { return p.Step() >= at }) {
					r.note("the run ended before kill %d (at step %d)", i+1, at)
					return
				}
				w := r.current()
				w.Kill(r.t)
				p := r.progress()
				r.note("kill %d: SIGKILL worker pid %d at step %d/%d (awaiting %d, paid %d, terminal %d)",
					i+1, w.Pid(), p.Step(), 2*n, p.Awaiting, p.Paid, p.Terminal)
				nw := r.startWorker()
				r.note("worker pid %d runs", nw.Pid())
			}
			r.stat("kills: %d", kills)
		},
	})
	require.Len(t, r.workers, 6, "five worker processes killed, each replaced")
}

// TestFaultPostgresOutage: the worker process reaches PostgreSQL through a
// proxy; in the middle of the run every connection is cut and new ones are
// refused for 10 s. The steps that failed meanwhile are retried once the
// database is back.
func TestFaultPostgresOutage(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	pg := u.Host
	if pg == "" {
		pg = "127.0.0.1:5432"
	}
	proxy, err := faultnet.Listen("127.0.0.1:0", pg)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	u.Host = proxy.Addr()
	const outage = 10 * time.Second
	runScenario(t, "pg", scenario{
		env: []string{"DATABASE_URL=" + u.String()},
		// An email that left just before the connections were cut is
		// recorded once the database is back (SendEmail keeps trying),
		// so it is not sent again.
		during: func(r *run) {
			n := len(r.reqs)
			if !r.until(func(p progress) bool { return p.Terminal >= n/5 }) {
				r.note("the run ended before the outage")
				return
			}
			p := r.progress()
			cut := proxy.Outage(outage)
			r.note("PostgreSQL outage for %s: %d live connections cut, new ones refused (awaiting %d, paid %d, terminal %d)",
				outage, cut, p.Awaiting, p.Paid, p.Terminal)
			// Await the proxy's own end of the outage.
			for proxy.Refusing() {
				select {
				case <-r.ctx.Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
			s := proxy.Stats()
			r.note("PostgreSQL reachable again; %d connections refused meanwhile", s.Refused)
			r.stat("postgres proxy during the outage: connections cut %d, refused %d", s.Cut, s.Refused)
		},
	})
	s := proxy.Stats()
	require.Positive(t, s.Cut, "the outage cut live connections")
	require.Positive(t, s.Refused, "the worker tried to reconnect during the outage")
	t.Logf("postgres proxy: connections served %d, cut %d, refused %d", s.Served, s.Cut, s.Refused)
}

// TestFaultSMTP: the mail server answers 451 at MAIL FROM for a while,
// then drops connections before its greeting, then answers 451 after the
// whole message (at DATA). Every email still arrives once. The sink is the
// stack's, so fault tests running in parallel share its refusals.
func TestFaultSMTP(t *testing.T) {
	t.Parallel()
	t.Cleanup(func() {
		st.Sink.Refuse(451, 0)
		st.Sink.DropNext(0)
	})
	refusedBefore, droppedBefore := st.Sink.Faults()
	r := runScenario(t, "smtp", scenario{
		during: func(r *run) {
			n := len(r.reqs)
			refuse, drop, atData := max(1, n/4), max(1, n/8), max(1, n/10)
			if !r.until(func(p progress) bool { return p.Paid >= n/4 }) {
				return
			}
			st.Sink.Refuse(451, refuse)
			r.note("sink: the next %d transactions get 451 at MAIL FROM", refuse)
			if !r.until(func(p progress) bool { return p.Terminal >= n/4 }) {
				return
			}
			st.Sink.DropNext(drop)
			r.note("sink: the next %d connections are dropped before the greeting", drop)
			if !r.until(func(p progress) bool { return p.Terminal >= n/2 }) {
				return
			}
			st.Sink.RefuseAt(mail.StageData, 451, atData)
			r.note("sink: the next %d transactions get 451 after DATA", atData)
		},
	})
	// The sink served the faults (to this run's worker or to those of the
	// fault tests running meanwhile, whose tables show nothing lost
	// either). The worker's log is sampled, so it only shows that this
	// run's worker met refusals too.
	refused, dropped := st.Sink.Faults()
	t.Logf("sink faults served: %d refusals (451), %d dropped connections", refused-refusedBefore, dropped-droppedBefore)
	require.Positive(t, refused-refusedBefore, "451 refusals served")
	require.Positive(t, dropped-droppedBefore, "connections dropped")
	require.Positive(t, r.workers[0].LogCounts()[`"smtp_code":451`], "the run's worker was refused with 451")
}

// TestFaultTenantAPI: the tenant API answers 500, 503 and 429 with
// Retry-After, hangs past the client's timeout, and acts on requests whose
// answers are then lost (aborted, or replaced by a 503). The retries carry
// the same MS-RequestId, so the fake replays its first answer: one
// customer per domain, one subscription per customer.
func TestFaultTenantAPI(t *testing.T) {
	n := ordersPerRun()
	k := max(1, n/25)
	const retryAfter = 4 * time.Second // longer than the activities' first retry interval (2 s)
	hang := tenant.DefaultTimeout + 5*time.Second
	type planned struct {
		f    tenant.Fault
		what string
	}
	// Faults are taken in the order injected, by the first requests that
	// match. "/v1/customers/" with the suffix "/checkout" matches the
	// subscription purchases only (POST /v1/customers/{id}/carts/{cart}/
	// checkout), "/v1/customers" every POST of the tenant's provisioning
	// (the customer, the Customer Agreement, the cart, the checkout, the
	// admin's licence); the purchases' own faults come first so that they
	// are not all taken by the other calls.
	plan := []planned{
		{tenant.Fault{Method: "POST", PathPrefix: "/v1/customers/", PathSuffix: "/checkout", Times: k, LoseResponse: true, Status: 503}, "subscription made, answer lost as 503"},
		{tenant.Fault{Method: "POST", PathPrefix: "/v1/customers/", PathSuffix: "/checkout", Times: max(1, k/2), LoseResponse: true}, "subscription made, connection aborted"},
		{tenant.Fault{Method: "POST", PathPrefix: "/v1/customers", Times: k, Status: 503}, "503"},
		{tenant.Fault{Method: "POST", PathPrefix: "/v1/customers", Times: k, Status: 429, RetryAfter: retryAfter}, "429 Retry-After"},
		{tenant.Fault{Method: "POST", PathPrefix: "/v1/customers", Times: k, LoseResponse: true}, "made, connection aborted"},
		{tenant.Fault{Method: "POST", PathPrefix: "/v1/customers", Times: 2, Delay: hang}, "hangs past the client timeout"},
		{tenant.Fault{Method: "HEAD", PathPrefix: "/v1/domains/", Times: k, Status: 500}, "500"},
		{tenant.Fault{Method: "HEAD", PathPrefix: "/v1/domains/", Times: k, Status: 429, RetryAfter: retryAfter}, "429 Retry-After"},
		{tenant.Fault{Method: "HEAD", PathPrefix: "/v1/domains/", Times: 1, Delay: hang}, "hangs past the client timeout"},
	}
	r := runScenario(t, "tenant", scenario{
		before: func(r *run) {
			for _, p := range plan {
				st.Fake.Inject(p.f)
				r.note("tenant API: %s %s* x%d: %s", p.f.Method, p.f.PathPrefix, p.f.Times, p.what)
			}
		},
	})

	// Every planned fault was hit, as the worker saw it.
	reqs := partner.since(r.mark, r.corr)
	var want = map[string]int{}
	for _, p := range plan {
		key := fmt.Sprint(p.f.Status)
		switch {
		case p.f.Delay > 0:
			key = "timeout"
		case p.f.LoseResponse && p.f.Status == 0:
			key = "aborted"
		}
		want[key] += p.f.Times
	}
	got := map[string]int{}
	for _, q := range reqs {
		switch {
		case q.Aborted:
			got["aborted"]++
		case q.Abandoned:
			got["timeout"]++
		case q.Method == "HEAD" && q.Status == 404:
			// A free domain.
		case q.Status >= 400:
			got[fmt.Sprint(q.Status)]++
		}
	}
	t.Logf("tenant API faults planned %v, seen %v", want, got)
	require.Equal(t, want, got, "every planned fault was hit once, and nothing else failed")

	// A 429's Retry-After is honoured: the same call (method, path and
	// MS-RequestId) comes again no sooner.
	var gaps []time.Duration
	for i, q := range reqs {
		if q.Status != 429 {
			continue
		}
		require.Equal(t, strconv.Itoa(int(retryAfter/time.Second)), q.RetryAfter)
		next := -1
		for j := i + 1; j < len(reqs); j++ {
			if reqs[j].Method == q.Method && reqs[j].Path == q.Path && reqs[j].RequestID == q.RequestID {
				next = j
				break
			}
		}
		require.NotEqual(t, -1, next, "the call throttled by 429 (%s %s) was retried", q.Method, q.Path)
		gap := reqs[next].Arrived.Sub(q.Answered)
		require.GreaterOrEqual(t, gap, retryAfter-100*time.Millisecond, "%s %s retried %s after a 429 with Retry-After %s", q.Method, q.Path, gap, retryAfter)
		gaps = append(gaps, gap)
	}
	require.Len(t, gaps, 2*k)
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	t.Logf("retries after a 429 with Retry-After %s came after %s (shortest) .. %s (longest)", retryAfter, gaps[0].Round(time.Millisecond), gaps[len(gaps)-1].Round(time.Millisecond))

	// A call whose answer was lost is repeated with the same MS-RequestId
	// and answered (the fake's replay) with a success.
	lost := 0
	for i, q := range reqs {
		if !q.Aborted && !(q.Status == 503 && q.Path != "/v1/customers") {
			continue
		}
		lost++
		ok := false
		for _, later := range reqs[i+1:] {
			if later.Method == q.Method && later.Path == q.Path && later.RequestID == q.RequestID && later.Status >= 200 && later.Status <= 299 {
				ok = true
				break
			}
		}
		require.True(t, ok, "%s %s (MS-RequestId %s) lost its answer and was not repeated to success under the same id", q.Method, q.Path, q.RequestID)
	}
	require.GreaterOrEqual(t, lost, k+k/2+k)
}
