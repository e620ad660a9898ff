package decoder

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/intake/otelattr"
)

// maxPoolBytes bounds the pool memory that invalid events may leave behind before the batch is handed
// on (a batch can then be smaller than BatchSize).
const maxPoolBytes = 8 << 20

// Defaults of Options.
const (
	// DefaultMaxEventSize is APM Server's default max_event_size: 300 KiB.
	DefaultMaxEventSize = 307200
	// DefaultBatchSize is the batch size APM Server's intake uses.
	DefaultBatchSize = 10
)

// Options configures a Decoder. Zero values mean the default.
type Options struct {
	// MaxEventSize is the largest line (event), in bytes, that is decoded; a longer one is rejected
	// with ErrTooLarge. Default DefaultMaxEventSize (307200, APM Server's). The Decoder keeps a buffer of
	// this size.
	MaxEventSize int
	// BatchSize is the number of events handed to the BatchProcessor at a time. Default
	// DefaultBatchSize (10, as APM Server).
	BatchSize int
}

// Decoder decodes intake v2 streams. It keeps buffers between streams, so it is meant to be reused
// (pooled by the caller); it is not safe for concurrent use.
type Decoder struct {
	maxEventSize int
	batchSize    int

	lines *lineReader
	arena arena
	s     scanner
	batch collector.Batch
	pool  pool

	meta     collector.Event // base event + the stream's metadata
	baseTime time.Time

	metaLS   labelSet // the metadata's labels, kept for the whole stream
	metaArgv []string

	ev       evScratch  // per-event state
	cold     evCold     // per-event state of events with a context; see coldW
	zeroCold evCold     // never written
	logf     logFields  // per-event state of log events
	v        validation // per-event validation result
	tmp      []byte     // scratch for building strings
	spans    []memberSpan

	labelTmp  []labelEntry
	sampleErr []string
	hdrTmp    []rawHeader
	attrTmp   []otelattr.Attr

	kvIdx, hdrIdx, markIdx, measureIdx, sampleIdx, labelIdx, rawHdrIdx, attrIdx keyIndex
}

// New returns a Decoder configured by opts.
func New(opts Options) *Decoder {
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = DefaultMaxEventSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	d := &Decoder{
		maxEventSize: opts.MaxEventSize,
		batchSize:    opts.BatchSize,
		lines:        newLineReader(opts.MaxEventSize),
		batch:        make(collector.Batch, 0, opts.BatchSize),
	}
	d.s.arena = &d.arena
	return d
}

// Decode reads one intake v2 stream from r (already decompressed) and hands its events to p, a batch of
// Options.BatchSize events at a time (the last one may be smaller).
//
// Every event starts as a copy of base (APM Server's "base event": the request time as Timestamp, the
// client's address, host.ip, the user agent...; its pointer fields are ignored), then the stream's
// metadata line is applied, then the event's own fields, exactly as APM Server's model decoder does.
//
// The events of a batch count as accepted when p returns nil. A line that cannot be decoded (invalid
// JSON, a schema violation, an unknown object type, too large) is recorded in the Result and decoding
// goes on with the next line, as APM Server does. The stream ends early, with what was accepted so far,
// when the metadata line is missing or invalid (recorded in the Result, error nil), when p returns an
// error, when reading r fails, or when ctx is done; the returned error then wraps the cause (p's errors
// as "cannot handle stream: cannot process batch: <err>", as APM Server words it).
func (d *Decoder) Decode(ctx context.Context, r io.Reader, base *collector.Event, p collector.BatchProcessor) (Result, error) {
	var res Result
	d.lines.reset(r)
	d.batch = d.batch[:0]
	d.pool.reset()
	d.meta = *base
	d.meta.HTTP, d.meta.Log, d.meta.Transaction, d.meta.Span, d.meta.Error, d.meta.Metricset = nil, nil, nil, nil, nil, nil
	d.baseTime = base.Timestamp

	line, err := d.lines.readLine()
	switch {
	case err == errLineTooLong:
		res.add(d.tooLarge(line))
		return res, nil
	case err == io.EOF && len(line) == 0:
		return res, nil // empty body
	case err == io.EOF:
		res.add(&Error{Kind: ErrMetadata, Message: "EOF while reading metadata", Document: string(line)})
		return res, nil
	case err != nil:
		return res, fmt.Errorf("cannot handle stream: %w", err)
	}
	if e := d.decodeMetadataLine(line); e != nil {
		res.add(e)
		return res, nil
	}

	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("cannot handle stream: %w", err)
		}
		line, err := d.lines.readLine()
		if err == errLineTooLong {
			res.add(d.tooLarge(line))
			continue
		}
		if err != nil && err != io.EOF {
			if perr := d.flush(ctx, p, &res); perr != nil {
				return res, perr
			}
			return res, fmt.Errorf("cannot handle stream: %w", err)
		}
		if len(line) > 0 {
			if e := d.decodeEventLine(line); e != nil {
				res.add(e)
				// Invalid events leave what they decoded in the pool until the batch is handed on.
				// Bound that: start over when no event needs the pool, or hand the batch on early.
				if d.pool.size() > maxPoolBytes {
					if len(d.batch) == 0 {
						d.pool.reset()
					} else if perr := d.flush(ctx, p, &res); perr != nil {
						return res, perr
					}
				}
			} else if len(d.batch) >= d.batchSize {
				if perr := d.flush(ctx, p, &res); perr != nil {
					return res, perr
				}
			}
		}
		if err == io.EOF {
			break
		}
	}
	if perr := d.flush(ctx, p, &res); perr != nil {
		return res, perr
	}
	return res, nil
}

func (d *Decoder) flush(ctx context.Context, p collector.BatchProcessor, res *Result) error {
	n := len(d.batch)
	if n == 0 {
		return nil
	}
	if err := p.ProcessBatch(ctx, &d.batch); err != nil {
		return fmt.Errorf("cannot handle stream: cannot process batch: %w", err)
	}
	res.Accepted += n
	d.batch = d.batch[:0]
	d.pool.reset()
	return nil
}

func (d *Decoder) tooLarge(line []byte) *Error {
	return &Error{Kind: ErrTooLarge, Message: "event exceeded the permitted size", Document: string(line)}
}

// eventType returns the first key of a line the way APM Server finds it: the text between the first
// quote (single or double) and the next one of the same kind, without parsing.
func eventType(line []byte) []byte {
	for i, c := range line {
		if c == '"' || c == '\'' {
			rest := line[i+1:]
			for j, c2 := range rest {
				if c2 == c {
					return rest[:j]
				}
			}
			return nil
		}
	}
	return nil
}

// decodeEventLine decodes one event line and appends the event to d.batch, or returns why it cannot.
func (d *Decoder) decodeEventLine(line []byte) *Error {
	typ := eventType(line)
	var kind collector.Kind
	var root, name string
	switch string(typ) {
	case "transaction":
		kind, root, name = collector.KindTransaction, "v2.transactionRoot", "transaction"
	case "span":
		kind, root, name = collector.KindSpan, "v2.spanRoot", "span"
	case "error":
		kind, root, name = collector.KindError, "v2.errorRoot", "error"
	case "metricset":
		kind, root, name = collector.KindMetricset, "v2.metricsetRoot", "metricset"
	case "log":
		kind, root, name = collector.KindLog, "v2.logRoot", "log"
	case "x", "e":
		// APM Server decodes these as RUM v3 transactions and errors, even in a v2 stream.
		return &Error{Kind: ErrDecode, Message: `decode error: RUM v3 events ("x", "e") are not supported`, Document: string(line)}
	default:
		return &Error{Kind: ErrUnknownType, Message: fmt.Sprintf("did not recognize object type: %q", typ), Document: string(line)}
	}

	arenaMark, arenaGen := len(d.arena.buf), d.arena.gen
	n := len(d.batch)
	if n == cap(d.batch) {
		d.batch = append(d.batch, collector.Event{})
	} else {
		d.batch = d.batch[:n+1]
	}
	ev := &d.batch[n]
	*ev = d.meta
	ev.Kind = kind

	d.s.reset(line)
	d.v.reset()
	d.ev.reset()
	d.pool.ls.start(d.meta.Labels, d.meta.NumericLabels)
	keep := true
	set := false
	d.v.push(name)
	if d.s.beginObject() {
		var key []byte
		for first := true; d.s.nextKey(&first, &key); {
			if string(key) != name {
				d.s.skip()
			} else {
				switch kind {
				case collector.KindTransaction:
					set = d.transaction(ev) || set
				case collector.KindSpan:
					set = d.span(ev) || set
				case collector.KindError:
					set = d.errorEvent(ev) || set
				case collector.KindMetricset:
					set = d.metricset(ev) || set
				case collector.KindLog:
					set = d.logEvent(ev) || set
				}
			}
			if d.s.err != nil {
				d.s.frame(root, key)
				break
			}
		}
	}
	d.v.pop()
	if d.s.err != nil && d.s.err.inKey {
		d.s.frame(root, nil)
	}
	if d.s.err == nil && !set {
		d.v.required(name)
	}
	if d.s.err == nil && d.v.msg == "" && d.v.raw == "" {
		keep = d.finish(ev)
	}
	var e *Error
	switch {
	case d.s.err != nil:
		e = &Error{Kind: ErrDecode, Message: "decode error: data read error: " + d.s.err.message(), Document: string(line)}
	case d.v.raw != "":
		e = &Error{Kind: ErrValidation, Message: d.v.raw, Document: string(line)}
	case d.v.msg != "":
		e = &Error{Kind: ErrValidation, Message: d.v.message(), Document: string(line)}
	}
	if e != nil || !keep {
		// What the event took from the pool stays there until the batch is handed on; see
		// Decode for the bound on it.
		d.batch = d.batch[:n]
		d.arena.rollback(arenaMark, arenaGen)
	}
	return e
}

// finish applies what depends on more than one field, in apm-data's order, once an event decoded
// without error. It reports false for an event APM Server drops without an error (a metricset of
// internal metrics none of which it knows).
func (d *Decoder) finish(ev *collector.Event) bool {
	switch ev.Kind {
	case collector.KindTransaction:
		d.finishTransaction(ev)
	case collector.KindSpan:
		d.finishSpan(ev)
	case collector.KindError:
		d.finishError(ev)
	case collector.KindMetricset:
		return d.finishMetricset(ev)
	case collector.KindLog:
		d.finishLog(ev)
	}
	return true
}
