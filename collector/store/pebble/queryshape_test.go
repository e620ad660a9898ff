package pebble

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/agent/queryshape"
	"github.com/hotpath-apm/hotpath/collector"
)

// esSpan is an Elasticsearch span of service: with the agent's shape labels when labelled, else only its
// statement (as other Elastic agents send it).
func esSpan(service, spanID, statement string, ts time.Time, d time.Duration, tookMs float64, outcome string, labelled bool) collector.Event {
	e := collector.Event{Kind: collector.KindSpan, Timestamp: ts, TraceID: "0af7651916cd43dd8448eb211c80319c",
		Service: collector.Service{Name: service}, Event: collector.EventInfo{Duration: d, Outcome: outcome},
		Transaction: &collector.Transaction{ID: "b7ad6b7169203331"},
		Span: &collector.Span{ID: spanID, Type: "db", Subtype: "elasticsearch",
			DB: &collector.DB{Type: "elasticsearch", Statement: statement}}}
	if tookMs >= 0 {
		e.NumericLabels = []collector.NumericLabel{{Key: "es_took_ms", Value: tookMs}}
	}
	if labelled {
		s, _ := queryshape.Search([]byte(statement))
		e.Labels = []collector.Label{{Key: "es_query_shape", Value: s.ID}, {Key: "es_query_summary", Value: s.Summary}}
	}
	return e
}

func TestQueryShapes(t *testing.T) {
	clk := newClock(t0)
	s := openTest(t, Config{Now: clk.Now})
	ts := t0.Add(-30 * time.Minute)
	match := func(q string) string { return `{"query":{"match":{"title":"` + q + `"}},"size":10}` }
	scripted := `{"query":{"script_score":{"query":{"match_all":{}},"script":{"source":"_score * 2"}}}}`
	mustProcess(t, s, collector.Batch{
		esSpan("search", "s1", match("shoes"), ts, 10*time.Millisecond, 4, "success", true),
		esSpan("search", "s2", match("laptop"), ts.Add(time.Minute), 30*time.Millisecond, 20, "failure", false),
		esSpan("search", "s3", scripted, ts, 900*time.Millisecond, 850, "success", false),
		esSpan("search", "s4", match("x"), ts.Add(-2*time.Hour), time.Second, -1, "success", false), // out of range
		esSpan("other", "s5", match("x"), ts, time.Second, -1, "success", false),
	})
	clk.Add(time.Hour) // another partition, the same minutes
	mustProcess(t, s, collector.Batch{esSpan("search", "s6", match("bag"), ts, 20*time.Millisecond, -1, "success", true)})

	ctx := context.Background()
	got, from, to, err := s.QueryShapes(ctx, "search", ts.Add(-time.Minute), ts.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !from.Equal(ts.Add(-time.Minute)) || !to.Equal(ts.Add(10*time.Minute)) {
		t.Errorf("range %v %v", from, to)
	}
	byShape := map[string]collector.QueryShapeRow{}
	for _, st := range got {
		byShape[st.Summary] = st
	}
	m, sc := byShape["match[title] size≤10"], byShape["match_all script_score(script "+scriptShort("_score * 2")+")"]
	if len(got) != 2 || m.Count != 3 || m.Errors != 1 || m.Sum != 60*time.Millisecond || m.TookCount != 2 ||
		m.DBType != "elasticsearch" || sc.Count != 1 {
		t.Fatalf("shapes %+v", got)
	}
	if p := m.Duration.P99; p < 29_000 || p > 31_000 {
		t.Errorf("match p99 %d µs", p)
	}
	if p := m.Took.P99; p < 19_000 || p > 21_000 {
		t.Errorf("match took p99 %d µs", p)
	}

	// A day: hourly figures, the same totals.
	day, from, _, err := s.QueryShapes(ctx, "search", ts.Add(-23*time.Hour), ts.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if from.Minute() != 0 || len(day) != 2 {
		t.Errorf("day: from %v, %d shapes", from, len(day))
	}
	var calls int64
	for _, st := range day {
		calls += st.Count
	}
	if calls != 5 {
		t.Errorf("day: %d calls, want 5", calls)
	}

	total, points, examples, err := s.QueryShape(ctx, "search", m.Shape, ts, ts.Add(5*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if total.Count != 3 || len(points) != 5 || points[0].Count != 2 || points[1].Count != 1 {
		t.Errorf("shape %+v, points %d", total, len(points))
	}
	if len(examples) != 3 || examples[0].SpanID != "s2" || examples[0].Statement != match("laptop") ||
		examples[0].TraceID == "" || examples[0].TransactionID != "b7ad6b7169203331" {
		t.Errorf("examples %+v", examples)
	}
}

// The slowest shapeExamples calls of an hour are kept, across commits.
func TestQueryShapeExamples(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	ts := t0.Add(-10 * time.Minute)
	q := `{"query":{"term":{"a":1}}}`
	for i := range 12 {
		mustProcess(t, s, collector.Batch{esSpan("search", string(rune('a'+i)), q, ts, time.Duration(i+1)*time.Millisecond, -1, "success", false)})
	}
	sh, _ := queryshape.Search([]byte(q))
	_, _, xs, err := s.QueryShape(context.Background(), "search", sh.ID, ts, ts.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != shapeExamples || xs[0].SpanID != "l" || xs[shapeExamples-1].SpanID != "h" {
		t.Errorf("examples %+v", xs)
	}
}

// scriptShort is how a summary names a script: the first 4 hex digits of its source's SHA-256.
func scriptShort(source string) string { return sha256Hex(source)[:4] }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// SQL spans (db.type sql) are shaped by their normalised statement: statements that differ only in
// their literals are one shape, of db type sql.
func TestQueryShapesSQL(t *testing.T) {
	s := openTest(t, Config{Now: newClock(t0).Now})
	ts := t0.Add(-10 * time.Minute)
	sqlSpan := func(id, stmt string) collector.Event {
		e := esSpan("shop", id, stmt, ts, 3*time.Millisecond, -1, "success", false)
		e.Span.Subtype, e.Span.DB.Type = "postgresql", "sql"
		return e
	}
	mustProcess(t, s, collector.Batch{
		sqlSpan("a", "SELECT * FROM products WHERE id = 1"),
		sqlSpan("b", "select * from products where id = $1"),
		sqlSpan("c", "SELECT * FROM products WHERE id IN (1, 2, 3)"),
		sqlSpan("d", "-- nothing"),
	})
	rows, _, _, err := s.QueryShapes(context.Background(), "shop", ts, ts.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, r := range rows {
		if r.DBType != "sql" {
			t.Errorf("%+v: db type %q", r, r.DBType)
		}
		counts[r.Summary] = r.Count
	}
	if len(rows) != 2 || counts["SELECT * FROM products WHERE id = ?"] != 2 || counts["SELECT * FROM products WHERE id IN (?)"] != 1 {
		t.Errorf("shapes %+v", rows)
	}
}

// decodeShapeExamples keeps what a stable sort, slowest then oldest first, of all the lists added
// would keep first: the same examples, in the same order, ties in the order they came.
func TestDecodeShapeExamplesKeepsSlowest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		n := 1 + r.IntN(12)
		var kept, all []shapeExample
		for list := range 1 + r.IntN(6) {
			xs := make([]shapeExample, r.IntN(8))
			for i := range xs {
				// Few distinct durations and times: many ties.
				xs[i] = shapeExample{micros: int64(r.IntN(4)), unixNanos: int64(r.IntN(3)), spanID: fmt.Sprintf("%d.%d", list, i)}
			}
			all = append(all, xs...)
			if err := decodeShapeExamples(appendShapeExamples(nil, xs), &kept, n); err != nil {
				t.Fatal(err)
			}
		}
		slices.SortStableFunc(all, func(a, b shapeExample) int { return slowerFirst(a.micros, a.unixNanos, b.micros, b.unixNanos) })
		if want := all[:min(n, len(all))]; !slices.Equal(kept, want) {
			t.Fatalf("round %d, n %d: kept %v, want %v", round, n, kept, want)
		}
	}
}
