package config

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"
)

// P24 is the Przelewy24 merchant account the panel's pay button uses. URL
// "" (outside -dev) means no gateway: the panel offers no pay button and
// payments arrive only as the shop's signed notification.
type P24 struct {
	URL        string
	MerchantID int
	PosID      int
	APIKey     string
	CRC        string
	// CheckAfter is how long after a transaction is registered the workflow
	// first asks the gateway for it, in case its notification was lost; it
	// then asks again at growing intervals for CheckFor.
	CheckAfter, CheckFor time.Duration
	// RefundSweep is how often the worker looks for refunds owed through
	// the gateway that were not sent yet.
	RefundSweep time.Duration
}

// Enabled tells whether a gateway is configured.
func (p P24) Enabled() bool { return p.URL != "" }

// DevP24 are the -dev fake's credentials: only ever used with the fake.
var DevP24 = P24{MerchantID: 100000, PosID: 100000, APIKey: "dev-p24-api-key", CRC: "dev-p24-crc"}

func loadP24(dev bool) (P24, error) {
	p := P24{URL: os.Getenv("P24_URL"), APIKey: os.Getenv("P24_API_KEY"), CRC: os.Getenv("P24_CRC")}
	for _, d := range []struct {
		name, def string
		to        *time.Duration
	}{
		{"P24_CHECK_AFTER", "5m", &p.CheckAfter},
		{"P24_CHECK_FOR", "72h", &p.CheckFor},
		{"P24_REFUND_SWEEP", "1m", &p.RefundSweep},
	} {
		v, err := time.ParseDuration(env(d.name, d.def))
		if err != nil || v <= 0 {
			return p, fmt.Errorf("%s: %q is not a positive duration such as %s", d.name, os.Getenv(d.name), d.def)
		}
		*d.to = v
	}
	if p.URL == "" {
		// -dev runs the fake (stack); elsewhere a half-set account is a
		// mistake worth stopping for.
		for _, name := range []string{"P24_MERCHANT_ID", "P24_POS_ID", "P24_API_KEY", "P24_CRC"} {
			if os.Getenv(name) != "" && !dev {
				return p, fmt.Errorf("P24_URL: required when %s is set (https://sandbox.przelewy24.pl or https://secure.przelewy24.pl)", name)
			}
		}
		return p, nil
	}
	if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p, fmt.Errorf("P24_URL: %q is not an http(s) URL", p.URL)
	}
	var err error
	if p.MerchantID, err = strconv.Atoi(os.Getenv("P24_MERCHANT_ID")); err != nil || p.MerchantID <= 0 {
		return p, fmt.Errorf("P24_MERCHANT_ID: required with P24_URL (the merchant's number in Przelewy24's panel)")
	}
	p.PosID = p.MerchantID
	if s := os.Getenv("P24_POS_ID"); s != "" {
		if p.PosID, err = strconv.Atoi(s); err != nil || p.PosID <= 0 {
			return p, fmt.Errorf("P24_POS_ID: %q is not a number", s)
		}
	}
	if p.APIKey == "" {
		return p, fmt.Errorf("P24_API_KEY: required with P24_URL (the reports key, \"secretId\", from Przelewy24's panel)")
	}
	if p.CRC == "" {
		return p, fmt.Errorf("P24_CRC: required with P24_URL (the CRC key from Przelewy24's panel)")
	}
	return p, nil
}
