// Package bench holds the benchmarks that compare hotpath with other projects (Elastic's apm-data
// decoder, OpenTelemetry's otelhttp...). It is a module of its own so that those projects' dependencies
// stay out of hotpath's go.mod. Each sub-package's doc says what it compares and how to run it; the
// figures are in ../BENCHMARKS.md.
package bench
