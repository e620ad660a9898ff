package compare

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
)

// Verdict is the answer for one endpoint's latency.
type Verdict string

// Verdicts.
const (
	Faster   Verdict = "faster"
	Slower   Verdict = "slower"
	NoChange Verdict = "no_change"
	TooFew   Verdict = "too_few"
)

// ErrorVerdict is the answer for one endpoint's error rate.
type ErrorVerdict string

// Error verdicts.
const (
	FewerErrors   ErrorVerdict = "fewer_errors"
	MoreErrors    ErrorVerdict = "more_errors"
	ErrorsSame    ErrorVerdict = "no_change"
	ErrorsTooFew  ErrorVerdict = "too_few"
	errorsNoCheck ErrorVerdict = ""
)

// Config sets the thresholds of the verdicts. The zero value gives the defaults.
type Config struct {
	// MinCount is the fewest transactions each side needs for a verdict; fewer is too_few.
	// Default 100.
	MinCount int64
	// FDR is the false discovery rate the q-values are held to. Default 0.05.
	FDR float64
	// MinRelativeChange is the smallest change of a percentile, relative to A's, that counts as a
	// change. Default 0.05 (5%, five times the histograms' resolution).
	MinRelativeChange float64
	// MinChangeMicros is the smallest change of a percentile, in µs, that counts as a change.
	// Default 100.
	MinChangeMicros int64
	// MinErrorRateChange is the smallest change of the error rate that counts. Default 0.001 (0.1
	// percentage points).
	MinErrorRateChange float64
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MinCount <= 0 {
		c.MinCount = 100
	}
	if c.FDR <= 0 {
		c.FDR = 0.05
	}
	if c.MinRelativeChange <= 0 {
		c.MinRelativeChange = 0.05
	}
	if c.MinChangeMicros <= 0 {
		c.MinChangeMicros = 100
	}
	if c.MinErrorRateChange <= 0 {
		c.MinErrorRateChange = 0.001
	}
	return c
}

// Side is one population of an endpoint's transactions.
type Side struct {
	Latency Histogram
	// Successes and Failures count the transactions by outcome (those of unknown outcome are in
	// neither).
	Successes, Failures int64
}

// Endpoint is an endpoint's two populations.
type Endpoint struct {
	Name string
	A, B Side
}

// Percentiles are the percentiles compared.
var Percentiles = [3]float64{50, 95, 99}

// PercentileChange is how one percentile moved from A to B.
type PercentileChange struct {
	P    float64
	A, B int64 // µs
	// Delta is B − A in µs.
	Delta int64
	// CILo and CIHi bound the 95% interval of Delta, when HasCI (a side with fewer than 5
	// transactions beyond the percentile has none).
	CILo, CIHi int64
	HasCI      bool
	// PValue is the bootstrap's p-value of "no difference" at this percentile (NaN without an
	// interval).
	PValue float64
	// Moved is +1 when the percentile is meaningfully slower (its interval above 0 and the change at
	// least the thresholds of Config), −1 when faster, 0 otherwise.
	Moved int
}

// ErrorChange is how the error rate moved from A to B.
type ErrorChange struct {
	// RateA and RateB are failures / (successes + failures); NaN when a side has neither.
	RateA, RateB float64
	// Delta is RateB − RateA; CILo and CIHi its 95% interval (Newcombe's hybrid score).
	Delta, CILo, CIHi float64
	// PValue tests RateA = RateB (two-proportion z-test, or Fisher's exact test for small counts);
	// QValue adjusts it across the comparison's endpoints. NaN when too few.
	PValue, QValue float64
	Verdict        ErrorVerdict
}

// Result is the comparison of one endpoint.
type Result struct {
	Name           string
	CountA, CountB int64
	Percentiles    [3]PercentileChange
	MannWhitney    MannWhitney
	KS             KolmogorovSmirnov
	Tail           TailTest
	// PValue tests that A and B have the same distribution: the weighted Bonferroni combination of
	// three tests, each given a share w of the level for what it sees best (the smallest of p / w, at
	// most 1): Mann–Whitney, the bulk (WeightMannWhitney); the tail test's count, a shift of the whole
	// tail (WeightTailCount); the tail test's durations, a change within the slowest 5%
	// (WeightTailDurations). A test that cannot run (too small a tail) gives its share to none: the
	// combination stays valid, if conservative. QValue is its Benjamini–Hochberg adjustment across
	// the comparison's endpoints. Both NaN for too_few.
	PValue, QValue float64
	Verdict        Verdict
	// Reason says in a sentence why the verdict is what it is.
	Reason string
	Errors ErrorChange
	// carrier is the test that gave PValue.
	carrier int
}

// Compare compares each endpoint's two sides and adjusts the p-values across the endpoints.
func Compare(cfg Config, endpoints []Endpoint) []Result {
	cfg = cfg.WithDefaults()
	out := make([]Result, len(endpoints))
	// The endpoints are independent until their p-values are adjusted together: they are compared
	// by up to GOMAXPROCS goroutines, each taking every k-th.
	k := max(1, min(runtime.GOMAXPROCS(0), len(endpoints)/8))
	var wg sync.WaitGroup
	for w := range k {
		wg.Go(func() {
			for i := w; i < len(endpoints); i += k {
				out[i] = compareOne(cfg, endpoints[i])
			}
		})
	}
	wg.Wait()
	ps, eps := make([]float64, len(endpoints)), make([]float64, len(endpoints))
	for i := range out {
		ps[i], eps[i] = out[i].PValue, out[i].Errors.PValue
	}
	qs, eqs := benjaminiHochberg(ps), benjaminiHochberg(eps)
	for i := range out {
		out[i].QValue, out[i].Errors.QValue = qs[i], eqs[i]
		out[i].Verdict, out[i].Reason = verdict(cfg, &out[i])
		out[i].Errors.Verdict = errorVerdict(cfg, &out[i].Errors)
	}
	return out
}

func compareOne(cfg Config, e Endpoint) Result {
	a, b := e.A.Latency, e.B.Latency
	r := Result{Name: e.Name, CountA: a.Total(), CountB: b.Total(), PValue: math.NaN()}
	for i, p := range Percentiles {
		pc := PercentileChange{P: p, A: a.Percentile(p), B: b.Percentile(p)}
		pc.Delta = pc.B - pc.A
		pc.PValue = math.NaN()
		if r.CountA > 0 && r.CountB > 0 {
			pc.CILo, pc.CIHi, pc.PValue, pc.HasCI = percentileDiff(a, b, p)
		}
		if pc.HasCI && meaningful(cfg, pc) {
			switch {
			case pc.CILo > 0 && pc.Delta > 0:
				pc.Moved = 1
			case pc.CIHi < 0 && pc.Delta < 0:
				pc.Moved = -1
			}
		}
		r.Percentiles[i] = pc
	}
	r.Errors = errorChange(e.A, e.B, cfg.MinCount)
	if r.CountA < cfg.MinCount || r.CountB < cfg.MinCount {
		return r
	}
	r.MannWhitney = mannWhitney(a, b)
	r.KS = kolmogorovSmirnov(a, b)
	r.Tail = tailTest(a, b)
	r.PValue, r.carrier = 1, carrierNone
	for c, t := range [...]struct{ p, weight float64 }{
		carrierMannWhitney:   {r.MannWhitney.PValue, WeightMannWhitney},
		carrierTailCount:     {r.Tail.CountPValue, WeightTailCount},
		carrierTailDurations: {r.Tail.PValue, WeightTailDurations},
	} {
		if p := t.p / t.weight; p < r.PValue { // NaN compares false: a test that did not run
			r.PValue, r.carrier = p, c
		}
	}
	return r
}

// The weights of the tests an endpoint's p-value combines (they add up to 1). The bulk is seen with
// every transaction, the tail with 5% of them: a shift of every transaction by 5% has a Mann–Whitney
// |z| about 4 at 10,000 a side and loses little to 15% of the level; a change of the slowest few
// percent needs all the level it can get (TestPowerRegression has both). The tail's count sees a
// shift of the whole tail, which Mann–Whitney sees too.
const (
	WeightMannWhitney   = 0.15
	WeightTailCount     = 0.05
	WeightTailDurations = 0.8
)

// The tests, as Result.carrier names the one that gave the p-value.
const (
	carrierMannWhitney = iota
	carrierTailCount
	carrierTailDurations
	carrierNone
)

// tailDirection is +1 (slower) or −1 (faster) when one of the tail's tests gave r its p-value, in
// the direction it saw; 0 otherwise.
func (r *Result) tailDirection() int {
	switch r.carrier {
	case carrierTailCount:
		return sign(r.Tail.CountB*r.CountA - r.Tail.CountA*r.CountB)
	case carrierTailDurations:
		return int(math.Copysign(1, r.Tail.Z))
	}
	return 0
}

// meaningful reports whether pc changed by at least the thresholds of cfg.
func meaningful(cfg Config, pc PercentileChange) bool {
	return math.Abs(float64(pc.Delta)) >= max(cfg.MinRelativeChange*float64(pc.A), float64(cfg.MinChangeMicros))
}

func sign(x int64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func verdict(cfg Config, r *Result) (Verdict, string) {
	if r.CountA < cfg.MinCount || r.CountB < cfg.MinCount {
		return TooFew, fmt.Sprintf("%d and %d transactions: a verdict needs %d on each side", r.CountA, r.CountB, cfg.MinCount)
	}
	if !(r.QValue < cfg.FDR) {
		return NoChange, fmt.Sprintf("no significant difference (q = %.2g)", r.QValue)
	}
	// A percentile moved when its interval is clear of 0 and the change is meaningful (Moved); or,
	// when the tail test carries the endpoint's significance, p95 and p99 moved when they changed
	// meaningfully in the direction of the tail's Z: the tail test, with the slowest 5%'s durations,
	// sees more than one percentile's interval does.
	tail := r.tailDirection()
	var slower, faster []string
	for _, pc := range r.Percentiles {
		name := fmt.Sprintf("p%g %+.0f%%", pc.P, 100*float64(pc.Delta)/float64(max(pc.A, 1)))
		moved := pc.Moved
		if moved == 0 && tail != 0 && pc.P >= 100*(1-TailFraction) && meaningful(cfg, pc) && sign(pc.Delta) == tail {
			moved = tail
			name += " (tail test)"
		}
		switch moved {
		case 1:
			slower = append(slower, name)
		case -1:
			faster = append(faster, name)
		}
	}
	switch {
	case len(slower) > 0 && len(faster) > 0:
		return Slower, fmt.Sprintf("slower at %s though faster at %s (q = %.2g)", strings.Join(slower, ", "), strings.Join(faster, ", "), r.QValue)
	case len(slower) > 0:
		return Slower, fmt.Sprintf("slower at %s (q = %.2g)", strings.Join(slower, ", "), r.QValue)
	case len(faster) > 0:
		return Faster, fmt.Sprintf("faster at %s (q = %.2g)", strings.Join(faster, ", "), r.QValue)
	}
	return NoChange, fmt.Sprintf("the distributions differ (q = %.2g) but no percentile moved by %g%% and %d µs with its interval clear of 0 (or with the tail test)",
		r.QValue, 100*cfg.MinRelativeChange, cfg.MinChangeMicros)
}

func errorChange(a, b Side, minCount int64) ErrorChange {
	na, nb := a.Successes+a.Failures, b.Successes+b.Failures
	e := ErrorChange{RateA: math.NaN(), RateB: math.NaN(), Delta: math.NaN(), CILo: math.NaN(), CIHi: math.NaN(),
		PValue: math.NaN(), Verdict: errorsNoCheck}
	if na > 0 {
		e.RateA = float64(a.Failures) / float64(na)
	}
	if nb > 0 {
		e.RateB = float64(b.Failures) / float64(nb)
	}
	if na < minCount || nb < minCount {
		e.Verdict = ErrorsTooFew
		return e
	}
	e.Delta = e.RateB - e.RateA
	e.CILo, e.CIHi = newcombe(a.Failures, na, b.Failures, nb)
	e.PValue = twoProportion(a.Failures, na, b.Failures, nb)
	return e
}

func errorVerdict(cfg Config, e *ErrorChange) ErrorVerdict {
	switch {
	case e.Verdict == ErrorsTooFew:
		return ErrorsTooFew
	case e.QValue < cfg.FDR && e.Delta >= cfg.MinErrorRateChange:
		return MoreErrors
	case e.QValue < cfg.FDR && e.Delta <= -cfg.MinErrorRateChange:
		return FewerErrors
	}
	return ErrorsSame
}
