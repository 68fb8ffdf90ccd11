package e2e

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// TestTraceTiesRequestToWorkflow: the shop's traceparent on POST /v1/orders
// becomes the trace of the HTTP span, the workflow start, the workflow run
// and its activities.
func TestTraceTiesRequestToWorkflow(t *testing.T) {
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	o := newOrder(t)
	a := call(t, "POST", "/v1/orders", shopKey, o, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	require.Equal(t, 202, a.Status)
	waitMail(t, o["customer"].(map[string]any)["email"].(string), "billing_access")
	require.NoError(t, st.Telemetry.ForceFlush(context.Background()))

	names := map[string]bool{}
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID().String() == traceID {
			names[s.Name] = true
		}
	}
	require.True(t, names["POST /v1/orders"], "HTTP span in the trace: %v", names)
	// The intake starts the order with Update-with-Start (the place update).
	require.True(t, names["UpdateWithStartWorkflow:place"], "workflow start in the trace: %v", names)
	// The RunWorkflow span itself ends with the order; its activities are
	// in the trace already.
	require.True(t, names["StartActivity:OpenBilling"], "workflow's activities in the trace: %v", names)
	require.True(t, names["RunActivity:OpenBilling"], "activities in the trace: %v", names)
}

// TestMetricsAfterAnOrder scrapes /metrics after an order has run through:
// the SDK's metrics and the business metrics are there with their labels.
func TestMetricsAfterAnOrder(t *testing.T) {
	id := placeAndPay(t, newOrder(t), "completed")
	require.Equal(t, order.InstallerReady, waitDone(t, id).Status)

	code, body := get(t, "http://"+st.MetricsAddr+"/metrics")
	require.Equal(t, 200, code)
	for _, want := range []string{
		`officeflow_order_transitions_total\{[^}]*status="installer_ready"[^}]*\} (\d+)`,
		`officeflow_emails_total\{[^}]*kind="credentials"[^}]*result="sent"[^}]*\} (\d+)`,
		`officeflow_awaiting_payment_seconds_count\{[^}]*\} (\d+)`,
		`officeflow_provisioning_seconds_count\{[^}]*\} (\d+)`,
		`temporal_workflow_completed_total\{[^}]*workflow_type="OrderWorkflow"[^}]*\} (\d+)`,
		`temporal_activity_execution_latency_seconds_count\{[^}]*activity_type="CreateTenant"[^}]*\} (\d+)`,
		`http_server_request_duration_seconds_count\{[^}]*\} (\d+)`,
	} {
		m := regexp.MustCompile(want).FindStringSubmatch(body)
		require.NotNil(t, m, "no %s in /metrics", want)
		n, _ := strconv.Atoi(m[1])
		require.Positive(t, n, want)
	}
}
