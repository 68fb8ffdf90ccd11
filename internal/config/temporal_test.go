package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeCert makes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "officeflow-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

func clearTemporalEnv(t *testing.T) {
	for _, k := range []string{"TEMPORAL_TLS", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA", "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_API_KEY"} {
		t.Setenv(k, "")
	}
}

func TestTemporalPlainByDefault(t *testing.T) {
	clearTemporalEnv(t)
	c, err := Load(false)
	require.NoError(t, err)
	require.Nil(t, c.Temporal.TLS)
	require.Empty(t, c.Temporal.APIKey)
}

func TestTemporalMTLS(t *testing.T) {
	clearTemporalEnv(t)
	cert, key := writeCert(t)
	t.Setenv("TEMPORAL_TLS_CERT", cert)
	t.Setenv("TEMPORAL_TLS_KEY", key)
	t.Setenv("TEMPORAL_TLS_CA", cert)
	t.Setenv("TEMPORAL_TLS_SERVER_NAME", "acme.tmprl.cloud")
	c, err := Load(false)
	require.NoError(t, err)
	require.NotNil(t, c.Temporal.TLS)
	require.Len(t, c.Temporal.TLS.Certificates, 1)
	require.NotNil(t, c.Temporal.TLS.RootCAs)
	require.Equal(t, "acme.tmprl.cloud", c.Temporal.TLS.ServerName)
}

func TestTemporalAPIKeyTurnsTLSOn(t *testing.T) {
	clearTemporalEnv(t)
	t.Setenv("TEMPORAL_API_KEY", "key-123")
	c, err := Load(false)
	require.NoError(t, err)
	require.Equal(t, "key-123", c.Temporal.APIKey)
	require.NotNil(t, c.Temporal.TLS, "Temporal Cloud takes API keys over TLS only")
	require.Nil(t, c.Temporal.TLS.RootCAs, "system roots")
}

func TestTemporalTLSErrorsNameTheVariable(t *testing.T) {
	cert, key := writeCert(t)
	bogus := filepath.Join(t.TempDir(), "bogus.pem")
	require.NoError(t, os.WriteFile(bogus, []byte("not pem"), 0o600))
	cases := []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"TEMPORAL_TLS_CERT": cert}, "TEMPORAL_TLS_KEY"},
		{map[string]string{"TEMPORAL_TLS_KEY": key}, "TEMPORAL_TLS_CERT"},
		{map[string]string{"TEMPORAL_TLS_CERT": cert, "TEMPORAL_TLS_KEY": bogus}, "TEMPORAL_TLS_CERT"},
		{map[string]string{"TEMPORAL_TLS_CA": "/no/such/ca.pem"}, "TEMPORAL_TLS_CA"},
		{map[string]string{"TEMPORAL_TLS_CA": bogus}, "TEMPORAL_TLS_CA"},
		{map[string]string{"TEMPORAL_TLS": "maybe"}, "TEMPORAL_TLS"},
	}
	for _, tc := range cases {
		clearTemporalEnv(t)
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		_, err := Load(false)
		require.Error(t, err, "%v", tc.env)
		require.True(t, strings.HasPrefix(err.Error(), tc.name+":"), "%v: %v", tc.env, err)
	}
}
