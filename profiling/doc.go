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
// route (agent.Request.Route), trace.id and transaction.id (lower-case hex, as in the trace). The runtime
// copies a goroutine's labels to the goroutines it starts, so CPU samples and goroutine stacks of the
// handler and of its helpers are attributed to the request.
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
// keeping only the request's goroutines; and a flight-recorder snapshot of the last seconds. The Capture
// is handed to the Uploader.
//
// # Resource triggers
//
// WithTrigger watches a process resource (ResourceCPU, ResourceHeap, ResourceGoroutines,
// ResourceSchedLatency) every WithTriggerInterval, with holmes-style rules: an absolute threshold, or a
// jump above the average of the previous checks past a minimum, and a cooldown. A trigger captures the
// whole process: the CPU profile from one interval before to one after (the ring has the part before),
// the goroutine and heap profiles, and the flight recorder. The checker goroutine never blocks: reading
// runtime/metrics and getrusage does not, admission is a short lock, the capture runs on a goroutine of
// its own and its upload is queued without waiting (dropped when the queue is full).
//
// # On-demand endpoint
//
// Profiler.Handler is an http.Handler for an admin listener: cpu, heap, goroutine and trace profiles,
// bearer-token protected, GET only, with a capped seconds parameter. It never starts a second CPU
// profile or flight recorder: a CPU request takes its profile from the profiler's sampler (concurrent
// requests and captures share it), a trace request snapshots the flight recorder; what is held outside
// the profiler gets 409 with Retry-After.
//
// # The CPU ring, and what it costs
//
// runtime/pprof allows one CPU profile at a time in a process, and a profile's samples can only be read
// once it is stopped. To have a slow request's CPU samples from its first instruction, the profiler has
// to be profiling before anyone knows the request will be slow. So, by default, it profiles all the time
// as a sequence of short profiles (chunks of DefaultCPUChunk, 1 s), and keeps the chunks of the last
// DefaultCPURing (10 s): the ring. A capture keeps the chunks since its request's start and cuts the
// current chunk when the request ends, so it waits for nothing. Between two chunks the profiler is off
// while pprof.StopCPUProfile writes the finished profile (Stats.CPUGap): samples in that gap are lost.
//
// The price is continuous 100 Hz CPU profiling (a SIGPROF per 10 ms of CPU, and a stack walk each) and
// the work of writing one profile per chunk. BENCHMARKS.md measures it on a CPU-bound HTTP service.
// WithoutCPURing trades the samples of the request's first threshold of running for no cost at all
// while nothing is slow: the CPU profiler then runs only while a capture or an on-demand request needs it.
package profiling
