package profiling

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// The admission tests run in synctest bubbles, where time.Sleep moves the clock by exactly its duration.

// admitIs fails the test unless a.admit(key) answers want; when says at what point of the test.
func admitIs(t *testing.T, a *admission, key string, want skipReason, when string) {
	t.Helper()
	if r := a.admit(key); r != want {
		t.Fatalf("%s: %v, want %v", when, r, want)
	}
}

// TestAdmissionCooldown: a key is refused until exactly cooldown has passed since it was admitted;
// other keys are not affected.
func TestAdmissionCooldown(t *testing.T) { synctest.Test(t, testAdmissionCooldown) }

func testAdmissionCooldown(t *testing.T) {
	a := newAdmission(10, 100, time.Second, time.Minute)
	admitIs(t, a, "route a", admitted, "first")
	a.done()
	admitIs(t, a, "route b", admitted, "other key")
	a.done()
	time.Sleep(time.Minute - time.Nanosecond)
	admitIs(t, a, "route a", skipCooldown, "1ns before the cooldown ends")
	time.Sleep(time.Nanosecond)
	admitIs(t, a, "route a", admitted, "when the cooldown ends")
	a.done()
}

// TestAdmissionRateLimit: burst admissions in a row, then one per period/burst.
func TestAdmissionRateLimit(t *testing.T) { synctest.Test(t, testAdmissionRateLimit) }

func testAdmissionRateLimit(t *testing.T) {
	a := newAdmission(100, 3, 3*time.Second, 0) // 3 in a row, then 1 per second
	for i := range 3 {
		admitIs(t, a, "k", admitted, fmt.Sprintf("admission %d", i))
		a.done()
	}
	admitIs(t, a, "k", skipRate, "past the burst")
	time.Sleep(999 * time.Millisecond)
	admitIs(t, a, "k", skipRate, "before a token is back")
	time.Sleep(time.Millisecond)
	admitIs(t, a, "k", admitted, "when a token is back")
	a.done()
	time.Sleep(time.Hour) // tokens do not pile up past the burst
	for i := range 3 {
		admitIs(t, a, "k", admitted, fmt.Sprintf("after an hour, admission %d", i))
		a.done()
	}
	admitIs(t, a, "k", skipRate, "after an hour, past the burst")
}

// TestAdmissionConcurrency: at most maxActive at a time; done makes room; a refusal for concurrency
// neither spends a token nor starts a cooldown.
func TestAdmissionConcurrency(t *testing.T) { synctest.Test(t, testAdmissionConcurrency) }

func testAdmissionConcurrency(t *testing.T) {
	a := newAdmission(2, 3, time.Hour, time.Hour)
	if a.admit("a") != admitted || a.admit("b") != admitted {
		t.Fatal("first two refused")
	}
	admitIs(t, a, "c", skipConcurrent, "third at once")
	a.done()
	admitIs(t, a, "c", admitted, "third after one is done")
	admitIs(t, a, "d", skipConcurrent, "fourth")
	a.done()
	a.done()
	admitIs(t, a, "d", skipRate, "fourth, tokens spent by the three admitted")
	a.close()
	time.Sleep(2 * time.Hour)
	admitIs(t, a, "e", skipClosed, "after close")
}

// TestAdmissionForgetsKeys: the cooldown map stays bounded.
func TestAdmissionForgetsKeys(t *testing.T) { synctest.Test(t, testAdmissionForgetsKeys) }

func testAdmissionForgetsKeys(t *testing.T) {
	a := newAdmission(1, 1, time.Nanosecond, time.Second)
	for i := range 3 * maxCooldownKeys {
		admitIs(t, a, string(rune(i)), admitted, fmt.Sprintf("key %d", i))
		a.done()
		time.Sleep(time.Second)
	}
	if n := len(a.lastKey); n > maxCooldownKeys {
		t.Fatalf("%d keys remembered", n)
	}
}
