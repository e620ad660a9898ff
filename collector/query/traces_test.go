package query

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
	"github.com/hotpath-apm/hotpath/collector"
)

func txEvent(id, parent, service, name string, start time.Time, d time.Duration) collector.Event {
	return collector.Event{Kind: collector.KindTransaction, Timestamp: start, TraceID: "t1", ParentID: parent,
		Service: collector.Service{Name: service}, Event: collector.EventInfo{Duration: d, Outcome: "success"},
		Transaction: &collector.Transaction{ID: id, Name: name, Type: "request", Result: "HTTP 2xx", Sampled: true},
		HTTP:        &collector.HTTP{Request: collector.HTTPRequest{Method: "GET"}, Response: collector.HTTPResponse{StatusCode: 200}},
		URL:         collector.URL{Full: "http://search/search?q=shoes"},
		Labels:      []collector.Label{{Key: "region", Value: "eu", Global: true}, {Key: "slow", Value: "true", Bool: true}},
	}
}

func spanEvent(id, parent, tx, name, typ, subtype string, start time.Time, d time.Duration) collector.Event {
	return collector.Event{Kind: collector.KindSpan, Timestamp: start, TraceID: "t1", ParentID: parent,
		Service: collector.Service{Name: "search"}, Event: collector.EventInfo{Duration: d, Outcome: "success"},
		Transaction: &collector.Transaction{ID: tx},
		Span:        &collector.Span{ID: id, Name: name, Type: typ, Subtype: subtype, Sync: collector.Some(true)},
	}
}

// TestWaterfall: a trace across two services comes back depth first, children by start time, with
// offsets from the trace's start, labels with their types, the db statement, errors attached.
func TestWaterfall(t *testing.T) {
	t0 := now.Add(-time.Minute)
	ms := time.Millisecond
	es := spanEvent("s3", "s1", "tx1", "Elasticsearch: POST /products/_search", "db", "elasticsearch", t0.Add(20*ms), 300*ms)
	es.Span.DB = &collector.DB{Type: "elasticsearch", Statement: `{"query":{"match":{"title":"shoes"}}}`, RowsAffected: collector.Some(int64(3))}
	es.Span.Action = "request"
	es.NumericLabels = []collector.NumericLabel{{Key: "es_took_ms", Value: 42}}
	es.Labels = []collector.Label{{Key: "es_index", Value: "products"}}
	es.Destination = collector.Destination{Address: "es", Port: 9200}
	es.URL.Path = "/products/_search"
	es.Service.Target = collector.ServiceTarget{Type: "elasticsearch"}
	seg := spanEvent("s2", "tx1", "tx1", "POST segmenter", "external", "http", t0.Add(5*ms), 10*ms)
	seg.URL.Original = "http://segmenter/segment"
	er := collector.Event{Kind: collector.KindError, Timestamp: t0.Add(330 * ms), TraceID: "t1", ParentID: "s3",
		Service: collector.Service{Name: "search"}, Transaction: &collector.Transaction{ID: "tx1"},
		Error: &collector.Error{ID: "e1", GroupingKey: "g", Culprit: "search.query",
			Exception: &collector.Exception{Type: "*url.Error", Message: "timeout", Handled: collector.Some(true)}}}
	events := []collector.Event{ // in the order they were stored: spans before their transaction
		es,
		spanEvent("s1", "tx1", "tx1", "build query", "app", "internal", t0.Add(15*ms), 320*ms),
		seg,
		txEvent("tx2", "s2", "segmenter", "POST /segment", t0.Add(6*ms), 8*ms),
		er,
		txEvent("tx1", "", "search", "GET /search", t0, 400*ms),
		{Kind: collector.KindMetricset, Timestamp: t0, TraceID: "t1", Metricset: &collector.Metricset{}}, // ignored
	}
	got := buildTrace("t1", records(events))
	var lines []string
	for _, it := range got.Items {
		lines = append(lines, fmt.Sprintf("%s%s %s +%d %d", strings.Repeat("  ", it.Depth), it.Kind, it.Name, it.OffsetUS, it.DurationUS))
	}
	want := []string{
		"transaction GET /search +0 400000",
		"  span POST segmenter +5000 10000",
		"    transaction POST /segment +6000 8000",
		"  span build query +15000 320000",
		"    span Elasticsearch: POST /products/_search +20000 300000",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("waterfall\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !got.Start.Equal(t0) || got.DurationUS != 400000 || !slices.Equal(got.Services, []string{"search", "segmenter"}) || got.Truncated {
		t.Errorf("trace: %+v", got)
	}
	root, esItem := got.Items[0], got.Items[4]
	if root.HTTP == nil || root.HTTP.StatusCode != 200 || root.HTTP.URL != "http://search/search?q=shoes" || root.Result != "HTTP 2xx" ||
		len(root.Labels) != 1 || root.Labels["slow"] != true {
		t.Errorf("root %+v", root)
	}
	if esItem.DB == nil || !strings.Contains(esItem.DB.Statement, "shoes") || *esItem.DB.RowsAffected != 3 ||
		esItem.Labels["es_took_ms"] != 42.0 || esItem.Labels["es_index"] != "products" || esItem.ErrorCount != 1 ||
		esItem.Destination.Port != 9200 || esItem.Destination.ServiceType != "elasticsearch" || !*esItem.Sync || esItem.TransactionID != "tx1" {
		t.Errorf("es span %+v", esItem)
	}
	// The Elasticsearch span sent no shape (another agent's): it gets the one its statement has, the
	// shape /queries counts it under; the segmenter call has none.
	want0, _ := queryshape.Request("/products/_search", []byte(es.Span.DB.Statement))
	if qs := esItem.QueryShape; qs == nil || qs.Shape != want0.ID || qs.Summary != want0.Summary || qs.Truncated {
		t.Errorf("es span's query shape %+v, want %s %q", qs, want0.ID, want0.Summary)
	}
	if got.Items[1].QueryShape != nil {
		t.Errorf("segmenter span's query shape %+v", got.Items[1].QueryShape)
	}
	if got.Items[1].HTTP.URL != "http://segmenter/segment" {
		t.Errorf("segmenter span %+v", got.Items[1].HTTP)
	}
	if len(got.Errors) != 1 || got.Errors[0].OffsetUS != 330000 || got.Errors[0].Type != "*url.Error" || !*got.Errors[0].Handled {
		t.Errorf("errors %+v", got.Errors)
	}
}

func TestWaterfallOrphansAndCycles(t *testing.T) {
	t0 := now
	events := []collector.Event{
		spanEvent("a", "missing", "tx", "orphan", "app", "", t0.Add(time.Millisecond), time.Millisecond),
		spanEvent("b", "c", "tx", "cycle b", "app", "", t0.Add(2*time.Millisecond), time.Millisecond),
		spanEvent("c", "b", "tx", "cycle c", "app", "", t0.Add(3*time.Millisecond), time.Millisecond),
		spanEvent("d", "d", "tx", "own parent", "app", "", t0.Add(4*time.Millisecond), time.Millisecond),
		spanEvent("e", "a", "tx", "child of orphan", "app", "", t0.Add(5*time.Millisecond), time.Millisecond),
	}
	got := buildTrace("t1", records(events))
	var lines []string
	for _, it := range got.Items {
		lines = append(lines, fmt.Sprintf("%d %s %v", it.Depth, it.Name, it.Orphan))
	}
	want := []string{"0 orphan true", "1 child of orphan false", "0 own parent true", "0 cycle b true", "1 cycle c false"}
	if !slices.Equal(lines, want) {
		t.Fatalf("got %q, want %q", lines, want)
	}
}

// TestWaterfallBound: a deep chain does not recurse, and past MaxTraceItems the answer is cut.
func TestWaterfallBound(t *testing.T) {
	events := make([]collector.Event, MaxTraceItems+1)
	parent := ""
	for i := range events {
		id := fmt.Sprint("s", i)
		events[i] = spanEvent(id, parent, "tx", id, "app", "", now.Add(time.Duration(i)), time.Microsecond)
		parent = id
	}
	got := buildTrace("t1", records(events))
	if len(got.Items) != MaxTraceItems || !got.Truncated || got.Items[MaxTraceItems-1].Depth != MaxTraceItems-1 {
		t.Fatalf("%d items, truncated %v", len(got.Items), got.Truncated)
	}
	got = buildTrace("t1", records(events[:MaxTraceItems]))
	if len(got.Items) != MaxTraceItems || got.Truncated {
		t.Fatalf("exactly MaxTraceItems: %d items, truncated %v", len(got.Items), got.Truncated)
	}
}

func TestTraceEndpoint(t *testing.T) {
	s := &fakeStore{traces: map[string][]collector.Event{
		"0af7651916cd43dd8448eb211c80319c": {txEvent("tx1", "", "search", "GET /search", now, time.Second)},
	}}
	a := newTestAPI(t, Config{Store: s})
	code, body := do(t, a, http.MethodGet, "/api/v1/traces/0af7651916cd43dd8448eb211c80319c")
	if code != 200 || body["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || len(body["items"].([]any)) != 1 {
		t.Fatalf("%d %v", code, body)
	}
	code, body = do(t, a, http.MethodGet, "/api/v1/traces/0af7651916cd43dd8448eb211c80319d")
	if code != 404 || !strings.Contains(body["error"].(string), "no trace") {
		t.Fatalf("unknown trace: %d %v", code, body)
	}
}

// TestAnswerThatDoesNotEncode: a stored event whose time cannot be written as JSON (past year 9999:
// intake refuses them now, older stores may hold some) is answered 500 with an error body, never 200
// with an empty or cut one.
func TestAnswerThatDoesNotEncode(t *testing.T) {
	s := &fakeStore{traces: map[string][]collector.Event{
		"0af7651916cd43dd8448eb211c80319c": {txEvent("tx1", "", "search", "GET /search", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Second)},
	}}
	code, body := do(t, newTestAPI(t, Config{Store: s}), http.MethodGet, "/api/v1/traces/0af7651916cd43dd8448eb211c80319c")
	if code != http.StatusInternalServerError || !strings.Contains(fmt.Sprint(body["error"]), "encoding the answer") {
		t.Fatalf("%d %v", code, body)
	}
}

// TestTraceReadIsBounded: the trace endpoint asks the store for maxTraceEvents events, not the whole
// trace, and says truncated when the store had that many.
func TestTraceReadIsBounded(t *testing.T) {
	const id = "0af7651916cd43dd8448eb211c80319c"
	evs := make([]collector.Event, maxTraceEvents+5)
	for i := range evs {
		evs[i] = txEvent(fmt.Sprintf("tx%d", i), "", "search", "GET /search", now, time.Millisecond)
	}
	s := &fakeStore{traces: map[string][]collector.Event{id: evs}}
	code, body := do(t, newTestAPI(t, Config{Store: s}), http.MethodGet, "/api/v1/traces/"+id)
	if code != 200 || body["truncated"] != true || len(body["items"].([]any)) != MaxTraceItems {
		t.Fatalf("%d truncated=%v items=%d", code, body["truncated"], len(body["items"].([]any)))
	}
	if !slices.Equal(s.traceLimits, []int{maxTraceEvents}) {
		t.Errorf("the store was asked for %v events", s.traceLimits)
	}
}
