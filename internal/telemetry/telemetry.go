package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.uber.org/zap"
)

const (
	defaultService = "officeflow"

	// Instrumentation scope of the SDK's spans and metrics; matches the
	// contrib module's own default so dashboards keyed on it keep working.
	sdkScope = "temporal-sdk-go"

	// tracingHeaderKey is the Temporal header field carrying the serialized
	// span. It is the contrib default and what every Temporal SDK uses; it is
	// pinned here so cross-language propagation cannot drift silently.
	tracingHeaderKey = "_tracer-data"
)

// Options configures New. The zero value is usable: service "officeflow",
// no span export, no logging.
type Options struct {
	Service string // "officeflow-worker" / "officeflow-intake": resource service.name

	// OTLPEndpoint is OTEL_EXPORTER_OTLP_ENDPOINT (gRPC). A URL
	// ("http://collector:4317") selects TLS by scheme; a bare host:port
	// uses TLS unless OTEL_EXPORTER_OTLP_INSECURE=true, as the OTLP spec
	// says. "" disables export, but spans are still created and propagated
	// so trace ids stay consistent across services.
	OTLPEndpoint string

	// SpanExporter wins over OTLPEndpoint. Telemetry owns it: Shutdown
	// shuts it down (note tracetest.InMemoryExporter.Shutdown clears it).
	SpanExporter sdktrace.SpanExporter

	Logger *zap.Logger
}

// Telemetry owns the process's providers. All methods are safe for
// concurrent use.
type Telemetry struct {
	log            *zap.Logger
	tracerProvider *sdktrace.TracerProvider
	meterProvider  *sdkmetric.MeterProvider
	propagator     propagation.TextMapPropagator
	metrics        client.MetricsHandler
	tracing        interceptor.Interceptor
	metricsHTTP    http.Handler

	shutdownOnce sync.Once
	shutdownErr  error
}

// New builds the providers. It does not dial anything: the OTLP gRPC
// exporter connects lazily, so a missing collector never blocks startup.
func New(ctx context.Context, o Options) (*Telemetry, error) {
	if o.Service == "" {
		o.Service = defaultService
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	log := o.Logger.Named("telemetry")

	// Env (OTEL_RESOURCE_ATTRIBUTES) first so that the explicit service name
	// wins; binaries decide their name, not the deployment.
	res, err := resource.New(ctx,
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", o.Service)),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}

	exporter := o.SpanExporter
	if exporter == nil && o.OTLPEndpoint != "" {
		exporter, err = newOTLPExporter(ctx, o.OTLPEndpoint)
		if err != nil {
			return nil, err
		}
	}
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if exporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exporter))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)

	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("telemetry: go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("telemetry: process collector: %w", err)
	}
	promExporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		// Every series would otherwise carry otel_scope_name/version labels;
		// the SDK, business and HTTP metrics are already distinct by name.
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		_ = tp.Shutdown(ctx)
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(promExporter),
		sdkmetric.WithView(secondsHistogramView),
	)

	propagator := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            tp.Tracer(sdkScope),
		TextMapPropagator: propagator,
		HeaderKey:         tracingHeaderKey,
	})
	if err != nil {
		_ = tp.Shutdown(ctx)
		_ = mp.Shutdown(ctx)
		return nil, fmt.Errorf("telemetry: tracing interceptor: %w", err)
	}

	metrics := temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: mp.Meter(sdkScope),
		// Without this, counters are UpDownCounters and Prometheus sees
		// gauges (no _total, rate() semantics lost).
		UseMonotonicCounters: true,
		// The contrib default panics; a bad metric name must not take a
		// worker down mid-saga.
		OnError: func(err error) { log.Warn("metric instrument rejected", zap.Error(err)) },
	})

	metricsHTTP := promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          zap.NewStdLog(log),
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          reg,
		EnableOpenMetrics: false,
	}))

	log.Info("telemetry ready",
		zap.String("service", o.Service),
		zap.Bool("span_export", exporter != nil),
	)
	return &Telemetry{
		log:            log,
		tracerProvider: tp,
		meterProvider:  mp,
		propagator:     propagator,
		metrics:        metrics,
		tracing:        tracing,
		metricsHTTP:    metricsHTTP,
	}, nil
}

func newOTLPExporter(ctx context.Context, endpoint string) (sdktrace.SpanExporter, error) {
	var opt otlptracegrpc.Option
	if strings.Contains(endpoint, "://") {
		opt = otlptracegrpc.WithEndpointURL(endpoint)
	} else {
		opt = otlptracegrpc.WithEndpoint(endpoint)
	}
	exp, err := otlptracegrpc.New(ctx, opt)
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp exporter %q: %w", endpoint, err)
	}
	return exp, nil
}

// MetricsHandler is for client.Options.MetricsHandler. Workflow and activity
// code should reach it through workflow.GetMetricsHandler /
// activity.GetMetricsHandler, never directly, so replays are not counted.
func (t *Telemetry) MetricsHandler() client.MetricsHandler { return t.metrics }

// Interceptors is for client.Options.Interceptors. The single element also
// implements interceptor.WorkerInterceptor, so workers created from that
// client trace workflows and activities without further configuration.
func (t *Telemetry) Interceptors() []interceptor.ClientInterceptor {
	// A fresh slice so callers may append their own interceptors.
	return []interceptor.ClientInterceptor{t.tracing}
}

// MetricsEndpoint serves the Prometheus text exposition of the SDK, business,
// HTTP, Go runtime and process metrics.
func (t *Telemetry) MetricsEndpoint() http.Handler { return t.metricsHTTP }

// Shutdown flushes pending spans and stops both providers. It is idempotent;
// later calls return the first result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		// Trace first: the batcher flush is what callers wait for.
		t.shutdownErr = errors.Join(
			t.tracerProvider.Shutdown(ctx),
			t.meterProvider.Shutdown(ctx),
		)
		if t.shutdownErr != nil {
			t.log.Warn("telemetry shutdown", zap.Error(t.shutdownErr))
		}
	})
	return t.shutdownErr
}

// ForceFlush exports the spans the batcher holds, so that a caller (a test,
// or a process about to be stopped) sees them now.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	return t.tracerProvider.ForceFlush(ctx)
}
