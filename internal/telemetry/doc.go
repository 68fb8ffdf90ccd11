// Package telemetry wires officeflow's traces and metrics: one OpenTelemetry
// TracerProvider and MeterProvider per process, exposed to the Temporal SDK
// (metrics handler + tracing interceptor), to the intake HTTP server (otelhttp)
// and to Prometheus (a dedicated registry served by MetricsEndpoint).
//
// Nothing here touches the otel globals: providers and the W3C
// TraceContext+Baggage propagator are passed explicitly, so two Telemetry
// values (or parallel tests) never see each other's data.
//
// # Business metrics
//
// Workflow and activity code records through the SDK handler
// (workflow.GetMetricsHandler / activity.GetMetricsHandler) so that replays do
// not double count; the names are the Metric* constants. The SDK metrics
// handler maps a Counter to a monotonic OTel Int64Counter and a Timer to a
// Float64Histogram with unit "s"; the Prometheus exporter then appends
// "_seconds" for the unit and "_total" for counters. Exact names at /metrics:
//
//	officeflow_order_transitions_total{status}          counter
//	officeflow_awaiting_payment_seconds_{bucket,sum,count}   histogram
//	officeflow_provisioning_seconds_{bucket,sum,count}       histogram
//	officeflow_compensations_total{reason}              counter
//	officeflow_emails_total{kind,result}                counter
//
// SDK metrics keep their own "temporal_" prefix and get the same treatment,
// for example:
//
//	temporal_workflow_completed_total{namespace,task_queue,workflow_type,...}
//	temporal_activity_execution_latency_seconds_{bucket,sum,count}
//
// Metrics recorded from workflow/activity context also carry the SDK's tags
// (namespace, task_queue, workflow_type, activity_type, ...). Resource
// attributes appear once, on target_info{service_name=...}. Intake HTTP
// metrics from otelhttp appear as http_server_request_duration_seconds etc.,
// and the Go runtime and process collectors add go_* and process_*.
package telemetry
