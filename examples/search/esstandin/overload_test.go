package esstandin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestOverloadSchedule(t *testing.T) {
	s := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := Overload{First: time.Minute, Every: 3 * time.Minute, Length: 30 * time.Second, Delay: time.Second}
	at := func(d time.Duration) time.Time { return s.Add(d) }
	for _, tc := range []struct {
		t        time.Duration
		in       bool
		from, to time.Duration // the current or next episode
		next     bool
	}{
		{0, false, time.Minute, time.Minute + 30*time.Second, true},
		{time.Minute - 1, false, time.Minute, time.Minute + 30*time.Second, true},
		{time.Minute, true, time.Minute, time.Minute + 30*time.Second, true},
		{time.Minute + 30*time.Second - 1, true, time.Minute, time.Minute + 30*time.Second, true},
		{time.Minute + 30*time.Second, false, 4 * time.Minute, 4*time.Minute + 30*time.Second, true},
		{4*time.Minute + 10*time.Second, true, 4 * time.Minute, 4*time.Minute + 30*time.Second, true},
	} {
		from, to, ok := o.Episode(s, at(tc.t))
		if ok != tc.in || (ok && (!from.Equal(at(tc.from)) || !to.Equal(at(tc.to)))) {
			t.Errorf("Episode(%v) = %v, %v, %v", tc.t, from.Sub(s), to.Sub(s), ok)
		}
		from, to, ok = o.Next(s, at(tc.t))
		if ok != tc.next || !from.Equal(at(tc.from)) || !to.Equal(at(tc.to)) {
			t.Errorf("Next(%v) = %v, %v, %v", tc.t, from.Sub(s), to.Sub(s), ok)
		}
	}
	once := Overload{Length: time.Second, Delay: time.Second}
	if _, _, ok := once.Episode(s, at(time.Second)); ok {
		t.Error("a single episode of 1 s still runs at 1 s")
	}
	if _, _, ok := once.Next(s, at(time.Second)); ok {
		t.Error("a single episode has a next one")
	}
	if _, _, ok := (Overload{}).Next(s, s); ok {
		t.Error("the zero Overload has episodes")
	}
}

// TestOverloadSlowsSearches: in fake time, a search answers at once outside an episode, Delay later in
// one, and 503 when its client gives up first.
func TestOverloadSlowsSearches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Config{Overload: Overload{First: time.Minute, Length: 30 * time.Second, Delay: 2 * time.Second}})
		h := s.Handler()
		do := func(ctx context.Context, method, path, body string) (int, time.Duration) {
			start := time.Now()
			r := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code, time.Since(start)
		}
		bg := context.Background()
		if code, _ := do(bg, http.MethodPut, "/products", testMapping); code != http.StatusOK {
			t.Fatalf("create index: %d", code)
		}
		search := `{"query": {"match_all": {}}}`
		if code, took := do(bg, http.MethodPost, "/products/_search", search); code != http.StatusOK || took != 0 {
			t.Fatalf("before the episode: %d in %v", code, took)
		}
		time.Sleep(time.Minute)
		if code, took := do(bg, http.MethodPost, "/products/_search", search); code != http.StatusOK || took != 2*time.Second {
			t.Fatalf("in the episode: %d in %v, want 200 in 2s", code, took)
		}
		if code, _ := do(bg, http.MethodPost, "/products/_count", search); code != http.StatusOK {
			t.Fatalf("count in the episode: %d", code)
		}
		ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
		defer cancel()
		if code, took := do(ctx, http.MethodPost, "/products/_search", search); code != http.StatusServiceUnavailable || took != 300*time.Millisecond {
			t.Fatalf("client gave up at 300ms: %d in %v", code, took)
		}
		time.Sleep(30 * time.Second)
		if code, took := do(bg, http.MethodPost, "/products/_search", search); code != http.StatusOK || took != 0 {
			t.Fatalf("after the episode: %d in %v", code, took)
		}
		if st := s.Stats(); st.Overloaded != 2 {
			t.Errorf("Stats().Overloaded = %d, want 2", st.Overloaded)
		}
	})
}
