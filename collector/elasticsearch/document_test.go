package elasticsearch_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
)

func render(t *testing.T, e *collector.Event) string {
	t.Helper()
	b, err := elasticsearch.AppendDocument(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	return string(b)
}

func TestEmptyGroupsAreLeftOut(t *testing.T) {
	e := collector.Event{
		Kind:      collector.KindLog,
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("x", 3600)),
		Log:       &collector.Log{},
		Message:   "m",
		Service:   collector.Service{Name: "s"},
		Cloud:     collector.Cloud{Origin: collector.CloudOrigin{Region: "r"}},
	}
	const want = `{"@timestamp":"2026-01-02T02:04:05.678Z","cloud":{"origin":{"region":"r"}},"message":"m","service":{"name":"s"}}`
	if got := render(t, &e); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	var zero collector.Event
	if got := render(t, &zero); got != `{"@timestamp":"1970-01-01T00:00:00.000Z"}` {
		t.Errorf("zero event: %s", got)
	}
}

func TestStringsAreEscaped(t *testing.T) {
	for _, s := range []string{`quote " and \ backslash`, "tab\tnewline\ncr\r\x00\x1f", "bad utf8 \xff\xfe end", "ünïcödé ✓ \u2028", ""} {
		e := collector.Event{Message: s, Labels: []collector.Label{{Key: s + "k", Value: s}}}
		var doc struct {
			Message string            `json:"message"`
			Labels  map[string]string `json:"labels"`
		}
		if err := json.Unmarshal([]byte(render(t, &e)), &doc); err != nil {
			t.Fatal(err)
		}
		want := validUTF8(s)
		if doc.Message != want {
			t.Errorf("message %q, want %q", doc.Message, want)
		}
		key := strings.NewReplacer(".", "_", "*", "_", `"`, "_").Replace(validUTF8(s + "k"))
		if doc.Labels[key] != want {
			t.Errorf("labels %q, want %q: %q", doc.Labels, key, want)
		}
	}
}

// validUTF8 replaces each byte of s that is not valid UTF-8 with U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for an invalid byte
		i += n
	}
	return b.String()
}

func TestLabelKeysSanitizedAndUnique(t *testing.T) {
	e := collector.Event{
		Labels: []collector.Label{{Key: "a.b", Value: "global", Global: true}, {Key: "x", Value: "1"},
			{Key: "a_b", Value: "event"}, {Key: "arr", Values: []string{"p", "q"}}, {Key: `q"*`, Value: "v"}},
		NumericLabels: []collector.NumericLabel{{Key: "n", Value: 1, Global: true}, {Key: "n", Value: 2.5},
			{Key: "many", Values: []float64{1, 1e21}}},
	}
	const want = `{"@timestamp":"1970-01-01T00:00:00.000Z","labels":{"x":"1","a_b":"event","arr":["p","q"],"q__":"v"},` +
		`"numeric_labels":{"n":2.5,"many":[1,1e+21]}}`
	if got := render(t, &e); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestNonFiniteNumbersAreRefused(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		e := collector.Event{NumericLabels: []collector.NumericLabel{{Key: "n", Value: f}}}
		dst := []byte("prefix")
		out, err := elasticsearch.AppendDocument(dst, &e)
		if err == nil || string(out) != "prefix" {
			t.Errorf("%v: %q, %v (want an error and dst unchanged)", f, out, err)
		}
	}
}

// The exception tree is flattened depth first; "parent" is written only when the parent is not the
// exception just before.
func TestExceptionChain(t *testing.T) {
	e := collector.Event{Kind: collector.KindError, Error: &collector.Error{Exception: &collector.Exception{
		Message: "A", Cause: []collector.Exception{
			{Message: "B", Cause: []collector.Exception{{Message: "C"}}},
			{Message: "D"},
		}}}}
	doc := render(t, &e)
	const want = `"exception":[{"message":"A"},{"message":"B"},{"message":"C"},{"message":"D","parent":0}]`
	if !strings.Contains(doc, want) {
		t.Errorf("%s\ndoes not contain %s", doc, want)
	}
}

func TestLogOriginAndMetricTypes(t *testing.T) {
	e := collector.Event{Kind: collector.KindLog, Log: &collector.Log{Level: "info", FunctionName: "main"}}
	if doc := render(t, &e); !strings.Contains(doc, `"log":{"level":"info","origin":{"file":{},"function":"main"}}`) {
		t.Errorf("log origin: %s", doc)
	}
	m := collector.Event{Kind: collector.KindMetricset, Metricset: &collector.Metricset{Name: "app", Samples: []collector.MetricSample{
		{Name: "h", Type: collector.MetricHistogram, Histogram: &collector.Histogram{Values: []float64{0.5, 1}, Counts: []uint64{3, 4}}},
		{Name: "s", Type: collector.MetricSummary, Summary: &collector.SummaryMetric{Count: 2, Sum: 3.5}},
		{Name: "c", Type: collector.MetricCounter, Unit: "ms", Value: 7},
		{Name: "g", Value: 0},
	}}}
	const want = `"samples":[{"counts":[3,4],"name":"h","type":"histogram","values":[0.5,1]},` +
		`{"name":"s","sum":3.5,"type":"summary","value_count":2},{"name":"c","type":"counter","unit":"ms","value":7},` +
		`{"name":"g","value":0}]`
	if doc := render(t, &m); !strings.Contains(doc, want) {
		t.Errorf("%s\ndoes not contain %s", doc, want)
	}
}

func TestIndexAndDocumentID(t *testing.T) {
	e := collector.Event{Kind: collector.KindSpan, TraceID: "0af7651916cd43dd8448eb211c80319c",
		Span:       &collector.Span{ID: "b7ad6b7169203331", Type: "db"},
		DataStream: collector.DataStream{Type: "traces", Dataset: "apm", Namespace: "default"}}
	if idx, err := elasticsearch.Index(&e); err != nil || idx != "traces-apm-default" {
		t.Errorf("index %q %v", idx, err)
	}
	if id := string(elasticsearch.AppendDocumentID(nil, &e)); id != "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331" {
		t.Errorf("_id %q", id)
	}
	e.Span.ID = `bad"id`
	if id := elasticsearch.AppendDocumentID(nil, &e); len(id) != 0 {
		t.Errorf("an id that needs escaping became _id %q", id)
	}
	if _, err := elasticsearch.Index(&collector.Event{}); err != elasticsearch.ErrNoDataStream {
		t.Errorf("no data stream: %v", err)
	}
}

// FuzzAppendDocument puts arbitrary strings and numbers in many fields: the document must always be
// valid JSON that gives the strings back (invalid UTF-8 as U+FFFD).
func FuzzAppendDocument(f *testing.F) {
	f.Add("message", "key", 1.5, int64(3))
	f.Add("\xff\"\\\n", "a.b*c", -1.25e-7, int64(-1))
	f.Add("", "", 1e300, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, s, key string, num float64, n int64) {
		if math.IsNaN(num) || math.IsInf(num, 0) {
			num = 0
		}
		e := collector.Event{
			Kind: collector.KindError, Message: s, TraceID: s, ParentID: s,
			Service:       collector.Service{Name: s, Target: collector.ServiceTarget{Name: s}},
			Labels:        []collector.Label{{Key: key, Value: s}, {Key: s, Values: []string{s, key}}},
			NumericLabels: []collector.NumericLabel{{Key: key, Value: num}},
			Process:       collector.Process{Argv: []string{s}, ThreadID: n},
			HTTP: &collector.HTTP{Request: collector.HTTPRequest{Headers: []collector.Header{{Key: key, Values: []string{s}}},
				Cookies: []collector.KeyValue{{Key: key, Value: `"v"`}}}},
			Error: &collector.Error{ID: s, Culprit: s, Exception: &collector.Exception{Message: s,
				Stacktrace: []collector.StackFrame{{Function: s, PreContext: []string{s}, Lineno: collector.Some(int32(n))}}}},
			Transaction: &collector.Transaction{Marks: []collector.Mark{{Group: key, Measurements: []collector.Measurement{{Name: s, Value: num}}}}},
		}
		b, err := elasticsearch.AppendDocument(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Message string `json:"message"`
			Service struct {
				Name string `json:"name"`
			} `json:"service"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("invalid JSON %v: %s", err, b)
		}
		want := validUTF8(s)
		if doc.Message != want || doc.Service.Name != want {
			t.Fatalf("strings changed: %q %q, want %q", doc.Message, doc.Service.Name, want)
		}
	})
}
