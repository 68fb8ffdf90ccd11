package config

import (
	"fmt"
	"net/url"
	"os"
	"time"
)

// KSeF is how the seller issues its VAT invoices and corrections through
// KSeF, Poland's national e-invoicing system.
type KSeF struct {
	// Mode is "online" (every VAT invoice and correction goes to KSeF) or
	// "off" (a seller not yet obliged: documents have no KSeF state).
	Mode string
	// URL is KSeF API 2.0's base (the Ministry's test, demo or production
	// address; -dev: a local fake when not set), Token the seller's KSeF
	// token.
	URL, Token string
	// OfflineCert and OfflineKey are PEM files of the seller's KSeF
	// certificate of type Offline and its key, which sign KOD II of a
	// document issued offline. Optional: without them such a document
	// carries KOD I alone (-dev makes a self-signed one).
	OfflineCert, OfflineKey string
	// OnlineFor is how long KSeF may stay unreachable before a document is
	// issued offline; AlertBefore how long before an offline document's
	// legal deadline an operator is alerted that it is not in KSeF yet.
	OnlineFor, AlertBefore time.Duration
}

// Enabled tells whether documents go to KSeF.
func (k KSeF) Enabled() bool { return k.Mode != "off" }

// DevKSeFToken is the -dev fake's KSeF token: only ever used with the fake.
const DevKSeFToken = "dev-ksef-token"

func loadKSeF(dev bool) (KSeF, error) {
	k := KSeF{Mode: env("KSEF_MODE", "online"), URL: os.Getenv("KSEF_URL"), Token: os.Getenv("KSEF_TOKEN"),
		OfflineCert: os.Getenv("KSEF_OFFLINE_CERT"), OfflineKey: os.Getenv("KSEF_OFFLINE_KEY")}
	if k.Mode != "online" && k.Mode != "off" {
		return k, fmt.Errorf("KSEF_MODE: %q is neither online nor off", k.Mode)
	}
	for _, d := range []struct {
		name, def string
		to        *time.Duration
	}{
		{"KSEF_OFFLINE_AFTER", "15m", &k.OnlineFor},
		{"KSEF_ALERT_BEFORE", "12h", &k.AlertBefore},
	} {
		v, err := time.ParseDuration(env(d.name, d.def))
		if err != nil || v <= 0 {
			return k, fmt.Errorf("%s: %q is not a positive duration such as %s", d.name, os.Getenv(d.name), d.def)
		}
		*d.to = v
	}
	if !k.Enabled() {
		return k, nil
	}
	if (k.OfflineCert == "") != (k.OfflineKey == "") {
		return k, fmt.Errorf("KSEF_OFFLINE_KEY: KSEF_OFFLINE_CERT and KSEF_OFFLINE_KEY are given together (the Offline certificate's PEM and its key's)")
	}
	if k.URL == "" {
		return k, nil // -dev runs the fake (stack); elsewhere RequireWorker stops
	}
	if u, err := url.Parse(k.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return k, fmt.Errorf("KSEF_URL: %q is not an http(s) URL", k.URL)
	}
	if k.Token == "" {
		return k, fmt.Errorf("KSEF_TOKEN: required with KSEF_URL (the seller's KSeF token, made in KSeF's application or API)")
	}
	return k, nil
}

// requireKSeF: outside -dev, unless KSEF_MODE=off, the worker sends to a
// real KSeF, for a real seller.
func (c Config) requireKSeF() error {
	if c.Dev || !c.KSeF.Enabled() {
		return nil
	}
	if c.KSeF.URL == "" {
		return fmt.Errorf("KSEF_URL: required outside -dev unless KSEF_MODE=off (https://api-test.ksef.mf.gov.pl/v2, https://api-demo.ksef.mf.gov.pl/v2 or https://api.ksef.mf.gov.pl/v2)")
	}
	if c.Seller.Name == "" {
		// KSeF takes the invoices of the seller its token authenticates; the
		// placeholder seller's would be refused.
		return fmt.Errorf("SELLER_NAME: required unless KSEF_MODE=off (with SELLER_NIP and the address: the seller KSeF issues the invoices of)")
	}
	return nil
}
