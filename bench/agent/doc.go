// Package agent compares the request-path cost of hotpath's agent.Wrap with a bare handler, Elastic's
// apmhttp.Wrap (which it builds on) and OpenTelemetry's otelhttp.NewHandler, in one benchmark whose cases
// differ only in the middleware. Run and compare:
//
//	cd bench && go test -run '^$' -bench BenchmarkMiddleware -count 10 ./agent/ | tee /tmp/mw.txt
//	benchstat -col /mw /tmp/mw.txt
//
// Figures are in ../../BENCHMARKS.md.
package agent
