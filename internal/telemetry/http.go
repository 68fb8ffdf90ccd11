package telemetry

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// WrapHTTP adds otelhttp server spans and HTTP server metrics to h, joining
// a W3C traceparent sent by the caller. Wrap the whole http.ServeMux: otelhttp
// renames the span after the mux has set r.Pattern, so span names are the
// route ("POST /v1/orders"), never the raw path with its ids.
func (t *Telemetry) WrapHTTP(h http.Handler, operation string) http.Handler {
	return otelhttp.NewHandler(h, operation,
		otelhttp.WithTracerProvider(t.tracerProvider),
		otelhttp.WithMeterProvider(t.meterProvider),
		otelhttp.WithPropagators(t.propagator),
		otelhttp.WithSpanNameFormatter(spanName),
	)
}

// spanName follows the semconv server span name "{method} {route}". Before
// routing (and for unmatched requests) there is no pattern; the operation is
// a fixed, low-cardinality fallback.
func spanName(operation string, r *http.Request) string {
	fields := strings.Fields(r.Pattern)
	switch len(fields) {
	case 1:
		return r.Method + " " + routeOf(fields[0])
	case 2:
		return fields[0] + " " + routeOf(fields[1])
	}
	if operation != "" {
		return operation
	}
	return r.Method
}

// routeOf drops a host from a ServeMux pattern ("api.example.com/v1/x"):
// semconv routes are paths only.
func routeOf(p string) string {
	if i := strings.IndexByte(p, '/'); i > 0 {
		return p[i:]
	}
	return p
}
