package search_test

import (
	"net/http"
	"testing"
	"time"

	search "github.com/hotpath-apm/hotpath/examples/search"
	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
	"github.com/hotpath-apm/hotpath/examples/search/stack"
)

// TestFailoverDuringOverload: with Elasticsearch overloaded from the start, a cached query is answered
// from the emergency cache, the breaker opens after TripAfter failures, then refuses searches at once:
// the cached one still answered from the cache, the others 503. Each transaction says who served it and
// what the breaker decided, and the state change is sent.
func TestFailoverDuringOverload(t *testing.T) {
	e := startStack(t, stack.Config{
		Overload:    esstandin.Overload{Length: time.Hour, Delay: 2 * time.Second},
		WarmQueries: []string{"러닝화"},
		Search: search.Config{Failover: search.Failover{On: true, Timeout: 50 * time.Millisecond,
			TripAfter: 2, OpenFor: time.Hour}},
	})
	get := func(q string) (int, string, time.Duration) {
		t.Helper()
		start := time.Now()
		resp, err := e.client.Get(e.st.SearchURL + "/search?q=" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Served-By"), time.Since(start)
	}
	// Closed: Elasticsearch does not answer within 50 ms, twice; the cache answers the warmed query,
	// the other gets 502.
	if code, by, _ := get("러닝화"); code != http.StatusOK || by != "emergency_cache" {
		t.Fatalf("cached query, Elasticsearch timing out: %d %q", code, by)
	}
	if code, by, _ := get("laptop"); code != http.StatusBadGateway || by != "rejected" {
		t.Fatalf("uncached query, Elasticsearch timing out: %d %q", code, by)
	}
	// Open: refused before the segmenter is even asked.
	if s := e.st.Service.Breaker(); s == nil {
		t.Fatal("no breaker")
	} else if state, _ := s.State(); state != "open" {
		t.Fatalf("breaker %s after two failures", state)
	}
	code, by, took := get("laptop")
	if code != http.StatusServiceUnavailable || by != "rejected" {
		t.Fatalf("uncached query, breaker open: %d %q", code, by)
	}
	if took > time.Second { // the stand-in would have taken 2 s
		t.Errorf("a refused search took %v", took)
	}
	if code, by, _ := get("러닝화"); code != http.StatusOK || by != "emergency_cache" {
		t.Fatalf("cached query, breaker open: %d %q", code, by)
	}

	e.flush()
	type want struct{ served, decision string }
	wants := []want{{"emergency_cache", "allowed"}, {"rejected", "allowed"}, {"rejected", "rejected"}, {"emergency_cache", "rejected"}}
	var got []want
	changes := 0
	for _, tx := range e.in.Transactions() {
		l := tx.Context.Tags
		switch {
		case tx.Type == "request" && tx.Name == "GET /search":
			served, _ := l["served_by"].(string)
			decision, _ := l["breaker_decision"].(string)
			got = append(got, want{served, decision})
		case tx.Type == "breaker":
			changes++
			if l["breaker_from"] != "closed" || l["breaker_to"] != "open" || l["breaker_failures"] != 2.0 {
				t.Errorf("state change labels %v", l)
			}
		}
	}
	if len(got) != len(wants) {
		t.Fatalf("search transactions %v, want %v", got, wants)
	}
	for i := range wants {
		if got[i] != wants[i] {
			t.Errorf("search %d: served_by, breaker_decision = %v, want %v", i, got[i], wants[i])
		}
	}
	if changes != 1 {
		t.Errorf("%d state changes sent, want 1", changes)
	}
}
