package config_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/stretchr/testify/require"
)

// vars are all the variables Load reads; each test starts from none set, so
// the developer's own environment cannot make a test pass or fail.
var vars = []string{
	"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "DATABASE_URL", "HTTP_ADDR",
	"SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_TLS", "MAIL_FROM",
	"PARTNER_API_URL", "PARTNER_API_TOKEN", "BILLING_PANEL_URL", "PANEL_LINK_TTL",
	"PAYMENT_WEBHOOK_SECRET", "INTAKE_API_KEYS", "PAYMENT_DEADLINE", "CREDENTIALS_KEY",
	"PAYMENT_REMINDERS", "PAYLOAD_KEYS", "CODEC_TOKEN", "CODEC_CORS_ORIGINS", "CODEC_ADDR",
	"P24_URL", "P24_MERCHANT_ID", "P24_POS_ID", "P24_API_KEY", "P24_CRC", "P24_CHECK_AFTER", "P24_CHECK_FOR", "P24_REFUND_SWEEP",
	"KSEF_MODE", "KSEF_URL", "KSEF_TOKEN", "KSEF_OFFLINE_CERT", "KSEF_OFFLINE_KEY", "KSEF_OFFLINE_AFTER", "KSEF_ALERT_BEFORE",
	"SELLER_NAME", "SELLER_NIP",
}

func clearEnv(t *testing.T) {
	for _, v := range vars {
		t.Setenv(v, "")
	}
}

func key32(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

// The defaults are the ones the outside interface documents.
func TestDefaults(t *testing.T) {
	clearEnv(t)
	c, err := config.Load(false)
	require.NoError(t, err)
	require.False(t, c.Dev)
	require.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
	require.Equal(t, "default", c.TemporalNamespace)
	require.Equal(t, "orders", c.TaskQueue)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/officeflow?sslmode=disable", c.DatabaseURL)
	require.Equal(t, "127.0.0.1:8080", c.HTTPAddr)
	require.Equal(t, 168*time.Hour, c.PaymentDeadline)
	require.Equal(t, "http://127.0.0.1:8080/panel", c.BillingPanelURL, "the panel the intake serves")
	require.Equal(t, 720*time.Hour, c.PanelLinkTTL)
	require.Empty(t, c.SMTP.Host, "no default mail server: -dev runs the sink, elsewhere it is required")
	require.Equal(t, "none", c.SMTP.TLS)
	require.Equal(t, 25, c.SMTP.Port)
	require.Empty(t, c.PartnerAPIURL, "no default tenant API: -dev runs the fake, elsewhere it is required")
	// Secrets never default outside -dev.
	require.Empty(t, c.WebhookSecret)
	require.Empty(t, c.IntakeKeys)
	require.Empty(t, c.CredentialsKey)
}

func TestDevDefaults(t *testing.T) {
	clearEnv(t)
	c, err := config.Load(true)
	require.NoError(t, err)
	require.True(t, c.Dev)
	require.Equal(t, []byte("dev-secret"), c.WebhookSecret)
	require.Equal(t, []string{"dev-key"}, c.IntakeKeys)
	require.Len(t, c.CredentialsKey, 32)
	require.NoError(t, c.RequireIntake())
	require.NoError(t, c.RequireWorker())

	// The key must be stable, or sealed passwords and billing links from
	// the previous dev run stop working.
	again, err := config.Load(true)
	require.NoError(t, err)
	require.Equal(t, c.CredentialsKey, again.CredentialsKey)
}

func TestDevDefaultsGiveWayToEnvironment(t *testing.T) {
	clearEnv(t)
	k := key32(t)
	t.Setenv("PAYMENT_WEBHOOK_SECRET", "s3cret")
	t.Setenv("INTAKE_API_KEYS", " shop-a , shop-b ,")
	t.Setenv("CREDENTIALS_KEY", k)
	c, err := config.Load(true)
	require.NoError(t, err)
	require.Equal(t, []byte("s3cret"), c.WebhookSecret)
	require.Equal(t, []string{"shop-a", "shop-b"}, c.IntakeKeys)
	want, _ := base64.StdEncoding.DecodeString(k)
	require.Equal(t, want, c.CredentialsKey)
}

func TestRequireNamesMissingVariable(t *testing.T) {
	clearEnv(t)
	c, err := config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireIntake(), "PAYMENT_WEBHOOK_SECRET")
	requirePrefix(t, c.RequireWorker(), "CREDENTIALS_KEY")

	t.Setenv("PAYMENT_WEBHOOK_SECRET", "s3cret")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireIntake(), "INTAKE_API_KEYS")

	t.Setenv("INTAKE_API_KEYS", "shop-a")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireIntake(), "CREDENTIALS_KEY")

	t.Setenv("CREDENTIALS_KEY", key32(t))
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireIntake(), "PAYLOAD_KEYS")
	requirePrefix(t, c.RequireWorker(), "PAYLOAD_KEYS")

	t.Setenv("PAYLOAD_KEYS", "k1:"+key32(t))
	t.Setenv("PARTNER_API_URL", "https://partner.example")
	t.Setenv("SMTP_HOST", "smtp.example")
	t.Setenv("KSEF_MODE", "off")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireIntake(), "CODEC_TOKEN")
	require.NoError(t, c.RequireWorker(), "the worker serves no codec endpoint")

	t.Setenv("CODEC_TOKEN", "t0ken")
	c, err = config.Load(false)
	require.NoError(t, err)
	require.NoError(t, c.RequireIntake())
	require.NoError(t, c.RequireWorker())
}

// TestWorkerNeedsTenantAPIAndMailOutsideDev: outside -dev nothing falls
// back to a fake; a worker without its tenant API or mail server does not
// start, naming what is missing. The intake uses neither. In -dev both may
// be missing (the fake and the sink stand in).
func TestWorkerNeedsTenantAPIAndMailOutsideDev(t *testing.T) {
	clearEnv(t)
	t.Setenv("CREDENTIALS_KEY", key32(t))
	t.Setenv("PAYLOAD_KEYS", "k1:"+key32(t))
	t.Setenv("PAYMENT_WEBHOOK_SECRET", "s3cret")
	t.Setenv("INTAKE_API_KEYS", "shop-a")
	t.Setenv("CODEC_TOKEN", "t0ken")
	c, err := config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireWorker(), "PARTNER_API_URL")
	require.NotContains(t, c.RequireWorker().Error(), "\n", "one line")
	require.NoError(t, c.RequireIntake(), "the intake calls neither")

	t.Setenv("SMTP_HOST", "smtp.example")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireWorker(), "PARTNER_API_URL")

	t.Setenv("SMTP_HOST", "")
	t.Setenv("PARTNER_API_URL", "https://partner.example")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireWorker(), "SMTP_HOST")

	t.Setenv("SMTP_HOST", "smtp.example")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireWorker(), "KSEF_URL")
	t.Setenv("KSEF_URL", "https://api-test.ksef.mf.gov.pl/v2")
	_, err = config.Load(false)
	requirePrefix(t, err, "KSEF_TOKEN")
	t.Setenv("KSEF_TOKEN", "tok")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireWorker(), "SELLER_NAME")
	t.Setenv("SELLER_NAME", "Officeflow sp. z o.o.")
	t.Setenv("SELLER_NIP", "5260250995")
	c, err = config.Load(false)
	require.NoError(t, err)
	require.NoError(t, c.RequireWorker())
	t.Setenv("KSEF_URL", "")
	t.Setenv("KSEF_MODE", "off")
	c, err = config.Load(false)
	require.NoError(t, err)
	require.NoError(t, c.RequireWorker(), "a seller not yet obliged runs without KSeF")
	t.Setenv("KSEF_MODE", "sometimes")
	_, err = config.Load(false)
	requirePrefix(t, err, "KSEF_MODE")
	t.Setenv("KSEF_MODE", "")

	t.Setenv("SMTP_HOST", "")
	t.Setenv("PARTNER_API_URL", "")
	c, err = config.Load(true)
	require.NoError(t, err)
	require.NoError(t, c.RequireWorker(), "-dev runs the tenant API fake and the mail sink")
}

// TestCodecTokenRequiredOutsideDev: the codec endpoint decrypts any payload
// for its caller, so the intake does not start with it open on HTTP_ADDR:
// it needs CODEC_TOKEN, or CODEC_ADDR (the operators' network). In -dev it
// may be open on loopback only, where the embedded Web UI uses it.
func TestCodecTokenRequiredOutsideDev(t *testing.T) {
	base := func(t *testing.T) {
		clearEnv(t)
		t.Setenv("PAYMENT_WEBHOOK_SECRET", "s3cret")
		t.Setenv("INTAKE_API_KEYS", "shop-a")
		t.Setenv("CREDENTIALS_KEY", key32(t))
		t.Setenv("PAYLOAD_KEYS", "k1:"+key32(t))
	}
	for _, c := range []struct {
		name       string
		dev        bool
		env        map[string]string
		wantPrefix string // "" when the intake may start
	}{
		{"production, nothing set", false, nil, "CODEC_TOKEN"},
		{"production, loopback is no excuse", false, map[string]string{"HTTP_ADDR": "127.0.0.1:8080"}, "CODEC_TOKEN"},
		{"production, public", false, map[string]string{"HTTP_ADDR": "0.0.0.0:8080"}, "CODEC_TOKEN"},
		{"production, token", false, map[string]string{"HTTP_ADDR": "0.0.0.0:8080", "CODEC_TOKEN": "t0ken"}, ""},
		{"production, operators' address", false, map[string]string{"HTTP_ADDR": "0.0.0.0:8080", "CODEC_ADDR": "10.0.0.5:8081"}, ""},
		{"production, malformed CODEC_ADDR", false, map[string]string{"CODEC_ADDR": "8081"}, "CODEC_ADDR"},
		{"dev, loopback", true, nil, ""},
		{"dev, localhost", true, map[string]string{"HTTP_ADDR": "localhost:8080"}, ""},
		{"dev, IPv6 loopback", true, map[string]string{"HTTP_ADDR": "[::1]:8080"}, ""},
		{"dev, every interface", true, map[string]string{"HTTP_ADDR": ":8080"}, "CODEC_TOKEN"},
		{"dev, public", true, map[string]string{"HTTP_ADDR": "0.0.0.0:8080"}, "CODEC_TOKEN"},
		{"dev, public with token", true, map[string]string{"HTTP_ADDR": "0.0.0.0:8080", "CODEC_TOKEN": "t0ken"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			base(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := config.Load(c.dev)
			if err == nil {
				err = cfg.RequireIntake()
			}
			if c.wantPrefix == "" {
				require.NoError(t, err)
				return
			}
			requirePrefix(t, err, c.wantPrefix)
			require.NotContains(t, err.Error(), "\n", "one line")
			require.NotContains(t, err.Error(), "t0ken")
		})
	}
}

func TestSMTPPort(t *testing.T) {
	for _, c := range []struct {
		tls, port string
		want      int
	}{
		{"", "", 25},
		{"starttls", "", 25},
		{"tls", "", 465},
		{"starttls", "587", 587},
		{"tls", "65535", 65535},
	} {
		clearEnv(t)
		t.Setenv("SMTP_TLS", c.tls)
		t.Setenv("SMTP_PORT", c.port)
		cfg, err := config.Load(false)
		require.NoError(t, err, c)
		require.Equal(t, c.want, cfg.SMTP.Port, c)
	}
}

func TestMalformedValueNamesVariable(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for _, c := range []struct{ name, value string }{
		{"PAYMENT_DEADLINE", "soon"},
		{"PAYMENT_DEADLINE", "-1h"},
		{"PAYMENT_DEADLINE", "0s"},
		{"SMTP_PORT", "0"},
		{"SMTP_PORT", "65536"},
		{"SMTP_PORT", "smtp"},
		{"SMTP_TLS", "ssl"},
		{"CREDENTIALS_KEY", short},
		{"CREDENTIALS_KEY", "not base64!"},
		{"TEMPORAL_ADDRESS", "localhost"},
		{"HTTP_ADDR", "8080"},
		{"DATABASE_URL", "mysql://root@localhost/officeflow"},
		{"PARTNER_API_URL", "ftp://partner.example"},
		{"PARTNER_API_URL", "https://"},
		{"BILLING_PANEL_URL", "billing.example"},
		{"PANEL_LINK_TTL", "a month"},
		{"PANEL_LINK_TTL", "0s"},
		{"INTAKE_API_KEYS", ",,"},
		{"INTAKE_API_KEYS", " , "},
		{"PAYMENT_REMINDERS", "tomorrow"},
		{"PAYLOAD_KEYS", "k1"},
		{"PAYLOAD_KEYS", "k1:" + short},
		{"PAYLOAD_KEYS", "bad id!:" + base64.StdEncoding.EncodeToString(make([]byte, 32))},
	} {
		for _, dev := range []bool{false, true} {
			t.Run(c.name+"="+c.value, func(t *testing.T) {
				clearEnv(t)
				t.Setenv(c.name, c.value)
				_, err := config.Load(dev)
				requirePrefix(t, err, c.name)
			})
		}
	}
}

// The operator sees only this line at start, so it must lead with the
// variable to fix.
func requirePrefix(t *testing.T, err error, name string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), name+":"), "%q should start with %s:", err.Error(), name)
}

func TestPayloadKeysAndCodecOrigins(t *testing.T) {
	clearEnv(t)
	c, err := config.Load(true)
	require.NoError(t, err)
	require.Len(t, c.PayloadKeys, 1, "-dev encrypts with a fixed dev key")
	require.Contains(t, c.CodecOrigins, "http://127.0.0.1:8233")

	k1, k2 := key32(t), key32(t)
	t.Setenv("PAYLOAD_KEYS", "2026-11:"+k2+",2026-05:"+k1)
	t.Setenv("CODEC_CORS_ORIGINS", "https://temporal.example.com")
	c, err = config.Load(false)
	require.NoError(t, err)
	require.Equal(t, "2026-11", c.PayloadKeys[0].ID, "the first key is current")
	require.Equal(t, []string{"https://temporal.example.com"}, c.CodecOrigins)
	cd, err := c.Codec()
	require.NoError(t, err)
	require.NotNil(t, cd)
}

// TestP24Settings: Przelewy24 is optional; a half-set account stops the
// process naming what is missing, keys never print, and with it the public
// BILLING_PANEL_URL is required outside -dev (the gateway calls back there).
func TestP24Settings(t *testing.T) {
	clearEnv(t)
	c, err := config.Load(false)
	require.NoError(t, err)
	require.False(t, c.P24.Enabled(), "no pay button without P24_URL")

	t.Setenv("P24_CRC", "crc")
	_, err = config.Load(false)
	requirePrefix(t, err, "P24_URL")

	t.Setenv("P24_URL", "https://sandbox.przelewy24.pl")
	_, err = config.Load(false)
	requirePrefix(t, err, "P24_MERCHANT_ID")
	t.Setenv("P24_MERCHANT_ID", "12345")
	_, err = config.Load(false)
	requirePrefix(t, err, "P24_API_KEY")
	t.Setenv("P24_API_KEY", "reports-key")
	c, err = config.Load(false)
	require.NoError(t, err)
	require.Equal(t, 12345, c.P24.PosID, "the point of sale defaults to the merchant")
	printed := fmt.Sprintf("%+v %#v", c, c)
	require.NotContains(t, printed, "reports-key")
	require.Contains(t, printed, "P24URL:https://sandbox.przelewy24.pl")

	t.Setenv("CREDENTIALS_KEY", key32(t))
	t.Setenv("PAYLOAD_KEYS", "k1:"+key32(t))
	t.Setenv("PARTNER_API_URL", "https://partner.example")
	t.Setenv("SMTP_HOST", "smtp.example")
	t.Setenv("KSEF_MODE", "off")
	c, err = config.Load(false)
	require.NoError(t, err)
	requirePrefix(t, c.RequireWorker(), "BILLING_PANEL_URL")
	t.Setenv("BILLING_PANEL_URL", "https://billing.example/panel")
	c, err = config.Load(false)
	require.NoError(t, err)
	require.NoError(t, c.RequireWorker())

	t.Setenv("P24_CHECK_AFTER", "soon")
	_, err = config.Load(false)
	requirePrefix(t, err, "P24_CHECK_AFTER")
}
