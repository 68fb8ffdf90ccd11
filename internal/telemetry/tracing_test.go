package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// keepingExporter keeps spans past Shutdown: tracetest.InMemoryExporter
// clears itself on Shutdown, which would hide exactly what these tests check.
type keepingExporter struct {
	*tracetest.InMemoryExporter
	shutdown atomic.Bool
}

func (e *keepingExporter) Shutdown(context.Context) error {
	e.shutdown.Store(true)
	return nil
}

func newTracedTelemetry(t *testing.T) (*Telemetry, *keepingExporter) {
	t.Helper()
	exp := &keepingExporter{InMemoryExporter: tracetest.NewInMemoryExporter()}
	return newTelemetry(t, Options{Service: "officeflow-test", SpanExporter: exp}), exp
}

// flushed shuts tel down and returns what reached the exporter.
func flushed(t *testing.T, tel *Telemetry, exp *keepingExporter) tracetest.SpanStubs {
	t.Helper()
	require.NoError(t, tel.Shutdown(context.Background()))
	return exp.GetSpans()
}

func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var names []string
	for _, s := range spans {
		if s.Name == name {
			return s
		}
		names = append(names, s.Name)
	}
	require.Failf(t, "span not exported", "%q not in %v", name, names)
	return tracetest.SpanStub{}
}

func TestShutdownFlushesBatchedSpans(t *testing.T) {
	tel, exp := newTracedTelemetry(t)
	_, span := tel.tracerProvider.Tracer("test").Start(context.Background(), "unit-of-work")
	span.End()
	require.Empty(t, exp.GetSpans(), "batcher should still hold the span")

	spans := flushed(t, tel, exp)
	require.Len(t, spans, 1)
	assert.Equal(t, "unit-of-work", spans[0].Name)
	assert.True(t, exp.shutdown.Load(), "exporter shut down with the provider")
	assert.Equal(t, "officeflow-test", resourceService(spans[0]))
	assert.NoError(t, tel.Shutdown(context.Background()), "second Shutdown is a no-op")
}

func resourceService(s tracetest.SpanStub) string {
	for _, kv := range s.Resource.Attributes() {
		if kv.Key == "service.name" {
			return kv.Value.AsString()
		}
	}
	return ""
}

func TestWrapHTTPNamesServerSpanAfterRoutePattern(t *testing.T) {
	tel, exp := newTracedTelemetry(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/orders", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	srv := tel.WrapHTTP(mux, "intake")

	// A caller that already has a trace: the server span must join it.
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	req := httptest.NewRequest(http.MethodPost, "/v1/orders", strings.NewReader(`{}`))
	req.Header.Set("traceparent", "00-"+parent.TraceID().String()+"-"+parent.SpanID().String()+"-01")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusAccepted, rec.Code)

	spans := flushed(t, tel, exp)
	require.Len(t, spans, 1)
	s := spanNamed(t, spans, "POST /v1/orders")
	assert.Equal(t, trace.SpanKindServer, s.SpanKind)
	assert.Equal(t, parent.TraceID(), s.SpanContext.TraceID())
	assert.Equal(t, parent.SpanID(), s.Parent.SpanID())
}

func TestWrapHTTPRecordsRequestMetrics(t *testing.T) {
	tel := newTelemetry(t, Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/orders", func(http.ResponseWriter, *http.Request) {})
	tel.WrapHTTP(mux, "intake").ServeHTTP(httptest.NewRecorder(),
		httptest.NewRequest(http.MethodPost, "/v1/orders", nil))

	_, families := scrape(t, tel)
	d := findMetric(t, families, "http_server_request_duration_seconds", nil)
	assert.Equal(t, uint64(1), d.GetHistogram().GetSampleCount())
}

func TestSpanName(t *testing.T) {
	for _, tc := range []struct{ pattern, method, op, want string }{
		{"POST /v1/orders", "POST", "intake", "POST /v1/orders"},
		{"GET  /v1/orders/{id}", "GET", "intake", "GET /v1/orders/{id}"},
		{"/healthz", "GET", "intake", "GET /healthz"},
		{"POST api.example.com/v1/orders", "POST", "intake", "POST /v1/orders"},
		{"", "POST", "intake", "intake"},
		{"", "DELETE", "", "DELETE"},
	} {
		r := httptest.NewRequest(tc.method, "/x", nil)
		r.Pattern = tc.pattern
		assert.Equal(t, tc.want, spanName(tc.op, r), "pattern %q", tc.pattern)
	}
}

func chargeActivity(context.Context, string) (string, error) { return "charged", nil }

func orderWorkflow(ctx workflow.Context, orderID string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, chargeActivity, orderID).Get(ctx, &out)
	return out, err
}

func TestInterceptorsTraceWorkflowUnderCallerSpan(t *testing.T) {
	tel, exp := newTracedTelemetry(t)
	ics := tel.Interceptors()
	require.Len(t, ics, 1)
	// Workers pick the interceptor up from client.Options only if it is
	// also a WorkerInterceptor.
	wi, ok := ics[0].(interceptor.WorkerInterceptor)
	require.True(t, ok, "tracing interceptor must also intercept workers")

	// The test plays the client side: start a span (as the intake handler
	// would) and serialize it into the Temporal header exactly like the
	// client interceptor does, with the same propagator and header key.
	parentCtx, parent := tel.tracerProvider.Tracer("test").Start(context.Background(), "POST /v1/orders")
	carrier := propagation.MapCarrier{}
	tel.propagator.Inject(parentCtx, carrier)
	payload, err := converter.GetDefaultDataConverter().ToPayload(map[string]string(carrier))
	require.NoError(t, err)

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{wi}})
	env.SetHeader(&commonpb.Header{Fields: map[string]*commonpb.Payload{tracingHeaderKey: payload}})
	env.RegisterWorkflow(orderWorkflow)
	env.RegisterActivity(chargeActivity)
	env.ExecuteWorkflow(orderWorkflow, "ord-1")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	parent.End()

	spans := flushed(t, tel, exp)
	run := spanNamed(t, spans, "RunWorkflow:orderWorkflow")
	start := spanNamed(t, spans, "StartActivity:chargeActivity")
	act := spanNamed(t, spans, "RunActivity:chargeActivity")

	traceID := parent.SpanContext().TraceID()
	for _, s := range []tracetest.SpanStub{run, start, act} {
		assert.Equal(t, traceID, s.SpanContext.TraceID(), s.Name)
	}
	// The chain, not just the trace: caller -> workflow -> schedule -> run.
	assert.Equal(t, parent.SpanContext().SpanID(), run.Parent.SpanID())
	assert.Equal(t, run.SpanContext.SpanID(), start.Parent.SpanID())
	assert.Equal(t, start.SpanContext.SpanID(), act.Parent.SpanID())
	assert.Equal(t, trace.SpanKindServer, run.SpanKind)
	assert.Equal(t, trace.SpanKindClient, start.SpanKind)
}
