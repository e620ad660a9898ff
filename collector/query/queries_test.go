package query

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// fakeShapes answers QueryShapes and QueryShape, and Dependencies and Dependency (a dependency is a
// shape of its own family), from fixed figures.
type fakeShapes struct {
	stats    []collector.QueryShapeStats
	examples []collector.QueryShapeExample
}

func (f fakeShapes) QueryShapes(_ context.Context, service string, from, to time.Time) ([]collector.QueryShapeRow, time.Time, time.Time, error) {
	return rowsOf(f.stats), from, to, nil
}

// rowsOf is stats as a listing has them.
func rowsOf(stats []collector.QueryShapeStats) []collector.QueryShapeRow {
	rows := make([]collector.QueryShapeRow, len(stats))
	for i := range stats {
		rows[i] = stats[i].Row()
	}
	return rows
}

func (f fakeShapes) QueryShape(_ context.Context, service, shape string, from, to time.Time, interval time.Duration) (
	collector.QueryShapeStats, []collector.QueryShapePoint, []collector.QueryShapeExample, error) {
	for _, st := range f.stats {
		if st.Shape == shape {
			return st, []collector.QueryShapePoint{{Start: from, QueryShapeStats: st}}, f.examples, nil
		}
	}
	return collector.QueryShapeStats{}, nil, nil, nil
}

func (f fakeShapes) Dependencies(ctx context.Context, service string, from, to time.Time) ([]collector.DependencyRow, time.Time, time.Time, error) {
	return f.QueryShapes(ctx, service, from, to)
}

func (f fakeShapes) Dependency(ctx context.Context, service, target string, from, to time.Time, interval time.Duration) (
	collector.DependencyStats, []collector.DependencyPoint, []collector.DependencyExample, error) {
	return f.QueryShape(ctx, service, target, from, to, interval)
}

func (f fakeShapes) QueryShapeExamples(_ context.Context, service, shape string, from, to time.Time) ([]collector.QueryShapeExample, error) {
	return f.examples, nil
}

func TestQueries(t *testing.T) {
	shapes := fakeShapes{
		stats: []collector.QueryShapeStats{
			{QueryShapeCounts: collector.QueryShapeCounts{Shape: "aaaa000000000001", Summary: "match[title] size≤10", DBType: "elasticsearch",
				Count: 100, Errors: 2, Sum: 100 * 5 * time.Millisecond, TookCount: 3}, Duration: hist(4000, 5000, 6000), Took: hist(1000, 2000, 3000)},
			{QueryShapeCounts: collector.QueryShapeCounts{Shape: "aaaa000000000002", Summary: "bool(should: match[title]×5–16) script_score(script 3fa1)",
				DBType: "elasticsearch", Count: 10, Sum: 10 * 900 * time.Millisecond, Truncated: true}, Duration: hist(900_000)},
		},
		examples: []collector.QueryShapeExample{{TraceID: "t1", TransactionID: "x1", SpanID: "s1", Duration: 900 * time.Millisecond, Statement: "{}"}},
	}
	a := newTestAPI(t, Config{Store: &fakeStore{}, Queries: shapes})
	body := getOK(t, a, "/api/v1/queries?service=search")
	qs := body["queries"].([]any)
	first, second := qs[0].(map[string]any), qs[1].(map[string]any)
	if len(qs) != 2 || first["shape"] != "aaaa000000000002" || first["truncated"] != true || first["took_us"] != nil ||
		first["overhead_us"] != nil || first["example"].(map[string]any)["span_id"] != "s1" {
		t.Errorf("by total time: %v", qs)
	}
	took := second["took_us"].(map[string]any)
	over := second["overhead_us"].(map[string]any)
	d := second["duration_us"].(map[string]any)
	if took["p50"].(float64) <= 0 || over["p50"].(float64) != d["p50"].(float64)-took["p50"].(float64) || second["errors"] != 2.0 {
		t.Errorf("took %v overhead %v duration %v", took, over, d)
	}
	for _, k := range []string{"from", "to", "service"} {
		if body[k] == nil {
			t.Errorf("no %q in %v", k, body)
		}
	}
	_, body = do(t, a, http.MethodGet, "/api/v1/queries?service=search&sort=count")
	if body["queries"].([]any)[0].(map[string]any)["shape"] != "aaaa000000000001" {
		t.Errorf("by count: %v", body["queries"])
	}

	body = getOK(t, a, "/api/v1/query?service=search&shape=aaaa000000000001&from=now-1h")
	if body["summary"] != "match[title] size≤10" || len(body["series"].([]any)) != 1 ||
		len(body["examples"].([]any)) != 1 || len(body["histogram"].([]any)) == 0 {
		t.Errorf("one shape: %v", body)
	}

}

// TestListingsAndDetails: /queries and /dependencies, and /query and /dependency, read alike (readListing,
// readDetail): a listing wants a service and refuses a sort it does not know, its shares add up to 1;
// one item wants its name, has the share its listing gives it (of the service's time in all its items),
// and is a 404 without calls in the range; without the reader neither path is served.
func TestListingsAndDetails(t *testing.T) {
	shapes := fakeShapes{stats: []collector.QueryShapeStats{
		{QueryShapeCounts: collector.QueryShapeCounts{Shape: "a", Count: 100, Sum: 100 * 5 * time.Millisecond}, Duration: hist(5000)},
		{QueryShapeCounts: collector.QueryShapeCounts{Shape: "b", Count: 10, Sum: 10 * 900 * time.Millisecond}, Duration: hist(900_000)},
	}}
	for _, c := range []struct {
		cfg       Config
		list, one string // the paths
		key       string // the parameter and field naming an item
	}{
		{Config{Store: &fakeStore{}, Queries: shapes}, "queries", "query", "shape"},
		{Config{Store: &fakeStore{}, Dependencies: shapes}, "dependencies", "dependency", "target"},
	} {
		t.Run(c.list, func(t *testing.T) {
			a := newTestAPI(t, c.cfg)
			for _, bad := range []string{c.list, c.list + "?service=search&sort=name", c.one + "?service=search"} {
				if code, body := do(t, a, http.MethodGet, "/api/v1/"+bad); code != http.StatusBadRequest {
					t.Errorf("%s: %d %v, want 400", bad, code, body)
				}
			}
			items := getOK(t, a, "/api/v1/"+c.list+"?service=search&from=now-1h")[c.list].([]any)
			sum := 0.0
			for _, it := range items {
				item := it.(map[string]any)
				sum += item["share"].(float64)
				name := item[c.key].(string)
				one := getOK(t, a, "/api/v1/"+c.one+"?service=search&from=now-1h&"+c.key+"="+name)
				if one[c.key] != name || one["share"] != item["share"] {
					t.Errorf("%s %s: share %v, the listing's %v", c.one, name, one["share"], item["share"])
				}
			}
			if len(items) != 2 || sum < 0.999 || sum > 1.001 {
				t.Errorf("%d items, shares adding up to %v", len(items), sum)
			}
			if code, _ := do(t, a, http.MethodGet, "/api/v1/"+c.one+"?service=search&"+c.key+"=ffff"); code != http.StatusNotFound {
				t.Errorf("an item without calls: %d, want 404", code)
			}
			without := newTestAPI(t, Config{Store: &fakeStore{}})
			for _, path := range []string{c.list + "?service=search", c.one + "?service=search&" + c.key + "=a"} {
				if code, _ := do(t, without, http.MethodGet, "/api/v1/"+path); code != http.StatusNotFound {
					t.Errorf("%s without its reader: %d, want 404", path, code)
				}
			}
		})
	}
}
