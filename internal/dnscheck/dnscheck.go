// Package dnscheck answers one question for domain verification: is a given
// TXT record visible in DNS yet? It uses the standard library's pure-Go
// resolver rather than a DNS library because a TXT lookup is all it needs,
// and the Go resolver already handles EDNS, truncation with TCP retry and
// segment joining; a custom Dial points it at a chosen server (the test
// server, or a specific public resolver) instead of /etc/resolv.conf's.
//
// "Not there yet" and "could not ask" are kept apart on purpose: the caller
// keeps polling on (false, nil) but must not conclude anything from an
// error such as a timeout or SERVFAIL.
package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// DefaultTimeout bounds a lookup when Checker.Timeout is zero. The Go
// resolver would otherwise wait up to 5 s per attempt and server.
const DefaultTimeout = 10 * time.Second

// Checker looks TXT records up. The zero value uses the system resolver.
type Checker struct {
	// Server is "host:port" of the DNS server to ask; "" means the servers
	// from the system configuration.
	Server string
	// Timeout bounds one HasTXT call; 0 means DefaultTimeout.
	Timeout time.Duration
}

// HasTXT reports whether any TXT record of name equals text exactly (the
// strings of one record joined, as published values longer than 255 bytes
// are split). A name that does not exist or has no TXT records gives
// (false, nil); any other failure is an error.
func (c *Checker) HasTXT(ctx context.Context, name, text string) (bool, error) {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	if name == "" {
		return false, errors.New("dnscheck: empty name")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// The trailing dot makes the name absolute so the resolv.conf search
	// list never turns "acme.pl" into "acme.pl.corp.local".
	txts, err := c.resolver().LookupTXT(ctx, name+".")
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return false, nil
		}
		return false, fmt.Errorf("dnscheck: TXT %s: %w", name, err)
	}
	for _, t := range txts {
		if t == text {
			return true, nil
		}
	}
	return false, nil
}

func (c *Checker) resolver() *net.Resolver {
	r := &net.Resolver{PreferGo: true}
	if c.Server != "" {
		server := c.Server
		// The resolver passes the network ("udp", or "tcp" after a
		// truncated answer) and a server from resolv.conf; only the
		// address is replaced.
		r.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}
	}
	return r
}

// HasMX reports whether name has an MX record pointing at host. The
// preference is not compared: Microsoft asks for 0, but a customer whose
// other MX records are gone delivers to the one left whatever its number.
// Host names compare without case or the trailing dot.
func (c *Checker) HasMX(ctx context.Context, name, host string) (bool, error) {
	ctx, cancel, name, err := c.prepare(ctx, name)
	if err != nil {
		return false, err
	}
	defer cancel()
	mxs, err := c.resolver().LookupMX(ctx, name+".")
	if found, err := notFound(err, "MX", name); err != nil || !found {
		return false, err
	}
	for _, mx := range mxs {
		if sameHost(mx.Host, host) {
			return true, nil
		}
	}
	return false, nil
}

// HasCNAME reports whether name is an alias of target (compared without
// case or the trailing dot).
func (c *Checker) HasCNAME(ctx context.Context, name, target string) (bool, error) {
	ctx, cancel, name, err := c.prepare(ctx, name)
	if err != nil {
		return false, err
	}
	defer cancel()
	// The Go resolver asks for A, AAAA and CNAME and reads the alias off
	// the answer, so a target whose addresses we cannot see still counts.
	cname, err := c.resolver().LookupCNAME(ctx, name+".")
	if found, err := notFound(err, "CNAME", name); err != nil || !found {
		return false, err
	}
	return sameHost(cname, target), nil
}

// HasTXTFold is HasTXT for values that are not tokens but policies, such
// as SPF: case and surrounding space do not matter to a mail server, so
// they do not here.
func (c *Checker) HasTXTFold(ctx context.Context, name, text string) (bool, error) {
	ctx, cancel, name, err := c.prepare(ctx, name)
	if err != nil {
		return false, err
	}
	defer cancel()
	txts, err := c.resolver().LookupTXT(ctx, name+".")
	if found, err := notFound(err, "TXT", name); err != nil || !found {
		return false, err
	}
	for _, t := range txts {
		if strings.EqualFold(strings.TrimSpace(t), strings.TrimSpace(text)) {
			return true, nil
		}
	}
	return false, nil
}

// prepare trims name and bounds the lookup by the checker's timeout.
func (c *Checker) prepare(ctx context.Context, name string) (context.Context, context.CancelFunc, string, error) {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	if name == "" {
		return nil, nil, "", errors.New("dnscheck: empty name")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, cancel, name, nil
}

// notFound turns a lookup error into (found, err): a name or record that
// does not exist is an answer, (false, nil); any other failure is an error.
func notFound(err error, typ, name string) (bool, error) {
	if err == nil {
		return true, nil
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false, nil
	}
	return false, fmt.Errorf("dnscheck: %s %s: %w", typ, name, err)
}

func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(a), "."), strings.TrimSuffix(strings.TrimSpace(b), "."))
}
