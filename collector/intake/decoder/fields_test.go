package decoder

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// Field checks for the fixtures that have no golden document, and for mappings the goldens do not
// exercise. Expected values follow apm-data's model decoder (input/elasticapm/internal/modeldecoder/v2).

func decodeFixture(t *testing.T, name string) []collector.Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	events, res, err := decodeAll(t, Options{}, body, backendBase())
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("Decode: %v %v", err, res.Errors)
	}
	return events
}

// decodeOne decodes the metadata line and one event line and returns the event (or the error).
func decodeOne(t *testing.T, meta, event string) (collector.Event, *Error) {
	t.Helper()
	events, res, err := decodeAll(t, Options{}, []byte(meta+"\n"+event+"\n"), backendBase())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		return collector.Event{}, res.Errors[0]
	}
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	return events[0], nil
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestOTelBridge(t *testing.T) {
	events := decodeFixture(t, "otel-bridge.ndjson")
	tx, sp := events[0], events[1]

	equal(t, "tx kind", tx.Kind, collector.KindTransaction)
	equal(t, "tx span.kind", tx.Span.Kind, "CONSUMER")
	equal(t, "tx type", tx.Transaction.Type, "tx_type")
	equal(t, "tx result", tx.Transaction.Result, "success")
	equal(t, "tx outcome", tx.Event.Outcome, "success")
	equal(t, "tx message", tx.Transaction.Message, &collector.Message{QueueName: "queue_name"})
	equal(t, "tx labels", tx.Labels, []collector.Label{
		{Key: "tag1", Value: "one", Global: true},
		{Key: "string_array", Values: []string{"a", "b"}},
	})
	equal(t, "tx numeric labels", tx.NumericLabels, []collector.NumericLabel{
		{Key: "tag2", Value: 2, Global: true},
		{Key: "int_array", Values: []float64{1, 2}},
	})
	equal(t, "tx span count", tx.Transaction.SpanCount, collector.SpanCount{Started: collector.Some[int32](20), Dropped: collector.Some[int32](3)})
	equal(t, "tx timestamp", tx.Timestamp, time.UnixMicro(1496170407154000).UTC())
	equal(t, "tx duration", tx.Event.Duration, 32592981*time.Nanosecond)

	// A span with http.* attributes becomes an external/http span, as apm-data's TranslateSpan does.
	equal(t, "span type", sp.Span.Type, "external")
	equal(t, "span subtype", sp.Span.Subtype, "http")
	equal(t, "span kind", sp.Span.Kind, "CLIENT")
	equal(t, "span http", sp.HTTP, &collector.HTTP{Request: collector.HTTPRequest{Method: "GET"}, Response: collector.HTTPResponse{StatusCode: 200}})
	equal(t, "span target", sp.Service.Target, collector.ServiceTarget{Type: "http"})
	equal(t, "span numeric labels", sp.NumericLabels, []collector.NumericLabel{
		{Key: "tag2", Value: 2, Global: true},
		{Key: "double_value", Value: 123.456},
	})
	equal(t, "span destination service", sp.Span.DestinationService, (*collector.DestinationService)(nil))
	equal(t, "span outcome", sp.Event.Outcome, "success")
	equal(t, "span representative count", sp.Span.RepresentativeCount, 1.0)
}

func TestSpanLinks(t *testing.T) {
	events := decodeFixture(t, "span-links.ndjson")
	sp, tx := events[0], events[1]
	equal(t, "span links", sp.Span.Links, []collector.SpanLink{{SpanID: "linked_span_1", TraceID: "linked_trace_1"}})
	equal(t, "tx links", tx.Span.Links, []collector.SpanLink{
		{SpanID: "linked_span_2", TraceID: "linked_trace_2"},
		{SpanID: "linked_span_3", TraceID: "linked_trace_3"},
	})
	// No timestamp: the request time plus start (1.845 ms).
	equal(t, "span timestamp", sp.Timestamp, requestTime.Add(1845*time.Microsecond))
	equal(t, "tx timestamp", tx.Timestamp, requestTime)
	equal(t, "span type", [3]string{sp.Span.Type, sp.Span.Subtype, sp.Span.Action}, [3]string{"request", "", ""})
}

func TestHugeTraces(t *testing.T) {
	events := decodeFixture(t, "transactions-huge_traces.ndjson")
	tx := events[0]
	equal(t, "http version", tx.HTTP.Version, "1.1")
	equal(t, "method", tx.HTTP.Request.Method, "POST")
	equal(t, "referrer", tx.HTTP.Request.Referrer, "http://localhost:8000/test/e2e/")
	equal(t, "url.scheme", tx.URL.Scheme, "https")
	equal(t, "runtime version override", tx.Service.Runtime, collector.NameVersion{Name: "node", Version: "7.0"})
	equal(t, "source ip", tx.Source.IP, netip.MustParseAddr("12.53.12.1"))
	equal(t, "client ip", tx.Client.IP, netip.MustParseAddr("12.53.12.1"))
	equal(t, "span count", tx.Transaction.SpanCount.Started, collector.Some[int32](20))
}

func TestEventsFixture(t *testing.T) {
	events := decodeFixture(t, "events.ndjson")
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, ev.Kind.String())
	}
	equal(t, "kinds", kinds, []string{"error", "span", "transaction", "metricset"})
	er, sp, tx, ms := events[0], events[1], events[2], events[3]
	equal(t, "error id", er.Error.ID, "9876543210abcdeffedcba0123456789")
	equal(t, "error transaction", *er.Transaction, collector.Transaction{ID: "1234567890987654", Sampled: true, Type: "request"})
	equal(t, "error span id", er.Span.ID, "1234567890987654")
	equal(t, "error timestamp", er.Timestamp, time.UnixMicro(1571657444929001).UTC())
	equal(t, "span sync", sp.Span.Sync, collector.Some(true))
	equal(t, "span type", [3]string{sp.Span.Type, sp.Span.Subtype, sp.Span.Action}, [3]string{"external", "http", "connect"})
	equal(t, "tx result", tx.Transaction.Result, "HTTP2xx")
	equal(t, "tx sampled", tx.Transaction.Sampled, true)
	equal(t, "metricset name", ms.Metricset.Name, "span_breakdown")
	if ms.Span.SelfTime == nil || ms.Span.SelfTime.Count != 1 {
		t.Errorf("self time %+v", ms.Span.SelfTime)
	}
	equal(t, "service node (context override)", er.Service.NodeName, "node-xyz")
	equal(t, "service node (metadata)", sp.Service.NodeName, "8ec7ceb990749e79b37f6dc6cd3628633618d6ce412553a552a0fa6b69419ad4")
	equal(t, "host name", [2]string{er.Host.Name, er.Host.Hostname}, [2]string{"host1", "8ec7ceb99074"})
}

func TestHeavyFixture(t *testing.T) {
	events := decodeFixture(t, "heavy.ndjson")
	counts := map[collector.Kind]int{}
	for _, ev := range events {
		counts[ev.Kind]++
		equal(t, "service", ev.Service.Name, "1234_service-12a3")
		equal(t, "host.ip", ev.Host.IP, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	}
	equal(t, "counts", counts, map[collector.Kind]int{
		collector.KindError: 480, collector.KindSpan: 480, collector.KindTransaction: 480, collector.KindMetricset: 480,
	})
	er, sp, tx, ms := events[0], events[1], events[2], events[3]
	equal(t, "error log", *er.Error.Log, collector.ErrorLog{Level: "custom log level", Message: "Cannot read property 'baz' of undefined"})
	equal(t, "error message", er.Message, "Cannot read property 'baz' of undefined")
	equal(t, "span timestamp", sp.Timestamp, requestTime.Add(1845*time.Microsecond))
	equal(t, "span duration", sp.Event.Duration, 3564298*time.Nanosecond)
	equal(t, "span transaction", sp.Transaction.ID, "ab23456a89012345")
	equal(t, "tx outcome", tx.Event.Outcome, "unknown")
	equal(t, "tx sampled (null)", tx.Transaction.Sampled, true)
	equal(t, "samples", ms.Metricset.Samples, []collector.MetricSample{{Name: "go.memstats.heap.sys.bytes", Value: 61235}})
}

// TestMappings exercises mapping rules one event at a time.
func TestMappings(t *testing.T) {
	const meta = `{"metadata":{"service":{"name":"svc","version":"1.0","agent":{"name":"go","version":"2"}},"user":{"id":"u1","email":"a@b"},"labels":{"a":"global","n":1,"b":true}}}`
	tx := func(fields string) string {
		return `{"transaction":{"id":"t1","trace_id":"tr","type":"request","duration":2,"span_count":{"started":1}` + fields + `}}`
	}
	span := func(fields string) string {
		return `{"span":{"id":"s1","trace_id":"tr","parent_id":"p","name":"n","type":"db.postgresql.query","duration":1,"start":0` + fields + `}}`
	}
	cases := []struct {
		name  string
		event string
		check func(t *testing.T, ev collector.Event)
	}{
		{"labels: event tags replace metadata labels of their kind", tx(`,"context":{"tags":{"a":"event","n":"now a string","c":2.5,"d":null}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "labels", ev.Labels, []collector.Label{{Key: "a", Value: "event"}, {Key: "b", Value: "true", Bool: true, Global: true}, {Key: "n", Value: "now a string"}})
			equal(t, "numeric", ev.NumericLabels, []collector.NumericLabel{{Key: "n", Value: 1, Global: true}, {Key: "c", Value: 2.5}})
		}},
		{"user: the event's user replaces the metadata's whole", tx(`,"context":{"user":{"username":"bob","id":42}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "user", ev.User, collector.User{Name: "bob", ID: "42"})
		}},
		{"user: an all-null user keeps the metadata's", tx(`,"context":{"user":{"username":null}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "user", ev.User, collector.User{ID: "u1", Email: "a@b"})
		}},
		{"service: a name override sets the version too", tx(`,"context":{"service":{"name":"other","environment":"prod","agent":{"version":"3"}}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "service", [3]string{ev.Service.Name, ev.Service.Version, ev.Service.Environment}, [3]string{"other", "", "prod"})
			equal(t, "agent", ev.Agent, collector.Agent{Name: "go", Version: "3"})
		}},
		{"client: socket address, then X-Forwarded-For", tx(`,"context":{"request":{"method":"GET","socket":{"remote_address":"10.0.0.1:1234"},"headers":{"x-forwarded-for":"1.2.3.4, 5.6.7.8","user-agent":["a","b"]}}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "client", ev.Client, collector.Client{IP: netip.MustParseAddr("1.2.3.4")})
			equal(t, "source", ev.Source, collector.Source{IP: netip.MustParseAddr("1.2.3.4"), NATIP: netip.MustParseAddr("10.0.0.1")})
			equal(t, "user agent", ev.UserAgent.Original, "a, b")
			equal(t, "headers", ev.HTTP.Request.Headers, []collector.Header{{Key: "X-Forwarded-For", Values: []string{"1.2.3.4, 5.6.7.8"}}, {Key: "User-Agent", Values: []string{"a", "b"}}})
		}},
		{"client: Forwarded wins, with its port", tx(`,"context":{"request":{"method":"GET","headers":{"Forwarded":"for=\"[2001:db8::1]:4711\";proto=http","X-Real-IP":"9.9.9.9"}}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "client", ev.Client, collector.Client{IP: netip.MustParseAddr("2001:db8::1"), Port: 4711})
		}},
		{"headers: keys canonicalized and merged", tx(`,"context":{"response":{"headers":{"content-type":"a","Content-Type":["b"],"x y":"c","empty":[]}}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "headers", ev.HTTP.Response.Headers, []collector.Header{{Key: "Content-Type", Values: []string{"a", "b"}}, {Key: "x y", Values: []string{"c"}}})
		}},
		{"outcome from the response status", tx(`,"context":{"response":{"status_code":503}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "outcome", ev.Event.Outcome, "failure")
		}},
		{"sample rate", tx(`,"sample_rate":0.25,"sampled":false`), func(t *testing.T, ev collector.Event) {
			equal(t, "representative count", ev.Transaction.RepresentativeCount, 4.0)
			equal(t, "sampled", ev.Transaction.Sampled, false)
		}},
		{"sample rate 0", tx(`,"sample_rate":0`), func(t *testing.T, ev collector.Event) {
			equal(t, "representative count", ev.Transaction.RepresentativeCount, 0.0)
		}},
		{"custom context normalized", tx(`,"context":{"custom":{"a":null,"b":[],"c":{},"d":{"e":null,"f":[{},1]},"g":1,"g":"last","h":"\u00e9\n"}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "custom", ev.Transaction.Custom, []collector.KeyValue{{Key: "d", Value: `{"f":[null,1]}`}, {Key: "g", Value: `"last"`}, {Key: "h", Value: `"\u00e9\n"`}})
		}},
		{"request body: object normalized", tx(`,"context":{"request":{"method":"POST","body":{"x":null,"y":{"z":1e3}}}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "body", ev.HTTP.Request.Body, collector.RawJSON(`{"y":{"z":1e3}}`))
		}},
		{"url from the request", tx(`,"context":{"request":{"method":"GET","url":{"raw":"/a?b","protocol":"https:","hostname":"h","port":"8443","pathname":"/a","search":"b","hash":"f","full":"https://h:8443/a?b#f"}}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "url", ev.URL, collector.URL{Original: "/a?b", Scheme: "https", Full: "https://h:8443/a?b#f", Domain: "h", Path: "/a", Query: "b", Fragment: "f", Port: 8443})
		}},
		{"url from the page when there is no request url", tx(`,"context":{"page":{"url":"http://x.org:81/p?q=1#h","referer":"r"}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "url", ev.URL, collector.URL{Original: "http://x.org:81/p?q=1#h", Scheme: "http", Full: "http://x.org:81/p?q=1#h", Domain: "x.org", Path: "/p", Query: "q=1", Fragment: "h", Port: 81})
			equal(t, "referrer", ev.HTTP.Request.Referrer, "r")
		}},
		{"span: dotted type split", span(``), func(t *testing.T, ev collector.Event) {
			equal(t, "type", [3]string{ev.Span.Type, ev.Span.Subtype, ev.Span.Action}, [3]string{"db", "postgresql", "query"})
			equal(t, "outcome", ev.Event.Outcome, "unknown")
		}},
		{"span: target from destination resource", span(`,"context":{"destination":{"address":"db","port":5432,"service":{"resource":"postgresql/customers"}},"db":{"statement":"SELECT 1","rows_affected":3}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "target", ev.Service.Target, collector.ServiceTarget{Type: "postgresql", Name: "customers"})
			equal(t, "destination", ev.Destination, collector.Destination{Address: "db", Port: 5432})
			equal(t, "db", *ev.Span.DB, collector.DB{Statement: "SELECT 1", RowsAffected: collector.Some[int64](3)})
		}},
		{"span: outcome from the deprecated status code", span(`,"context":{"http":{"status_code":404,"url":"http://x","method":"GET"}}`), func(t *testing.T, ev collector.Event) {
			equal(t, "outcome", ev.Event.Outcome, "failure")
			equal(t, "url", ev.URL.Original, "http://x")
			equal(t, "http", *ev.HTTP, collector.HTTP{Request: collector.HTTPRequest{Method: "GET"}, Response: collector.HTTPResponse{StatusCode: 404}})
		}},
		{"span: composite", span(`,"composite":{"compression_strategy":"same_kind","count":3,"sum":2.5}`), func(t *testing.T, ev collector.Event) {
			equal(t, "composite", *ev.Span.Composite, collector.Composite{CompressionStrategy: "same_kind", Count: 3, SumMillis: 2.5})
		}},
		{"span: start offset and string timestamp", span(`,"timestamp":"2022-09-08T13:47:29.111-0800"`), func(t *testing.T, ev collector.Event) {
			equal(t, "timestamp", ev.Timestamp, time.Date(2022, 9, 8, 21, 47, 29, 111e6, time.UTC))
		}},
		{"error: exception chain", `{"error":{"id":"e","exception":{"message":"top","code":500,"handled":false,"cause":[{"type":"A","cause":[{"message":"deep"}]},{"type":"B"}],"stacktrace":[{"filename":"f.go","lineno":10,"vars":{"v":1}}]}}}`, func(t *testing.T, ev collector.Event) {
			x := ev.Error.Exception
			equal(t, "code", x.Code, "500")
			equal(t, "handled", x.Handled, collector.Some(false))
			equal(t, "causes", len(x.Cause), 2)
			equal(t, "deep", x.Cause[0].Cause[0].Message, "deep")
			equal(t, "frame", x.Stacktrace, []collector.StackFrame{{Filename: "f.go", Lineno: collector.Some[int32](10), Vars: []collector.KeyValue{{Key: "v", Value: "1"}}}})
			equal(t, "message", ev.Message, "top")
		}},
		{"error: log level defaults to error", `{"error":{"id":"e","log":{"message":"m"}}}`, func(t *testing.T, ev collector.Event) {
			equal(t, "log", *ev.Error.Log, collector.ErrorLog{Message: "m", Level: "error"})
		}},
		{"metricset: histogram and internal drop", `{"metricset":{"samples":{"h":{"type":"histogram","unit":"s","values":[1,2],"counts":[3,4]},"g":{"type":"unknown-type","value":1.5}},"service":{"name":"over"}}}`, func(t *testing.T, ev collector.Event) {
			equal(t, "samples", ev.Metricset.Samples, []collector.MetricSample{
				{Name: "h", Type: collector.MetricHistogram, Unit: "s", Histogram: &collector.Histogram{Values: []float64{1, 2}, Counts: []uint64{3, 4}}},
				{Name: "g", Value: 1.5},
			})
			equal(t, "service", [2]string{ev.Service.Name, ev.Service.Version}, [2]string{"over", ""})
		}},
		{"log: nested ECS fields win over flat ones", `{"log":{"message":"m","log.level":"flat","log":{"level":"nested","origin":{"file":{"line":7}}},"error":{"message":"boom","stack_trace":"at x"},"service.name":"s2"}}`, func(t *testing.T, ev collector.Event) {
			equal(t, "log", *ev.Log, collector.Log{Level: "nested", FileLine: 7})
			equal(t, "error", *ev.Error, collector.Error{Message: "boom", StackTrace: "at x"})
			equal(t, "event.kind", ev.Event.Kind, "")
			equal(t, "service", ev.Service.Name, "s2")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := decodeOne(t, meta, c.event)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			c.check(t, ev)
		})
	}
}

// TestInternalMetricsetDropped: a metricset about a transaction without known internal samples is
// dropped without an error, as APM Server does.
func TestInternalMetricsetDropped(t *testing.T) {
	body := lines(metadataLine, `{"metricset":{"samples":{"transaction.duration.count":{"value":1}},"transaction":{"name":"x","type":"y"}}}`, txLine("a"))
	events, res, err := decodeAll(t, Options{}, []byte(body), backendBase())
	if err != nil || res.Accepted != 1 || len(res.Errors) != 0 || len(events) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
}

// TestValidation checks apm-data's schema rules and messages.
func TestValidation(t *testing.T) {
	long := strings.Repeat("é", 1025)
	cases := []struct{ event, message string }{
		{`{"transaction":{"id":"a","trace_id":"b","duration":1,"span_count":{"started":1}}}`, "validation error: transaction: 'type' required"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1}}`, "validation error: transaction: 'span_count' required"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":-1,"span_count":{"started":1}}}`, "validation error: transaction: 'duration': validation rule 'min(0)' violated"},
		{`{"transaction":{"id":"` + long + `","trace_id":"b","type":"t","duration":1,"span_count":{"started":1}}}`, "validation error: transaction: 'id': validation rule 'maxLength(1024)' violated"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"outcome":"maybe"}}`, "validation error: transaction: 'outcome': validation rule 'enum(enumOutcome)' violated"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"context":{"request":{"url":{"raw":"/"}}}}}`, "validation error: transaction: context: request: 'method' required"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"context":{"tags":{"x":[1]}}}}`, "validation error: transaction: context: 'tags': validation rule 'inputTypesVals(string;bool;number)' violated for key x"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"context":{"request":{"method":"GET","body":5}}}}`, "validation error: transaction: context: request: 'body': validation rule 'inputTypes(string;object)' violated "},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"context":{"user":{"id":1.5}}}}`, "validation error: transaction: context: user: 'id': validation rule 'inputTypes(string;int)' violated"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"context":{"user":{"id":-}}}}`, "validation error: transaction: context: user: 'id': validation rule 'inputTypes(string;int)' violated"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"links":[{"span_id":"x"}]}}`, "validation error: transaction: links: 'trace_id' required"},
		// Out of the range the collector can store and answer with (year 1 to 9999, time.Duration's span),
		// at the boundary and past it.
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"timestamp":253402300800000000}}`, "validation error: transaction: 'timestamp': validation rule 'max(253402300799999999)' violated"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":1,"span_count":{"started":1},"timestamp":300000000000000000}}`, "validation error: transaction: 'timestamp': validation rule 'max(253402300799999999)' violated"},
		{`{"error":{"id":"a","log":{"message":"m"},"timestamp":-1000000000000000000}}`, "validation error: error: 'timestamp': validation rule 'min(-62135596800000000)' violated"},
		{`{"error":{"id":"a","log":{"message":"m"},"timestamp":-62135596800000001}}`, "validation error: error: 'timestamp': validation rule 'min(-62135596800000000)' violated"},
		{`{"transaction":{"id":"a","trace_id":"b","type":"t","duration":9223372036855,"span_count":{"started":1}}}`, "validation error: transaction: 'duration': validation rule 'max(9223372036854)' violated"},
		{`{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","duration":1.7976931348623157e308,"start":0}}`, "validation error: span: 'duration': validation rule 'max(9223372036854)' violated"},
		{`{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","duration":1,"start":-1e300}}`, "validation error: span: 'start': validation rule 'max(9223372036854)' violated"},
		{`{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","duration":1}}`, "validation error: span: requires at least one of the fields 'start;timestamp'"},
		{`{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","duration":1,"start":0,"stacktrace":[{"lineno":1}]}}`, "validation error: span: stacktrace: requires at least one of the fields 'classname;filename'"},
		{`{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","duration":1,"start":0,"stacktrace":[null]}}`, "validation error: span: stacktrace slice element required"},
		{`{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","duration":1,"start":0,"composite":{"count":1,"sum":1,"compression_strategy":"x"}}}`, "validation error: span: composite: 'count': validation rule 'min(2)' violated"},
		{`{"error":{"id":"a"}}`, "validation error: error: requires at least one of the fields 'exception;log'"},
		{`{"error":{"id":"a","log":{"message":"m"},"transaction_id":"t"}}`, "validation error: error: 'parent_id' required when 'transaction_id' is set"},
		{`{"error":{"id":"a","exception":{"handled":true}}}`, "validation error: error: exception: requires at least one of the fields 'message;type'"},
		{`{"error":{"id":"a","exception":{"message":"m","cause":[{}]}}}`, "validation error: error: exception: cause slice element required"},
		{`{"metricset":{"samples":{}}}`, "validation error: 'metricset' required"},
		{`{"metricset":{"samples":{},"timestamp":1}}`, "validation error: metricset: 'samples' required"},
		{`{"metricset":{"samples":{"a":{"counts":[1]}}}}`, "validation error: metricset: samples: requires at least one of the fields 'value;values'"},
		{`{"metricset":{"samples":{"a*":{"value":1}}}}`, "validation error: metricset: 'samples': validation rule 'patternKeys(patternNoAsteriskQuote)' violated"},
		{`{"log":{"log":{"origin":{"file":{"line":1.5}}}}}`, `strconv.ParseInt: parsing "1.5": invalid syntax`},
		{`{"transaction":{"id":1}}`, `decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.ID: ReadString: expects " or n,`},
		{`{"transaction":{"duration":"1"}}`, `decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Duration: ReadFloat64: unexpected character,`},
		{`{"span":{"context":{"db":{"rows_affected":1.5}}}}`, `decode error: data read error: v2.spanRoot.Span: v2.span.Context: v2.spanContext.Database: v2.spanContextDatabase.RowsAffected: assertInteger: can not decode float as int,`},
		{`{"transaction":{"context":{"request":{"headers":{"a":1}}}}}`, `decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Context: v2.context.Request: v2.contextRequest.Headers: invalid input for HTTPHeader value type: json.Number,`},
		{`{"transaction":{"timestamp":"yesterday"}}`, `decode error: data read error: v2.transactionRoot.Transaction: v2.transaction.Timestamp: failed to parse the provided time string`},
	}
	for _, c := range cases {
		t.Run(c.message, func(t *testing.T) {
			_, err := decodeOne(t, metadataLine, c.event)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Message != c.message {
				t.Errorf("message\n got %q\nwant %q", err.Message, c.message)
			}
			if err.Document != c.event {
				t.Errorf("document %q", err.Document)
			}
			wantKind := ErrValidation
			if strings.HasPrefix(c.message, "decode error") {
				wantKind = ErrDecode
			}
			if err.Kind != wantKind {
				t.Errorf("kind %v", err.Kind)
			}
		})
	}
}

func ExampleDecoder_Decode() {
	body := strings.NewReader(`{"metadata":{"service":{"name":"search","agent":{"name":"go","version":"2.7.0"}}}}
{"transaction":{"id":"a1","trace_id":"t1","type":"request","name":"GET /search","duration":12.5,"span_count":{"started":0}}}
{"span":{"id":"s1"}}
`)
	d := New(Options{})
	base := collector.Event{Timestamp: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	res, err := d.Decode(context.Background(), body, &base, collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		for _, ev := range *b {
			fmt.Println(ev.Kind, ev.Service.Name, ev.Transaction.Name, ev.Event.Duration)
		}
		return nil
	}))
	fmt.Println(res.Accepted, err)
	for _, e := range res.Errors {
		fmt.Println(e.Kind.HTTPStatus(), e.Message)
	}
	// Output:
	// transaction search GET /search 12.5ms
	// 1 <nil>
	// 400 validation error: span: requires at least one of the fields 'start;timestamp'
}

// TestTimeRangeEdges: the last microsecond of year 9999, the second of year 1 and the longest duration
// are accepted as they are (one past each is refused: TestValidation).
func TestTimeRangeEdges(t *testing.T) {
	ev, err := decodeOne(t, metadataLine, `{"transaction":{"id":"a","trace_id":"b","type":"t","duration":9223372036854,"span_count":{"started":1},"timestamp":253402300799999999}}`)
	if err != nil {
		t.Fatal(err.Message)
	}
	equal(t, "timestamp", ev.Timestamp, time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC))
	if ev.Event.Duration < 9223372036853*time.Millisecond {
		t.Errorf("duration %v", ev.Event.Duration)
	}
	// (The first microsecond of year 1 is time.Time's zero, which means "no timestamp": the next one.)
	ev, err = decodeOne(t, metadataLine, `{"error":{"id":"a","log":{"message":"m"},"timestamp":-62135596799999999}}`)
	if err != nil {
		t.Fatal(err.Message)
	}
	equal(t, "timestamp", ev.Timestamp, time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC))
}
