package profiling

import (
	"context"
	"errors"
	"io"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

func startSampler(t *testing.T, chunk, span time.Duration) *cpuSampler {
	t.Helper()
	s := newCPUSampler(chunk, span)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// checkChunks checks that chunks are valid CPU profiles, in order, and cover [from, to].
func checkChunks(t *testing.T, chunks []*cpuChunk, from, to time.Time) {
	t.Helper()
	if len(chunks) == 0 {
		t.Fatal("no chunks")
	}
	if chunks[0].start.After(from) || chunks[len(chunks)-1].end.Before(to) {
		t.Errorf("chunks cover [%v, %v], want [%v, %v]", chunks[0].start, chunks[len(chunks)-1].end, from, to)
	}
	for i, c := range chunks {
		p, err := profile.ParseData(c.data)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if p.SampleType[0].Type != "samples" || p.SampleType[1].Type != "cpu" {
			t.Fatalf("chunk %d: sample types %v", i, p.SampleType)
		}
		if i > 0 && c.start.Before(chunks[i-1].end) {
			t.Errorf("chunk %d starts before chunk %d ends", i, i-1)
		}
	}
}

// TestRingWindowCutsCurrentChunk: a window ending now does not wait for the chunk to end: it is cut.
func TestRingWindowCutsCurrentChunk(t *testing.T) {
	s := startSampler(t, time.Hour, time.Hour)
	from := time.Now()
	to := time.Now()
	chunks, err := s.window(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	checkChunks(t, chunks, from, to)
	if len(chunks) != 1 {
		t.Errorf("%d chunks", len(chunks))
	}
	// The ring keeps recording after the cut.
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if !running {
		t.Error("not recording after a cut")
	}
	if st := s.snapshotStats(); st.chunks != 1 || st.stopTime <= 0 || st.maxStop > st.stopTime {
		t.Errorf("stats %+v", st)
	}
}

// TestRingEvictsUnlessHeld: chunks older than the span are dropped, unless a hold from before them
// keeps them.
func TestRingEvictsUnlessHeld(t *testing.T) {
	s := startSampler(t, time.Hour, time.Nanosecond)
	start := time.Now()
	h, err := s.hold(start)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.window(context.Background(), start, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	chunks, err := s.window(context.Background(), start, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 4 {
		t.Fatalf("held: %d chunks, want 4", len(chunks))
	}
	checkChunks(t, chunks, start, chunks[3].end)
	s.release(h)
	if _, err := s.window(context.Background(), time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	n := len(s.chunks)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("released: %d chunks kept, want 1 (the last)", n)
	}
}

// TestNoRingRecordsOnlyWhileHeld: without a ring, nothing runs until a hold, and profiling stops once
// the last hold is released.
func TestNoRingRecordsOnlyWhileHeld(t *testing.T) {
	s := startSampler(t, time.Hour, 0)
	if running(s) {
		t.Fatal("recording with no hold")
	}
	h1, err := s.hold(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now() // recording started with the first hold
	h2, err := s.hold(from)
	if err != nil {
		t.Fatal(err)
	}
	if !running(s) {
		t.Fatal("not recording while held")
	}
	to := time.Now()
	chunks, err := s.window(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	checkChunks(t, chunks, from, to)
	s.release(h1)
	if !running(s) {
		t.Fatal("not recording while still held once")
	}
	s.release(h2)
	waitStopped(t, s)
	// The runtime's profiler is free again.
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatalf("CPU profiler still taken: %v", err)
	}
	pprof.StopCPUProfile()
}

// TestCPUBusy: when someone else has the CPU profiler, a ring cannot start and a hold fails, with
// ErrCPUBusy; once it is free, holds work.
func TestCPUBusy(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatal(err)
	}
	s := newCPUSampler(time.Hour, time.Hour)
	if err := s.start(); !errors.Is(err, ErrCPUBusy) {
		t.Errorf("ring start: %v, want ErrCPUBusy", err)
	}
	s.close() // a sampler that failed to start closes at once
	s = startSampler(t, time.Hour, 0)
	if _, err := s.hold(time.Now()); !errors.Is(err, ErrCPUBusy) {
		t.Errorf("hold: %v, want ErrCPUBusy", err)
	}
	pprof.StopCPUProfile()
	h, err := s.hold(time.Now())
	if err != nil {
		t.Fatalf("hold once free: %v", err)
	}
	s.release(h)
	waitStopped(t, s)
}

// TestCloseEndsWindows: a window waiting for a cut returns when the sampler closes.
func TestCloseEndsWindows(t *testing.T) {
	s := newCPUSampler(time.Hour, time.Hour)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	s.close()
	if _, err := s.window(context.Background(), time.Now(), time.Now()); err == nil {
		t.Error("window of a closed sampler with no chunks: no error")
	}
	if _, err := s.hold(time.Now()); err == nil {
		t.Error("hold of a closed sampler: no error")
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatalf("CPU profiler still taken after close: %v", err)
	}
	pprof.StopCPUProfile()
}

func running(s *cpuSampler) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// waitStopped waits, on the sampler's change notifications, for it to stop recording.
func waitStopped(t *testing.T, s *cpuSampler) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		r, ch := s.running, s.changed
		s.mu.Unlock()
		if !r {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatal("sampler still recording")
		}
	}
}
