package profiling

import (
	"testing"
	"testing/synctest"
	"time"
)

// The admission tests run in synctest bubbles, where time.Sleep moves the clock by exactly its duration.

// TestAdmissionCooldown: a key is refused until exactly cooldown has passed since it was admitted;
// other keys are not affected.
func TestAdmissionCooldown(t *testing.T) { synctest.Test(t, testAdmissionCooldown) }

func testAdmissionCooldown(t *testing.T) {
	a := newAdmission(10, 100, time.Second, time.Minute)
	if r := a.admit("route a"); r != admitted {
		t.Fatalf("first: %v", r)
	}
	a.done()
	if r := a.admit("route b"); r != admitted {
		t.Fatalf("other key: %v", r)
	}
	a.done()
	time.Sleep(time.Minute - time.Nanosecond)
	if r := a.admit("route a"); r != skipCooldown {
		t.Fatalf("1ns before the cooldown ends: %v", r)
	}
	time.Sleep(time.Nanosecond)
	if r := a.admit("route a"); r != admitted {
		t.Fatalf("when the cooldown ends: %v", r)
	}
	a.done()
}

// TestAdmissionRateLimit: burst admissions in a row, then one per period/burst.
func TestAdmissionRateLimit(t *testing.T) { synctest.Test(t, testAdmissionRateLimit) }

func testAdmissionRateLimit(t *testing.T) {
	a := newAdmission(100, 3, 3*time.Second, 0) // 3 in a row, then 1 per second
	for i := range 3 {
		if r := a.admit("k"); r != admitted {
			t.Fatalf("admission %d: %v", i, r)
		}
		a.done()
	}
	if r := a.admit("k"); r != skipRate {
		t.Fatalf("past the burst: %v", r)
	}
	time.Sleep(999 * time.Millisecond)
	if r := a.admit("k"); r != skipRate {
		t.Fatalf("before a token is back: %v", r)
	}
	time.Sleep(time.Millisecond)
	if r := a.admit("k"); r != admitted {
		t.Fatalf("when a token is back: %v", r)
	}
	a.done()
	time.Sleep(time.Hour) // tokens do not pile up past the burst
	for i := range 3 {
		if r := a.admit("k"); r != admitted {
			t.Fatalf("after an hour, admission %d: %v", i, r)
		}
		a.done()
	}
	if r := a.admit("k"); r != skipRate {
		t.Fatalf("after an hour, past the burst: %v", r)
	}
}

// TestAdmissionConcurrency: at most maxActive at a time; done makes room; a refusal for concurrency
// neither spends a token nor starts a cooldown.
func TestAdmissionConcurrency(t *testing.T) { synctest.Test(t, testAdmissionConcurrency) }

func testAdmissionConcurrency(t *testing.T) {
	a := newAdmission(2, 3, time.Hour, time.Hour)
	if a.admit("a") != admitted || a.admit("b") != admitted {
		t.Fatal("first two refused")
	}
	if r := a.admit("c"); r != skipConcurrent {
		t.Fatalf("third at once: %v", r)
	}
	a.done()
	if r := a.admit("c"); r != admitted {
		t.Fatalf("third after one is done: %v", r)
	}
	if r := a.admit("d"); r != skipConcurrent {
		t.Fatalf("fourth: %v", r)
	}
	a.done()
	a.done()
	if r := a.admit("d"); r != skipRate {
		t.Fatalf("fourth, tokens spent by the three admitted: %v", r)
	}
	a.close()
	time.Sleep(2 * time.Hour)
	if r := a.admit("e"); r != skipClosed {
		t.Fatalf("after close: %v", r)
	}
}

// TestAdmissionForgetsKeys: the cooldown map stays bounded.
func TestAdmissionForgetsKeys(t *testing.T) { synctest.Test(t, testAdmissionForgetsKeys) }

func testAdmissionForgetsKeys(t *testing.T) {
	a := newAdmission(1, 1, time.Nanosecond, time.Second)
	for i := range 3 * maxCooldownKeys {
		if r := a.admit(string(rune(i))); r != admitted {
			t.Fatalf("key %d: %v", i, r)
		}
		a.done()
		time.Sleep(time.Second)
	}
	if n := len(a.lastKey); n > maxCooldownKeys {
		t.Fatalf("%d keys remembered", n)
	}
}
