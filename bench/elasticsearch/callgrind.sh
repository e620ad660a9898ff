#!/usr/bin/env bash
# Instructions per rendered document, counted by callgrind over the whole process, garbage collection
# included, for both cases of BenchmarkRender: per document = (I(N2) - I(N1)) / ((N2 - N1) * 1920), so
# decoding the fixture and starting the binary cancel out. One P (-test.cpu 1), so that the count does not
# depend on how the GC's workers are scheduled; Go 1.26 reads the clock with RDTSCP, which valgrind 3.19
# does not know: cpu.rdtscp=off. Instruction counts do not depend on the load of the machine, unlike
# times. Needs valgrind.
#
#	bench/elasticsearch/callgrind.sh      # prints: case instructions-per-document
set -euo pipefail
cd "$(dirname "$0")"
N1=${N1:-4}
N2=${N2:-24}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/render.test" .
for name in impl=apm-data impl=hotpath; do
	ir=()
	for n in "$N1" "$N2"; do
		GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
			"$out/render.test" -test.run '^$' -test.bench "BenchmarkRender/$name\$" -test.benchtime "${n}x" \
			-test.cpu 1 >/dev/null 2>"$out/cg.err"
		ir+=("$(grep -m1 -o 'Collected : [0-9]*' "$out/cg.err" | awk '{print $3}')")
	done
	echo "$name $(( (ir[1] - ir[0]) / ((N2 - N1) * 1920) ))"
done
