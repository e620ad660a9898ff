#!/usr/bin/env bash
# Instructions per request on the request path, counted by callgrind, for the cases of
# BenchmarkMiddlewareSettled (this package) and BenchmarkRequestPathSettled (../../agent): callgrind
# collects only inside countedServe (--toggle-collect), the call of each request of the benchmark's loop,
# so the warm-up requests, the exporters' own goroutines, the flushes between requests and the
# benchmark's setup are not counted, nor (GOGC=off) the garbage collector's assists; per request =
# (I(N2) - I(N1)) / (N2 - N1).
#
# What made runs of the same code differ, and is kept out: the Go runtime caches a type assertion's
# answer at its call site one time in 1,024, at random (runtime.typeAssert), so the requests before a
# site's cache is filled cost ~100 instructions more per site, a random number of them (1-2 % per
# request between runs): the benchmarks serve 20,000 requests first, uncounted (settleWarmup). The
# memory profiler samples an allocation every 512 KiB at random, with a stack walk of a few thousand
# instructions: -test.memprofilerate makes it never. Go switches goroutines in ways callgrind's call
# tracking does not follow (a switch inside the counted function counts the other goroutine): one P
# (GOMAXPROCS=1), no periodic metrics from the Elastic tracer, no cloud metadata requests
# (ELASTIC_APM_CLOUD_PROVIDER=none), no new intake request every 10 s of (valgrind's slow) wall time
# (ELASTIC_APM_API_REQUEST_TIME=60m); a run that still counts another goroutine (the whole process now
# and then: hundreds of thousands of instructions per request) is left out by taking the least of REPS
# runs. With that, runs of the same code agree within about 20 instructions per request. Go 1.26 reads
# the clock with RDTSCP, which valgrind 3.19 does not know: cpu.rdtscp=off.
# Instruction counts do not depend on the load of the machine, unlike times. Needs valgrind.
#
#	bench/agent/callgrind.sh                    # prints: round case instructions-per-request
#	ROUNDS=3 CASES='apmhttp|agent$' bench/agent/callgrind.sh   # three rounds of the cases matching CASES
set -euo pipefail
cd "$(dirname "$0")"
N1=${N1:-1000}
N2=${N2:-3000}
REPS=${REPS:-3}
ROUNDS=${ROUNDS:-1}
CASES=${CASES:-.}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/mw.test" .
(cd ../../agent && go test -c -o "$out/path.test" .)

# binary bench case function
cases=(
	"mw.test BenchmarkMiddlewareSettled mw=bare github.com/hotpath-apm/hotpath/bench/agent.countedServe"
	"mw.test BenchmarkMiddlewareSettled mw=apmhttp github.com/hotpath-apm/hotpath/bench/agent.countedServe"
	"mw.test BenchmarkMiddlewareSettled mw=agent github.com/hotpath-apm/hotpath/bench/agent.countedServe"
	"mw.test BenchmarkMiddlewareSettled mw=otelhttp github.com/hotpath-apm/hotpath/bench/agent.countedServe"
	"mw.test BenchmarkMiddlewareSettled mw=bare_healthz github.com/hotpath-apm/hotpath/bench/agent.countedServe"
	"mw.test BenchmarkMiddlewareSettled mw=agent_ignored github.com/hotpath-apm/hotpath/bench/agent.countedServe"
	"path.test BenchmarkRequestPathSettled handler=apmhttp github.com/hotpath-apm/hotpath/agent_test.countedServe"
	"path.test BenchmarkRequestPathSettled handler=agent github.com/hotpath-apm/hotpath/agent_test.countedServe"
	"path.test BenchmarkRequestPathSettled handler=agent_nokey github.com/hotpath-apm/hotpath/agent_test.countedServe"
	"path.test BenchmarkRequestPathSettled handler=apmhttp_static github.com/hotpath-apm/hotpath/agent_test.countedServe"
	"path.test BenchmarkRequestPathSettled handler=agent_static github.com/hotpath-apm/hotpath/agent_test.countedServe"
	"path.test BenchmarkRequestPathSettled handler=agent_inflight_idle github.com/hotpath-apm/hotpath/agent_test.countedServe"
	"path.test BenchmarkRequestPathSettled handler=agent_listening github.com/hotpath-apm/hotpath/agent_test.countedServe"
	"path.test BenchmarkRequestPathSettled handler=agent_listening_labels github.com/hotpath-apm/hotpath/agent_test.countedServe"
)
for round in $(seq "$ROUNDS"); do
	for c in "${cases[@]}"; do
		read -r bin bench name fn <<<"$c"
		[[ $name =~ $CASES ]] || continue
		ir=()
		for n in "$N1" "$N2"; do
			least=
			for _ in $(seq "$REPS"); do
				GOMAXPROCS=1 ELASTIC_APM_METRICS_INTERVAL=0s ELASTIC_APM_CLOUD_PROVIDER=none ELASTIC_APM_API_REQUEST_TIME=60m \
					GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --toggle-collect="$fn" \
					--callgrind-out-file="$out/cg.out" "$out/$bin" -test.run '^$' -test.memprofilerate 1073741824 \
					-test.bench "$bench/$name\$" -test.benchtime "${n}x" >/dev/null 2>"$out/cg.err"
				got=$(grep -m1 -o 'Collected : [0-9]*' "$out/cg.err" | awk '{print $3}')
				if [ -z "$least" ] || [ "$got" -lt "$least" ]; then least=$got; fi
			done
			ir+=("$least")
		done
		echo "$round $bench/$name $(((ir[1] - ir[0]) / (N2 - N1)))"
	done
done
