package fault

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/store"
)

// ksefFront stands in front of a KSeF fake of TestFaultKSeF's own, so that
// its faults reach only its own worker process (the stack's fake serves
// the fault tests running meanwhile). While down it answers 503 to every
// request; otherwise, drawing from a seeded rand, it answers a share of
// the requests 429 with Retry-After: 1 or 503, lets a share reach the fake
// but answers 504 (a lost answer: an invoice sent is in KSeF, and sending
// it again would be a duplicate), and passes the rest on.
type ksefFront struct {
	fake  *ksef.Fake
	token string // the fake's KSeF token, the worker's KSEF_TOKEN
	url   string
	next  http.Handler

	mu                          sync.Mutex
	rng                         *rand.Rand
	down                        bool
	throttle, unavailable, lose float64 // shares of the requests
	served                      map[string]int
}

// Answers of the front, as served counts them.
const (
	answerDown     = "503 (KSeF down)"
	answer429      = "429 Retry-After: 1"
	answer503      = "503"
	answerLost     = "504 (answer lost)"
	answerPassed   = "passed"
	sendInvoices   = "POST /sessions/online/{ref}/invoices"
	listInvoices   = "GET /sessions/{ref}/invoices"
	ksefFaultToken = "fault-ksef-token"
)

// newKSeFFront serves a new fake of the -dev seller's NIP, with a KSeF
// token of its own, behind a front that draws from seed.
func newKSeFFront(t *testing.T, seed uint64) *ksefFront {
	f := ksef.NewFake(store.DefaultSeller.NIP, ksefFaultToken)
	setSchema(f)
	k := &ksefFront{fake: f, token: ksefFaultToken, next: f.Handler(), rng: rand.New(rand.NewPCG(seed, 18)), served: map[string]int{}}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	k.url = srv.URL
	return k
}

// env points a worker process at the front.
func (k *ksefFront) env() []string {
	return []string{"KSEF_URL=" + k.url, "KSEF_TOKEN=" + k.token}
}

func (k *ksefFront) setDown(down bool) {
	k.mu.Lock()
	k.down = down
	k.mu.Unlock()
}

// setShares sets the shares of requests answered 429, 503 and 504 after
// the fake acted.
func (k *ksefFront) setShares(throttle, unavailable, lose float64) {
	k.mu.Lock()
	k.throttle, k.unavailable, k.lose = throttle, unavailable, lose
	k.mu.Unlock()
}

// counts are the requests served so far, by answer and by "answer route".
func (k *ksefFront) counts() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.served))
	for a, n := range k.served {
		out[a] = n
	}
	return out
}

// route is the request's method and path with reference numbers (the
// segments KSeF made, 20250901-SO-47FDBE3000-5961A5D232-BF) as {ref}.
func route(r *http.Request) string {
	segs := strings.Split(r.URL.Path, "/")
	for i, s := range segs {
		if len(s) > 20 && strings.Count(s, "-") >= 3 {
			segs[i] = "{ref}"
		}
	}
	return r.Method + " " + strings.Join(segs, "/")
}

func (k *ksefFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	answer := answerPassed
	switch x := k.rng.Float64(); {
	case k.down:
		answer = answerDown
	case x < k.throttle:
		answer = answer429
	case x < k.throttle+k.unavailable:
		answer = answer503
	case x < k.throttle+k.unavailable+k.lose:
		answer = answerLost
	}
	k.served[answer]++
	k.served[answer+" "+route(r)]++
	k.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch answer {
	case answerDown:
		// KSeF's maintenance answer; its Retry-After keeps the offline
		// documents' sending (whose backoff grows to a minute) within
		// seconds of KSeF's return.
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"exception":{"exceptionDetailList":[{"exceptionCode":500,"exceptionDescription":"Usługa chwilowo niedostępna."}]}}`))
	case answer429:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"status":{"code":429,"description":"Too Many Requests","details":["Przekroczono limit żądań. Spróbuj ponownie po 1 sekundach."]}}`))
	case answer503:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"exception":{"exceptionDetailList":[{"exceptionCode":500,"exceptionDescription":"Usługa chwilowo niedostępna."}]}}`))
	case answerLost:
		k.next.ServeHTTP(httptest.NewRecorder(), r)
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte(`{"exception":{"exceptionDetailList":[{"exceptionCode":500,"exceptionDescription":"Przekroczono czas oczekiwania na odpowiedź."}]}}`))
	default:
		w.Header().Del("Content-Type")
		k.next.ServeHTTP(w, r)
	}
}
