#!/usr/bin/env bash
# Instructions per request on the request path, counted by callgrind, for the cases of
# BenchmarkMiddlewareSettled (this package) and BenchmarkRequestPathSettled (../../agent): callgrind
# collects only inside the outermost ServeHTTP of each case (--toggle-collect), so the exporters' own
# goroutines and the benchmark's setup are not counted, nor (GOGC=off) the garbage collector's assists;
# per request = (I(N2) - I(N1)) / (N2 - N1). Go switches goroutines in ways callgrind's call tracking does
# not follow (a switch inside the counted function counts the other goroutine): one P (GOMAXPROCS=1), no
# periodic metrics from the Elastic tracer, no cloud metadata requests (ELASTIC_APM_CLOUD_PROVIDER=none),
# no new intake request every 10 s of (valgrind's slow) wall time (ELASTIC_APM_API_REQUEST_TIME=60m),
# one request served before the counted ones (the tracer's one-time work), and the least of REPS runs
# keep that out: a switch to a busy goroutine adds about 160,000 instructions per request to a run now
# and then (in agent's binary, at the start of about one run in two of some cases), never removes any;
# the least of 5 runs then agrees with other runs within about 1 %. Go 1.26 reads the clock with RDTSCP, which
# valgrind 3.19 does not know: cpu.rdtscp=off.
# Instruction counts do not depend on the load of the machine, unlike times. Needs valgrind.
#
#	bench/agent/callgrind.sh            # prints: case instructions-per-request
set -euo pipefail
cd "$(dirname "$0")"
N1=${N1:-500}
N2=${N2:-1500}
REPS=${REPS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/mw.test" .
(cd ../../agent && go test -c -o "$out/path.test" .)

agent='github.com/hotpath-apm/hotpath/agent.(*handler).ServeHTTP'
mux='net/http.(*ServeMux).ServeHTTP'
# binary bench case function
cases=(
	"mw.test BenchmarkMiddlewareSettled mw=bare $mux"
	"mw.test BenchmarkMiddlewareSettled mw=apmhttp go.elastic.co/apm/module/apmhttp/v2.(*handler).ServeHTTP"
	"mw.test BenchmarkMiddlewareSettled mw=agent $agent"
	"mw.test BenchmarkMiddlewareSettled mw=otelhttp go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp.(*middleware).serveHTTP"
	"mw.test BenchmarkMiddlewareSettled mw=bare_healthz $mux"
	"mw.test BenchmarkMiddlewareSettled mw=agent_ignored $agent"
	"path.test BenchmarkRequestPathSettled handler=apmhttp go.elastic.co/apm/module/apmhttp/v2.(*handler).ServeHTTP"
	"path.test BenchmarkRequestPathSettled handler=agent $agent"
	"path.test BenchmarkRequestPathSettled handler=apmhttp_static go.elastic.co/apm/module/apmhttp/v2.(*handler).ServeHTTP"
	"path.test BenchmarkRequestPathSettled handler=agent_static $agent"
	"path.test BenchmarkRequestPathSettled handler=agent_inflight_idle $agent"
	"path.test BenchmarkRequestPathSettled handler=agent_listening $agent"
	"path.test BenchmarkRequestPathSettled handler=agent_listening_labels $agent"
)
for c in "${cases[@]}"; do
	read -r bin bench name fn <<<"$c"
	ir=()
	for n in "$N1" "$N2"; do
		least=
		for _ in $(seq "$REPS"); do
			GOMAXPROCS=1 ELASTIC_APM_METRICS_INTERVAL=0s ELASTIC_APM_CLOUD_PROVIDER=none ELASTIC_APM_API_REQUEST_TIME=60m \
				GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --toggle-collect="$fn" \
				--callgrind-out-file="$out/cg.out" "$out/$bin" -test.run '^$' \
				-test.bench "$bench/$name\$" -test.benchtime "${n}x" >/dev/null 2>"$out/cg.err"
			got=$(grep -m1 -o 'Collected : [0-9]*' "$out/cg.err" | awk '{print $3}')
			if [ -z "$least" ] || [ "$got" -lt "$least" ]; then least=$got; fi
		done
		ir+=("$least")
	done
	echo "$bench/$name $(((ir[1] - ir[0]) / (N2 - N1)))"
done
