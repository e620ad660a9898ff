package search

import (
	"testing"
	"time"
)

func TestEmergencyCacheBounds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newEmergencyCache(2, time.Minute)
	c.put("a", []byte("A"), t0)
	c.put("b", []byte("B"), t0)
	if _, _, ok := c.get("a", t0); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.put("c", []byte("C"), t0) // evicts b, the least recently used
	if _, _, ok := c.get("b", t0); ok {
		t.Error("b kept past max")
	}
	if c.len() != 2 {
		t.Errorf("len = %d, want max 2", c.len())
	}
	if got, _, ok := c.get("c", t0.Add(time.Minute)); !ok || string(got) != "C" {
		t.Errorf("c at exactly ttl: %q %v", got, ok)
	}
	if _, _, ok := c.get("c", t0.Add(time.Minute+1)); ok {
		t.Error("c served past its ttl")
	}
	if c.len() != 1 {
		t.Errorf("an expired entry is kept: len %d", c.len())
	}
	c.put("a", []byte("A2"), t0.Add(2*time.Minute))
	if got, _, _ := c.get("a", t0.Add(2*time.Minute)); string(got) != "A2" {
		t.Errorf("a replaced: %q", got)
	}
}

func TestCacheKeyIgnoresUser(t *testing.T) {
	a := Request{Q: "러닝화", Size: 10, User: "u1"}
	b := Request{Q: "러닝화", Size: 10, User: "u2"}
	if cacheKey(a) != cacheKey(b) {
		t.Error("the user changes the key")
	}
	if cacheKey(a) == cacheKey(Request{Q: "러닝화", Size: 20}) {
		t.Error("size does not change the key")
	}
}
