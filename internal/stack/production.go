//go:build production

package stack

import (
	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/dnscheck"
	"go.uber.org/zap"
)

// HasDev tells whether this build holds the dev parts (-dev, the bench):
// not this one, built with -tags production.
const HasDev = false

// devParts is empty: a production build links no Temporal server and no
// fake.
type devParts struct{}

func (st *Stack) startTemporal(Options, config.Config, string) (string, error) {
	return "", ErrNoDev
}

// config.RequireWorker refuses a missing PARTNER_API_URL or SMTP_HOST
// before these could be reached.

func (st *Stack) startTenantFake(config.Config, *dnscheck.Checker) (string, error) {
	return "", ErrNoDev
}

func (st *Stack) startP24Fake(cfg config.P24) (config.P24, error) {
	return cfg, ErrNoDev
}

func (st *Stack) startKSeFFake(k config.KSeF, _ string) (config.KSeF, error) {
	return k, ErrNoDev
}

func (st *Stack) startSink(_ Options, smtp config.SMTP) (config.SMTP, error) {
	return smtp, ErrNoDev
}

// DevEndpoints: none in a production build.
func (devParts) DevEndpoints() []zap.Field { return nil }
