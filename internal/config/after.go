package config

import (
	"fmt"
	"net"
	"os"
	"time"
)

// After holds the settings of the workflows that run after an order is
// provisioned: renewals and the checks of customers' own domains.
type After struct {
	// DNSResolver is the host:port domain checks ask; "" is the system's.
	DNSResolver string
	// RenewalNotice is how long before a period ends its renewal is billed.
	RenewalNotice time.Duration
	// RenewalGrace is how long after the end a renewal is still taken
	// before the subscription is suspended.
	RenewalGrace time.Duration
	// SuspensionPeriod is how long a suspended subscription waits for
	// payment before it is terminated.
	SuspensionPeriod time.Duration
	// DomainCheckFirst and DomainCheckMax bound the interval of the DNS
	// checks, which backs off from the first to the max; DomainCheckFor is
	// how long they go on.
	DomainCheckFirst, DomainCheckMax, DomainCheckFor time.Duration
}

func loadAfter() (After, error) {
	a := After{DNSResolver: os.Getenv("DNS_RESOLVER")}
	if a.DNSResolver != "" {
		if _, _, err := net.SplitHostPort(a.DNSResolver); err != nil {
			return a, fmt.Errorf("DNS_RESOLVER: %q is not host:port", a.DNSResolver)
		}
	}
	for _, d := range []struct {
		name, def string
		to        *time.Duration
	}{
		{"RENEWAL_NOTICE", "168h", &a.RenewalNotice},
		{"RENEWAL_GRACE", "168h", &a.RenewalGrace},
		{"SUSPENSION_PERIOD", "720h", &a.SuspensionPeriod},
		{"DOMAIN_CHECK_INTERVAL", "15m", &a.DomainCheckFirst},
		{"DOMAIN_CHECK_MAX_INTERVAL", "1h", &a.DomainCheckMax},
		{"DOMAIN_CHECK_FOR", "336h", &a.DomainCheckFor},
	} {
		v, err := time.ParseDuration(env(d.name, d.def))
		if err != nil || v <= 0 {
			return a, fmt.Errorf("%s: %q is not a positive duration such as %s", d.name, os.Getenv(d.name), d.def)
		}
		*d.to = v
	}
	if a.DomainCheckMax < a.DomainCheckFirst {
		return a, fmt.Errorf("DOMAIN_CHECK_MAX_INTERVAL: %s is below DOMAIN_CHECK_INTERVAL %s", a.DomainCheckMax, a.DomainCheckFirst)
	}
	return a, nil
}
