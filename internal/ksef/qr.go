package ksef

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"
)

// The hosts of the verification links (kody-qr.md, "Środowiska"): a QR
// code points at them, not at the API.
const (
	QRTest       = "https://qr-test.ksef.mf.gov.pl"
	QRDemo       = "https://qr-demo.ksef.mf.gov.pl"
	QRProduction = "https://qr.ksef.mf.gov.pl"
)

// QRBase is the verification host for the API at apiURL (Client.BaseURL):
// QRTest, QRDemo or QRProduction for the Ministry's API hosts, whatever
// their path; for any other URL (a Fake) its scheme and host with "/qr", so
// a test's links point at the fake and never at the Ministry.
func QRBase(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(apiURL, "/") + "/qr"
	}
	switch strings.ToLower(u.Hostname()) {
	case "api-test.ksef.mf.gov.pl":
		return QRTest
	case "api-demo.ksef.mf.gov.pl":
		return QRDemo
	case "api.ksef.mf.gov.pl":
		return QRProduction
	}
	return u.Scheme + "://" + u.Host + "/qr"
}

// InvoiceHash is the invoice file's SHA-256 in base64url without padding
// (43 characters), as both codes' links carry it: the hash of the exact XML
// sent to KSeF, so a byte changed after the link was made breaks it.
func InvoiceHash(xml []byte) string {
	sum := sha256.Sum256(xml)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyURL is KOD I's link, <qrBase>/invoice/<NIP>/<DD-MM-YYYY>/<hash>:
// sellerNIP is Podmiot1's NIP, issued the invoice's P_1 (its day as it
// reads in issued's location, so pass it in Polish time), hash its
// InvoiceHash.
func VerifyURL(qrBase, sellerNIP string, issued time.Time, hash string) string {
	return strings.TrimSuffix(qrBase, "/") + "/invoice/" + sellerNIP + "/" + issued.Format("02-01-2006") + "/" + hash
}

// OfflineCertificate is the KSeF certificate of type Offline that signs KOD
// II. An Authentication certificate may not (kody-qr.md).
type OfflineCertificate struct {
	// Serial is the certificate's serial number as KSeF writes it: 16
	// upper-case hex digits, e.g. "01F20A5D352AE590".
	Serial string
	// Key is its private key: RSA of at least 2048 bits, or ECDSA P-256.
	Key crypto.Signer
}

// String leaves the key out, so a certificate logged or printed shows no
// secret.
func (c OfflineCertificate) String() string { return "OfflineCertificate{Serial: " + c.Serial + "}" }

// GoString is String, for %#v.
func (c OfflineCertificate) GoString() string { return c.String() }

// serial writes a certificate's serial number as KSeF does: upper-case hex,
// zero-padded to 16 digits (its API's pattern ^[0-9A-F]{16}$).
func serial(n *big.Int) string { return fmt.Sprintf("%016X", n) }

// CertificateURL is KOD II's link of an invoice issued offline:
// <qrBase>/certificate/Nip/<contextNIP>/<sellerNIP>/<serial>/<hash>/<signature>,
// the signature being c.Key's over that link without its scheme ("https://")
// and without the signature, in base64url. The context is the NIP the
// issuer authenticates as ("Nip"); sellerNIP is Podmiot1's.
//
// RSA signs with RSASSA-PSS (SHA-256, MGF1 SHA-256, 32-byte salt), which is
// randomised: each call gives another valid link, so make it once and store
// it. ECDSA P-256 signs deterministically (RFC 6979) when Key is an
// *ecdsa.PrivateKey, written as IEEE P1363 r||s (64 bytes), the form the
// guide recommends over DER.
func CertificateURL(qrBase, contextNIP, sellerNIP string, c OfflineCertificate, hash string) (string, error) {
	if c.Key == nil || c.Serial == "" {
		return "", errors.New("ksef: KOD II needs an offline certificate's serial and key")
	}
	link := strings.TrimSuffix(qrBase, "/") + "/certificate/Nip/" + contextNIP + "/" + sellerNIP + "/" + c.Serial + "/" + hash
	signed := link
	if i := strings.Index(signed, "://"); i >= 0 {
		signed = signed[i+3:]
	}
	sig, err := sign(c.Key, []byte(signed))
	if err != nil {
		return "", err
	}
	return link + "/" + base64.RawURLEncoding.EncodeToString(sig), nil
}

// sign signs msg's SHA-256 with key as kody-qr.md wants it for KOD II.
func sign(key crypto.Signer, msg []byte) ([]byte, error) {
	digest := sha256.Sum256(msg)
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("ksef: KOD II needs an RSA key of at least 2048 bits, not %d", pub.N.BitLen())
		}
		return key.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256})
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ksef: KOD II needs an ECDSA key on P-256, not %s", pub.Curve.Params().Name)
		}
		// A nil reader makes an *ecdsa.PrivateKey sign by RFC 6979: the
		// same invoice gets the same link, and so the same PDF, when a
		// step is retried. Another Signer (a hardware key) gets entropy.
		r := rand.Reader
		if _, ok := key.(*ecdsa.PrivateKey); ok {
			r = nil
		}
		der, err := key.Sign(r, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		var rs struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("ksef: the ECDSA signature is not DER: %v", err)
		}
		p1363 := make([]byte, 64)
		rs.R.FillBytes(p1363[:32])
		rs.S.FillBytes(p1363[32:])
		return p1363, nil
	default:
		return nil, fmt.Errorf("ksef: KOD II is signed with RSA or ECDSA P-256, not %T", pub)
	}
}

// NewOfflineCertificate makes a self-signed ECDSA P-256 certificate for nip,
// for development: a -dev run or a test signs KOD II without a certificate
// from the Ministry. KSeF does not know it, so its links do not verify
// there. Production loads the Offline certificate KSeF issued
// (KSEF_OFFLINE_CERT, KSEF_OFFLINE_KEY) with LoadOfflineCertificate.
func NewOfflineCertificate(nip string) (OfflineCertificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return OfflineCertificate{}, nil, err
	}
	// 63 random bits: positive, and 16 hex digits once padded, as KSeF's.
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return OfflineCertificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: n,
		Subject: pkix.Name{
			CommonName:   "officeflow offline (development) " + nip,
			Country:      []string{"PL"},
			Organization: []string{"NIP " + nip},
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return OfflineCertificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return OfflineCertificate{}, nil, err
	}
	return OfflineCertificate{Serial: serial(cert.SerialNumber), Key: key}, cert, nil
}

// LoadOfflineCertificate reads the Offline certificate KSeF issued and its
// private key, both PEM: the key PKCS#8 ("PRIVATE KEY"), SEC 1 ("EC PRIVATE
// KEY") or PKCS#1 ("RSA PRIVATE KEY"), unencrypted. It checks that the key
// is the certificate's and one KOD II can be signed with.
func LoadOfflineCertificate(certPEM, keyPEM []byte) (OfflineCertificate, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return OfflineCertificate{}, errors.New("ksef: the offline certificate is not a PEM CERTIFICATE")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return OfflineCertificate{}, fmt.Errorf("ksef: the offline certificate: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return OfflineCertificate{}, errors.New("ksef: the offline certificate's key is not PEM")
	}
	var key any
	switch kb.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		// Not echoed further: the type is all that is said of a key.
		return OfflineCertificate{}, fmt.Errorf("ksef: the offline certificate's key is a PEM %q, not a private key", kb.Type)
	}
	if err != nil {
		// x509's parse errors name no key material.
		return OfflineCertificate{}, fmt.Errorf("ksef: the offline certificate's key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return OfflineCertificate{}, fmt.Errorf("ksef: the offline certificate's key (%T) cannot sign", key)
	}
	if eq, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		return OfflineCertificate{}, errors.New("ksef: the offline key is not the certificate's")
	}
	c := OfflineCertificate{Serial: serial(cert.SerialNumber), Key: signer}
	// Sign once now, so a wrong kind of key (RSA 1024, ECDSA P-384) fails
	// at start-up and not on the first invoice issued offline.
	if _, err := sign(signer, []byte("check")); err != nil {
		return OfflineCertificate{}, err
	}
	return c, nil
}
