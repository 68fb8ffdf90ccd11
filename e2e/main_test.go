// Package e2e runs the whole product against real parts: the embedded
// Temporal server, PostgreSQL, the SMTP sink over TCP and the tenant API fake
// over HTTP. Each test run uses a database of its own, dropped at the end.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/dnstest"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/stack"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

var (
	st    *stack.Stack
	spans = tracetest.NewInMemoryExporter()
	logs  *observer.ObservedLogs
	cfg   config.Config // what the stack was started with
	// dns is the resolver the worker checks customers' domains with; tests
	// publish (or never publish) their TXT records in it.
	dns *dnstest.Server
)

const (
	shopKey = "test-shop-key"
	secret  = "test-webhook-secret"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	// This package and e2e/fault take turns (see pgtest.Turn).
	release, err := pgtest.Turn(ctx, "e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: turn:", err)
		return 1
	}
	defer release()
	dbURL, drop, err := pgtest.NewDatabase("officeflow_test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: postgres:", err)
		return 1
	}
	defer drop()
	if dns, err = dnstest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: dns:", err)
		return 1
	}
	defer dns.Close()
	for k, v := range map[string]string{
		// Domains are checked every 200 ms backing off to 1 s, for 15 s.
		"DNS_RESOLVER": dns.Addr(), "DOMAIN_CHECK_INTERVAL": "200ms", "DOMAIN_CHECK_MAX_INTERVAL": "1s", "DOMAIN_CHECK_FOR": "15s",
		"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "TEMPORAL_ADDRESS": "127.0.0.1:0",
		"INTAKE_API_KEYS": "other-key," + shopKey, "PAYMENT_WEBHOOK_SECRET": secret, "PAYMENT_DEADLINE": "168h",
		"METRICS_ADDR": "127.0.0.1:0", "CODEC_TOKEN": "test-codec-token",
		// Przelewy24 is -dev's fake; a lost notification is asked about
		// after 2 s, owed refunds are looked for every 300 ms.
		"P24_CHECK_AFTER": "2s", "P24_REFUND_SWEEP": "300ms",
		// A document whose KSeF stays unreachable for 10 s is issued offline.
		"KSEF_OFFLINE_AFTER": "10s",
	} {
		os.Setenv(k, v)
	}
	cfg, err = config.Load(true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: config:", err)
		return 1
	}
	// Every log entry of the whole stack, at debug level, is kept so that
	// tests can look for secrets in it.
	core, entries := observer.New(zap.DebugLevel)
	logs = entries
	log := zap.New(core)
	if os.Getenv("E2E_LOG") != "" {
		dev, _ := zap.NewDevelopment()
		log = zap.New(zapcore.NewTee(core, dev.Core()))
	}
	st, err = stack.Start(ctx, stack.Options{Config: cfg, Logger: log, EmbedTemporal: true, Worker: true, Intake: true, SpanExporter: spans})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stack:", err)
		return 1
	}
	defer st.Close()
	// The stack listened on a free port; tests compare with the real one.
	cfg.HTTPAddr, cfg.BillingPanelURL = st.HTTPAddr, st.BillingPanelURL
	// KSeF's fake validates every document against the Ministry's schema,
	// as KSeF does.
	if shared := sharedKSeF(); shared != "" {
		st.KSeFFake.Schema = filepath.Join(shared, "faktury", "schemy", "FA", "schemat_FA(3)_v1-0E.xsd")
		st.KSeFFake.Catalog = filepath.Join(shared, "catalog.xml")
	} else {
		fmt.Fprintln(os.Stderr, "e2e: shared/ksef not found beside the repository")
		return 1
	}
	defer func() {
		if workerCleanup != nil {
			workerCleanup()
		}
	}()
	return m.Run()
}

// sharedKSeF is the Ministry's KSeF material (shared/ksef) in the checkout's
// parent directories, "" when there is none.
func sharedKSeF() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; filepath.Dir(dir) != dir; dir = filepath.Dir(dir) {
		shared := filepath.Join(dir, "shared", "ksef")
		if _, err := os.Stat(filepath.Join(shared, "catalog.xml")); err == nil {
			return shared
		}
	}
	return ""
}
