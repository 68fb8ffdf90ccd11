//go:build !production

package ksef

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fake is an in-memory KSeF speaking the API 2.0 as Client does: the
// endpoints of authentication with a KSeF token and of online sessions
// (see Handler for the list), with its own RSA key in a self-signed
// certificate for both usages, and injectable faults. Mount Handler on an
// httptest server or a listener and give its URL to a Client as BaseURL.
//
// What it checks, as KSeF does: the challenge (known, used once, not older
// than 10 minutes), the KSeF token and the challenge's timestamp decrypted
// with RSA-OAEP SHA-256, the context NIP, Bearer tokens and their expiry,
// the form code FA (3), the session key unwrapped, each invoice decrypted
// with AES-256-CBC, the SHA-256 hashes and sizes of the plain and the
// encrypted invoice, the XML (UTF-8 without BOM, well formed, no processing
// instructions, the root Faktura of the FA(3) namespace with KodFormularza
// FA (3), the seller's NIP the context's, P_1 not after today), duplicates
// (seller NIP, RodzajFaktury, P_2) and, when Schema is set and xmllint is
// installed, the XSD. It gives KSeF numbers of the real format and UPOs of
// the upo-v4-3 schema.
type Fake struct {
	AccessTTL       time.Duration    // an access token's life; 0: 15 minutes
	RefreshTTL      time.Duration    // a refresh token's life; 0: 7 days
	AuthPending     int              // authentication status answers "in progress" this many times first
	ProcessingPolls int              // an invoice's status answers 150 this many times before the verdict
	Now             func() time.Time // nil: time.Now
	Schema          string           // the FA(3) XSD to validate with xmllint when found; "": none
	Catalog         string           // XML_CATALOG_FILES for xmllint

	nip, token string
	key        *rsa.PrivateKey
	cert       []byte // DER

	mu         sync.Mutex
	seq        int
	challenges map[string]*fakeChallenge
	auths      map[string]*fakeAuth // by reference number
	access     map[string]time.Time // access token -> valid until
	refresh    map[string]time.Time // refresh token -> valid until
	sessions   map[string]*fakeSession
	invoices   map[string]*fakeInvoice // by reference number
	accepted   []*fakeInvoice
	byNumber   map[fakeDocKey]*fakeInvoice // accepted, by seller, kind and number
	calls      map[string]int

	// Faults still to inject: how many of the next calls (invoices for
	// stuck and reject) each one hits.
	unavailable, throttle, stuck, lose int
	retryAfter                         time.Duration
	slow                               time.Duration
	rejects                            []APIError
}

// fakeKey is one RSA key for every Fake of a process: generating one takes
// a while, and a test makes many Fakes.
var fakeKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("ksef fake: RSA key: %v", err))
	}
	return k
})

// NewFake is a KSeF that takes the KSeF token token for the seller nip.
func NewFake(nip, token string) *Fake {
	f := &Fake{
		nip: nip, token: token, key: fakeKey(),
		challenges: map[string]*fakeChallenge{}, auths: map[string]*fakeAuth{},
		access: map[string]time.Time{}, refresh: map[string]time.Time{},
		sessions: map[string]*fakeSession{}, invoices: map[string]*fakeInvoice{},
		byNumber: map[fakeDocKey]*fakeInvoice{}, calls: map[string]int{},
	}
	f.cert = selfSigned(f.key)
	return f
}

// selfSigned is a certificate of key's public key, signed by key, for
// both usages; its validity is wide since tests move the clock.
func selfSigned(key *rsa.PrivateKey) []byte {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "Ministerstwo Finansów", Organization: []string{"officeflow fake KSeF"}, Country: []string{"PL"}},
		NotBefore:    now.AddDate(-5, 0, 0), NotAfter: now.AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(fmt.Sprintf("ksef fake: certificate: %v", err))
	}
	return der
}

// RotateKey replaces the Fake's key pair and certificate, as KSeF's
// emergency rotation does (klucze-publiczne-do-szyfrowania.md 3.2.2): the
// old publicKeyId is refused with 21470 from now on.
func (f *Fake) RotateKey() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("ksef fake: RSA key: %v", err))
	}
	cert := selfSigned(key)
	f.mu.Lock()
	f.key, f.cert = key, cert
	f.mu.Unlock()
}

// keyPair is the Fake's current key and certificate (DER) and the
// certificate's publicKeyId.
func (f *Fake) keyPair() (*rsa.PrivateKey, []byte, string) {
	f.mu.Lock()
	key, der := f.key, f.cert
	f.mu.Unlock()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("ksef fake: own certificate: %v", err))
	}
	return key, der, PublicKeyID(cert)
}

// Handler serves the API at the root of its server (a Client's BaseURL is
// the server's URL, without /v2).
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /security/public-key-certificates", f.certificates)
	mux.HandleFunc("POST /auth/challenge", f.challenge)
	mux.HandleFunc("POST /auth/ksef-token", f.ksefToken)
	mux.HandleFunc("GET /auth/{referenceNumber}", f.authStatus)
	mux.HandleFunc("POST /auth/token/redeem", f.redeem)
	mux.HandleFunc("POST /auth/token/refresh", f.refreshToken)
	mux.HandleFunc("POST /sessions/online", f.authorized(f.openSession))
	mux.HandleFunc("POST /sessions/online/{referenceNumber}/invoices", f.authorized(f.sendInvoice))
	mux.HandleFunc("POST /sessions/online/{referenceNumber}/close", f.authorized(f.closeSession))
	mux.HandleFunc("GET /sessions/{referenceNumber}", f.authorized(f.sessionStatus))
	mux.HandleFunc("GET /sessions/{referenceNumber}/invoices", f.authorized(f.sessionInvoices))
	mux.HandleFunc("GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}", f.authorized(f.invoiceStatus))
	mux.HandleFunc("GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}/upo", f.authorized(f.upo))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		f.mu.Lock()
		f.calls[pattern]++
		slow := f.slow
		throttled, retryAfter := f.throttle > 0, f.retryAfter
		if throttled {
			f.throttle--
		}
		down := !throttled && f.unavailable > 0
		if down {
			f.unavailable--
		}
		lost := !throttled && !down && f.lose > 0
		if lost {
			f.lose--
		}
		f.mu.Unlock()
		if slow > 0 {
			t := time.NewTimer(slow)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		switch {
		case throttled:
			secs := int((retryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"status": map[string]any{
				"code": 429, "description": "Too Many Requests",
				"details": []string{fmt.Sprintf("Przekroczono limit żądań. Spróbuj ponownie po %d sekundach.", secs)},
			}})
		case down:
			writeJSON(w, http.StatusServiceUnavailable, exception(500, "Usługa chwilowo niedostępna."))
		case lost:
			// Done, but the answer never reaches the caller.
			mux.ServeHTTP(httptest.NewRecorder(), r)
			writeJSON(w, http.StatusGatewayTimeout, exception(500, "Przekroczono czas oczekiwania na odpowiedź."))
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// Unavailable makes the next n calls answer 503.
func (f *Fake) Unavailable(n int) { f.mu.Lock(); f.unavailable = n; f.mu.Unlock() }

// LoseAnswers makes the next n calls take effect but answer 504, as when
// the answer is lost on its way back: a sent invoice is in KSeF, and
// sending it again is a duplicate (440).
func (f *Fake) LoseAnswers(n int) { f.mu.Lock(); f.lose = n; f.mu.Unlock() }

// Throttle makes the next n calls answer 429 with Retry-After retryAfter
// (in whole seconds, rounded up).
func (f *Fake) Throttle(n int, retryAfter time.Duration) {
	f.mu.Lock()
	f.throttle, f.retryAfter = n, retryAfter
	f.mu.Unlock()
}

// Slow delays every answer by d (0: none), or until the caller gives up.
func (f *Fake) Slow(d time.Duration) { f.mu.Lock(); f.slow = d; f.mu.Unlock() }

// StuckProcessing makes the next n invoices sent stay "processing" (150).
func (f *Fake) StuckProcessing(n int) { f.mu.Lock(); f.stuck = n; f.mu.Unlock() }

// Reject makes the next n invoices sent, valid or not, rejected with the
// invoice status code (e.g. 450) and description.
func (f *Fake) Reject(n int, code int, description string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.rejects = append(f.rejects, APIError{Code: code, Description: description})
	}
}

// AcceptedInvoice is an invoice the Fake accepted.
type AcceptedInvoice struct {
	SessionReferenceNumber string
	ReferenceNumber        string
	KsefNumber             string
	InvoiceNumber          string // P_2
	Offline                bool   // sent with offlineMode
	XML                    []byte // decrypted, as sent
}

// Accepted lists the accepted invoices in the order they were sent.
func (f *Fake) Accepted() []AcceptedInvoice {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]AcceptedInvoice, len(f.accepted))
	for i, inv := range f.accepted {
		out[i] = AcceptedInvoice{SessionReferenceNumber: inv.session, ReferenceNumber: inv.ref,
			KsefNumber: inv.ksefNumber, InvoiceNumber: inv.number, Offline: inv.offline, XML: append([]byte(nil), inv.xml...)}
	}
	return out
}

// Calls is how many requests reached the route pattern as Handler names
// it, e.g. "POST /auth/token/refresh" or
// "POST /sessions/online/{referenceNumber}/invoices", faults included.
func (f *Fake) Calls(pattern string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[pattern]
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// reference is a new reference number of the API's shape,
// 20250901-EU-47FDBE3000-5961A5D232-BF, kind being the two letters.
// Called with f.mu held.
func (f *Fake) reference(kind string) string {
	f.seq++
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	s := fmt.Sprintf("%s-%s-%010X-%s", f.now().UTC().Format("20060102"), kind, f.seq, strings.ToUpper(hex.EncodeToString(b)))
	return s + "-" + KsefNumberChecksum(s)
}

// opaque is a new token: random, JWT-shaped, opaque to the client.
func opaque(kind string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "eyJmYWtlIjoia3NlZiJ9." + kind + "." + hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// exception is the API's ExceptionResponse.
func exception(code int, description string, details ...string) map[string]any {
	return map[string]any{"exception": map[string]any{
		"exceptionDetailList": []map[string]any{{"exceptionCode": code, "exceptionDescription": description, "details": details}},
		"serviceName":         "officeflow fake KSeF",
		"timestamp":           time.Now().UTC().Format(time.RFC3339Nano),
	}}
}

// badRequest answers 400 21405 (Błąd walidacji danych wejściowych).
func badRequest(w http.ResponseWriter, details ...string) {
	writeJSON(w, http.StatusBadRequest, exception(CodeValidation, "Błąd walidacji danych wejściowych.", details...))
}

func unauthorizedAnswer(w http.ResponseWriter, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": "Unauthorized", "status": 401, "detail": detail,
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano)})
}

// bearer is the request's Bearer token.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authorized lets through requests with a valid access token.
func (f *Fake) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := bearer(r)
		f.mu.Lock()
		until, ok := f.access[token]
		valid := ok && f.now().Before(until)
		f.mu.Unlock()
		if token == "" || !valid {
			unauthorizedAnswer(w, "Brak lub nieprawidłowy token dostępu.")
			return
		}
		h(w, r)
	}
}

// decodeBody decodes a JSON body of at most 8 MB into v, answering 400 if
// it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20)).Decode(v); err != nil {
		badRequest(w, "Nieprawidłowe żądanie: "+err.Error())
		return false
	}
	return true
}
