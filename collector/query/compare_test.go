package query

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// fakeCompare serves fixed per-version aggregates and transactions; the real store is exercised
// through the API by cmd/hotpath's tests.
type fakeCompare struct {
	versions map[string]map[string]collector.Aggregate
	txs      []collector.TransactionSummary
}

func (f *fakeCompare) Versions(ctx context.Context, service string, from, to time.Time) ([]collector.VersionSeen, error) {
	return []collector.VersionSeen{{Version: "1.4.2", First: now.Add(-time.Hour), Last: now.Add(-time.Minute), Count: 3}}, nil
}

func (f *fakeCompare) VersionAggregates(ctx context.Context, service, version string, from, to time.Time) (map[string]collector.Aggregate, error) {
	return f.versions[version], nil
}

func (f *fakeCompare) VersionBreakdown(ctx context.Context, service, version, name string, from, to time.Time) ([]collector.SpanTypeTime, error) {
	return []collector.SpanTypeTime{{Type: "db", Subtype: version, Count: 1, Sum: time.Second}}, nil
}

// ScanLabel reads f.txs with two workers, alternately, as the store's partitions may be read.
func (f *fakeCompare) ScanLabel(ctx context.Context, service, key string, from, to time.Time, worker func() func(*collector.LabelledTransaction) (bool, error)) error {
	fns := [2]func(*collector.LabelledTransaction) (bool, error){worker(), worker()}
	for i, tx := range f.txs {
		lt := collector.LabelledTransaction{Name: tx.Name, Duration: tx.Duration, Outcome: tx.Outcome}
		for _, l := range tx.Labels {
			if l.Key == key {
				lt.Label, lt.Labelled = l.Value, true
				break
			}
		}
		if more, err := fns[i%2](&lt); !more || err != nil {
			return err
		}
	}
	return nil
}

func spreadHist(n int, lo, hi int64) collector.Aggregate {
	var us []int64
	for i := range n {
		us = append(us, lo+(hi-lo)*int64(i)/int64(n-1))
	}
	return collector.Aggregate{Count: int64(n), Successes: int64(n), Latency: hist(us...)}
}

func TestCompareByVersion(t *testing.T) {
	fc := &fakeCompare{versions: map[string]map[string]collector.Aggregate{
		"1.4.2": {"GET /search": spreadHist(1000, 50_000, 400_000), "GET /health": spreadHist(1000, 100, 200), "GET /rare": spreadHist(10, 10, 20)},
		"1.5.0": {"GET /search": spreadHist(1000, 20_000, 100_000), "GET /health": spreadHist(1000, 100, 200)},
	}}
	a := newTestAPI(t, Config{Store: &fakeStore{}, Compare: fc})
	body := getOK(t, a, "/api/v1/compare?service=search&by=version&a=1.4.2&b=1.5.0&from=now-24h")
	if body["by"] != "version" || body["a"] != "1.4.2" || body["b"] != "1.5.0" || body["min_count"] != 100.0 {
		t.Fatalf("header: %v", body)
	}
	eps := body["endpoints"].([]any)
	verdicts := map[string]string{}
	for _, e := range eps {
		e := e.(map[string]any)
		verdicts[e["name"].(string)] = e["verdict"].(string)
		for _, k := range []string{"a", "b", "p50", "p95", "p99", "p_value", "q_value", "errors"} {
			if _, ok := e[k]; !ok {
				t.Errorf("%s: no %q", e["name"], k)
			}
		}
	}
	want := map[string]string{"GET /search": "faster", "GET /health": "no_change", "GET /rare": "too_few"}
	for n, v := range want {
		if verdicts[n] != v {
			t.Errorf("%s: %s, want %s", n, verdicts[n], v)
		}
	}
	first := eps[0].(map[string]any)
	if first["name"] != "GET /search" {
		t.Errorf("first endpoint %v, want the changed one", first["name"])
	}
	p99 := first["p99"].(map[string]any)
	ci := p99["ci_us"].([]any)
	if d := p99["delta_us"].(float64); d >= 0 || ci[0].(float64) > d || ci[1].(float64) < d {
		t.Errorf("p99 %v", p99)
	}
	if side := first["a"].(map[string]any); side["count"] != 1000.0 || side["p99_us"].(float64) < 390_000 || side["error_rate"] != 0.0 {
		t.Errorf("side a %v", side)
	}
	bd := body["breakdown"].(map[string]any)
	if bd["a"].(map[string]any)["types"].([]any)[0].(map[string]any)["subtype"] != "1.4.2" {
		t.Errorf("breakdown %v", bd)
	}

	// One endpoint: its histograms, and the q-value of the whole comparison.
	code, one := do(t, a, http.MethodGet, "/api/v1/compare?service=search&by=version&a=1.4.2&b=1.5.0&name=GET+/search")
	if code != http.StatusOK || len(one["endpoints"].([]any)) != 1 {
		t.Fatalf("%d %v", code, one)
	}
	if one["endpoints"].([]any)[0].(map[string]any)["q_value"] != first["q_value"] {
		t.Errorf("q-value with name %v, without %v", one["endpoints"].([]any)[0].(map[string]any)["q_value"], first["q_value"])
	}
	h := one["histograms"].(map[string]any)
	if len(h["a"].([]any)) == 0 || len(h["b"].([]any)) == 0 {
		t.Errorf("histograms %v", h)
	}

	code, vs := do(t, a, http.MethodGet, "/api/v1/versions?service=search")
	if code != http.StatusOK || vs["versions"].([]any)[0].(map[string]any)["last_seen"] != "2026-03-01T12:00:00Z" {
		t.Errorf("versions: %d %v", code, vs)
	}
}

func TestCompareByLabel(t *testing.T) {
	fc := &fakeCompare{}
	for i := range 600 {
		cluster := []string{"es2", "es7", "es8"}[i%3]
		d := time.Duration(1000+i) * time.Millisecond
		if cluster == "es7" {
			d /= 4
		}
		fc.txs = append(fc.txs, collector.TransactionSummary{Name: "GET /search", Duration: d, Outcome: "success",
			Labels: []collector.SummaryLabel{{Key: "team", Value: "x"}, {Key: "es_cluster", Value: cluster}}})
	}
	a := newTestAPI(t, Config{Store: &fakeStore{}, Compare: fc})
	body := getOK(t, a, "/api/v1/compare?service=search&by=label:es_cluster&a=es2&b=es7")
	e := body["endpoints"].([]any)[0].(map[string]any)
	if e["verdict"] != "faster" || e["a"].(map[string]any)["count"] != 200.0 || e["b"].(map[string]any)["count"] != 200.0 {
		t.Errorf("%v", e)
	}
	if body["scanned"] != 600.0 || body["truncated"] != false || body["breakdown"] != nil {
		t.Errorf("scanned %v truncated %v breakdown %v", body["scanned"], body["truncated"], body["breakdown"])
	}
}

func TestCompareByTime(t *testing.T) {
	fs := &fakeStore{endpoints: map[string]collector.Aggregate{"GET /search": spreadHist(500, 1000, 2000)}}
	a := newTestAPI(t, Config{Store: fs})
	body := getOK(t, a, "/api/v1/compare?service=search&by=time&a_from=now-25h&a_to=now-24h&b_from=now-1h&b_to=now")
	if body["a"] != "2026-02-28T11:00:00Z/2026-02-28T12:00:00Z" || body["b_from"] != "2026-03-01T11:00:00Z" {
		t.Errorf("windows: %v %v", body["a"], body["b_from"])
	}
	if e := body["endpoints"].([]any)[0].(map[string]any); e["verdict"] != "no_change" {
		t.Errorf("%v", e)
	}
}

func TestCompareBadParameters(t *testing.T) {
	a := newTestAPI(t, Config{Store: &fakeStore{}, Compare: &fakeCompare{}})
	for _, tc := range []struct{ query, param string }{
		{"by=version&a=1&b=2", "service"},
		{"service=s&a=1&b=2", "by"},
		{"service=s&by=versions&a=1&b=2", "by"},
		{"service=s&by=label:&a=1&b=2", "by"},
		{"service=s&by=version&b=2", "a"},
		{"service=s&by=version&a=1", "b"},
		{"service=s&by=version&a=1&b=2&a_from=now-1h", "a_from"},
		{"service=s&by=time&a_to=now&b_from=now-1h&b_to=now", "a_from"},
		{"service=s&by=time&a_from=now-1h&a_to=now&b_from=now-1h", "b_to"},
		{"service=s&by=time&a_from=now&a_to=now-1h&b_from=now-1h&b_to=now", "a_from"},
		{"service=s&by=time&a_from=now-1h&a_to=now&b_from=now-100d&b_to=now", "b_from"},
		{"service=s&by=time&a_from=now-1h&a_to=now&b_from=now-1h&b_to=now&a=1", "a"},
		{"service=s&by=version&a=1&b=2&from=now&to=now-1h", "from"},
	} {
		code, body := do(t, a, http.MethodGet, "/api/v1/compare?"+tc.query)
		if code != http.StatusBadRequest || body["parameter"] != tc.param {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.query, code, body, tc.param)
		}
	}
	// Without a CompareReader: versions and labels are 404, time windows work.
	b := newTestAPI(t, Config{Store: &fakeStore{}})
	for _, q := range []string{"versions?service=s", "compare?service=s&by=version&a=1&b=2", "compare?service=s&by=label:k&a=1&b=2"} {
		if code, body := do(t, b, http.MethodGet, "/api/v1/"+q); code != http.StatusNotFound || !strings.Contains(body["error"].(string), "per-version") {
			t.Errorf("%s: %d %v", q, code, body)
		}
	}
}
