package ksef_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/stretchr/testify/require"
)

// The example of kody-qr.md.
const (
	guideHash   = "UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
	guideSerial = "01F20A5D352AE590"
	// What KOD II signs: the link without https:// and without the signature.
	guideSigned = "qr-test.ksef.mf.gov.pl/certificate/Nip/1111111111/1111111111/01F20A5D352AE590/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
)

func TestInvoiceHashIsBase64URLOfSHA256(t *testing.T) {
	// SHA-256("abc") is ba7816bf…f20015ad (FIPS 180-2's example).
	require.Equal(t, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0", ksef.InvoiceHash([]byte("abc")))
	h := ksef.InvoiceHash([]byte("<Faktura/>"))
	require.Len(t, h, len(guideHash))
	require.Regexp(t, `^[A-Za-z0-9_-]{43}$`, h, "base64url, no padding")
}

func TestVerifyURLIsTheGuidesExample(t *testing.T) {
	issued := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/"+guideHash,
		ksef.VerifyURL(ksef.QRTest, "1111111111", issued, guideHash))
	// The day is P_1's as it reads where issued is: 23:30 UTC on 31 January
	// is 1 February in Warsaw.
	waw, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	late := time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC).In(waw)
	require.Equal(t, "https://qr.ksef.mf.gov.pl/invoice/5260250995/01-02-2026/"+guideHash,
		ksef.VerifyURL(ksef.QRProduction+"/", "5260250995", late, guideHash))
}

func TestQRBase(t *testing.T) {
	for api, want := range map[string]string{
		ksef.Test:                          ksef.QRTest,
		ksef.Demo:                          ksef.QRDemo,
		ksef.Production:                    ksef.QRProduction,
		"https://api-test.ksef.mf.gov.pl":  ksef.QRTest,
		"https://API.ksef.mf.gov.pl/v2/":   ksef.QRProduction,
		"http://127.0.0.1:41234":           "http://127.0.0.1:41234/qr",
		"http://127.0.0.1:41234/v2":        "http://127.0.0.1:41234/qr",
		"http://ksef-fake:8080/api/v2/":    "http://ksef-fake:8080/qr",
		"https://api-test.example.org/v2/": "https://api-test.example.org/qr",
	} {
		require.Equal(t, want, ksef.QRBase(api), api)
	}
}

// certificateURL makes KOD II's link of the guide's example with key and
// returns the signature it carries, after checking the rest of the link.
func certificateURL(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	u, err := ksef.CertificateURL(ksef.QRTest, "1111111111", "1111111111",
		ksef.OfflineCertificate{Serial: guideSerial, Key: key}, guideHash)
	require.NoError(t, err)
	prefix := "https://" + guideSigned + "/"
	require.True(t, strings.HasPrefix(u, prefix), u)
	enc := strings.TrimPrefix(u, prefix)
	require.Regexp(t, `^[A-Za-z0-9_-]+$`, enc, "base64url, no padding")
	sig, err := base64.RawURLEncoding.DecodeString(enc)
	require.NoError(t, err)
	return sig
}

func TestCertificateURLSignedWithRSAPSS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	sig := certificateURL(t, key)
	digest := sha256.Sum256([]byte(guideSigned))
	require.NoError(t, rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, digest[:], sig,
		&rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256}), "RSASSA-PSS, SHA-256, MGF1 SHA-256, 32-byte salt")
	// The salt is 32 bytes exactly, not "any length" (PSSSaltLengthAuto).
	require.Error(t, rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, digest[:], sig,
		&rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256}))
}

func TestCertificateURLSignedWithECDSAP1363(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	sig := certificateURL(t, key)
	require.Len(t, sig, 64, "IEEE P1363: r||s, 32 bytes each")
	digest := sha256.Sum256([]byte(guideSigned))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	require.True(t, ecdsa.Verify(&key.PublicKey, digest[:], r, s))
	require.Equal(t, sig, certificateURL(t, key), "deterministic (RFC 6979): a retried step gets the same link")
}

func TestCertificateURLRefusesOtherKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	for _, c := range []ksef.OfflineCertificate{{Serial: guideSerial, Key: small}, {Serial: guideSerial, Key: p384},
		{Serial: guideSerial}, {Key: p384}} {
		_, err := ksef.CertificateURL(ksef.QRTest, "1111111111", "1111111111", c, guideHash)
		require.Error(t, err, "%v", c)
	}
}

func TestNewOfflineCertificateSignsKODII(t *testing.T) {
	c, cert, err := ksef.NewOfflineCertificate("5260250995")
	require.NoError(t, err)
	require.Regexp(t, `^[0-9A-F]{16}$`, c.Serial, "as KSeF's API writes serial numbers")
	require.Equal(t, fmt.Sprintf("%016X", cert.SerialNumber), c.Serial)
	require.Contains(t, cert.Subject.CommonName, "5260250995")
	require.NotContains(t, fmt.Sprint(c), "D:", "the key is not printed")
	require.NotContains(t, fmt.Sprintf("%#v", c), "D:")
	u, err := ksef.CertificateURL("http://127.0.0.1:8080/qr", "5260250995", "5260250995", c, guideHash)
	require.NoError(t, err)
	signed, enc, _ := strings.Cut(strings.TrimPrefix(u, "http://"), "/"+guideHash+"/")
	signed += "/" + guideHash
	require.Equal(t, "127.0.0.1:8080/qr/certificate/Nip/5260250995/5260250995/"+c.Serial+"/"+guideHash, signed)
	sig, err := base64.RawURLEncoding.DecodeString(enc)
	require.NoError(t, err)
	digest := sha256.Sum256([]byte(signed))
	pub := cert.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])))
}

// selfSigned is a certificate for key, PEM, with serial n.
func selfSigned(t *testing.T, key crypto.Signer, n int64) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestLoadOfflineCertificate(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	ecCert, rsaCert := selfSigned(t, ec, 0x01F20A5D352AE590), selfSigned(t, rk, 0x0321C82DA41B4362)

	for name, tc := range map[string]struct {
		cert, key []byte
		serial    string
	}{
		"EC, PKCS#8":   {ecCert, pkcs8(ec), guideSerial},
		"EC, SEC 1":    {ecCert, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), guideSerial},
		"RSA, PKCS#8":  {rsaCert, pkcs8(rk), "0321C82DA41B4362"},
		"RSA, PKCS#1":  {rsaCert, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}), "0321C82DA41B4362"},
		"with a chain": {append(ecCert, rsaCert...), pkcs8(ec), guideSerial},
	} {
		c, err := ksef.LoadOfflineCertificate(tc.cert, tc.key)
		require.NoError(t, err, name)
		require.Equal(t, tc.serial, c.Serial, name)
		_, err = ksef.CertificateURL(ksef.QRTest, "1111111111", "1111111111", c, guideHash)
		require.NoError(t, err, name)
	}

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	for name, tc := range map[string]struct{ cert, key []byte }{
		"another key":       {ecCert, pkcs8(other)},
		"RSA 1024":          {selfSigned(t, small, 7), pkcs8(small)},
		"key as the cert":   {pkcs8(ec), pkcs8(ec)},
		"cert as the key":   {ecCert, ecCert},
		"not PEM":           {[]byte("MIIB..."), pkcs8(ec)},
		"empty key":         {ecCert, nil},
		"broken key":        {ecCert, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")})},
		"encrypted (no)":    {ecCert, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("x")})},
		"a public key only": {ecCert, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("x")})},
	} {
		_, err := ksef.LoadOfflineCertificate(tc.cert, tc.key)
		require.Error(t, err, name)
	}
}

// The serial is zero-padded to KSeF's 16 digits.
func TestSerialIsSixteenHexDigits(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	c, err := ksef.LoadOfflineCertificate(selfSigned(t, key, 0xABC), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	require.NoError(t, err)
	require.Equal(t, "0000000000000ABC", c.Serial)
	require.True(t, regexp.MustCompile(`^[0-9A-F]{16}$`).MatchString(c.Serial))
}
