//go:build !production

package stack

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/devserver"
	"github.com/officeflow/officeflow/internal/dnscheck"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.uber.org/zap"
)

// HasDev tells whether this build holds the dev parts (-dev, the bench):
// every build but -tags production.
const HasDev = true

// devParts are the parts -dev and the tests run in the process; nil when
// not run.
type devParts struct {
	Temporal *devserver.Server
	Fake     *tenant.Fake
	FakeURL  string
	Sink     *mail.Sink
	mailDir  string
	// P24Fake is Przelewy24's fake (-dev without P24_URL), at P24FakeURL.
	P24Fake    *p24.Fake
	P24FakeURL string
	// KSeFFake is KSeF's fake (-dev without KSEF_URL), at KSeFFakeURL.
	KSeFFake    *ksef.Fake
	KSeFFakeURL string
}

// startTemporal runs the embedded Temporal server (and its Web UI) and
// returns the address it listens on.
func (st *Stack) startTemporal(o Options, cfg config.Config, codecURL string) (string, error) {
	log := o.TemporalLogger
	if log == nil {
		log = o.Logger.Named("temporal")
	}
	var err error
	st.Temporal, err = devserver.Start(devserver.Options{
		Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, DBFile: o.TemporalDB, PostgresURL: o.TemporalPostgres,
		UIAddress: o.UIAddress, Logger: log, CodecEndpoint: codecURL,
	})
	if err != nil {
		return "", err
	}
	st.closers = append(st.closers, st.Temporal.Stop)
	return st.Temporal.Address(), nil
}

// startTenantFake serves the tenant API fake on loopback (-dev without
// PARTNER_API_URL) and returns its URL.
func (st *Stack) startTenantFake(cfg config.Config, dns *dnscheck.Checker) (string, error) {
	st.Fake = tenant.NewFake(cfg.PartnerAPIToken)
	// The fake verifies a domain as Microsoft does: by looking the record
	// up, here through the worker's resolver.
	st.Fake.VerifyTXT = func(domain, text string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ok, _ := dns.HasTXT(ctx, domain, text)
		return ok
	}
	url, err := st.serve("127.0.0.1:0", st.Fake)
	if err != nil {
		return "", fmt.Errorf("tenant API fake: %w", err)
	}
	st.FakeURL = url
	return url, nil
}

// startP24Fake serves Przelewy24's fake on loopback (-dev without P24_URL)
// and returns the account that pays through it.
func (st *Stack) startP24Fake(cfg config.P24) (config.P24, error) {
	d := config.DevP24
	st.P24Fake = p24.NewFake(d.MerchantID, d.PosID, d.APIKey, d.CRC)
	st.closers = append(st.closers, st.P24Fake.Close)
	url, err := st.serve("127.0.0.1:0", st.P24Fake.Handler())
	if err != nil {
		return cfg, fmt.Errorf("Przelewy24 fake: %w", err)
	}
	st.P24FakeURL = url
	cfg.URL, cfg.MerchantID, cfg.PosID, cfg.APIKey, cfg.CRC = url, d.MerchantID, d.PosID, d.APIKey, d.CRC
	return cfg, nil
}

// startKSeFFake serves KSeF's fake on loopback (-dev without KSEF_URL) for
// the seller nip and returns the settings that reach it.
func (st *Stack) startKSeFFake(k config.KSeF, nip string) (config.KSeF, error) {
	st.KSeFFake = ksef.NewFake(nip, config.DevKSeFToken)
	url, err := st.serve("127.0.0.1:0", st.KSeFFake.Handler())
	if err != nil {
		return k, fmt.Errorf("KSeF fake: %w", err)
	}
	st.KSeFFakeURL = url
	k.URL, k.Token = url, config.DevKSeFToken
	return k, nil
}

// startSink runs the mail sink on loopback (-dev without SMTP_HOST), keeping
// what it receives under DataDir/mail, and returns smtp pointed at it.
func (st *Stack) startSink(o Options, smtp config.SMTP) (config.SMTP, error) {
	if o.DataDir != "" {
		st.mailDir = filepath.Join(o.DataDir, "mail")
	}
	var err error
	if st.Sink, err = mail.StartSink("127.0.0.1:0", st.mailDir, o.Logger.Named("mailsink")); err != nil {
		return smtp, fmt.Errorf("mail sink: %w", err)
	}
	st.closers = append(st.closers, func() { _ = st.Sink.Close() })
	smtp.Host, smtp.Port, smtp.TLS = st.Sink.Host(), st.Sink.Port(), "none"
	return smtp, nil
}

// DevEndpoints are where the dev parts listen, for the line that says
// where everything is.
func (d *devParts) DevEndpoints() []zap.Field {
	var fields []zap.Field
	if d.Temporal != nil && d.Temporal.UIURL() != "" {
		fields = append(fields, zap.String("web_ui", d.Temporal.UIURL()))
	}
	if d.FakeURL != "" {
		fields = append(fields, zap.String("tenant_api_fake", d.FakeURL))
	}
	if d.P24FakeURL != "" {
		fields = append(fields, zap.String("p24_fake", d.P24FakeURL))
	}
	if d.KSeFFakeURL != "" {
		fields = append(fields, zap.String("ksef_fake", d.KSeFFakeURL))
	}
	if d.Sink != nil {
		fields = append(fields, zap.String("mail_sink", d.Sink.Addr()))
		if d.mailDir != "" {
			fields = append(fields, zap.String("mail_dir", d.mailDir))
		}
	}
	return fields
}
