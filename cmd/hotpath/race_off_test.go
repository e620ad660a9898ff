//go:build !race

package main

// raceEnabled: the race detector slows everything several times; rate-based tests ask less of it.
const raceEnabled = false
