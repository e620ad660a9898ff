package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// The demo's progress line: on a terminal, one line rewritten every second; otherwise (a pipe, a file, a
// CI log), a line every 10 seconds.
const (
	progressTerminalEvery = time.Second
	progressLogEvery      = 10 * time.Second
)

// progressFigures is what the progress line says.
type progressFigures struct {
	load     loadFigures
	profiles uint64 // slow-request captures uploaded to the collector
}

func (f progressFigures) summary() string {
	s := fmt.Sprintf("%d searches", f.load.Requests)
	if f.load.Failed > 0 {
		s += fmt.Sprintf(" (%d failed)", f.load.Failed)
	}
	if f.load.Skipped > 0 {
		s += fmt.Sprintf(" (%d not sent: the service was behind)", f.load.Skipped)
	}
	p := func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return d.Round(time.Millisecond).String()
	}
	return s + fmt.Sprintf(", p50 %s, p99 %s, %d slow, %d profiled", p(f.load.P50), p(f.load.P99), f.load.Slow, f.profiles)
}

// progress writes the progress line.
type progress struct {
	w        io.Writer
	terminal bool
	every    time.Duration
	figures  func() progressFigures
}

// newProgress returns a progress line on w, every every (0: the default for w: progressTerminalEvery
// on a terminal, else progressLogEvery), of what figures returns.
func newProgress(w io.Writer, every time.Duration, figures func() progressFigures) *progress {
	p := &progress{w: w, terminal: isTerminal(w), figures: figures, every: every}
	if p.every <= 0 {
		p.every = progressLogEvery
		if p.terminal {
			p.every = progressTerminalEvery
		}
	}
	return p
}

// run writes the line every p.every until ctx is done; on a terminal it then ends the line.
func (p *progress) run(ctx context.Context) {
	began := time.Now()
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if p.terminal {
				fmt.Fprintln(p.w)
			}
			return
		case <-tick.C:
		}
		line := fmt.Sprintf("%6s  %s", time.Since(began).Round(time.Second), p.figures().summary())
		if p.terminal {
			fmt.Fprintf(p.w, "\r\x1b[K%s", line) // back to the line's start, clear it, rewrite it
		} else {
			fmt.Fprintln(p.w, line)
		}
	}
}

// isTerminal reports whether w is a character device (a terminal), without a dependency on x/term.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
