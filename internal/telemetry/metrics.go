package telemetry

import (
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Business metric names, recorded through the Temporal SDK MetricsHandler.
// See the package doc for the names they get at /metrics.
const (
	MetricOrderTransitions = "officeflow_order_transitions" // counter, tag "status"
	MetricAwaitingPayment  = "officeflow_awaiting_payment"  // timer: time from awaiting_payment to payment/cancel
	MetricProvisioning     = "officeflow_provisioning"      // timer: provisioning_tenant duration
	MetricCompensations    = "officeflow_compensations"     // counter, tag "reason" (payment_failed, deadline, cancelled, provisioning_failed)
	MetricEmails           = "officeflow_emails"            // counter, tags "kind", "result" (sent|failed)
)

// The OTel default histogram boundaries (0..10000) assume milliseconds, but
// the SDK handler records timers in seconds, which would put every sub-5s
// latency into one bucket. These boundaries are in seconds.
var (
	// RPCs, task latencies, HTTP requests: milliseconds up to an hour.
	latencyBuckets = []float64{
		0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
		1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
	}
	// Tenant provisioning talks to Microsoft 365 and takes seconds to hours.
	provisioningBuckets = []float64{
		1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 2 * 3600, 6 * 3600,
	}
	// Customers pay by bank transfer: minutes to weeks.
	awaitingPaymentBuckets = []float64{
		60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
		24 * 3600, 2 * 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600,
		14 * 24 * 3600, 30 * 24 * 3600,
	}
)

// secondsHistogramView is a single View on purpose: when several views match
// one instrument the SDK creates one stream per view, i.e. duplicate series.
func secondsHistogramView(i sdkmetric.Instrument) (sdkmetric.Stream, bool) {
	if i.Kind != sdkmetric.InstrumentKindHistogram || i.Unit != "s" {
		return sdkmetric.Stream{}, false
	}
	bounds := latencyBuckets
	switch i.Name {
	case MetricProvisioning:
		bounds = provisioningBuckets
	case MetricAwaitingPayment:
		bounds = awaitingPaymentBuckets
	}
	return sdkmetric.Stream{
		Name:        i.Name,
		Description: i.Description,
		Unit:        i.Unit,
		Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: bounds},
	}, true
}
