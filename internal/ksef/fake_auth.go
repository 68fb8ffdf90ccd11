//go:build !production

package ksef

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/officeflow/officeflow/internal/secret"
)

// Lifetimes the Fake shares with KSeF.
const (
	challengeTTL  = 10 * time.Minute
	authTokenTTL  = 15 * time.Minute
	sessionTTL    = 12 * time.Hour
	defaultAccess = 15 * time.Minute
	defaultRefr   = 7 * 24 * time.Hour
)

type fakeChallenge struct {
	timestampMs int64
	at          time.Time
	used        bool
}

// fakeAuth is one authentication operation.
type fakeAuth struct {
	authToken string
	started   time.Time
	pending   int        // "in progress" answers still to give
	status    StatusInfo // the verdict
	redeemed  bool
	docHash   string // SHA-256 of the request, for the UPO
}

func (f *Fake) certificates(w http.ResponseWriter, r *http.Request) {
	_, der, keyID := f.keyPair()
	cert, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(der)
	entry := func(usage string) PublicKeyCertificate {
		return PublicKeyCertificate{Certificate: der, CertificateID: b64(sum[:]), PublicKeyID: keyID,
			ValidFrom: cert.NotBefore.UTC(), ValidTo: cert.NotAfter.UTC(), Usage: []string{usage}}
	}
	writeJSON(w, http.StatusOK, []PublicKeyCertificate{entry(UsageKsefToken), entry(UsageSymmetricKey)})
}

func (f *Fake) challenge(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	now := f.now()
	ch := f.reference("CR")
	f.challenges[ch] = &fakeChallenge{timestampMs: now.UnixMilli(), at: now}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"challenge": ch, "timestamp": now.UTC().Format(time.RFC3339Nano),
		"timestampMs": now.UnixMilli(), "clientIp": r.RemoteAddr})
}

// ksefToken starts an authentication. What is wrong with the token or the
// challenge shows in its status (450), as KSeF does; a malformed request or
// an unknown publicKeyId is refused at once.
func (f *Fake) ksefToken(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	var req ksefTokenRequest
	if !decodeBody(w, requestWith(r, raw), &req) {
		return
	}
	if req.Challenge == "" || len(req.EncryptedToken) == 0 || req.ContextIdentifier.Value == "" {
		badRequest(w, "Wymagane pola: challenge, contextIdentifier, encryptedToken.")
		return
	}
	key, _, keyID := f.keyPair()
	if req.PublicKeyID != "" && req.PublicKeyID != keyID {
		writeJSON(w, http.StatusBadRequest, exception(CodeUnknownKeyID, "Przesłany identyfikator klucza jest nieznany lub wskazuje na wycofany klucz."))
		return
	}
	status := StatusInfo{Code: 200, Description: "Uwierzytelnianie zakończone sukcesem"}
	fail := func(code int, description, detail string) {
		if status.Code == 200 {
			status = StatusInfo{Code: code, Description: description, Details: []string{detail}}
		}
	}
	const badToken = "Uwierzytelnianie zakończone niepowodzeniem z powodu błędnego tokenu"
	f.mu.Lock()
	now := f.now()
	ch := f.challenges[req.Challenge]
	switch {
	case ch == nil || ch.used || now.Sub(ch.at) > challengeTTL:
		fail(450, badToken, "Nieprawidłowe wyzwanie autoryzacyjne")
	default:
		ch.used = true
	}
	plain, err := rsa.DecryptOAEP(sha256.New(), nil, key, req.EncryptedToken, nil)
	var token, stamp []byte
	i := bytes.LastIndexByte(plain, '|')
	if i >= 0 {
		token, stamp = plain[:i], plain[i+1:]
	}
	switch {
	case err != nil || i < 0 || !secret.Equal(string(token), f.token):
		fail(450, badToken, "Nieprawidłowy token")
	case ch != nil && string(stamp) != strconv.FormatInt(ch.timestampMs, 10):
		fail(450, badToken, "Nieprawidłowy czas tokena")
	case req.ContextIdentifier.Type != "Nip" || req.ContextIdentifier.Value != f.nip:
		fail(415, "Uwierzytelnianie zakończone niepowodzeniem", "Brak przypisanych uprawnień")
	}
	ref := f.reference("AU")
	sum := sha256.Sum256(raw)
	a := &fakeAuth{authToken: opaque("auth"), started: now, pending: f.AuthPending, status: status, docHash: b64(sum[:])}
	f.auths[ref] = a
	f.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{"referenceNumber": ref,
		"authenticationToken": tokenInfo{Token: a.authToken, ValidUntil: now.Add(authTokenTTL).UTC()}})
}

// authOf is the authentication whose authenticationToken the request bears,
// with f.mu held; nil answers 401.
func (f *Fake) authOf(w http.ResponseWriter, r *http.Request, ref string) *fakeAuth {
	token := bearer(r)
	for k, a := range f.auths {
		if (ref == "" || k == ref) && token != "" && secret.Equal(a.authToken, token) && f.now().Sub(a.started) < authTokenTTL {
			return a
		}
	}
	unauthorizedAnswer(w, "Nieprawidłowy token operacji uwierzytelnienia.")
	return nil
}

func (f *Fake) authStatus(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.authOf(w, r, r.PathValue("referenceNumber"))
	if a == nil {
		return
	}
	status := a.status
	if a.pending > 0 {
		a.pending--
		status = StatusInfo{Code: 100, Description: "Uwierzytelnianie w toku"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"startDate": a.started.UTC(), "authenticationMethod": "Token",
		"authenticationMethodInfo": map[string]string{"category": "Token", "code": "token.ksef", "displayName": "Token KSeF"},
		"status":                   status})
}

func (f *Fake) redeem(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.authOf(w, r, "")
	if a == nil {
		return
	}
	if a.redeemed || a.pending > 0 || a.status.Code != 200 {
		badRequest(w, "Tokeny zostały już pobrane lub uwierzytelnianie nie zakończyło się sukcesem.")
		return
	}
	a.redeemed = true
	now := f.now()
	access, refresh := opaque("access"), opaque("refresh")
	f.access[access] = now.Add(orDuration(f.AccessTTL, defaultAccess))
	f.refresh[refresh] = now.Add(orDuration(f.RefreshTTL, defaultRefr))
	writeJSON(w, http.StatusOK, map[string]any{
		"accessToken":  tokenInfo{Token: access, ValidUntil: f.access[access].UTC()},
		"refreshToken": tokenInfo{Token: refresh, ValidUntil: f.refresh[refresh].UTC()},
	})
}

func (f *Fake) refreshToken(w http.ResponseWriter, r *http.Request) {
	token := bearer(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	until, ok := f.refresh[token]
	if token == "" || !ok || !f.now().Before(until) {
		unauthorizedAnswer(w, "Nieprawidłowy lub wygasły refresh token.")
		return
	}
	access := opaque("access")
	f.access[access] = f.now().Add(orDuration(f.AccessTTL, defaultAccess))
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tokenInfo{Token: access, ValidUntil: f.access[access].UTC()}})
}

// ExpireAccessTokens ends every access token issued so far, as if their
// time had passed (the refresh tokens stay valid).
func (f *Fake) ExpireAccessTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.access {
		f.access[k] = time.Time{}
	}
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// requestWith is r with body raw, read again.
func requestWith(r *http.Request, raw []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(raw))
	return r2
}

// b64 is standard base64.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
