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
