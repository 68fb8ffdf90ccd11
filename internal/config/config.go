// Package config reads officeflow's settings from the environment. The
// variables and their defaults are the ones in the outside interface; a
// required one that is missing or malformed is an error naming it.
package config

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/codec"
	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/order"
)

// Config is everything the worker and the intake read at start.
type Config struct {
	Dev bool

	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string
	Temporal          Temporal

	// MetricsAddr serves /metrics, /healthz and /readyz; "" serves none.
	MetricsAddr string
	// OTLPEndpoint receives traces; "" exports none.
	OTLPEndpoint string

	DatabaseURL string
	HTTPAddr    string

	SMTP SMTP

	PartnerAPIURL   string
	PartnerAPIToken string

	WebhookSecret   []byte
	IntakeKeys      []string
	PaymentDeadline time.Duration
	// PaymentReminders are offsets of the dunning emails: positive from
	// placement, negative back from the deadline.
	PaymentReminders []time.Duration

	// CredentialsKey seals the tenant admin's temporary password at rest and
	// derives billing panel links; 32 bytes.
	CredentialsKey []byte
	// BillingPanelURL is the customer panel's public address (where
	// customers pay and download invoices), used in emails and redirects.
	BillingPanelURL string
	// PanelLinkTTL is how long a panel sign-in link works: the billing
	// access email's from when billing was opened, a mailed one from when
	// it was asked for.
	PanelLinkTTL time.Duration

	// PayloadKeys encrypt Temporal payloads; the first is current, the
	// others only decrypt (rotation).
	PayloadKeys []codec.Key
	// CodecToken, when set, is the bearer token the codec endpoint asks for.
	// Outside -dev it is required, unless CodecAddr is set (RequireIntake).
	CodecToken string
	// CodecAddr, when set, is where the intake serves the codec endpoint,
	// on the operators' network; HTTP_ADDR then does not serve it.
	CodecAddr string
	// CodecOrigins are the Web UI origins allowed to call the codec endpoint.
	CodecOrigins []string

	// Seller is printed on every billing document; an empty name prints
	// store.DefaultSeller, which is for -dev only.
	Seller document.Party

	// WorkflowCache is how many workflows the worker keeps in memory
	// between their tasks (the SDK's sticky cache, process-wide). One that
	// is not cached is rebuilt from its history at its next task.
	WorkflowCache int

	// After is the calendar of the workflows after the first order.
	After After

	// P24 is the Przelewy24 account of the panel's pay button.
	P24 P24
	// KSeF is how VAT invoices and corrections reach KSeF.
	KSeF KSeF
	// panelURLSet: BILLING_PANEL_URL was given, not derived from HTTP_ADDR.
	panelURLSet bool
}

// DefaultWorkflowCache holds the orders a busy worker has in flight, not
// every order waiting days for payment: each cached order costs tens of KB,
// and rebuilding one from its short history at its next task is cheap.
const DefaultWorkflowCache = 500

// SMTP is the outgoing mail server; Host "" means the dev sink (-dev only).
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string
	From     string
}

// Dev defaults: only ever used with -dev, so a production process never runs
// with a secret anybody can read here.
const (
	devWebhookSecret  = "dev-secret"
	devIntakeKey      = "dev-key"
	devCredentialsKey = "officeflow-dev-credentials-key"
	devPayloadKey     = "officeflow-dev-payload-key"
)

// Load reads the environment. Parts that a process does not use are still
// parsed, but only the ones in need are required: see RequireIntake and
// RequireWorker.
func Load(dev bool) (Config, error) {
	c := Config{
		Dev:               dev,
		TemporalAddress:   env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: env("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:         env("TEMPORAL_TASK_QUEUE", "orders"),
		DatabaseURL:       env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/officeflow?sslmode=disable"),
		HTTPAddr:          env("HTTP_ADDR", "127.0.0.1:8080"),
		PartnerAPIURL:     os.Getenv("PARTNER_API_URL"),
		PartnerAPIToken:   os.Getenv("PARTNER_API_TOKEN"),
		BillingPanelURL:   env("BILLING_PANEL_URL", "http://"+env("HTTP_ADDR", "127.0.0.1:8080")+"/panel"),
		MetricsAddr:       os.Getenv("METRICS_ADDR"),
		OTLPEndpoint:      os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		SMTP: SMTP{
			Host:     os.Getenv("SMTP_HOST"),
			Username: os.Getenv("SMTP_USERNAME"),
			Password: os.Getenv("SMTP_PASSWORD"),
			TLS:      env("SMTP_TLS", "none"),
			From:     env("MAIL_FROM", "officeflow <no-reply@officeflow.local>"),
		},
	}
	if _, _, err := net.SplitHostPort(c.TemporalAddress); err != nil {
		return c, fmt.Errorf("TEMPORAL_ADDRESS: %q is not host:port", c.TemporalAddress)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return c, fmt.Errorf("HTTP_ADDR: %q is not host:port", c.HTTPAddr)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return c, fmt.Errorf("METRICS_ADDR: %q is not host:port", c.MetricsAddr)
		}
	}
	var err error
	if c.Temporal, err = LoadTemporal(); err != nil {
		return c, err
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return c, fmt.Errorf("DATABASE_URL: not a postgres:// URL")
	}
	if c.PartnerAPIURL != "" {
		if u, err := url.Parse(c.PartnerAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("PARTNER_API_URL: %q is not an http(s) URL", c.PartnerAPIURL)
		}
	}
	if u, err := url.Parse(c.BillingPanelURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return c, fmt.Errorf("BILLING_PANEL_URL: %q is not an http(s) URL", c.BillingPanelURL)
	}
	switch c.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		return c, fmt.Errorf("SMTP_TLS: %q is not one of none, starttls, tls", c.SMTP.TLS)
	}
	c.SMTP.Port = 25
	if c.SMTP.TLS == "tls" {
		c.SMTP.Port = 465
	}
	if p := os.Getenv("SMTP_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("SMTP_PORT: %q is not a port number", p)
		}
		c.SMTP.Port = n
	}
	d, err := time.ParseDuration(env("PAYMENT_DEADLINE", "168h"))
	if err != nil || d <= 0 {
		return c, fmt.Errorf("PAYMENT_DEADLINE: %q is not a positive duration such as 168h", os.Getenv("PAYMENT_DEADLINE"))
	}
	c.PaymentDeadline = d
	if c.PanelLinkTTL, err = time.ParseDuration(env("PANEL_LINK_TTL", "720h")); err != nil || c.PanelLinkTTL <= 0 {
		return c, fmt.Errorf("PANEL_LINK_TTL: %q is not a positive duration such as 720h", os.Getenv("PANEL_LINK_TTL"))
	}
	if c.PaymentReminders, err = order.ParseReminders(env("PAYMENT_REMINDERS", order.DefaultReminders)); err != nil {
		return c, fmt.Errorf("PAYMENT_REMINDERS: %w", err)
	}
	c.Seller = document.Party{
		Name: os.Getenv("SELLER_NAME"), Address: os.Getenv("SELLER_ADDRESS"), PostalCode: os.Getenv("SELLER_POSTAL_CODE"),
		City: os.Getenv("SELLER_CITY"), Country: env("SELLER_COUNTRY", "PL"), NIP: os.Getenv("SELLER_NIP"),
		BankAccount: os.Getenv("SELLER_BANK_ACCOUNT"),
	}
	if c.Seller.Name != "" && !order.ValidNIP(c.Seller.NIP) {
		return c, fmt.Errorf("SELLER_NIP: %q is not a valid NIP", c.Seller.NIP)
	}
	c.WorkflowCache = DefaultWorkflowCache
	if s := os.Getenv("WORKFLOW_CACHE_SIZE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, fmt.Errorf("WORKFLOW_CACHE_SIZE: %q is not a positive number of workflows", s)
		}
		c.WorkflowCache = n
	}

	if s := os.Getenv("PAYMENT_WEBHOOK_SECRET"); s != "" {
		c.WebhookSecret = []byte(s)
	} else if dev {
		c.WebhookSecret = []byte(devWebhookSecret)
	}
	if s := os.Getenv("INTAKE_API_KEYS"); s != "" {
		for _, k := range strings.Split(s, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.IntakeKeys = append(c.IntakeKeys, k)
			}
		}
		if len(c.IntakeKeys) == 0 {
			return c, fmt.Errorf("INTAKE_API_KEYS: no key in %q", s)
		}
	} else if dev {
		c.IntakeKeys = []string{devIntakeKey}
	}
	if s := os.Getenv("CREDENTIALS_KEY"); s != "" {
		k, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(k) != 32 {
			return c, fmt.Errorf("CREDENTIALS_KEY: must be 32 bytes in base64 (openssl rand -base64 32)")
		}
		c.CredentialsKey = k
	} else if dev {
		k := sha256.Sum256([]byte(devCredentialsKey))
		c.CredentialsKey = k[:]
	}
	if s := os.Getenv("PAYLOAD_KEYS"); s != "" {
		keys, err := codec.ParseKeys(s)
		if err == nil {
			_, err = codec.New(keys...)
		}
		if err != nil {
			return c, fmt.Errorf("PAYLOAD_KEYS: %w (want id:base64-32-bytes, current first)", err)
		}
		c.PayloadKeys = keys
	} else if dev {
		c.PayloadKeys = DevPayloadKeys()
	}
	c.CodecToken = os.Getenv("CODEC_TOKEN")
	if c.CodecAddr = os.Getenv("CODEC_ADDR"); c.CodecAddr != "" {
		if _, _, err := net.SplitHostPort(c.CodecAddr); err != nil {
			return c, fmt.Errorf("CODEC_ADDR: %q is not host:port", c.CodecAddr)
		}
	}
	origins := os.Getenv("CODEC_CORS_ORIGINS")
	if origins == "" && dev {
		origins = "http://127.0.0.1:8233,http://localhost:8233"
	}
	for o := range strings.SplitSeq(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CodecOrigins = append(c.CodecOrigins, o)
		}
	}
	if c.P24, err = loadP24(dev); err != nil {
		return c, err
	}
	if c.KSeF, err = loadKSeF(dev); err != nil {
		return c, err
	}

	c.panelURLSet = os.Getenv("BILLING_PANEL_URL") != ""
	if c.After, err = loadAfter(); err != nil {
		return c, err
	}
	return c, nil
}

// DevPayloadKeys are the fixed keys of -dev (and of the recorded histories
// the replay tests read); never for real customers.
func DevPayloadKeys() []codec.Key {
	k := sha256.Sum256([]byte(devPayloadKey))
	return []codec.Key{{ID: "dev", Secret: k[:]}}
}

// PayloadKeysEnv formats the keys as PAYLOAD_KEYS reads them, for a child
// process.
func (c Config) PayloadKeysEnv() string {
	parts := make([]string, len(c.PayloadKeys))
	for i, k := range c.PayloadKeys {
		parts[i] = k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
	}
	return strings.Join(parts, ",")
}

// Codec is the payload codec of PAYLOAD_KEYS, nil when none are set.
func (c Config) Codec() (*codec.Codec, error) {
	if len(c.PayloadKeys) == 0 {
		return nil, nil
	}
	return codec.New(c.PayloadKeys...)
}

// RequireIntake checks what the HTTP intake cannot run without.
func (c Config) RequireIntake() error {
	if len(c.WebhookSecret) == 0 {
		return fmt.Errorf("PAYMENT_WEBHOOK_SECRET: required (the HMAC key of payment notifications)")
	}
	if len(c.IntakeKeys) == 0 {
		return fmt.Errorf("INTAKE_API_KEYS: required (comma-separated keys of the web shops)")
	}
	if len(c.CredentialsKey) == 0 {
		return fmt.Errorf("CREDENTIALS_KEY: required (32 bytes in base64, the worker's; the billing panel checks sign-in links and forms with it)")
	}
	if err := c.requirePayloadKeys(); err != nil {
		return err
	}
	if err := c.requirePublicURL(); err != nil {
		return err
	}
	return c.requireCodecToken()
}

// The codec endpoint decrypts any payload (customer names, emails) for
// whoever calls it, and encrypts any a caller makes up. On the public
// HTTP_ADDR it needs a bearer token; without one it may only listen where
// only operators reach it: CODEC_ADDR, or loopback in -dev (where the
// embedded Web UI, which cannot send a token, decodes through it).
func (c Config) requireCodecToken() error {
	if c.CodecToken != "" || c.CodecAddr != "" || (c.Dev && loopback(c.HTTPAddr)) {
		return nil
	}
	return fmt.Errorf("CODEC_TOKEN: required (bearer token of the codec endpoint on HTTP_ADDR %s, which decrypts payloads; or set CODEC_ADDR to serve it on the operators' network only)", c.HTTPAddr)
}

// loopback tells whether addr listens on this machine only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RequireWorker checks what the worker cannot run without. Outside -dev
// nothing falls back to a fake: the tenant API and the mail server are
// required, and KSeF's settings (Load) unless KSEF_MODE=off.
func (c Config) RequireWorker() error {
	if len(c.CredentialsKey) == 0 {
		return fmt.Errorf("CREDENTIALS_KEY: required (32 bytes in base64; seals tenant admin passwords)")
	}
	if err := c.requirePayloadKeys(); err != nil {
		return err
	}
	if c.Dev {
		return nil // -dev runs a fake of each that is not set
	}
	if c.PartnerAPIURL == "" {
		return fmt.Errorf("PARTNER_API_URL: required outside -dev (the Partner Center API that makes the customers' tenants)")
	}
	if c.SMTP.Host == "" {
		return fmt.Errorf("SMTP_HOST: required outside -dev (the mail server that sends customers their documents and credentials)")
	}
	if err := c.requireKSeF(); err != nil {
		return err
	}
	return c.requirePublicURL()
}

// requirePublicURL: with Przelewy24, outside -dev, BILLING_PANEL_URL must be
// given. The gateway calls back (payment and refund notifications) and
// sends payers back to the public address, which HTTP_ADDR (what the
// process listens on, such as 0.0.0.0:8080) is not.
func (c Config) requirePublicURL() error {
	if c.Dev || !c.P24.Enabled() || c.panelURLSet {
		return nil
	}
	return fmt.Errorf("BILLING_PANEL_URL: required with P24_URL outside -dev (the panel's public https address; Przelewy24 sends its notifications to the same host)")
}

// Without PAYLOAD_KEYS customer data would reach Temporal's history in
// plain text; the processes refuse to start rather than do that.
func (c Config) requirePayloadKeys() error {
	if len(c.PayloadKeys) == 0 {
		return fmt.Errorf("PAYLOAD_KEYS: required (id:base64 of 32 bytes, e.g. 2026-11:$(openssl rand -base64 32); encrypts Temporal payloads)")
	}
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
