#!/usr/bin/env bash
# Instructions per event of both decoders of BenchmarkDecodeHeavy, counted by callgrind over the whole
# process, garbage collection included: per event = (I(N2) - I(N1)) / ((N2 - N1) * 1920), so reading the
# fixture and starting the binary cancel out. One P (-test.cpu 1: with two, the counts varied up to 20x
# with how the GC's workers were scheduled). The garbage collector still runs when the heap grows, and a
# difference can hold one cycle more or less: over N2 - N1 = 40 rounds (76,800 events) the apm-data
# decoder goes through dozens of cycles and hotpath's through few, so one cycle moves the figure by a few
# percent at most; the script prints the median of REPS runs of each count (and every run, for the
# spread). Go 1.26 reads the clock with RDTSCP, which valgrind 3.19 does not know: cpu.rdtscp=off.
# Instruction counts do not depend on the load of the machine, unlike times. Needs valgrind.
#
#	bench/decoder/callgrind.sh      # prints: case instructions-per-event, and the runs
set -euo pipefail
cd "$(dirname "$0")"
N1=${N1:-4}
N2=${N2:-44}
REPS=${REPS:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/decoder.test" .
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for name in impl=apm-data impl=hotpath; do
	ir=()
	runs=()
	for n in "$N1" "$N2"; do
		got=()
		for _ in $(seq "$REPS"); do
			GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
				"$out/decoder.test" -test.run '^$' -test.bench "BenchmarkDecodeHeavy/$name\$" -test.benchtime "${n}x" \
				-test.cpu 1 >/dev/null 2>"$out/cg.err"
			got+=("$(grep -m1 -o 'Collected : [0-9]*' "$out/cg.err" | awk '{print $3}')")
		done
		ir+=("$(median "${got[@]}")")
		runs+=("${n}x: ${got[*]}")
	done
	echo "$name $(((ir[1] - ir[0]) / ((N2 - N1) * 1920))) (${runs[*]})"
done
