package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
)

// Temporal is how to reach a Temporal cluster other than the embedded one:
// TLS (with a client certificate for mTLS) and Temporal Cloud API keys.
type Temporal struct {
	// TLS is nil for a plain connection.
	TLS    *tls.Config
	APIKey string
}

// LoadTemporal reads TEMPORAL_TLS, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY,
// TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME and TEMPORAL_API_KEY, and loads
// the files now, so that a wrong path stops the process at start with its
// name rather than at the first call.
func LoadTemporal() (Temporal, error) {
	var t Temporal
	certFile, keyFile := os.Getenv("TEMPORAL_TLS_CERT"), os.Getenv("TEMPORAL_TLS_KEY")
	caFile, serverName := os.Getenv("TEMPORAL_TLS_CA"), os.Getenv("TEMPORAL_TLS_SERVER_NAME")
	t.APIKey = os.Getenv("TEMPORAL_API_KEY")
	on := false
	if s := os.Getenv("TEMPORAL_TLS"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return t, fmt.Errorf("TEMPORAL_TLS: %q is not true or false", s)
		}
		on = b
	}
	// Any TLS setting, and an API key (Cloud accepts keys only over TLS),
	// turn TLS on.
	on = on || certFile != "" || keyFile != "" || caFile != "" || serverName != "" || t.APIKey != ""
	if !on {
		return t, nil
	}
	t.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	switch {
	case certFile != "" && keyFile == "":
		return t, fmt.Errorf("TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT (the client certificate's private key)")
	case keyFile != "" && certFile == "":
		return t, fmt.Errorf("TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY (the client certificate)")
	case certFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return t, fmt.Errorf("TEMPORAL_TLS_CERT: %s and TEMPORAL_TLS_KEY: %s do not load as a key pair: %v", certFile, keyFile, err)
		}
		t.TLS.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return t, fmt.Errorf("TEMPORAL_TLS_CA: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return t, fmt.Errorf("TEMPORAL_TLS_CA: %s holds no PEM certificate", caFile)
		}
		t.TLS.RootCAs = pool
	}
	return t, nil
}
