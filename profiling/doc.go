// Package profiling captures the requests that are slow while they are still running, and links each
// capture to its trace. It is the process's one owner of runtime/pprof CPU profiling and of the
// execution-trace flight recorder (runtime/trace.FlightRecorder): everything else asks it.
//
// # Wiring
//
//	inflight := agent.NewInFlight()
//	p, err := profiling.New(profiling.WithInFlight(inflight))
//	if err != nil { ... }
//	defer p.Shutdown(ctx)
//	http.ListenAndServe(":8080", agent.Wrap(mux, agent.WithInFlight(inflight)))
//
// # Per-request labels
//
// Every request the agent traces runs its handler inside one pprof.Do with three labels, keys sorted:
// route (agent.Request.Route), trace.id and transaction.id (lower-case hex, as in the trace; the strings
// share the agent.Request's memory). The runtime copies a goroutine's labels to the goroutines it
// starts, so CPU samples and goroutine stacks of the handler and of its helpers are attributed to the
// request. With the flight recorder on (WithFlightRecorder), the request is also a trace region named by
// its route, with its transaction.id logged (trace.WithRegion, trace.Log: no allocation). Cost
// (BENCHMARKS.md): over agent.Wrap alone, 5 allocations per request (the agent's in-flight registry 1,
// the request copy carrying the labelled context 1, pprof.Do 3).
//
// # Slow-request captures
//
// The agent's watchdog tells the profiler (agent.Listener.RequestSlow) when a request has been running
// for its slow threshold and has not returned. If admission allows (at most WithMaxConcurrentCaptures
// at a time, WithRateLimit, one per route per WithRouteCooldown), the profiler, before RequestSlow
// returns and so while the handler still runs:
//   - takes a goroutine profile (the handler cannot have returned yet: the agent holds its end until
//     RequestSlow returns);
//   - holds the CPU ring from the request's start, so the chunks covering the request are kept;
//   - sets the transaction's label profile_id (LabelProfileID) to the capture's ID.
//
// A goroutine then takes a goroutine snapshot every WithGoroutineInterval until the request ends (or
// WithMaxCaptureDuration), and assembles the Capture: the CPU chunks from the request's start to its
// end merged, keeping only the samples labelled with its transaction.id; the goroutine snapshots merged,
// keeping only the request's goroutines; and, with the flight recorder on (WithFlightRecorder), the
// execution trace of the last seconds. The Capture is handed to the Uploader. A capture costs about
// 9 ms of CPU on a busy machine (goroutine snapshots, cutting and merging the CPU chunks): at the
// default rate limit, 10 a minute, 0.15 % of one core. Refused captures cost a lock.
//
// # Resource triggers
//
// WithTrigger watches a process resource (ResourceCPU, ResourceHeap, ResourceGoroutines,
// ResourceSchedLatency) every WithTriggerInterval, with holmes-style rules: an absolute threshold, or a
// jump above the average of the previous checks past a minimum, and a cooldown. A trigger captures the
// whole process: the CPU profile from one interval before to one after (the ring has the part before),
// the goroutine and heap profiles, and the flight recorder's window if it is on. The checker goroutine never blocks: reading
// runtime/metrics and getrusage does not, admission is a short lock, the capture runs on a goroutine of
// its own and its upload is queued without waiting (dropped when the queue is full).
//
// # On-demand handler
//
// Profiler.Handler is an http.Handler for an admin listener: cpu, heap, goroutine and trace profiles,
// bearer-token protected, GET only, with a capped seconds parameter. It never starts a second CPU
// profile or flight recorder: a CPU request takes its profile from the profiler's sampler (concurrent
// requests and captures share it), a trace request snapshots the flight recorder if it is on (else it
// traces the next seconds, one such request at a time); what is held outside the profiler gets 409
// with Retry-After.
//
// # The CPU ring, and what it costs
//
// runtime/pprof allows one CPU profile at a time in a process, and a profile's samples can only be read
// once it is stopped. To have a slow request's CPU samples from its first instruction, the profiler has
// to be profiling before anyone knows the request will be slow. So, by default, it profiles all the
// time, as a sequence of profiles (chunks of DefaultCPUChunk, 5 s), and keeps the chunks of the last
// DefaultCPURing (10 s): the ring. A capture holds the chunks since its request's start, and cuts the
// current chunk when the request ends, so it waits for nothing; the on-demand handler cuts at its start
// and end. Consumers never call pprof.StartCPUProfile themselves: they share the one profile.
//
// The trade-off, measured (BENCHMARKS.md):
//   - The ring costs continuous 100 Hz profiling (a SIGPROF and a stack walk per 10 ms of CPU) and
//     writing one profile per chunk. On a CPU-bound HTTP service armed (labels and the ring, the
//     default), perf attributes 1.5 % of the process's CPU to the profiler: writing the chunks 0.5 %,
//     the stack walks 0.4 %, the agent's in-flight registry and the profiler's bookkeeping 0.3 %, the
//     pprof labels 0.2 % (BenchmarkCPUBoundLoadMode); interleaved with the service without it, its CPU
//     time per request was 1.010 times as much (BenchmarkCPUBoundLoad, BENCHMARKS.md).
//   - Between two chunks the CPU profiler is off while pprof.StopCPUProfile writes the finished chunk
//     (Stats.CPUGap); samples in that gap are lost: 1.2 to 1.7 % of them at 5 s chunks with every P
//     busy on a loaded machine (the writer waits for a P). The gap hardly depends on the chunk's
//     length, so shorter chunks lose more (3 to 10 % at 1 s); longer ones only make the ring drop old
//     samples by bigger steps.
//   - WithoutCPURing costs nothing while nothing is slow: the CPU profiler runs only while a capture or
//     an on-demand request holds it. But a capture then starts profiling when its request crosses its
//     threshold, and misses the request's first threshold of running, often where its CPU went.
//   - The ring needs to reach back a request's threshold when the request crosses it: thresholds
//     longer than DefaultCPURing get a CPU profile that starts late (the capture says so in Errors).
//
// # The flight recorder
//
// WithFlightRecorder runs the runtime's execution-trace flight recorder (the last 5 s, at most about
// 8 MiB by default), and every capture then ends with a snapshot of it: what the request's goroutines
// and everything else in the process did, scheduling latency, GC, syscalls. It is off by default
// because execution tracing costs more than the rest of the profiler together, all the time: on the
// CPU-bound service above, perf attributes 3.4 % of the process's CPU to it (writing the trace events,
// each goroutine park, unpark, start and syscall with its stack: 3.2 %, of which the request's region
// and log about 0.5 %; the recorder's goroutine 0.1 %), over the 1.5 % of the armed profiler (the
// interleaved benchmark, whose profilers trace for under a second each, measured 1.039 times). Go
// documents its execution tracer at 1 to 2 %; this service, whose requests block and wake goroutines
// on loopback many times per millisecond of CPU, is a bad case. Turn it on where the trace of a slow
// request is worth that.
//
// # Shutting down
//
// Shutdown stops listening (requests already running finish unlabelled), stops the triggers, ends the
// captures still collecting with what they have, gives the CPU profiler and the flight recorder back,
// and waits for the queued uploads until its context is done; Close does not wait for uploads.
//
// # Upload wire format
//
// A finished capture is sent as the Elastic Go agent sends its periodic profiles to APM Server's
// /intake/v2/profile, extended with a capture part (what started the capture, the request's ids) and a
// trace part. Package profileupload owns the format, documented there; the uploader writes with it, and
// the hotpath collector reads with it. Any non-2xx answer is an upload failure (Stats.UploadFailures);
// there is no retry. A part that would pass its limit is left out, and said so in the capture's errors.
package profiling
