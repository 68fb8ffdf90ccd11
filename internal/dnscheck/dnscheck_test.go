package dnscheck

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/officeflow/officeflow/internal/dnstest"
)

const record = "MS=ms12345678"

func setup(t *testing.T) (*dnstest.Server, *Checker) {
	t.Helper()
	s, err := dnstest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, &Checker{Server: s.Addr(), Timeout: 5 * time.Second}
}

func has(t *testing.T, c *Checker, name, text string) bool {
	t.Helper()
	ok, err := c.HasTXT(context.Background(), name, text)
	require.NoError(t, err)
	return ok
}

func TestRecordLifecycle(t *testing.T) {
	s, c := setup(t)

	require.False(t, has(t, c, "acme.pl", record), "unknown name (NXDOMAIN)")

	s.SetTXT("acme.pl", record)
	require.True(t, has(t, c, "acme.pl", record))
	require.True(t, has(t, c, "ACME.pl.", record), "names are case-insensitive, dot optional")
	require.False(t, has(t, c, "acme.pl", "MS=ms00000000"), "other value")
	require.False(t, has(t, c, "acme.pl", "ms=MS12345678"), "values compare exactly")

	s.Remove("acme.pl")
	require.False(t, has(t, c, "acme.pl", record), "removed again")
}

func TestNameWithoutTXTIsFalse(t *testing.T) {
	s, c := setup(t)
	s.SetTXT("empty.pl")
	s.SetTXT("_verify.deep.pl", record)
	require.False(t, has(t, c, "empty.pl", record))
	require.False(t, has(t, c, "deep.pl", record), "empty non-terminal")
}

func TestAnyOfSeveralValues(t *testing.T) {
	s, c := setup(t)
	s.SetTXT("acme.pl", "v=spf1 include:spf.protection.outlook.com -all", record, "google-site-verification=x")
	require.True(t, has(t, c, "acme.pl", record))
	require.True(t, has(t, c, "acme.pl", "google-site-verification=x"))
	require.False(t, has(t, c, "acme.pl", "MS=ms"), "no prefix match")
}

func TestLongValuesJoinedAcrossSegmentsAndTCP(t *testing.T) {
	s, c := setup(t)
	long := "v=" + strings.Repeat("0123456789", 70) // 702 bytes: three segments
	// Three such records exceed the resolver's 1232-byte UDP size, so this
	// also goes through the truncation and TCP retry.
	s.SetTXT("big.pl", long+"1", long+"2", long+"3")
	require.True(t, has(t, c, "big.pl", long+"2"))
	require.Equal(t, 2, s.Queries(), "truncated UDP answer, then TCP")
	require.False(t, has(t, c, "big.pl", long))
}

func TestQueriesCounted(t *testing.T) {
	s, c := setup(t)
	s.SetTXT("acme.pl", record)
	has(t, c, "acme.pl", record)
	has(t, c, "missing.pl", record)
	require.Equal(t, 2, s.Queries(), "one query per lookup, no search-list suffixes")
}

func TestSilentServerTimesOut(t *testing.T) {
	// A socket nobody reads: queries vanish as they would at a dead server.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })

	c := &Checker{Server: pc.LocalAddr().String(), Timeout: 300 * time.Millisecond}
	begin := time.Now()
	ok, err := c.HasTXT(context.Background(), "acme.pl", record)
	require.Error(t, err)
	require.False(t, ok)
	var dnsErr *net.DNSError
	require.ErrorAs(t, err, &dnsErr)
	require.True(t, dnsErr.IsTimeout, "%v", err)
	require.Less(t, time.Since(begin), 2*time.Second, "bounded by Timeout")
}

func TestCallerContextIsHonoured(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &Checker{Server: pc.LocalAddr().String(), Timeout: time.Minute}
	_, err = c.HasTXT(ctx, "acme.pl", record)
	require.Error(t, err)
}

func TestServerFailureIsAnError(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	started := make(chan struct{})
	srv := &dns.Server{
		PacketConn:        pc,
		NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg).SetRcode(r, dns.RcodeServerFailure)
			_ = w.WriteMsg(m)
		}),
	}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { srv.Shutdown() })

	c := &Checker{Server: pc.LocalAddr().String(), Timeout: 5 * time.Second}
	ok, err := c.HasTXT(context.Background(), "acme.pl", record)
	require.Error(t, err)
	require.False(t, ok)
}

func TestEmptyNameIsAnError(t *testing.T) {
	_, c := setup(t)
	_, err := c.HasTXT(context.Background(), " . ", record)
	require.Error(t, err)
}
