package selfmetrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRegisterAllOrNone: a part whose last series collides with one already registered leaves none of
// its series registered, and can register them once the collision is gone.
func TestRegisterAllOrNone(t *testing.T) {
	reg := prometheus.NewRegistry()
	taken := Counter("hotpath_test_taken_total", "Registered first.")
	if err := Register(reg, taken); err != nil {
		t.Fatal(err)
	}
	events := Counter("hotpath_test_events_total", "Events.")
	streams := Gauge("hotpath_test_streams", "Streams.")
	if err := Register(reg, events, streams, Counter("hotpath_test_taken_total", "Registered again.")); err == nil {
		t.Fatal("Register with a collision: no error")
	}
	if families, err := reg.Gather(); err != nil || len(families) != 1 || families[0].GetName() != "hotpath_test_taken_total" {
		t.Fatalf("after the failed Register: %d families (%v), want only hotpath_test_taken_total", len(families), err)
	}
	reg.Unregister(taken)
	if err := Register(reg, events, streams); err != nil {
		t.Fatalf("Register again: %v", err)
	}
	if err := Register(nil, events); err != nil {
		t.Fatalf("Register with a nil registerer: %v", err)
	}
}
