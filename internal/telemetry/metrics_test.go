package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func newTelemetry(t *testing.T, o Options) *Telemetry {
	t.Helper()
	tel, err := New(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// scrape GETs /metrics the way Prometheus does and parses the exposition.
func scrape(t *testing.T, tel *Telemetry) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.MetricsEndpoint().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(rec.Body)
	require.NoError(t, err, body)
	return body, families
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// findMetric returns the series of family name whose labels include want.
func findMetric(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := families[name]
	require.Truef(t, ok, "metric family %q not exposed", name)
	for _, m := range f.GetMetric() {
		got := labelsOf(m)
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if match {
			return m
		}
	}
	require.Failf(t, "series not found", "%s%v in %v", name, want, f.GetMetric())
	return nil
}

func bucketCount(h *dto.Histogram, le float64) uint64 {
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	return 0
}

func TestMetricsEndpointExposesSDKHandlerMetrics(t *testing.T) {
	tel := newTelemetry(t, Options{})
	h := tel.MetricsHandler()

	h.WithTags(map[string]string{"status": "placed"}).Counter(MetricOrderTransitions).Inc(2)
	h.WithTags(map[string]string{"reason": "deadline"}).Counter(MetricCompensations).Inc(1)
	h.WithTags(map[string]string{"kind": "credentials", "result": "sent"}).Counter(MetricEmails).Inc(1)
	h.Timer(MetricProvisioning).Record(1500 * time.Millisecond)
	h.Timer(MetricAwaitingPayment).Record(2 * time.Hour)
	// The names the SDK itself uses, to pin the documented translation.
	h.WithTags(map[string]string{"workflow_type": "OrderWorkflow"}).Counter("temporal_workflow_completed").Inc(1)
	h.Timer("temporal_activity_execution_latency").Record(30 * time.Millisecond)

	body, families := scrape(t, tel)

	transitions := findMetric(t, families, "officeflow_order_transitions_total", map[string]string{"status": "placed"})
	assert.Equal(t, dto.MetricType_COUNTER, families["officeflow_order_transitions_total"].GetType())
	assert.Equal(t, 2.0, transitions.GetCounter().GetValue())
	assert.Contains(t, body, `officeflow_order_transitions_total{status="placed"} 2`)
	assert.Equal(t, 1.0, findMetric(t, families, "officeflow_compensations_total",
		map[string]string{"reason": "deadline"}).GetCounter().GetValue())
	assert.Equal(t, 1.0, findMetric(t, families, "officeflow_emails_total",
		map[string]string{"kind": "credentials", "result": "sent"}).GetCounter().GetValue())
	assert.Equal(t, 1.0, findMetric(t, families, "temporal_workflow_completed_total",
		map[string]string{"workflow_type": "OrderWorkflow"}).GetCounter().GetValue())

	prov := findMetric(t, families, "officeflow_provisioning_seconds", nil).GetHistogram()
	assert.Equal(t, dto.MetricType_HISTOGRAM, families["officeflow_provisioning_seconds"].GetType())
	assert.Equal(t, uint64(1), prov.GetSampleCount())
	assert.InDelta(t, 1.5, prov.GetSampleSum(), 1e-9)
	assert.Contains(t, body, "officeflow_provisioning_seconds_count 1")
	assert.Equal(t, uint64(0), bucketCount(prov, 1))
	assert.Equal(t, uint64(1), bucketCount(prov, 5))

	// Buckets are in seconds and sized for days, not the OTel ms defaults.
	awaiting := findMetric(t, families, "officeflow_awaiting_payment_seconds", nil).GetHistogram()
	assert.Equal(t, uint64(0), bucketCount(awaiting, 3600))
	assert.Equal(t, uint64(1), bucketCount(awaiting, 3*3600))

	latency := findMetric(t, families, "temporal_activity_execution_latency_seconds", nil).GetHistogram()
	assert.Equal(t, uint64(0), bucketCount(latency, 0.025))
	assert.Equal(t, uint64(1), bucketCount(latency, 0.05))

	// Own registry still carries runtime/process collectors and the resource.
	assert.Contains(t, families, "go_goroutines")
	assert.Contains(t, families, "process_cpu_seconds_total")
	target := findMetric(t, families, "target_info", nil)
	assert.Equal(t, defaultService, labelsOf(target)["service_name"])
	assert.NotContains(t, body, "otel_scope_name", "scope labels are disabled")
}

func TestMetricsAreNotShared(t *testing.T) {
	a := newTelemetry(t, Options{Service: "officeflow-worker"})
	b := newTelemetry(t, Options{Service: "officeflow-intake"})
	a.MetricsHandler().Counter(MetricEmails).Inc(1)

	_, fb := scrape(t, b)
	assert.NotContains(t, fb, "officeflow_emails_total")
	assert.Equal(t, "officeflow-intake", labelsOf(findMetric(t, fb, "target_info", nil))["service_name"])
}

func TestMetricsHandlerRejectsBadNameWithoutPanic(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	tel := newTelemetry(t, Options{Logger: zap.New(core)})

	assert.NotPanics(t, func() { tel.MetricsHandler().Counter("9 not a name").Inc(1) })
	assert.Equal(t, 1, logs.FilterMessage("metric instrument rejected").Len())
}

func transitionWorkflow(ctx workflow.Context) error {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"status": "placed"}).
		Counter(MetricOrderTransitions).Inc(1)
	return nil
}

// The path production code takes: the SDK's replay-aware wrapper around the
// handler. (A real client also adds namespace/task_queue/workflow_type tags;
// the test environment does not.)
func TestWorkflowMetricsHandlerReachesEndpoint(t *testing.T) {
	tel := newTelemetry(t, Options{})
	var suite testsuite.WorkflowTestSuite
	suite.SetMetricsHandler(tel.MetricsHandler())
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(transitionWorkflow)
	env.ExecuteWorkflow(transitionWorkflow)
	require.NoError(t, env.GetWorkflowError())

	_, families := scrape(t, tel)
	m := findMetric(t, families, "officeflow_order_transitions_total", map[string]string{"status": "placed"})
	assert.Equal(t, 1.0, m.GetCounter().GetValue())
}
