package intake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"

	"github.com/hotpath-apm/hotpath/collector"
)

// Receivers of other protocols mounted beside intake (the OTLP receiver, collector/intake/otlp) share
// intake's guarantees through an Admission: the same authentication, the same stream slots
// (MaxConcurrentStreams, StreamWait), the same body limits and decompression, the same memory budget,
// and the same path to the Processor (enrichment, then a durable commit). So the collector's memory
// and concurrency bounds hold for all protocols together.

// Errors of an Admission; see ErrorStatus for how intake answers them.
var (
	// ErrStreamLimit: every stream slot stayed busy for Config.StreamWait.
	ErrStreamLimit = errStreamLimit
	// ErrMemoryBudget: the decoded bytes held by all streams reached Config.MemoryBudget.
	ErrMemoryBudget = errMemoryBudget
	// ErrBodyTooLarge: the body passed Config.MaxBodyBytes or Config.MaxDecodedBytes (errors.Is finds
	// it in the error ReadBody returns, whose text names the limit).
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrDecompression: the body's compression does not decode.
	ErrDecompression = errors.New("data decoding error")
	// ErrTooSlow: the body arrived slower than Config.MinStreamRate allows (errors.Is also finds the
	// read's timeout in the error).
	ErrTooSlow = errTooSlow
)

// Authenticate checks an Authorization value, from an HTTP header or gRPC metadata, against the
// secret token and API keys; with none configured every value passes. The error's text is APM
// Server's 401 message.
func (a *API) Authenticate(authorization string) error {
	_, err := a.auth.authenticate(authorization)
	return err
}

// AuthRequired reports whether a secret token or API key is configured.
func (a *API) AuthRequired() bool { return a.auth.enabled() }

// Admission is one request of another protocol admitted into intake: it holds a stream slot until
// Close, and charges what it reads or is given to the memory budget until its batch is handed over.
type Admission struct {
	a      *API
	client netip.Prefix
	budget *streamBudget
	closed bool
}

// Admit takes a stream slot for a request from client (the connection's peer address: the slots a
// client may hold are Config.MaxStreamsPerClient), waiting up to Config.StreamWait; it fails with
// ErrStreamLimit, or ctx's error. The caller must Close the Admission.
func (a *API) Admit(ctx context.Context, client netip.Addr) (*Admission, error) {
	p := clientPrefix(client)
	if err := a.streams.take(ctx, p); err != nil {
		if errors.Is(err, errStreamLimit) {
			a.metrics.reject(slotReason(err))
		}
		return nil, err
	}
	return &Admission{a: a, client: p, budget: &streamBudget{b: a.budget}}, nil
}

// ReadBody reads r's whole body as intake reads event streams: decompressed by Content-Encoding
// (gzip, deflate) or by sniffing, within Config.MaxBodyBytes and maxDecoded (at most
// Config.MaxDecodedBytes; 0 means it), held to Config.MinStreamRate through w's connection, and
// charged to the memory budget. Errors wrap ErrBodyTooLarge, ErrMemoryBudget or ErrDecompression, or
// are the connection's (a read timeout, the client gone, or too slow: ErrTooSlow).
func (ad *Admission) ReadBody(w http.ResponseWriter, r *http.Request, maxDecoded int64) ([]byte, error) {
	a := ad.a
	if maxDecoded <= 0 || maxDecoded > a.cfg.MaxDecodedBytes {
		maxDecoded = a.cfg.MaxDecodedBytes
	}
	body, err := a.decomp.openBody(r, a.newPacer(w, r), a.cfg.MaxBodyBytes, maxDecoded)
	if err != nil {
		return nil, errors.Join(ErrDecompression, err)
	}
	defer body.close()
	body.budget = ad.budget
	var buf []byte
	if r.ContentLength > 0 && r.ContentLength <= min(a.cfg.MaxBodyBytes, maxDecoded) {
		buf = make([]byte, 0, r.ContentLength+1)
	}
	buf, err = readAll(body, buf)
	a.metrics.bodyBytes.Add(float64(body.wire.n))
	if rerr := body.readErr(); rerr != nil {
		var tooLarge *bodyTooLargeError
		switch {
		case errors.As(rerr, &tooLarge):
			a.metrics.reject(reasonBodyTooLarge)
			return nil, errors.Join(ErrBodyTooLarge, rerr)
		case errors.Is(rerr, errMemoryBudget):
			a.metrics.reject(reasonMemoryBudget)
			return nil, rerr
		case errors.Is(rerr, errTooSlow):
			a.metrics.reject(reasonTooSlow)
			return nil, rerr
		case isTimeout(rerr):
			return nil, rerr
		}
		if body.gz != nil || body.zl != nil {
			return nil, errors.Join(ErrDecompression, rerr)
		}
		return nil, rerr
	}
	if err != nil {
		return nil, errors.Join(ErrDecompression, err)
	}
	return buf, nil
}

// readAll is io.ReadAll into buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return buf, err
		}
	}
}

// Charge counts n bytes of a message that arrived decoded (a gRPC message) against the memory budget;
// past it the error is ErrMemoryBudget.
func (ad *Admission) Charge(n int) error {
	if err := ad.budget.take(n); err != nil {
		ad.a.metrics.reject(reasonMemoryBudget)
		return err
	}
	return nil
}

// Process hands b to the Processor as intake hands a batch of events: enriched as APM Server enriches
// events, and only returning nil once the batch is durable. The bytes charged so far are given back
// once the Processor has the batch. Errors are the Processor's (collector.ErrQueueFull,
// collector.ErrShuttingDown...). The events it accepted are counted in
// hotpath_intake_events_accepted_total.
func (ad *Admission) Process(ctx context.Context, b *collector.Batch) error {
	n := len(*b)
	err := ad.a.processor.ProcessBatch(ctx, b)
	ad.budget.release()
	switch {
	case err == nil:
		ad.a.metrics.accepted.Add(float64(n))
	case errors.Is(err, collector.ErrQueueFull):
		ad.a.metrics.reject(reasonQueueFull)
	case errors.Is(err, collector.ErrShuttingDown):
		ad.a.metrics.reject(reasonShuttingDown)
	case errors.Is(err, collector.ErrStorageUnavailable):
		ad.a.metrics.reject(reasonStorage)
	}
	return err
}

// Close gives back the stream slot and what is still charged to the budget.
func (ad *Admission) Close() {
	if ad.closed {
		return
	}
	ad.closed = true
	ad.budget.release()
	ad.a.streams.release(nil, ad.client)
}
