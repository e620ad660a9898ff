package profiling

import (
	"bytes"
	"fmt"
	"runtime/trace"
	"sync"
)

// flightRecorder owns the process's runtime/trace.FlightRecorder (the runtime allows one): it keeps the
// last seconds of execution trace in memory, and snapshots them for captures and the on-demand handler,
// one at a time (FlightRecorder.WriteTo refuses concurrent calls; mu queues them instead).
type flightRecorder struct {
	fr   *trace.FlightRecorder
	size int // size of the last snapshot, to size the next buffer

	mu sync.Mutex // serializes WriteTo and guards size
}

func startFlightRecorder(cfg trace.FlightRecorderConfig) (*flightRecorder, error) {
	fr := trace.NewFlightRecorder(cfg)
	if err := fr.Start(); err != nil {
		return nil, fmt.Errorf("profiling: start the flight recorder: %w", err)
	}
	return &flightRecorder{fr: fr}, nil
}

// snapshot returns the execution trace of the recorder's window, uncompressed (go tool trace reads it).
func (f *flightRecorder) snapshot() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	buf := bytes.NewBuffer(make([]byte, 0, f.size+f.size/4))
	if _, err := f.fr.WriteTo(buf); err != nil {
		return nil, fmt.Errorf("profiling: flight recorder snapshot: %w", err)
	}
	f.size = buf.Len()
	return buf.Bytes(), nil
}

func (f *flightRecorder) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fr.Stop()
}
