package intake

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/decoder"
)

// Messages of APM Server's intake handler.
const (
	msgMethodNotAllowed = "only POST requests are supported"
	msgShuttingDown     = "server is shutting down"
	msgTimeout          = "request timed out"
	prefixStream        = "cannot handle stream: "
	prefixProcessBatch  = "cannot process batch: "
)

// serveEvents answers POST /intake/v2/events as APM Server's intake handler:
//
//   - auth first (401 {"error": ...});
//   - then method (only POST) and Content-Type (empty, or containing application/x-ndjson);
//   - the body is decompressed by Content-Encoding (gzip, deflate = zlib) or by sniffing;
//   - the stream is decoded and handed to the Processor a batch at a time; accepted counts the events
//     of every batch the Processor took;
//   - the answer is 202, with an empty body unless ?verbose, or the status of the worst error with
//     {"accepted": N, "errors": [...]} (at most 5 event errors, then the error that ended the stream)
//     and Connection: Close.
func (a *API) serveEvents(w http.ResponseWriter, r *http.Request, x *exchange) {
	x.events = true
	if _, err := a.auth.authenticate(r.Header.Get("Authorization")); err != nil {
		x.fail(w, r, http.StatusUnauthorized, reasonUnauthorized, err.Error())
		return
	}
	received := time.Now()
	var res outcome
	switch ct := r.Header.Get("Content-Type"); {
	case r.Method != http.MethodPost:
		res.add(http.StatusBadRequest, reasonMethod, streamError{Message: msgMethodNotAllowed})
	case ct != "" && !strings.Contains(ct, contentTypeNDJSON):
		res.add(http.StatusBadRequest, reasonContentType, streamError{Message: "invalid content type: '" + ct + "'"})
	default:
		a.decodeStream(w, r, received, &res)
	}
	a.answer(w, r, x, &res)
}

// refusedBodyWait is how long the rest of a refused stream's body may take to arrive (see decodeStream).
const refusedBodyWait = time.Second

// decodeStream decodes r's body into res.
func (a *API) decodeStream(w http.ResponseWriter, r *http.Request, received time.Time, res *outcome) {
	ctx := r.Context()
	client := clientOf(r)
	dec, err := a.streams.acquire(ctx, client)
	if err != nil {
		if errors.Is(err, errMemoryBudget) {
			res.add(http.StatusServiceUnavailable, reasonMemoryBudget, streamError{Message: err.Error()})
		} else {
			res.add(http.StatusServiceUnavailable, slotReason(err), streamError{Message: slotMessage(err)})
		}
		// The body will not be decoded. net/http reads some of what is left of it before answering, so
		// that a client still sending gets the answer rather than a reset connection: a fast client's
		// body arrives within refusedBodyWait, a slow client's trickle is cut there rather than at the
		// read timeout.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refusedBodyWait))
		return
	}
	defer a.streams.release(dec, client)

	body, err := a.decomp.openBody(r, a.newPacer(w, r), a.cfg.MaxBodyBytes, a.cfg.MaxDecodedBytes)
	if err != nil {
		res.add(http.StatusBadRequest, reasonDecompression, streamError{Message: err.Error()})
		return
	}
	defer body.close()

	base := collector.Event{Timestamp: received}
	if ip := clientIP(r); ip.IsValid() {
		base.Host.IP = []netip.Addr{ip}
	}
	proc := a.processor
	var pl *pipeline
	if a.enqueuer != nil {
		pl = &pipeline{enq: a.enqueuer, enrich: a.enrich, max: a.cfg.MaxBatchesInFlight}
		proc = pl
	}
	budget := &streamBudget{b: a.budget}
	defer budget.release()
	body.budget = budget
	result, err := dec.Decode(ctx, body, &base, budget.releasing(proc))
	if pl != nil {
		lost, perr := pl.finish(err)
		result.Accepted -= lost
		if err == nil {
			err = perr
		}
	}
	a.metrics.bodyBytes.Add(float64(body.wire.n))
	res.accepted = result.Accepted
	a.metrics.rejected.WithLabelValues(reasonInvalidEvent).Add(float64(result.Invalid))
	a.metrics.rejected.WithLabelValues(reasonTooLarge).Add(float64(result.TooLarge))
	for _, e := range result.Errors {
		res.add(e.Kind.HTTPStatus(), "", streamError{Message: e.Message, Document: e.Document})
	}
	if err != nil {
		status, reason, se := a.classify(ctx, err, body.readErr())
		res.add(status, reason, se)
	}
}

// classify maps the error that ended a stream to APM Server's status and message. readErr is the error
// met reading the body, if any: it explains a decoding failure better than the decoder can.
func (a *API) classify(ctx context.Context, err, readErr error) (int, string, streamError) {
	var tooLarge *bodyTooLargeError
	var decErr *decoder.Error
	switch {
	case errors.Is(err, collector.ErrQueueFull):
		return http.StatusServiceUnavailable, reasonQueueFull, streamError{Message: withStreamPrefix(err)}
	case errors.Is(err, collector.ErrShuttingDown):
		return http.StatusServiceUnavailable, reasonShuttingDown, streamError{Message: msgShuttingDown}
	case errors.Is(err, collector.ErrStorageUnavailable):
		// A full or failing disk: the message says which, and agents retry a 503.
		return http.StatusServiceUnavailable, reasonStorage, streamError{Message: withStreamPrefix(err)}
	case errors.As(readErr, &tooLarge):
		return http.StatusBadRequest, reasonBodyTooLarge, streamError{Message: tooLarge.Error()}
	case errors.Is(readErr, errMemoryBudget):
		return http.StatusServiceUnavailable, reasonMemoryBudget, streamError{Message: errMemoryBudget.Error()}
	case errors.Is(readErr, errTooSlow):
		return http.StatusServiceUnavailable, reasonTooSlow, streamError{Message: msgTimeout}
	case readErr != nil && isTimeout(readErr), ctx.Err() != nil:
		return http.StatusServiceUnavailable, reasonTimeout, streamError{Message: msgTimeout}
	case readErr != nil:
		// Corrupt compressed data, or the connection broke.
		return http.StatusBadRequest, reasonDecompression, streamError{Message: errDecompression{readErr}.Error()}
	case errors.As(err, &decErr):
		// The metadata line was missing, invalid or too large.
		reason := reasonInvalidEvent
		if decErr.Kind == decoder.ErrTooLarge {
			reason = reasonTooLarge
		}
		return decErr.Kind.HTTPStatus(), reason, streamError{Message: decErr.Message, Document: decErr.Document}
	}
	// The request's log line (error level) carries the message.
	return http.StatusInternalServerError, reasonInternal, streamError{Message: withStreamPrefix(err)}
}

// slotReason is the reason label of a stream that got no slot: every slot busy, its client's share in
// use, or ctx ended while it waited.
func slotReason(err error) string {
	switch {
	case errors.Is(err, errClientStreamLimit):
		return reasonClientStreamLimit
	case errors.Is(err, errStreamLimit):
		return reasonStreamLimit
	}
	return reasonTimeout
}

// slotMessage is APM Server's message for a stream that got no slot.
func slotMessage(err error) string {
	if errors.Is(err, errStreamLimit) {
		return errStreamLimit.Error()
	}
	return msgTimeout
}

// withStreamPrefix gives a Processor's error APM Server's wording, "cannot handle stream: cannot
// process batch: queue is full", whether or not the decoder already wrapped it so.
func withStreamPrefix(err error) string {
	msg := err.Error()
	if !strings.HasPrefix(msg, prefixStream) {
		if !strings.HasPrefix(msg, prefixProcessBatch) {
			msg = prefixProcessBatch + msg
		}
		msg = prefixStream + msg
	}
	return msg
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// outcome is an intake answer being built: its status is the highest of its errors' (202 without).
type outcome struct {
	accepted int
	errors   []streamError
	status   int
	reason   string // of the error that set status
}

func (o *outcome) add(status int, reason string, e streamError) {
	o.errors = append(o.errors, e)
	switch {
	case status > o.status:
		o.status, o.reason = status, reason
	case status == o.status && o.reason == "":
		o.reason = reason
	}
}

// answer writes the outcome as APM Server's intake handler does.
func (a *API) answer(w http.ResponseWriter, r *http.Request, x *exchange, o *outcome) {
	status := o.status
	if status == 0 {
		status = http.StatusAccepted
	}
	a.metrics.accepted.Add(float64(o.accepted))
	x.accepted = o.accepted
	var body any
	if status >= http.StatusBadRequest {
		// Tells the client, and net/http, that the connection will be closed.
		w.Header().Add("Connection", "Close")
		body = streamResult{Accepted: o.accepted, Errors: o.errors}
		x.reason = o.reason
		msgs := make([]string, len(o.errors))
		for i, e := range o.errors {
			msgs[i] = e.Message
		}
		x.message = strings.Join(msgs, ", ")
	} else if _, verbose := r.URL.Query()["verbose"]; verbose {
		body = streamResult{Accepted: o.accepted}
	}
	x.reply(w, r, status, body)
}
