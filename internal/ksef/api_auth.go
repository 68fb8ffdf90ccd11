package ksef

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/officeflow/officeflow/internal/secret"
)

// Usages of the Ministry's public keys (PublicKeyCertificate.Usage).
const (
	UsageKsefToken    = "KsefTokenEncryption"    // the KSeF token at authentication
	UsageSymmetricKey = "SymmetricKeyEncryption" // a session's AES key
)

// refreshMargin: an access token this close to its end counts as expired,
// so that it does not expire on its way to KSeF.
const refreshMargin = 30 * time.Second

// PublicKeyCertificate is one entry of GET /security/public-key-certificates.
type PublicKeyCertificate struct {
	Certificate   []byte    `json:"certificate"` // DER
	CertificateID string    `json:"certificateId"`
	PublicKeyID   string    `json:"publicKeyId"` // base64 SHA-256 of the SubjectPublicKeyInfo
	ValidFrom     time.Time `json:"validFrom"`
	ValidTo       time.Time `json:"validTo"`
	Usage         []string  `json:"usage"`
}

// StatusInfo is the API's status of an operation.
type StatusInfo struct {
	Code        int      `json:"code"`
	Description string   `json:"description"`
	Details     []string `json:"details,omitempty"`
}

// publicKey is the key to encrypt with for usage, as
// klucze-publiczne-do-szyfrowania.md says: a certificate for that usage valid
// now, the latest validFrom of several, and its publicKeyId. The
// certificates are fetched once and again after a 21470 refusal.
func (c *Client) publicKey(ctx context.Context, usage string) (*rsa.PublicKey, string, error) {
	if c.certs == nil {
		var certs []PublicKeyCertificate
		if err := c.do(ctx, call{op: "public key certificates", method: http.MethodGet, path: "/security/public-key-certificates", out: &certs}); err != nil {
			return nil, "", err
		}
		c.certs = certs
	}
	now := c.now()
	var best *PublicKeyCertificate
	for i, pc := range c.certs {
		if !contains(pc.Usage, usage) || now.Before(pc.ValidFrom) || now.After(pc.ValidTo) {
			continue
		}
		if best == nil || pc.ValidFrom.After(best.ValidFrom) {
			best = &c.certs[i]
		}
	}
	if best == nil {
		c.certs = nil
		return nil, "", &Unavailable{Op: "public key certificates", Status: http.StatusOK, Err: fmt.Errorf("no certificate for %s valid now", usage)}
	}
	cert, err := x509.ParseCertificate(best.Certificate)
	if err != nil {
		c.certs = nil
		return nil, "", &Unavailable{Op: "public key certificates", Status: http.StatusOK, Err: fmt.Errorf("certificate for %s: %w", usage, err)}
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		// KSeF publishes RSA keys; ECDH is an alternative for KSeF tokens
		// this client does not speak.
		return nil, "", &Unavailable{Op: "public key certificates", Status: http.StatusOK, Err: fmt.Errorf("certificate for %s holds a %T, not an RSA key", usage, cert.PublicKey)}
	}
	return pub, PublicKeyID(cert), nil
}

// PublicKeyID is the publicKeyId of cert: base64 of the SHA-256 of its
// SubjectPublicKeyInfo.
func PublicKeyID(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// encryptOAEP is RSAES-OAEP with SHA-256 and MGF1(SHA-256), what KSeF
// takes for the KSeF token and a session's key.
func encryptOAEP(pub *rsa.PublicKey, msg []byte) ([]byte, error) {
	return rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, msg, nil)
}

// accessToken is a valid access token: the one held, refreshed when it has
// expired, or from a new authentication when there is none or the refresh
// token has expired too.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.access.Token != "" && now.Add(refreshMargin).Before(c.access.ValidUntil) {
		return c.access.Token, nil
	}
	if c.refresh.Token != "" && now.Add(refreshMargin).Before(c.refresh.ValidUntil) {
		var out struct {
			AccessToken tokenInfo `json:"accessToken"`
		}
		err := c.do(ctx, call{op: "refresh token", method: http.MethodPost, path: "/auth/token/refresh", bearer: c.refresh.Token, out: &out})
		if err == nil && out.AccessToken.Token != "" {
			c.access = out.AccessToken
			return c.access.Token, nil
		}
		if Retryable(err) && !unauthorized(err) {
			return "", err
		}
		// Refused, or not taken: authenticate anew.
		c.refresh = tokenInfo{}
	}
	if err := c.authenticate(ctx); err != nil {
		return "", err
	}
	return c.access.Token, nil
}

// authed sends k with a valid access token. When KSeF does not take the
// token (401) it is forgotten, and when it does not know the publicKeyId
// (21470, ErrUnknownKey) the certificates are, so that the next call (the
// activity's retry) gets new ones.
func (c *Client) authed(ctx context.Context, k call) error {
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	k.bearer = token
	err = c.do(ctx, k)
	switch {
	case unauthorized(err):
		c.mu.Lock()
		if secret.Equal(c.access.Token, token) {
			c.access = tokenInfo{}
		}
		c.mu.Unlock()
	case errors.Is(err, ErrUnknownKey):
		c.mu.Lock()
		c.certs = nil
		c.mu.Unlock()
	}
	return err
}

// unauthorized tells whether err is a 401 answer.
func unauthorized(err error) bool {
	var u *Unavailable
	return errors.As(err, &u) && u.Status == http.StatusUnauthorized
}

// authenticate runs the authentication with a KSeF token of
// uwierzytelnianie.md, with c.mu held: challenge, the token and the
// challenge's timestamp encrypted under the KsefTokenEncryption key, the
// status polled until done, the access and refresh tokens redeemed.
func (c *Client) authenticate(ctx context.Context) error {
	c.access, c.refresh = tokenInfo{}, tokenInfo{}
	if c.Token == "" || c.NIP == "" {
		return &Refused{Op: "authenticate", Errors: []APIError{{Description: "the Client has no NIP or KSeF token"}}}
	}
	pub, keyID, err := c.publicKey(ctx, UsageKsefToken)
	if err != nil {
		return err
	}
	var ch struct {
		Challenge   string `json:"challenge"`
		TimestampMs int64  `json:"timestampMs"`
	}
	if err := c.do(ctx, call{op: "challenge", method: http.MethodPost, path: "/auth/challenge", out: &ch}); err != nil {
		return err
	}
	enc, err := encryptOAEP(pub, []byte(c.Token+"|"+strconv.FormatInt(ch.TimestampMs, 10)))
	if err != nil {
		return fmt.Errorf("ksef: encrypt the KSeF token: %w", err)
	}
	req := ksefTokenRequest{Challenge: ch.Challenge, EncryptedToken: enc, PublicKeyID: keyID}
	req.ContextIdentifier.Type, req.ContextIdentifier.Value = "Nip", c.NIP
	var init struct {
		ReferenceNumber     string    `json:"referenceNumber"`
		AuthenticationToken tokenInfo `json:"authenticationToken"`
	}
	if err := c.do(ctx, call{op: "ksef-token", method: http.MethodPost, path: "/auth/ksef-token", in: req, out: &init}); err != nil {
		if errors.Is(err, ErrUnknownKey) {
			c.certs = nil
		}
		return err
	}
	auth := init.AuthenticationToken.Token
	for i := 0; ; i++ {
		var st struct {
			Status StatusInfo `json:"status"`
		}
		if err := c.do(ctx, call{op: "authentication status", method: http.MethodGet,
			path: "/auth/" + url.PathEscape(init.ReferenceNumber), bearer: auth, out: &st}); err != nil {
			return err
		}
		switch code := st.Status.Code; {
		case code == 200:
		case code == 100 && i+1 < c.maxPolls():
			if err := wait(ctx, c.pollInterval()); err != nil {
				return &Unavailable{Op: "authentication status", Err: err}
			}
			continue
		case code == 100:
			return &Unavailable{Op: "authentication status", Status: http.StatusOK, Err: ErrProcessing}
		case code == 550 || code == 500:
			return &Unavailable{Op: "authentication", Status: http.StatusOK, Err: fmt.Errorf("%d %s", code, st.Status.Description)}
		default:
			return &Refused{Op: "authentication", Status: http.StatusOK, Errors: []APIError{{Code: code, Description: st.Status.Description, Details: st.Status.Details}}}
		}
		break
	}
	var tokens struct {
		AccessToken  tokenInfo `json:"accessToken"`
		RefreshToken tokenInfo `json:"refreshToken"`
	}
	if err := c.do(ctx, call{op: "redeem token", method: http.MethodPost, path: "/auth/token/redeem", bearer: auth, out: &tokens}); err != nil {
		return err
	}
	if tokens.AccessToken.Token == "" {
		return &Unavailable{Op: "redeem token", Status: http.StatusOK, Err: fmt.Errorf("answer holds no access token")}
	}
	c.access, c.refresh = tokens.AccessToken, tokens.RefreshToken
	return nil
}

// ksefTokenRequest is the body of POST /auth/ksef-token, as the client
// sends it and the Fake reads it.
type ksefTokenRequest struct {
	Challenge         string `json:"challenge"`
	ContextIdentifier struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"contextIdentifier"`
	EncryptedToken []byte `json:"encryptedToken"`
	PublicKeyID    string `json:"publicKeyId,omitempty"`
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
