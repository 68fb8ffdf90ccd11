//go:build !production

package tenant

import (
	"bytes"
	"crypto/subtle"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault makes the Fake misbehave for matching requests.
type Fault struct {
	Method     string // "" matches any method
	PathPrefix string // "" matches any path
	// PathSuffix, when set, must end the path too: "/checkout" or
	// "/agreements" hit those calls of any customer.
	PathSuffix string
	Times      int // how many matching requests it hits; 0 means 1

	Status     int           // answer with this status and a Partner Center error body
	Code       string        // error code for Status; "" derives one from the status text
	RetryAfter time.Duration // sent as Retry-After in whole seconds (at least 1)
	Delay      time.Duration // wait before handling; a client that gives up stops the request

	// LoseResponse handles the request normally (state changes, and the
	// answer is remembered for MS-RequestId replays) and then loses the answer:
	// with Status set the client gets that status instead, otherwise the
	// connection is aborted. (net/http's Transport may silently resend an
	// aborted GET/HEAD on a reused connection, so abort POST/PATCH.)
	LoseResponse bool
}

// Fake is an in-memory Partner Center. It implements http.Handler and is safe
// for concurrent use.
type Fake struct {
	// VerifyTXT decides whether the TXT record text is visible for domain
	// when a domain is verified; nil means always. It runs with the fake's
	// lock held, so it must not call the Fake. Set it before serving or
	// between requests.
	VerifyTXT func(domain, text string) bool

	token string
	mux   *http.ServeMux

	mu        sync.Mutex
	requests  int
	faults    []*Fault
	domains   map[string]bool     // lower-case domain -> taken
	customers map[string]Customer // by id, without credentials
	subs      map[string]map[string]Subscription
	suspended map[string]map[string]int // customer -> subscription -> effective suspensions
	replies   map[string]reply          // idempotency key -> first successful answer

	users         map[string]map[string]User   // customer -> user id -> user, without password
	ownDomains    map[string]map[string]Domain // customer -> custom domain name -> domain
	domainOwner   map[string]string            // custom domain name -> customer id
	reactivations int                          // suspended -> active transitions
	deletions     int                          // -> deleted transitions

	commerce commerce // agreements and carts (fake_commerce.go)
}

// NewFake returns an empty fake. With a non-empty token, requests must carry
// "Authorization: Bearer <token>" or get 401.
func NewFake(token string) *Fake {
	f := &Fake{
		token:     token,
		mux:       http.NewServeMux(),
		domains:   map[string]bool{},
		customers: map[string]Customer{},
		subs:      map[string]map[string]Subscription{},
		suspended: map[string]map[string]int{},
		replies:   map[string]reply{},

		users:       map[string]map[string]User{},
		ownDomains:  map[string]map[string]Domain{},
		domainOwner: map[string]string{},
	}
	f.mux.HandleFunc("HEAD /v1/domains/{domain}", f.headDomain)
	f.mux.HandleFunc("POST /v1/customers", f.createCustomer)
	f.mux.HandleFunc("GET /v1/customers/{id}", f.getCustomer)
	f.mux.HandleFunc("POST /v1/customers/{id}/orders", f.createOrder)
	f.mux.HandleFunc("GET /v1/customers/{id}/subscriptions", f.listSubscriptions)
	f.mux.HandleFunc("GET /v1/customers/{id}/subscriptions/{sid}", f.getSubscription)
	f.mux.HandleFunc("PATCH /v1/customers/{id}/subscriptions/{sid}", f.patchSubscription)
	f.mux.HandleFunc("POST /v1/customers/{id}/users", f.createUser)
	f.mux.HandleFunc("GET /v1/customers/{id}/users", f.listUsers)
	f.mux.HandleFunc("DELETE /v1/customers/{id}/users/{uid}", f.deleteUser)
	f.mux.HandleFunc("POST /v1/customers/{id}/users/{uid}/licenseupdates", f.updateLicences)
	f.mux.HandleFunc("POST /v1/customers/{id}/domains", f.addDomain)
	f.mux.HandleFunc("GET /v1/customers/{id}/domains", f.listDomains)
	f.mux.HandleFunc("POST /v1/customers/{id}/domains/{domain}/verify", f.verifyDomain)
	f.mux.HandleFunc("PATCH /v1/customers/{id}/domains/{domain}", f.patchDomain)
	f.mux.HandleFunc("DELETE /v1/customers/{id}/domains/{domain}", f.deleteDomain)
	f.mux.HandleFunc("GET /v1/customers/{id}/domains/{domain}/serviceConfigurationRecords", f.serviceRecords)
	f.commerceRoutes()
	return f
}

// TakeDomain marks domain as registered by someone else: it is no longer
// available as an initial domain, and adding it as a custom domain conflicts.
func (f *Fake) TakeDomain(domain string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.domains[strings.ToLower(domain)] = true
}

// Customers returns all customers sorted by ID, without credentials.
func (f *Fake) Customers() []Customer {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Customer, 0, len(f.customers))
	for _, c := range f.customers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Subscriptions returns the subscriptions of a customer sorted by ID.
func (f *Fake) Subscriptions(customerID string) []Subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedSubscriptions(strings.ToLower(customerID))
}

// Subscription returns one subscription of a customer.
func (f *Fake) Subscription(customerID, subID string) (Subscription, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.subs[strings.ToLower(customerID)][strings.ToLower(subID)]
	return s, ok
}

// sortedSubscriptions runs with f.mu held; customerID is lower-case. The
// result is never nil so it encodes as [] rather than null.
func (f *Fake) sortedSubscriptions(customerID string) []Subscription {
	return sortedValues(f.subs[customerID], func(s Subscription) string { return s.ID }, nil)
}

// sortedValues copies m's values out, sorted by key; copyOf, when the values
// hold slices, makes each copy share nothing with the fake's state. The
// result is never nil.
func sortedValues[T any](m map[string]T, key func(T) string, copyOf func(T) T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		if copyOf != nil {
			v = copyOf(v)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// Suspensions returns how many PATCHes, over all customers, moved a
// subscription into StatusSuspended from another status. PATCHes that found
// it already suspended, and MS-RequestId replays (which are not re-executed),
// do not count.
func (f *Fake) Suspensions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, bySub := range f.suspended {
		for _, c := range bySub {
			n += c
		}
	}
	return n
}

// Reactivations returns how many PATCHes moved a subscription from
// StatusSuspended to StatusActive; replays do not count.
func (f *Fake) Reactivations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reactivations
}

// Deletions returns how many PATCHes moved a subscription into
// StatusDeleted; replays do not count.
func (f *Fake) Deletions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deletions
}

// Requests returns how many requests reached the fake, faulted ones included.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Inject queues a fault; faults are matched in the order they were injected.
func (f *Fake) Inject(fault Fault) {
	if fault.Times <= 0 {
		fault.Times = 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault)
}

// maxRequestBody bounds what a client can make the fake buffer.
const maxRequestBody = 1 << 20

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	fault := f.takeFault(r)
	f.mu.Unlock()

	// Partner Center echoes these; they are what support asks for.
	for _, h := range []string{"MS-RequestId", "MS-CorrelationId"} {
		if v := r.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}

	// Read the body up front: net/http only notices a client hanging up
	// (cancelling r.Context) once the body has been consumed.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestTooLarge", "request body too large or unreadable")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	if fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up before anything happened
		}
	}
	if fault.Status != 0 && !fault.LoseResponse {
		writeFault(w, fault)
		return
	}

	// Handlers only touch memory and write to a buffer, so running them under
	// the lock is cheap and makes "look up replay, else act and remember" atomic
	// for concurrent retries.
	rec := newBufferedWriter()
	f.mu.Lock()
	f.dispatch(rec, r)
	f.mu.Unlock()

	if fault.LoseResponse {
		if fault.Status != 0 {
			writeFault(w, fault)
			return
		}
		panic(http.ErrAbortHandler) // net/http closes the connection silently
	}
	rec.reply().writeTo(w)
}

// takeFault pops the first matching fault; the zero Fault means none.
func (f *Fake) takeFault(r *http.Request) Fault {
	for i, ft := range f.faults {
		if ft.Method != "" && !strings.EqualFold(ft.Method, r.Method) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, ft.PathPrefix) || !strings.HasSuffix(r.URL.Path, ft.PathSuffix) {
			continue
		}
		ft.Times--
		if ft.Times <= 0 {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
		}
		return *ft
	}
	return Fault{}
}

// dispatch runs with f.mu held.
func (f *Fake) dispatch(w *bufferedWriter, r *http.Request) {
	// Auth comes before replay so stored answers (with passwords) never leak.
	if !f.authorized(r) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "Unauthorized", "missing or invalid bearer token")
		return
	}
	key := idempotencyKey(r)
	if key != "" {
		if rep, ok := f.replies[key]; ok {
			rep.writeTo(w)
			return
		}
	}
	if _, pattern := f.mux.Handler(r); pattern == "" {
		// ServeMux answers 404/405 in plain text; clients expect Partner
		// Center's JSON errors, so keep only its verdict.
		probe := newBufferedWriter()
		f.mux.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.Header().Get("Allow"))
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path)
			return
		}
		writeError(w, http.StatusNotFound, "NotFound", "no such resource")
		return
	}
	f.mux.ServeHTTP(w, r)
	// Only successes are remembered: a caller that fixes a rejected request
	// (e.g. picks another domain) may resend it under the same RequestID.
	if key != "" && w.status >= 200 && w.status <= 299 {
		f.replies[key] = w.reply()
	}
}

func (f *Fake) authorized(r *http.Request) bool {
	if f.token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(f.token)) == 1
}

// idempotencyKey is "" for requests that are safe to repeat anyway.
func idempotencyKey(r *http.Request) string {
	id := r.Header.Get("MS-RequestId")
	if id == "" || (r.Method != http.MethodPost && r.Method != http.MethodPatch) {
		return ""
	}
	return r.Method + " " + r.URL.Path + " " + id
}
