// Package decoder compares hotpath's intake v2 decoder (collector/intake/decoder) with Elastic's own,
// github.com/elastic/apm-data v1.10.0 input/elasticapm Processor.HandleStream, side by side in one
// process: the same fixture bodies, the same batch size (10, as APM Server), a BatchProcessor that
// does nothing. It also checks that both give the same Result (accepted counts, error messages) for the
// fixtures and for the event size limit at its boundary.
//
// Run (figures in ../../BENCHMARKS.md):
//
//	cd bench && go test ./decoder -run '^$' -bench . -benchtime 3s -count 10 | tee /tmp/dec.txt
//	~/go/bin/benchstat -col /impl /tmp/dec.txt
package decoder
