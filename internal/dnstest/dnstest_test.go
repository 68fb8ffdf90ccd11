package dnstest

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start()
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// ask sends one query over net ("udp" or "tcp") without EDNS, so UDP answers
// are limited to 512 bytes.
func ask(t *testing.T, s *Server, net, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net}
	q := new(dns.Msg).SetQuestion(name, qtype)
	r, _, err := c.Exchange(q, s.Addr())
	require.NoError(t, err)
	return r
}

func TestUnknownNameIsNXDOMAIN(t *testing.T) {
	s := start(t)
	r := ask(t, s, "udp", "nothing.example.", dns.TypeTXT)
	require.Equal(t, dns.RcodeNameError, r.Rcode)
	require.True(t, r.Authoritative)
	require.Empty(t, r.Answer)
}

func TestTXTAnswerIsAuthoritativeWithTTL60(t *testing.T) {
	s := start(t)
	s.SetTXT("Acme.PL", "MS=ms12345678", "v=spf1 -all")
	r := ask(t, s, "udp", "acme.pl.", dns.TypeTXT)
	require.Equal(t, dns.RcodeSuccess, r.Rcode)
	require.True(t, r.Authoritative)
	require.Len(t, r.Answer, 2)
	var got []string
	for _, rr := range r.Answer {
		txt := rr.(*dns.TXT)
		require.EqualValues(t, 60, txt.Hdr.Ttl)
		got = append(got, strings.Join(txt.Txt, ""))
	}
	require.ElementsMatch(t, []string{"MS=ms12345678", "v=spf1 -all"}, got)
}

func TestNamesAreCaseInsensitiveAndFQDNOptional(t *testing.T) {
	s := start(t)
	s.SetTXT("example.COM.", "x")
	r := ask(t, s, "udp", "EXAMPLE.com.", dns.TypeTXT)
	require.Equal(t, dns.RcodeSuccess, r.Rcode)
	require.Len(t, r.Answer, 1)

	s.Remove("Example.com")
	r = ask(t, s, "udp", "example.com.", dns.TypeTXT)
	require.Equal(t, dns.RcodeNameError, r.Rcode)
}

func TestKnownNameWithoutThatTypeIsNODATA(t *testing.T) {
	s := start(t)
	s.SetTXT("acme.pl", "v")
	s.SetTXT("empty.pl")
	s.SetTXT("_verify.deep.pl", "v")

	for _, c := range []struct {
		name  string
		qtype uint16
	}{
		{"acme.pl.", dns.TypeA},     // records, but not of that type
		{"empty.pl.", dns.TypeTXT},  // set with no values
		{"deep.pl.", dns.TypeTXT},   // empty non-terminal
		{"sub.acme.pl.", dns.TypeA}, // below a name: does not exist
		{"_verify.deep.pl.", dns.TypeMX},
	} {
		r := ask(t, s, "udp", c.name, c.qtype)
		require.Empty(t, r.Answer, c.name)
		if c.name == "sub.acme.pl." {
			require.Equal(t, dns.RcodeNameError, r.Rcode, c.name)
			continue
		}
		require.Equal(t, dns.RcodeSuccess, r.Rcode, c.name)
		require.True(t, r.Authoritative, c.name)
	}
}

func TestLongValueIsSplitAndBigAnswerTruncatesToTCP(t *testing.T) {
	s := start(t)
	long := strings.Repeat("a", 300) + `\` + strings.Repeat("b", 300)
	s.SetTXT("big.pl", long, long)

	udp := ask(t, s, "udp", "big.pl.", dns.TypeTXT)
	require.True(t, udp.Truncated, "over 512 bytes without EDNS must set TC")

	tcp := ask(t, s, "tcp", "big.pl.", dns.TypeTXT)
	require.False(t, tcp.Truncated)
	require.Len(t, tcp.Answer, 2)
	for _, rr := range tcp.Answer {
		segs := rr.(*dns.TXT).Txt
		require.Len(t, segs, 3)
		raw := make([]string, len(segs))
		for i, seg := range segs {
			// miekg shows a backslash escaped; the wire carries one byte.
			raw[i] = strings.ReplaceAll(seg, `\\`, `\`)
			require.LessOrEqual(t, len(raw[i]), 255)
		}
		require.Equal(t, long, strings.Join(raw, ""))
	}
}

func TestQueriesCountsBothTransports(t *testing.T) {
	s := start(t)
	require.Zero(t, s.Queries())
	ask(t, s, "udp", "a.pl.", dns.TypeTXT)
	ask(t, s, "tcp", "a.pl.", dns.TypeA)
	require.Equal(t, 2, s.Queries())
}

func TestConcurrentUpdatesAndQueries(t *testing.T) {
	s := start(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if i%2 == 0 {
					s.SetTXT("race.pl", "v")
					s.Remove("race.pl")
				} else {
					// require must not be used off the test goroutine.
					c := &dns.Client{Net: "udp"}
					q := new(dns.Msg).SetQuestion("race.pl.", dns.TypeTXT)
					if _, _, err := c.Exchange(q, s.Addr()); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 80, s.Queries())
}

func TestCloseStopsServingAndIsIdempotent(t *testing.T) {
	s, err := Start()
	require.NoError(t, err)
	addr := s.Addr()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())

	c := &dns.Client{Net: "tcp"}
	_, _, err = c.Exchange(new(dns.Msg).SetQuestion("a.pl.", dns.TypeTXT), addr)
	require.Error(t, err)
}
