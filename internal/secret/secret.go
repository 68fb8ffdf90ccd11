// Package secret seals short secrets (a tenant admin's temporary password)
// for the time they rest in the database, and derives billing panel tokens
// that never need to be stored.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// Box seals and opens with AES-256-GCM under one key.
type Box struct {
	aead cipher.AEAD
	key  []byte
}

// NewBox takes a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, key: append([]byte(nil), key...)}, nil
}

// Seal encrypts plaintext bound to context (e.g. the order id), so a sealed
// value copied to another row does not open.
func (b *Box) Seal(plaintext, context string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context)), nil
}

// ErrOpen means the value was not sealed by this key for this context.
var ErrOpen = errors.New("sealed value does not open with this key and context")

// Open decrypts what Seal made.
func (b *Box) Open(sealed []byte, context string) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return "", ErrOpen
	}
	pt, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}

// Purposes of the tokens Token derives: tokens of one purpose are no good
// for another.
const (
	// PurposeBilling is the billing access email's panel link, one per order.
	PurposeBilling = "billing"
	// PurposePanelLink is a panel link mailed on request, one per nonce.
	PurposePanelLink = "panel-link"
	// PurposeCSRF is a panel session's form token, one per session.
	PurposeCSRF = "panel-csrf"
)

// Token derives a URL-safe token for purpose and id: the same inputs give the
// same token, so an email can be re-sent without storing the token.
func (b *Box) Token(purpose, id string) string {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte(purpose + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Hash is what is stored to recognise a token.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Equal compares a presented credential with a known one in time that
// depends on neither: both are hashed first, so that not even the length
// of the known one shows (subtle.ConstantTimeCompare returns early on a
// length mismatch).
func Equal(presented, known string) bool {
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(known))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
