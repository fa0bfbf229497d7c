// Package tracing sets up OpenTelemetry tracing. It is off unless an OTLP endpoint is
// configured (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the standard
// variables); then spans go to that collector, which the operator runs: the server contacts no
// other host on its own. Span attributes carry ids, counts and codes, never personal values.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// Setup returns the tracer provider, whether tracing is on, and a function that flushes and
// stops it. Without an endpoint the provider is a no-op and nothing is instrumented.
func Setup(ctx context.Context, getenv func(string) string) (trace.TracerProvider, bool, func(context.Context) error, error) {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return noop.NewTracerProvider(), false, func(context.Context) error { return nil }, nil
	}
	exporter, err := otlptracehttp.New(ctx) // reads the standard OTEL_EXPORTER_OTLP_* variables
	if err != nil {
		return nil, false, nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("wvsoft"))),
	)
	return tp, true, tp.Shutdown, nil
}
