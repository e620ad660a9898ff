#!/usr/bin/env bash
# The collector's cost per event under intake load, measured as a user would: `hotpath collector` and
# `hotpath loadgen` as separate processes on loopback, a fresh data directory. It prints, per run:
#   - events/s acknowledged (202, sent after the batch's fsync) and the 202 latency (loadgen's report);
#   - the collector's CPU (utime + stime, /proc/<pid>/stat) per acknowledged event, over the load only
#     (from the first request to loadgen's exit) and again after SETTLE seconds of idle, which adds the
#     compactions the load left behind;
#   - the bytes the collector wrote to disk (/proc/<pid>/io write_bytes) per event, and the bytes kept
#     per event (the data directory's size after the settle), and their ratio (write amplification);
#     again against the tables and blob files alone, without the store's journal (its write-ahead log,
#     up to a few memtables' worth however long the run: a short run's data directory is much of it).
# CPU and bytes per event hardly depend on what else the machine runs; events/s does.
#
#	bench/collector/intake.sh                  # 3 runs of 30 s, 8 streams of 600 events per request
#	HP=/tmp/hp-old RUNS=1 bench/collector/intake.sh
#	HP=/tmp/hp-old LOADGEN=/tmp/hp-new RUNS=1 bench/collector/intake.sh   # an older collector, today's load generator
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-30s}
CONCURRENCY=${CONCURRENCY:-8}
EVENTS=${EVENTS:-600}
SETTLE=${SETTLE:-20}
ADDR=${ADDR:-127.0.0.1:18217}
if [[ -z "${HP:-}" ]]; then
	HP=$(mktemp /tmp/hotpath-intake.XXXXXX)
	go build -o "$HP" ./cmd/hotpath
	trap 'rm -f "$HP"' EXIT
fi
tck=$(getconf CLK_TCK)

cpu() { awk -v t="$tck" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
wbytes() { awk '/^write_bytes/ { print $2 }' "/proc/$1/io"; }

for run in $(seq "$RUNS"); do
	data=$(mktemp -d /tmp/hotpath-intake-data.XXXXXX)
	"$HP" collector --data "$data" --listen "$ADDR" --log-level warn &
	pid=$!
	for _ in $(seq 100); do
		curl -fsS "http://$ADDR/" >/dev/null 2>&1 && break
		sleep 0.1
	done
	cpu0=$(cpu $pid) wb0=$(wbytes $pid)
	out=$("${LOADGEN:-$HP}" loadgen -url "http://$ADDR" -duration "$DURATION" -concurrency "$CONCURRENCY" -events "$EVENTS")
	cpu1=$(cpu $pid) wb1=$(wbytes $pid)
	sleep "$SETTLE"
	cpu2=$(cpu $pid) wb2=$(wbytes $pid)
	kept=$(du -sb "$data" | cut -f1)
	# The data: the tables and blob files, without the journal (or, in older versions, the WAL files Pebble
	# kept to recycle): a fixed few memtables' worth however long the run, most of a short run's "kept".
	tables=$(find "$data" \( -name '*.sst' -o -name '*.blob' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	kill -INT $pid
	wait $pid || true
	rm -rf "$data"
	events=$(sed -n 's/.*acknowledged: \([0-9]*\) events.*/\1/p' <<<"$out")
	echo "run $run (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
	grep -E 'acknowledged|latency|answered|no answer' <<<"$out" | sed 's/^/  /'
	awk -v n="$events" -v c0="$cpu0" -v c1="$cpu1" -v c2="$cpu2" -v w0="$wb0" -v w1="$wb1" -v w2="$wb2" -v k="$kept" -v t="$tables" -v s="$SETTLE" 'BEGIN {
		printf "  collector CPU per event: %.2f us during the load, %.2f us with the %ss after it\n", (c1-c0)/n*1e6, (c2-c0)/n*1e6, s
		printf "  disk written per event: %.0f B during the load, %.0f B with the settle; kept %.0f B per event: %.2fx\n", (w1-w0)/n, (w2-w0)/n, k/n, (w2-w0)/k
		printf "  of what is kept, tables and blob files (no journal): %.0f B per event: written %.2fx that\n", t/n, (w2-w0)/t
	}'
done
