// Package stack assembles officeflow's processes: the worker, the intake API
// and, for -dev and the end-to-end tests, the embedded Temporal server, the
// tenant API fake and the mail sink. main packages stay thin by calling it.
//
// The dev parts are in dev.go; a build with -tags production has none of
// them (production.go), so its binaries link no Temporal server and no fake.
package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/codec"
	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/dnscheck"
	"github.com/officeflow/officeflow/internal/gateway"
	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/telemetry"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/officeflow/officeflow/workflows"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
)

// Options says which parts to run.
type Options struct {
	Config config.Config
	Logger *zap.Logger
	// EmbedTemporal runs a Temporal server in the process at
	// Config.TemporalAddress, with the Web UI at UIAddress when set.
	EmbedTemporal bool
	TemporalDB    string
	// TemporalPostgres, when set, keeps the embedded server's state in that
	// PostgreSQL database instead of SQLite.
	TemporalPostgres string
	UIAddress        string
	// TemporalLogger is where the embedded server and its Web UI log; nil
	// is Logger.Named("temporal"). The bench sends it to a file, so that
	// the server's warnings, its shutdown's above all, stay off the
	// terminal.
	TemporalLogger *zap.Logger
	// DataDir keeps what the dev stack writes for people to read (mail).
	DataDir string
	// Service names this process in traces and metrics.
	Service string
	// SpanExporter receives spans in tests; OTEL_EXPORTER_OTLP_ENDPOINT
	// otherwise.
	SpanExporter sdktrace.SpanExporter
	Worker       bool
	Intake       bool
	// PgxTracer sees every query the order store sends (the benchmark
	// counts them); nil traces nothing.
	PgxTracer pgx.QueryTracer
}

// Stack is the running parts; fields of parts not run are nil.
type Stack struct {
	// devParts are the embedded Temporal server, the tenant API fake and
	// the mail sink (Temporal, Fake, FakeURL, Sink); empty in a production
	// build.
	devParts
	// TemporalAddress is the frontend the client dialled.
	TemporalAddress string
	Telemetry       *telemetry.Telemetry
	Client          client.Client
	Store           *store.Store
	Worker          worker.Worker
	Intake          *intake.Server
	HTTPAddr        string
	// Codec encrypts payloads (PAYLOAD_KEYS); nil means plain payloads.
	Codec *codec.Codec
	// CodecAddr is where the codec endpoint (/codec/) is served: CODEC_ADDR
	// when set, else HTTPAddr; "" when not served.
	CodecAddr string
	// MetricsAddr is where /metrics, /healthz and /readyz are served, if anywhere.
	MetricsAddr string
	// Gateway is Przelewy24 (P24_*, or -dev's fake); nil when not set.
	Gateway *gateway.Gateway
	// BillingPanelURL is the panel's address as emails and the gateway
	// see it: BILLING_PANEL_URL, its default naming the port listened on.
	BillingPanelURL string

	intakeLn net.Listener

	closers []func()
}

// ErrNoDev is what a build with -tags production answers to -dev and to
// the bench: it has no embedded Temporal server, no fakes and no bench.
var ErrNoDev = errors.New("this build (-tags production) has no dev stack: no embedded Temporal, fakes or bench (a build without the tag has them: go run ./worker -dev)")

// SearchAttributes are the custom search attributes the saga upserts.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	workflows.OrderStatusKey.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.PlanKey.GetName():           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.CustomerDomainKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.InvoiceNumberKey.GetName():  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.SeatsKey.GetName():          enumspb.INDEXED_VALUE_TYPE_INT,
	workflows.PaidAtKey.GetName():         enumspb.INDEXED_VALUE_TYPE_DATETIME,
	workflows.OrderIDKey.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.StageKey.GetName():          enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// Start starts the parts in dependency order; on error, what started is
// stopped again.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	st := &Stack{}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	cfg, log := o.Config, o.Logger
	if st.Codec, err = cfg.Codec(); err != nil {
		return nil, fmt.Errorf("PAYLOAD_KEYS: %w", err)
	}
	if o.EmbedTemporal {
		codecURL := ""
		if o.Intake && st.Codec != nil {
			// The browser calls it, from the UI's origin (CORS below).
			codecURL = "http://" + cmp.Or(cfg.CodecAddr, cfg.HTTPAddr) + "/codec"
			if cfg.CodecToken != "" && o.UIAddress != "" {
				log.Warn("CODEC_TOKEN is set: the embedded Web UI cannot send it and shows payloads encrypted; the temporal CLI can (--codec-auth)")
			}
		}
		if cfg.TemporalAddress, err = st.startTemporal(o, cfg, codecURL); err != nil {
			return nil, err
		}
	}
	st.TemporalAddress = cfg.TemporalAddress
	st.Telemetry, err = telemetry.New(ctx, telemetry.Options{
		Service: o.Service, OTLPEndpoint: cfg.OTLPEndpoint, SpanExporter: o.SpanExporter, Logger: log.Named("telemetry"),
	})
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	st.closers = append(st.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = st.Telemetry.Shutdown(ctx)
	})
	// The tracing interceptor on the client covers the worker made from it,
	// so a span started by an HTTP request continues into the workflow.
	copts := client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Logger: SDKLogger(log.Named("sdk")),
		MetricsHandler: st.Telemetry.MetricsHandler(), Interceptors: st.Telemetry.Interceptors(),
	}
	if st.Codec != nil {
		// Every payload the worker and the intake write is ciphertext in
		// history: customer names, emails, addresses never reach it in plain.
		copts.DataConverter = st.Codec.DataConverter()
	}
	if o.EmbedTemporal {
		// The server is in this process: gzip on loopback only burns CPU
		// (5% of the bench's, both ways).
		copts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	} else {
		copts.ConnectionOptions.TLS = cfg.Temporal.TLS
		if cfg.Temporal.APIKey != "" {
			copts.Credentials = client.NewAPIKeyStaticCredentials(cfg.Temporal.APIKey)
		}
	}
	st.Client, err = client.DialContext(ctx, copts)
	if err != nil {
		return nil, fmt.Errorf("temporal at %s: %w", cfg.TemporalAddress, err)
	}
	st.closers = append(st.closers, st.Client.Close)
	if err := RegisterSearchAttributes(ctx, st.Client, cfg.TemporalNamespace); err != nil {
		if o.EmbedTemporal {
			return nil, err
		}
		// A Cloud namespace takes search attributes from its console only.
		log.Warn("search attributes not registered; register them on the cluster", zap.Error(err))
	}
	st.Store, err = store.OpenWith(ctx, cfg.DatabaseURL, o.PgxTracer)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	st.Store.Seller = cfg.Seller
	st.Store.KSeF = cfg.KSeF.Enabled()
	if o.Intake {
		// Listened on before the worker starts, so that the panel's address
		// in emails and in the gateway's return and notification URLs is
		// the real one when HTTP_ADDR asks for any free port.
		if st.intakeLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("HTTP_ADDR: %w", err)
		}
		st.closers = append(st.closers, func() { _ = st.intakeLn.Close() })
		if real := st.intakeLn.Addr().String(); real != cfg.HTTPAddr {
			cfg.BillingPanelURL = strings.Replace(cfg.BillingPanelURL, "//"+cfg.HTTPAddr+"/", "//"+real+"/", 1)
			cfg.HTTPAddr = real
		}
	}
	st.BillingPanelURL = cfg.BillingPanelURL
	if cfg.Dev && !cfg.P24.Enabled() {
		if cfg.P24, err = st.startP24Fake(cfg.P24); err != nil {
			return nil, err
		}
	}
	st.Gateway = newGateway(cfg, st.Store)
	if cfg.Seller.Name == "" && !cfg.Dev {
		log.Warn("SELLER_NAME is not set: documents name the placeholder seller " + store.DefaultSeller.Name)
	}
	st.closers = append(st.closers, st.Store.Close)
	if o.Worker {
		if err := st.startWorker(o, cfg); err != nil {
			return nil, err
		}
	}
	if o.Intake {
		if err := st.startIntake(o, cfg); err != nil {
			return nil, err
		}
	}
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", intake.Healthz)
		mux.HandleFunc("GET /readyz", intake.Readyz(st.Ready))
		mux.Handle("GET /metrics", st.Telemetry.MetricsEndpoint())
		addr, err := st.serve(cfg.MetricsAddr, mux)
		if err != nil {
			return nil, fmt.Errorf("METRICS_ADDR: %w", err)
		}
		st.MetricsAddr = strings.TrimPrefix(addr, "http://")
	}
	return st, nil
}

// WorkerOptions are the options of the order worker; the bench's floor
// worker takes the same, so that the two differ only in their workflows.
func WorkerOptions() worker.Options {
	return worker.Options{WorkerStopTimeout: 30 * time.Second, Interceptors: workflows.Interceptors()}
}

func (st *Stack) startWorker(o Options, cfg config.Config) error {
	// Outside -dev this refuses a missing PARTNER_API_URL or SMTP_HOST, so
	// the fakes below are -dev's (and the tests') only.
	if err := cfg.RequireWorker(); err != nil {
		return err
	}
	log := o.Logger
	box, err := secret.NewBox(cfg.CredentialsKey)
	if err != nil {
		return fmt.Errorf("CREDENTIALS_KEY: %w", err)
	}
	dns := &dnscheck.Checker{Server: cfg.After.DNSResolver, Timeout: 5 * time.Second}
	partnerURL := cfg.PartnerAPIURL
	if partnerURL == "" {
		if partnerURL, err = st.startTenantFake(cfg, dns); err != nil {
			return err
		}
	}
	smtp := cfg.SMTP
	if smtp.Host == "" {
		if smtp, err = st.startSink(o, smtp); err != nil {
			return err
		}
	}
	sender, err := mail.NewSender(mail.Config{Host: smtp.Host, Port: smtp.Port, Username: smtp.Username,
		Password: smtp.Password, TLS: smtp.TLS, From: smtp.From}, log.Named("mail"))
	if err != nil {
		return fmt.Errorf("SMTP: %w", err)
	}
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return err
	}
	// Process-wide, and read when the first worker of the process starts.
	if cfg.WorkflowCache > 0 {
		worker.SetStickyWorkflowCacheSize(cfg.WorkflowCache)
	}
	ksefs, err := st.newKSeF(cfg)
	if err != nil {
		return err
	}
	st.Worker = worker.New(st.Client, cfg.TaskQueue, WorkerOptions())
	RegisterWorkflows(st.Worker)
	st.Worker.RegisterActivity(&activities.Activities{
		Store: st.Store, Tenant: tenant.NewClient(partnerURL, cfg.PartnerAPIToken, nil), Mail: sender, Box: box,
		BillingPanelURL: cfg.BillingPanelURL, Location: warsaw, DNS: dns,
		StartSubscription: SubscriptionStarter(st.Client, cfg), Gateway: st.Gateway,
		KSeF: ksefs, StartKSeF: KSeFStarter(st.Client, cfg),
	})
	if err := st.Worker.Start(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	st.closers = append(st.closers, st.Worker.Stop)
	if st.Gateway != nil {
		ctx, stop := context.WithCancel(context.Background())
		go sweepRefunds(ctx, st.Client, st.Store, cfg.TaskQueue, cfg.P24.RefundSweep, log.Named("refunds"))
		st.closers = append(st.closers, stop)
	}
	return nil
}

func (st *Stack) startIntake(o Options, cfg config.Config) error {
	if err := cfg.RequireIntake(); err != nil {
		return err
	}
	st.Intake = &intake.Server{
		Store: st.Store, Temporal: st.Client, TaskQueue: cfg.TaskQueue, Keys: cfg.IntakeKeys,
		WebhookSecret: cfg.WebhookSecret, Deadline: cfg.PaymentDeadline, Reminders: cfg.PaymentReminders, Log: o.Logger.Named("intake"),
		Ready: st.Ready, DomainSchedule: DomainSchedule(cfg), P24: intakeP24(cfg, st.Gateway),
	}
	h, err := st.withPanel(cfg, o.Logger, st.Intake.Handler())
	if err != nil {
		return err
	}
	if st.Codec != nil {
		// RequireIntake saw to it that the endpoint, which decrypts for its
		// caller, has a token or listens where only operators reach it.
		mux := http.NewServeMux()
		mux.Handle("/codec/", codec.Handler(st.Codec, "/codec", cfg.CodecOrigins, cfg.CodecToken))
		if cfg.CodecAddr != "" {
			addr, err := st.serve(cfg.CodecAddr, st.Telemetry.WrapHTTP(mux, "codec"))
			if err != nil {
				return fmt.Errorf("CODEC_ADDR: %w", err)
			}
			st.CodecAddr = strings.TrimPrefix(addr, "http://")
		} else {
			mux.Handle("/", h)
			h = mux
		}
	}
	addr := st.serveOn(st.intakeLn, st.Telemetry.WrapHTTP(h, "intake"))
	st.HTTPAddr = strings.TrimPrefix(addr, "http://")
	if st.Codec != nil && st.CodecAddr == "" {
		st.CodecAddr = st.HTTPAddr
	}
	return nil
}

// Ready tells whether PostgreSQL and Temporal answer.
func (st *Stack) Ready(ctx context.Context) error {
	if err := st.Store.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if _, err := st.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	return nil
}

// serve listens on addr and serves h until Close; it returns the base URL.
func (st *Stack) serve(addr string, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	return st.serveOn(l, h), nil
}

// serveOn serves h on l until Close; it returns the base URL.
func (st *Stack) serveOn(l net.Listener, h http.Handler) string {
	srv := intake.NewHTTPServer(h)
	go func() { _ = srv.Serve(l) }()
	st.closers = append(st.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + l.Addr().String()
}

// Close stops the parts in reverse order: intake first, so that no new work
// arrives while the worker finishes what it holds.
func (st *Stack) Close() {
	for i := len(st.closers) - 1; i >= 0; i-- {
		st.closers[i]()
	}
	st.closers = nil
}

// SearchAttributeNames lists the attributes with their types, sorted.
func SearchAttributeNames() string {
	var out []string
	for name, t := range SearchAttributes {
		out = append(out, name+" ("+strings.ToLower(strings.TrimPrefix(t.String(), "INDEXED_VALUE_TYPE_"))+")")
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// RegisterSearchAttributes adds the saga's search attributes to a namespace;
// ones already there are left alone, so it is safe at every start.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: SearchAttributes,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register search attributes: %w", err)
	}
	// The frontend learns of new attributes when it refreshes its namespace
	// cache; until then, starting an order with them fails. Wait for it.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			// Every attribute in the query: each must be known.
			Namespace: namespace, Query: `OrderStatus = "placed" AND Plan = "x" AND CustomerDomain = "x" AND InvoiceNumber = "x" AND Seats = 1 AND PaidAt > "2026-01-01T00:00:00Z" AND OrderID = "x" AND Stage = "x"`,
		})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search attributes not usable: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
