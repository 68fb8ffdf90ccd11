package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/stack"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.uber.org/zap"
)

// TestTemporalOverMutualTLS puts a TLS terminator that demands a client
// certificate in front of the embedded frontend, the way a self-hosted
// cluster with mTLS or Temporal Cloud sits behind TLS, and connects a stack
// configured only through TEMPORAL_TLS_* variables. Without the client
// certificate the start fails.
func TestTemporalOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	serverCert := issue(t, ca, caKey, "temporal.test", x509.ExtKeyUsageServerAuth)
	clientCert := issue(t, ca, caKey, "officeflow-worker", x509.ExtKeyUsageClientAuth)
	writePEM(t, filepath.Join(dir, "client.pem"), "CERTIFICATE", clientCert.Certificate[0])
	kder, err := x509.MarshalECPrivateKey(clientCert.PrivateKey.(*ecdsa.PrivateKey))
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "client.key"), "EC PRIVATE KEY", kder)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12,
	})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go terminate(l, st.Temporal.Address())

	t.Setenv("TEMPORAL_ADDRESS", l.Addr().String())
	t.Setenv("TEMPORAL_TLS_CA", filepath.Join(dir, "ca.pem"))
	t.Setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.test")
	t.Setenv("TEMPORAL_TLS_CERT", filepath.Join(dir, "client.pem"))
	t.Setenv("TEMPORAL_TLS_KEY", filepath.Join(dir, "client.key"))
	c, err := config.Load(false)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{Config: c, Logger: zap.NewNop()})
	require.NoError(t, err, "connects over mTLS")
	_, err = s.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: c.TemporalNamespace, Query: `OrderStatus = "placed"`})
	require.NoError(t, err)
	s.Close()

	// The same without a client certificate: the terminator hangs up.
	t.Setenv("TEMPORAL_TLS_CERT", "")
	t.Setenv("TEMPORAL_TLS_KEY", "")
	c, err = config.Load(false)
	require.NoError(t, err)
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	_, err = stack.Start(short, stack.Options{Config: c, Logger: zap.NewNop()})
	require.ErrorContains(t, err, "temporal at "+l.Addr().String())
}

// terminate ends TLS and passes the bytes on to the plaintext frontend.
func terminate(l net.Listener, backend string) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			if err := conn.(*tls.Conn).Handshake(); err != nil {
				return
			}
			up, err := net.Dial("tcp", backend)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, conn) }()
			_, _ = io.Copy(conn, up)
		}()
	}
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "officeflow test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return ca, key
}

func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}
