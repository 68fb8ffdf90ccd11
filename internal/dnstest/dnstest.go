// Package dnstest is an authoritative DNS server for tests: it answers TXT,
// MX and CNAME queries from an in-memory zone over UDP and TCP on one 127.0.0.1 port, so
// domain verification can be exercised end to end (the real resolver code,
// real packets) without touching public DNS. It is a non-test package so
// that e2e tests in other packages can import it; the product never does.
package dnstest

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// ttl is short because tests change records and nothing should cache them
// for long; 60 s is what the contract promises.
const ttl = 60

// maxSegment is the longest character-string a TXT record may carry; longer
// values are sent as several strings, which clients join.
const maxSegment = 255

// Server serves the zone set with SetTXT. Create it with Start.
type Server struct {
	udp, tcp *dns.Server
	addr     string
	done     sync.WaitGroup

	mu      sync.Mutex
	zone    map[string][]string // canonical name -> TXT values
	mx      map[string][]*dns.MX
	cname   map[string]string // canonical name -> canonical target
	queries int
	closed  bool
}

// Start listens on a free 127.0.0.1 port for both UDP and TCP (the same
// number, as resolvers retry a truncated UDP answer over TCP on the port they
// used) and serves until Close.
func Start() (*Server, error) {
	pc, ln, err := listenPair()
	if err != nil {
		return nil, err
	}
	s := &Server{
		addr:  pc.LocalAddr().String(),
		zone:  make(map[string][]string),
		mx:    make(map[string][]*dns.MX),
		cname: make(map[string]string),
	}
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h}
	// Shutdown refuses a server that has not started yet, so Start returns
	// only once both loops are running (or one failed to).
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		failed := make(chan error, 1)
		srv.NotifyStartedFunc = func() { close(started) }
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			failed <- srv.ActivateAndServe()
		}()
		select {
		case <-started:
		case err := <-failed:
			s.Close()
			pc.Close()
			ln.Close()
			return nil, fmt.Errorf("dnstest: serve: %w", err)
		}
	}
	return s, nil
}

// listenPair opens UDP on a kernel-chosen port and TCP on the same number.
// The TCP port may be held by someone else, so a few ports are tried.
func listenPair() (net.PacketConn, net.Listener, error) {
	var last error
	for range 10 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("dnstest: listen udp: %w", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		last = err
	}
	return nil, nil, fmt.Errorf("dnstest: no port free for both udp and tcp: %w", last)
}

// Addr is the "127.0.0.1:port" both transports listen on.
func (s *Server) Addr() string { return s.addr }

// SetTXT replaces the TXT values of name. With no texts the name still
// exists (queries get NOERROR with no answer rather than NXDOMAIN).
func (s *Server) SetTXT(name string, texts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zone[dns.CanonicalName(name)] = append([]string(nil), texts...)
}

// Remove deletes name and its records; later queries get NXDOMAIN.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := dns.CanonicalName(name)
	delete(s.zone, n)
	delete(s.mx, n)
	delete(s.cname, n)
}

// Queries is the number of queries received so far, of any type and over
// either transport.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// Close stops both listeners and waits for the serving goroutines. It is
// safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if err := srv.Shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	s.done.Wait()
	return errors.Join(errs...)
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	// Authoritative matters: Go's resolver treats an empty, non-authoritative
	// answer without recursion as a lame referral and an error.
	m.Authoritative = true
	if len(req.Question) == 1 && req.Opcode == dns.OpcodeQuery {
		s.answer(m, req.Question[0])
	} else {
		m.Rcode = dns.RcodeFormatError
		s.count()
	}
	size := dns.MaxMsgSize
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size = dns.MinMsgSize
	}
	if opt := req.IsEdns0(); opt != nil {
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			size = int(opt.UDPSize())
		}
		m.SetEdns0(opt.UDPSize(), false)
	}
	// Too big for UDP: set TC so the client asks again over TCP.
	m.Truncate(size)
	_ = w.WriteMsg(m)
}

func (s *Server) count() {
	s.mu.Lock()
	s.queries++
	s.mu.Unlock()
}

func (s *Server) answer(m *dns.Msg, q dns.Question) {
	name := dns.CanonicalName(q.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	texts, ok := s.zone[name]
	mxs, hasMX := s.mx[name]
	target, hasCNAME := s.cname[name]
	if !ok && !hasMX && !hasCNAME && !s.hasBelow(name) {
		m.Rcode = dns.RcodeNameError
		return
	}
	if hasCNAME {
		// An alias has no other records: whatever type is asked, the
		// answer is the CNAME (the target is not in this zone, so it is
		// not chased), as an authoritative server answers.
		m.Answer = append(m.Answer, &dns.CNAME{
			Hdr:    dns.RR_Header{Name: q.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: ttl},
			Target: target,
		})
		return
	}
	if q.Qtype == dns.TypeMX || q.Qtype == dns.TypeANY {
		for _, mx := range mxs {
			rr := *mx
			rr.Hdr = dns.RR_Header{Name: q.Name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: ttl}
			m.Answer = append(m.Answer, &rr)
		}
	}
	if q.Qtype != dns.TypeTXT && q.Qtype != dns.TypeANY {
		return // the name exists but has no records of that type
	}
	for _, t := range texts {
		m.Answer = append(m.Answer, &dns.TXT{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
			Txt: segments(t),
		})
	}
}

// SetMX replaces the MX records of name with one to host at preference
// pref. The name's TXT records stay.
func (s *Server) SetMX(name, host string, pref uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := dns.CanonicalName(name)
	s.mx[n] = []*dns.MX{{Mx: dns.Fqdn(host), Preference: pref}}
	if _, ok := s.zone[n]; !ok {
		s.zone[n] = nil
	}
}

// SetCNAME makes name an alias of target (replacing its other records, as
// a CNAME allows none beside it).
func (s *Server) SetCNAME(name, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := dns.CanonicalName(name)
	delete(s.zone, n)
	delete(s.mx, n)
	s.cname[n] = dns.Fqdn(target)
}

// hasBelow reports whether name is an empty non-terminal: a name with no
// records of its own but with records under it (example.com when only
// _verify.example.com is set). Such names exist, so they are not NXDOMAIN.
func (s *Server) hasBelow(name string) bool {
	for n := range s.zone {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	for n := range s.cname {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

// segments splits text into 255-byte character-strings, escaped the way
// miekg/dns packs them (it reads backslash as an escape).
func segments(text string) []string {
	var out []string
	for {
		n := min(len(text), maxSegment)
		out = append(out, strings.ReplaceAll(text[:n], `\`, `\\`))
		text = text[n:]
		if text == "" {
			return out
		}
	}
}
