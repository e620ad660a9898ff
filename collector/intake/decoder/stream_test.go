package decoder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hotpath-apm/hotpath/collector"
)

const metadataLine = `{"metadata":{"service":{"name":"svc","agent":{"name":"go","version":"2.7.0"}},"labels":{"team":"search"}}}`

// txLine is a minimal valid transaction.
func txLine(id string) string {
	return `{"transaction":{"id":"` + id + `","trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":1.5,"span_count":{"started":0}}}`
}

// paddedTx is a valid transaction line of exactly n bytes (an unknown key carries the padding).
func paddedTx(t testing.TB, n int) string {
	t.Helper()
	head := `{"transaction":{"id":"aaaaaaaaaaaaaaaa","trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":1,"span_count":{"started":0},"pad":"`
	tail := `"}}`
	if n < len(head)+len(tail) {
		t.Fatalf("line of %d bytes too short", n)
	}
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func TestStreamRules(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		opts     Options
		accepted int
		errors   []string // messages, in order
		docs     []string // documents, when checked
	}{
		{name: "empty body", body: "", accepted: 0},
		{name: "metadata only", body: metadataLine + "\n", accepted: 0},
		{name: "metadata without newline", body: metadataLine, errors: []string{"EOF while reading metadata"}, docs: []string{metadataLine}},
		{name: "no metadata", body: lines(txLine("a")), errors: []string{`"metadata" or "m" required`}, docs: []string{txLine("a")}},
		{name: "empty first line", body: "\n" + lines(metadataLine), errors: []string{`"metadata" or "m" required`}, docs: []string{""}},
		{name: "rum v3", body: lines(`{"m":{"se":{"n":"x"}}}`), errors: []string{`decode error: RUM v3 streams ("m" metadata) are not supported`}},
		{name: "invalid metadata stops the stream", body: lines(`{"metadata":{"service":{"name":"x"}}}`, txLine("a")),
			errors: []string{"validation error: metadata: service: 'agent' required"}},
		{name: "events", body: lines(metadataLine, txLine("a"), txLine("b")), accepted: 2},
		{name: "last line without newline", body: metadataLine + "\n" + txLine("a") + "\n" + txLine("b"), accepted: 2},
		{name: "empty lines skipped", body: lines(metadataLine, "", txLine("a"), "", "", txLine("b")), accepted: 2},
		{name: "whitespace line", body: lines(metadataLine, "  ", txLine("a")), accepted: 1, errors: []string{`did not recognize object type: ""`}},
		{name: "CRLF", body: strings.ReplaceAll(lines(metadataLine, txLine("a"), txLine("b")), "\n", "\r\n"), accepted: 2},
		{name: "trailing bytes after the value are ignored", body: lines(metadataLine, txLine("a")+"`garbage"), accepted: 1},
		{name: "decoding goes on after a bad line", body: lines(metadataLine, txLine("a"), `{"transaction":{`, `{"span":{}}`, txLine("b")),
			accepted: 2, errors: []string{"decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.readFieldHash: expect \",", "validation error: 'span' required"}},
		{name: "unknown type", body: lines(metadataLine, `{"tennis":{}}`, txLine("a")), accepted: 1, errors: []string{`did not recognize object type: "tennis"`}},
		{name: "type from single quotes", body: lines(metadataLine, `{'transaction':{}}`), errors: []string{"decode error: data read error: v2.transactionRoot.readFieldHash: expect \","}},
		{name: "null event", body: lines(metadataLine, `{"transaction":null}`), errors: []string{"validation error: 'transaction' required"}},
		{name: "at most five errors listed", body: lines(metadataLine, "{\"a\":1}", "{\"b\":1}", "{\"c\":1}", "{\"d\":1}", "{\"f\":1}", "{\"g\":1}", txLine("a")), accepted: 1,
			errors: []string{`did not recognize object type: "a"`, `did not recognize object type: "b"`, `did not recognize object type: "c"`, `did not recognize object type: "d"`, `did not recognize object type: "f"`}},
		{name: "RUM v3 events", body: lines(metadataLine, `{"x":{}}`, `{"e":{}}`), errors: []string{`decode error: RUM v3 events ("x", "e") are not supported`, `decode error: RUM v3 events ("x", "e") are not supported`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, res, err := decodeAll(t, c.opts, []byte(c.body), backendBase())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if res.Accepted != c.accepted {
				t.Errorf("accepted %d, want %d", res.Accepted, c.accepted)
			}
			var msgs []string
			for _, e := range res.Errors {
				msgs = append(msgs, e.Message)
			}
			if fmt.Sprint(msgs) != fmt.Sprint(c.errors) {
				t.Errorf("errors\n got %q\nwant %q", msgs, c.errors)
			}
			for i, doc := range c.docs {
				if i < len(res.Errors) && res.Errors[i].Document != doc {
					t.Errorf("document %d = %q, want %q", i, res.Errors[i].Document, doc)
				}
			}
		})
	}
}

func TestErrorCounts(t *testing.T) {
	var ls []string
	ls = append(ls, metadataLine)
	for i := 0; i < 7; i++ {
		ls = append(ls, `{"y":1}`)
	}
	ls = append(ls, paddedTx(t, 400), txLine("a"))
	_, res, err := decodeAll(t, Options{MaxEventSize: 300}, []byte(lines(ls...)), backendBase())
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Invalid != 7 || res.TooLarge != 1 || len(res.Errors) != MaxErrors {
		t.Fatalf("accepted %d invalid %d too large %d listed %d", res.Accepted, res.Invalid, res.TooLarge, len(res.Errors))
	}
	for _, e := range res.Errors {
		if e.Kind != ErrUnknownType || e.Kind.HTTPStatus() != 400 || e.Kind.String() != "unknown_type" {
			t.Errorf("%v: kind %v", e, e.Kind)
		}
	}
}

// TestEventSizeLimit checks the limit at its boundary, at APM Server's default size: a line fits when
// its content and '\n' fit in MaxEventSize bytes; a longer one is reported with its first MaxEventSize
// bytes, and the stream goes on.
func TestEventSizeLimit(t *testing.T) {
	const max = DefaultMaxEventSize
	fits := paddedTx(t, max-1)
	over := paddedTx(t, max)
	cases := []struct {
		name     string
		body     string
		reader   func(io.Reader) io.Reader
		accepted int
		tooLarge []string // documents
	}{
		{name: "content of max-1 bytes and newline", body: lines(metadataLine, fits, txLine("a")), accepted: 2},
		{name: "content of max bytes and newline", body: lines(metadataLine, over, txLine("a")), accepted: 1, tooLarge: []string{over[:max]}},
		{name: "much longer line", body: lines(metadataLine, paddedTx(t, 3*max+5), txLine("a")), accepted: 1, tooLarge: []string{paddedTx(t, 3*max+5)[:max]}},
		{name: "two long lines", body: lines(metadataLine, over, txLine("a"), over, txLine("b")), accepted: 2, tooLarge: []string{over[:max], over[:max]}},
		// The last line, without '\n', may fill the buffer when the reader reports io.EOF with its last
		// bytes (as HTTP bodies do), and not when the EOF comes with one more Read (bytes.Reader).
		{name: "last line of max bytes, EOF with data", body: metadataLine + "\n" + over, reader: iotest.DataErrReader, accepted: 1},
		{name: "last line of max bytes, EOF after data", body: metadataLine + "\n" + over, accepted: 0, tooLarge: []string{over}},
		{name: "last line of max+1 bytes", body: metadataLine + "\n" + paddedTx(t, max+1), reader: iotest.DataErrReader, tooLarge: []string{paddedTx(t, max+1)[:max]}},
		{name: "one byte at a time", body: lines(metadataLine, fits, over, txLine("a")), reader: iotest.OneByteReader, accepted: 2, tooLarge: []string{over[:max]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(c.body)
			if c.reader != nil {
				r = c.reader(r)
			}
			d := New(Options{})
			base := backendBase()
			res, err := d.Decode(context.Background(), r, &base, collector.ProcessBatchFunc(func(context.Context, *collector.Batch) error { return nil }))
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != c.accepted {
				t.Errorf("accepted %d, want %d", res.Accepted, c.accepted)
			}
			if len(res.Errors) != len(c.tooLarge) || res.TooLarge != len(c.tooLarge) {
				t.Fatalf("%d errors (%d too large), want %d", len(res.Errors), res.TooLarge, len(c.tooLarge))
			}
			for i, e := range res.Errors {
				if e.Kind != ErrTooLarge || e.Message != "event exceeded the permitted size" || e.Document != c.tooLarge[i] {
					t.Errorf("error %d: %v %q (document of %d bytes)", i, e.Kind, e.Message, len(e.Document))
				}
			}
		})
	}
}

func TestMetadataTooLarge(t *testing.T) {
	_, res, err := decodeAll(t, Options{MaxEventSize: 50}, []byte(lines(metadataLine, txLine("a"))), backendBase())
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || len(res.Errors) != 1 || res.Errors[0].Kind != ErrTooLarge || res.Errors[0].Document != metadataLine[:50] {
		t.Fatalf("%+v %v", res, res.Errors)
	}
}

func TestBatches(t *testing.T) {
	var ls []string
	ls = append(ls, metadataLine)
	for i := 0; i < 7; i++ {
		ls = append(ls, txLine(fmt.Sprint("tx", i)))
		if i == 3 {
			ls = append(ls, `{"bad":1}`)
		}
	}
	d := New(Options{BatchSize: 3})
	base := backendBase()
	var sizes []int
	var ids []string
	res, err := d.Decode(context.Background(), strings.NewReader(lines(ls...)), &base, collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		sizes = append(sizes, len(*b))
		for _, ev := range *b {
			ids = append(ids, ev.Transaction.ID)
		}
		return nil
	}))
	if err != nil || res.Accepted != 7 || len(res.Errors) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	if fmt.Sprint(sizes) != "[3 3 1]" || fmt.Sprint(ids) != "[tx0 tx1 tx2 tx3 tx4 tx5 tx6]" {
		t.Fatalf("batches %v, ids %v", sizes, ids)
	}
}

func TestProcessorError(t *testing.T) {
	for _, perr := range []error{collector.ErrQueueFull, collector.ErrShuttingDown} {
		t.Run(perr.Error(), func(t *testing.T) {
			var ls []string
			ls = append(ls, metadataLine)
			for i := 0; i < 10; i++ {
				ls = append(ls, txLine(fmt.Sprint(i)))
			}
			d := New(Options{BatchSize: 4})
			base := backendBase()
			calls := 0
			res, err := d.Decode(context.Background(), strings.NewReader(lines(ls...)), &base, collector.ProcessBatchFunc(func(context.Context, *collector.Batch) error {
				calls++
				if calls == 2 {
					return perr
				}
				return nil
			}))
			if !errors.Is(err, perr) || err.Error() != "cannot handle stream: cannot process batch: "+perr.Error() {
				t.Fatalf("error %v", err)
			}
			if res.Accepted != 4 || calls != 2 {
				t.Fatalf("accepted %d after %d calls", res.Accepted, calls)
			}
		})
	}
}

// failingReader returns its data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("unexpected EOF in gzip stream")
	body := lines(metadataLine, txLine("a"), txLine("b")) + `{"transaction":{"id":"c`
	d := New(Options{BatchSize: 10})
	base := backendBase()
	var got []string
	res, err := d.Decode(context.Background(), &failingReader{data: []byte(body), err: boom}, &base, collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		for _, ev := range *b {
			got = append(got, ev.Transaction.ID)
		}
		return nil
	}))
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	// The events read before the failure are handed on and accepted, as with APM Server.
	if res.Accepted != 2 || fmt.Sprint(got) != "[a b]" {
		t.Fatalf("accepted %d %v", res.Accepted, got)
	}
}

func TestContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := New(Options{})
	base := backendBase()
	_, err := d.Decode(ctx, strings.NewReader(lines(metadataLine, txLine("a"))), &base, collector.ProcessBatchFunc(func(context.Context, *collector.Batch) error { return nil }))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
}

// TestDecoderReuse decodes streams one after the other with one Decoder: nothing of a stream leaks into
// the next, and strings handed out stay as they were while the decoder goes on.
func TestDecoderReuse(t *testing.T) {
	d := New(Options{BatchSize: 1})
	var kept []string
	var labels [][]collector.Label
	p := collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		for _, ev := range *b {
			kept = append(kept, ev.Transaction.ID, ev.Service.Name)
			labels = append(labels, append([]collector.Label(nil), ev.Labels...))
		}
		return nil
	})
	base := backendBase()
	base.HTTP = &collector.HTTP{Version: "ignored"} // pointer fields of the base are ignored
	first := lines(metadataLine, txLine("first"), `{"transaction":{"id":"second","trace_id":"t","type":"x","duration":1,"span_count":{"started":1},"context":{"tags":{"team":"override","extra":"1"}}}}`)
	if _, err := d.Decode(context.Background(), strings.NewReader(first), &base, p); err != nil {
		t.Fatal(err)
	}
	second := lines(`{"metadata":{"service":{"name":"other","agent":{"name":"go","version":"1"}}}}`, txLine("third"))
	if _, err := d.Decode(context.Background(), strings.NewReader(second), &base, p); err != nil {
		t.Fatal(err)
	}
	if want := "[first svc second svc third other]"; fmt.Sprint(kept) != want {
		t.Fatalf("kept %v, want %s", kept, want)
	}
	want := "[[{team search [] false true}] [{team override [] false false} {extra 1 [] false false}] []]"
	if fmt.Sprint(labels) != want {
		t.Fatalf("labels %v\nwant %s", labels, want)
	}
}

// TestInvalidEventsBounded sends many invalid events that each decode a lot before failing: the memory
// they leave behind must not grow with their number.
func TestInvalidEventsBounded(t *testing.T) {
	frames := strings.Repeat(`{"filename":"f.go","lineno":1},`, 2000)
	bad := `{"span":{"stacktrace":[` + frames + `{"filename":"x"}]}}` // no id: invalid
	var b bytes.Buffer
	b.WriteString(metadataLine + "\n" + txLine("a") + "\n")
	for i := 0; i < 300; i++ {
		b.WriteString(bad + "\n")
	}
	d := New(Options{BatchSize: 1000})
	base := backendBase()
	peak := 0
	res, err := d.Decode(context.Background(), &peakReader{r: &b, d: d, peak: &peak}, &base, collector.ProcessBatchFunc(func(context.Context, *collector.Batch) error { return nil }))
	if err != nil || res.Accepted != 1 || res.Invalid != 300 {
		t.Fatalf("%v %+v", err, res)
	}
	if peak > maxPoolBytes+2<<20 {
		t.Fatalf("pool reached %d bytes", peak)
	}
}

// peakReader records the decoder's pool size between reads.
type peakReader struct {
	r    io.Reader
	d    *Decoder
	peak *int
}

func (p *peakReader) Read(b []byte) (int, error) {
	*p.peak = max(*p.peak, p.d.pool.size())
	return p.r.Read(b[:min(len(b), 4096)])
}

func TestNestingLimit(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	body := lines(metadataLine, `{"transaction":{"context":{"custom":`+deep+`}}}`, txLine("a"))
	_, res, err := decodeAll(t, Options{}, []byte(body), backendBase())
	if err != nil || res.Accepted != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "exceeded max depth") {
		t.Fatalf("%v %+v %v", err, res, res.Errors)
	}
	ok := strings.Repeat(`{"a":`, maxDepth-10) + "1" + strings.Repeat("}", maxDepth-10)
	body = lines(metadataLine, `{"transaction":{"id":"a","trace_id":"b","type":"c","duration":1,"span_count":{"started":1},"context":{"custom":{"x":`+ok+`}}}}`)
	_, res, err = decodeAll(t, Options{}, []byte(body), backendBase())
	if err != nil || res.Accepted != 1 {
		t.Fatalf("%v %+v %v", err, res, res.Errors)
	}
}
