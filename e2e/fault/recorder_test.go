package fault

import (
	"errors"
	"net/http"
	"sync"
	"time"
)

// recorder serves the tenant API fake and keeps a line per request, so that
// a test can tell what the worker saw: which answers it got, which were
// lost, and how long it waited before the retry.
type recorder struct {
	h   http.Handler
	url string

	mu   sync.Mutex
	reqs []request
}

// request is one call at the tenant API as the fake answered it.
type request struct {
	Method, Path, RequestID string
	CorrelationID           string // tenant.RequestID(orderID): whose call it is
	Arrived, Answered       time.Time
	Status                  int           // 0 when no answer was written
	RetryAfter              string        // the Retry-After header sent
	Aborted                 bool          // the connection was dropped after the fake acted (a lost answer)
	Abandoned               bool          // the client hung up before an answer (its timeout)
	Took                    time.Duration // Answered - Arrived
}

func newRecorder(h http.Handler) *recorder { return &recorder{h: h} }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := request{Method: r.Method, Path: r.URL.Path, RequestID: r.Header.Get("MS-RequestId"),
		CorrelationID: r.Header.Get("MS-CorrelationId"), Arrived: time.Now()}
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		v := recover()
		q.Answered = time.Now()
		q.Took = q.Answered.Sub(q.Arrived)
		q.Status = sw.status
		q.RetryAfter = w.Header().Get("Retry-After")
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			q.Aborted = true
		}
		if q.Status == 0 && !q.Aborted && r.Context().Err() != nil {
			q.Abandoned = true
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, q)
		rec.mu.Unlock()
		if v != nil {
			panic(v) // net/http drops the connection for ErrAbortHandler
		}
	}()
	rec.h.ServeHTTP(sw, r)
}

// since returns the requests recorded from index i on for the orders
// whose correlation ids are in of (all when of is nil).
func (rec *recorder) since(i int, of map[string]bool) []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []request
	for _, q := range rec.reqs[min(i, len(rec.reqs)):] {
		if of == nil || of[q.CorrelationID] {
			out = append(out, q)
		}
	}
	return out
}

// mark is where the next test's requests begin.
func (rec *recorder) mark() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}
