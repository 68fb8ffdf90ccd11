// Package faultnet is a small TCP proxy for fault tests: it forwards every
// connection to one upstream address and can cut the live connections and
// refuse new ones for a while, as a database failover or a broken network
// would. It is test tooling; nothing in the product uses it.
package faultnet

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards TCP connections from its listener to Upstream.
type Proxy struct {
	upstream string
	ln       net.Listener
	done     chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	live    map[*pair]struct{}
	refuse  bool      // refuse until Accept
	until   time.Time // refuse until then (zero: no deadline)
	closed  bool
	refused atomic.Int64
	cut     atomic.Int64
	served  atomic.Int64
}

// pair is one proxied connection: client side and upstream side.
type pair struct {
	client, server net.Conn
	once           sync.Once
}

// close ends both sides; abort resets the client's side (RST, no FIN), as
// a connection lost on the way, rather than closing it politely.
func (p *pair) close(abort bool) {
	p.once.Do(func() {
		if tc, ok := p.client.(*net.TCPConn); ok && abort {
			_ = tc.SetLinger(0)
		}
		_ = p.client.Close()
		if p.server != nil {
			_ = p.server.Close()
		}
	})
}

// Listen starts a proxy on addr (e.g. "127.0.0.1:0") to upstream (e.g.
// "127.0.0.1:5432").
func Listen(addr, upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: upstream, ln: ln, done: make(chan struct{}), live: map[*pair]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the host:port the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port is the TCP port the proxy listens on.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Cut aborts every live connection and returns how many it cut. New
// connections are still accepted unless Refuse or RefuseFor says otherwise.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	pairs := make([]*pair, 0, len(p.live))
	for c := range p.live {
		pairs = append(pairs, c)
	}
	clear(p.live)
	p.mu.Unlock()
	for _, c := range pairs {
		c.close(true)
	}
	p.cut.Add(int64(len(pairs)))
	return len(pairs)
}

// Refuse makes the proxy refuse new connections until Accept: it takes
// each one and resets it at once, before a byte is forwarded. The port
// stays bound, so nothing else can take it meanwhile.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse, p.until = true, time.Time{}
}

// RefuseFor refuses new connections for d from now, then accepts again by
// itself.
func (p *Proxy) RefuseFor(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse, p.until = true, time.Now().Add(d)
}

// Accept ends a refusal.
func (p *Proxy) Accept() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse, p.until = false, time.Time{}
}

// Outage cuts every live connection and refuses new ones for d: the
// upstream looks gone for d, then comes back. It returns how many
// connections it cut.
func (p *Proxy) Outage(d time.Duration) int {
	p.RefuseFor(d) // first, so that no connection slips in between
	return p.Cut()
}

// Refusing tells whether new connections are refused now.
func (p *Proxy) Refusing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusingLocked(time.Now())
}

func (p *Proxy) refusingLocked(now time.Time) bool {
	if p.refuse && !p.until.IsZero() && !now.Before(p.until) {
		p.refuse, p.until = false, time.Time{}
	}
	return p.refuse
}

// Stats counts what the proxy did.
type Stats struct {
	Served  int64 // connections forwarded to the upstream
	Refused int64 // connections reset on arrival while refusing, or whose upstream dial failed
	Cut     int64 // live connections aborted by Cut or Outage
	Live    int   // connections open now
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	live := len(p.live)
	p.mu.Unlock()
	return Stats{Served: p.served.Load(), Refused: p.refused.Load(), Cut: p.cut.Load(), Live: live}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			select {
			case <-p.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: do not spin
			continue
		}
		p.mu.Lock()
		refusing := p.refusingLocked(time.Now()) || p.closed
		p.mu.Unlock()
		if refusing {
			p.refused.Add(1)
			(&pair{client: c}).close(true)
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.upstream, 10*time.Second)
	if err != nil {
		p.refused.Add(1)
		(&pair{client: c}).close(true)
		return
	}
	pr := &pair{client: c, server: up}
	p.mu.Lock()
	// A Cut or Close that ran while dialling must not miss this one.
	if p.closed || p.refusingLocked(time.Now()) {
		p.mu.Unlock()
		p.refused.Add(1)
		pr.close(true)
		return
	}
	p.live[pr] = struct{}{}
	p.mu.Unlock()
	p.served.Add(1)

	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		// One direction ended: end the other too, as a plain TCP path would
		// once both peers close; a half-open pair would leak.
		pr.close(false)
	}
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
	p.mu.Lock()
	delete(p.live, pr)
	p.mu.Unlock()
}
