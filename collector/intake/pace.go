package intake

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// errTooSlow ends a stream whose body arrived slower than Config.MinStreamRate allows (503 "request
// timed out", reason too_slow).
var errTooSlow = errors.New("request body arrived too slowly")

// pacer holds a request body to a minimum transfer rate, so that a client sending a byte a second
// (slowloris) loses its stream slot within seconds instead of holding it until a read timeout. It
// moves the connection's read deadline (http.ResponseController) as bytes arrive: at any time t after
// the stream started, it must have received
//
//	MinStreamRate × (t − StreamGrace) bytes (as received, compressed),
//
// where t counts only the time the server waited for the body (in Read): time the handler spends
// elsewhere (decoding, or waiting for the store under backpressure) is the server's, not the client's,
// and a client whose bytes wait in the connection meanwhile is not too slow.
//
// and it ends when the HTTP server's ReadTimeout from the handler's start ends, whatever its rate (the
// deadline the pacer sets replaces the server's, so it keeps that bound). The grace is for agents: the Elastic Go agent
// compresses events into a buffer and may send nothing at all until its request time
// (ELASTIC_APM_API_REQUEST_TIME, 10 s) ends the request; StreamGrace is longer. Every byte received
// buys 1/MinStreamRate seconds more, so a stream that sent its data quickly may then be idle.
//
// When the connection's deadline cannot be set (a ResponseWriter that does not support it), the pacer
// reads without one and the HTTP server's own timeouts apply. The deadline is left in place when the
// stream ends: it also bounds what the server reads of an unfinished body after the handler.
type pacer struct {
	r        io.Reader
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     float64       // bytes per second
	end      time.Time     // the server's ReadTimeout from start; zero without one
	n        int64         // bytes read
	deadline time.Time     // the read deadline last set; zero before the first read
	idle     time.Duration // time out of Read since start: the server's, which the deadline is moved by
	returned time.Time     // when the last Read returned (start before the first)
}

// paceStep is how far behind its due value the deadline may be left before it is moved: setting a
// deadline is a few atomic operations and a timer change, not worth doing on every read.
const paceStep = 250 * time.Millisecond

// newPacer paces r's body; w is r's ResponseWriter (nil: no pacing).
func (a *API) newPacer(w http.ResponseWriter, r *http.Request) *pacer {
	start := time.Now()
	p := &pacer{r: r.Body, start: start, returned: start, grace: a.cfg.StreamGrace, rate: float64(a.cfg.MinStreamRate)}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 {
		p.end = start.Add(srv.ReadTimeout)
	}
	if w != nil {
		p.rc = http.NewResponseController(w)
	}
	return p
}

// due is the read deadline after p.n bytes and p.idle out of Read.
func (p *pacer) due() time.Time {
	d := p.start.Add(p.idle + p.grace + time.Duration(float64(p.n)/p.rate*float64(time.Second)))
	if !p.end.IsZero() && d.After(p.end) {
		return p.end
	}
	return d
}

func (p *pacer) Read(b []byte) (int, error) {
	if p.rc != nil {
		p.idle += time.Since(p.returned)
		if d := p.due(); p.deadline.IsZero() || d.Sub(p.deadline) >= paceStep || (d.Equal(p.end) && !p.deadline.Equal(p.end)) {
			if err := p.rc.SetReadDeadline(d); err != nil {
				p.rc = nil // not supported here: the server's timeouts apply
			} else {
				p.deadline = d
			}
		}
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.rc != nil {
		p.returned = time.Now()
	}
	if err != nil && p.rc != nil && isTimeout(err) && (p.end.IsZero() || p.deadline.Before(p.end)) {
		return n, errors.Join(errTooSlow, err)
	}
	return n, err
}
