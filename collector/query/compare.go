package query

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/query/compare"
)

// MaxCompareTransactions bounds what a label comparison reads: at most this many stored transactions
// of the service in the range (the scan stops there, and the answer says truncated).
const MaxCompareTransactions = 2_000_000

type sideJSON struct {
	Count     int64    `json:"count"`
	P50US     int64    `json:"p50_us"`
	P95US     int64    `json:"p95_us"`
	P99US     int64    `json:"p99_us"`
	ErrorRate *float64 `json:"error_rate"`
}

type deltaJSON struct {
	DeltaUS int64     `json:"delta_us"`
	CIUS    *[2]int64 `json:"ci_us"`
	PValue  *float64  `json:"p_value"`
}

type mannWhitneyJSON struct {
	U           float64  `json:"u"`
	ProbBSlower float64  `json:"prob_b_slower"`
	PValue      *float64 `json:"p_value"`
}

type tailJSON struct {
	CutUS       int64    `json:"cut_us"`
	CountA      int64    `json:"count_a"`
	CountB      int64    `json:"count_b"`
	CountPValue *float64 `json:"count_p_value"`
	MeanAUS     float64  `json:"mean_a_us"`
	MeanBUS     float64  `json:"mean_b_us"`
	Z           *float64 `json:"z"`
	PValue      *float64 `json:"p_value"`
}

type ksJSON struct {
	D      float64  `json:"d"`
	PValue *float64 `json:"p_value"`
}

type errorChangeJSON struct {
	Delta   *float64    `json:"delta"`
	CI      *[2]float64 `json:"ci"`
	PValue  *float64    `json:"p_value"`
	QValue  *float64    `json:"q_value"`
	Verdict string      `json:"verdict"`
}

type compareEndpointJSON struct {
	Name        string           `json:"name"`
	A           sideJSON         `json:"a"`
	B           sideJSON         `json:"b"`
	P50         deltaJSON        `json:"p50"`
	P95         deltaJSON        `json:"p95"`
	P99         deltaJSON        `json:"p99"`
	PValue      *float64         `json:"p_value"`
	QValue      *float64         `json:"q_value"`
	Verdict     compare.Verdict  `json:"verdict"`
	Reason      string           `json:"reason"`
	MannWhitney *mannWhitneyJSON `json:"mann_whitney"`
	KS          *ksJSON          `json:"ks"`
	Tail        *tailJSON        `json:"tail"`
	Errors      errorChangeJSON  `json:"errors"`
}

type breakdownSideJSON struct {
	TotalUS int64          `json:"total_us"`
	Types   []spanTypeJSON `json:"types"`
}

type compareJSON struct {
	Service   string                `json:"service"`
	By        string                `json:"by"`
	A         string                `json:"a"`
	B         string                `json:"b"`
	AFrom     time.Time             `json:"a_from"`
	ATo       time.Time             `json:"a_to"`
	BFrom     time.Time             `json:"b_from"`
	BTo       time.Time             `json:"b_to"`
	Name      string                `json:"name,omitempty"`
	MinCount  int64                 `json:"min_count"`
	Scanned   *int64                `json:"scanned,omitempty"`
	Truncated bool                  `json:"truncated"`
	Endpoints []compareEndpointJSON `json:"endpoints"`
	// With name: the two latency histograms (the same bars, so they overlay) and breakdowns.
	Histograms *struct {
		A []bin `json:"a"`
		B []bin `json:"b"`
	} `json:"histograms,omitempty"`
	Breakdown *struct {
		A *breakdownSideJSON `json:"a"`
		B *breakdownSideJSON `json:"b"`
	} `json:"breakdown"`
}

// sides is what a comparison reads: each endpoint's two populations as aggregates.
type sides struct {
	a, b      map[string]collector.Aggregate
	scanned   int64
	truncated bool
	// breakdown reads one side's breakdown (nil when the comparison has none).
	breakdown func(ctx context.Context, side int, name string) ([]collector.SpanTypeTime, error)
}

// compareEndpoints answers GET /api/v1/compare: each endpoint of a service in population A against
// population B (doc.go, "Comparisons").
func (a *API) compareEndpoints(ctx context.Context, _ *http.Request, p *params) (any, error) {
	service := p.required("service")
	by := p.required("by")
	name := p.str("name")
	out := compareJSON{Service: service, By: by, Name: name, MinCount: compare.Config{}.WithDefaults().MinCount}
	var s sides
	var err error
	switch {
	case by == "version" || strings.HasPrefix(by, "label:") && len(by) > len("label:"):
		out.A, out.B = p.required("a"), p.required("b")
		from, to := p.timeRange()
		out.AFrom, out.ATo, out.BFrom, out.BTo = from, to, from, to
		if err := p.done(); err != nil {
			return nil, err
		}
		if a.cfg.Compare == nil {
			return nil, errNoCompare
		}
		if by == "version" {
			s, err = a.versionSides(ctx, service, out.A, out.B, from, to)
		} else {
			s, err = a.labelSides(ctx, service, strings.TrimPrefix(by, "label:"), out.A, out.B, from, to)
		}
	case by == "time":
		out.AFrom, out.ATo = p.window("a_from", "a_to")
		out.BFrom, out.BTo = p.window("b_from", "b_to")
		out.A, out.B = interval(out.AFrom, out.ATo), interval(out.BFrom, out.BTo)
		if err := p.done(); err != nil {
			return nil, err
		}
		s, err = a.timeSides(ctx, service, out.AFrom, out.ATo, out.BFrom, out.BTo)
	default:
		if p.err == nil {
			p.fail(badParam("by", "%q is not version, time or label:<key>", by))
		}
		return nil, p.done()
	}
	if err != nil {
		return nil, err
	}
	if by != "version" && by != "time" {
		out.Scanned = &s.scanned
	}
	out.Truncated = s.truncated
	names := make([]string, 0, len(s.a)+len(s.b))
	for n := range s.a {
		names = append(names, n)
	}
	for n := range s.b {
		if _, ok := s.a[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	eps := make([]compare.Endpoint, len(names))
	for i, n := range names {
		eps[i] = compare.Endpoint{Name: n, A: sideOf(s.a[n]), B: sideOf(s.b[n])}
	}
	for _, r := range compare.Compare(compare.Config{}, eps) {
		if name == "" || r.Name == name {
			out.Endpoints = append(out.Endpoints, endpointJSONOf(r))
		}
	}
	if out.Endpoints == nil {
		out.Endpoints = []compareEndpointJSON{}
	}
	slices.SortStableFunc(out.Endpoints, func(x, y compareEndpointJSON) int {
		return cmp.Or(cmp.Compare(verdictOrder(x.Verdict), verdictOrder(y.Verdict)), cmp.Compare(qOrder(x.QValue), qOrder(y.QValue)))
	})
	if name != "" {
		out.Histograms = &struct {
			A []bin `json:"a"`
			B []bin `json:"b"`
		}{histogramBins(s.a[name].Latency), histogramBins(s.b[name].Latency)}
	}
	if s.breakdown != nil {
		out.Breakdown = &struct {
			A *breakdownSideJSON `json:"a"`
			B *breakdownSideJSON `json:"b"`
		}{}
		for side, dst := range []**breakdownSideJSON{&out.Breakdown.A, &out.Breakdown.B} {
			types, err := s.breakdown(ctx, side, name)
			if err != nil {
				return nil, err
			}
			total, js := spanTypesJSON(types)
			*dst = &breakdownSideJSON{TotalUS: total, Types: js}
		}
	}
	return out, nil
}

// verdictOrder lists regressions first, then improvements, then the rest.
func verdictOrder(v compare.Verdict) int {
	switch v {
	case compare.Slower:
		return 0
	case compare.Faster:
		return 1
	case compare.NoChange:
		return 2
	}
	return 3
}

func qOrder(q *float64) float64 {
	if q == nil {
		return 2
	}
	return *q
}

func interval(from, to time.Time) string {
	return from.UTC().Format(time.RFC3339) + "/" + to.UTC().Format(time.RFC3339)
}

func sideOf(a collector.Aggregate) compare.Side {
	return compare.Side{Latency: compare.FromHDR(a.Latency), Successes: a.Successes, Failures: a.Failures}
}

// finite returns f rounded to 6 significant places, or nil when it is NaN (no value).
func finite(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
	return &f
}

func endpointJSONOf(r compare.Result) compareEndpointJSON {
	e := compareEndpointJSON{Name: r.Name, PValue: finite(r.PValue), QValue: finite(r.QValue), Verdict: r.Verdict, Reason: r.Reason,
		A: sideJSON{Count: r.CountA, ErrorRate: finite(r.Errors.RateA)},
		B: sideJSON{Count: r.CountB, ErrorRate: finite(r.Errors.RateB)}}
	for i, dst := range []*deltaJSON{&e.P50, &e.P95, &e.P99} {
		pc := r.Percentiles[i]
		*dst = deltaJSON{DeltaUS: pc.Delta, PValue: finite(pc.PValue)}
		if pc.HasCI {
			dst.CIUS = &[2]int64{pc.CILo, pc.CIHi}
		}
		for _, s := range []struct {
			side *sideJSON
			v    int64
		}{{&e.A, pc.A}, {&e.B, pc.B}} {
			switch i {
			case 0:
				s.side.P50US = s.v
			case 1:
				s.side.P95US = s.v
			default:
				s.side.P99US = s.v
			}
		}
	}
	if r.Verdict != compare.TooFew {
		e.MannWhitney = &mannWhitneyJSON{U: r.MannWhitney.U, ProbBSlower: round6(r.MannWhitney.ProbSlower), PValue: finite(r.MannWhitney.PValue)}
		e.KS = &ksJSON{D: round6(r.KS.D), PValue: finite(r.KS.PValue)}
		t := r.Tail
		e.Tail = &tailJSON{CutUS: t.Cut, CountA: t.CountA, CountB: t.CountB, CountPValue: finite(t.CountPValue),
			MeanAUS: math.Round(t.MeanA), MeanBUS: math.Round(t.MeanB), Z: finite(t.Z), PValue: finite(t.PValue)}
	}
	er := r.Errors
	e.Errors = errorChangeJSON{Delta: finite(er.Delta), PValue: finite(er.PValue), QValue: finite(er.QValue), Verdict: string(er.Verdict)}
	if !math.IsNaN(er.CILo) {
		e.Errors.CI = &[2]float64{*finite(er.CILo), *finite(er.CIHi)}
	}
	return e
}

// versionSides reads two versions' aggregates.
func (a *API) versionSides(ctx context.Context, service, va, vb string, from, to time.Time) (sides, error) {
	s, err := bothSides(func(side int) (map[string]collector.Aggregate, error) {
		return a.cfg.Compare.VersionAggregates(ctx, service, []string{va, vb}[side], from, to)
	})
	s.breakdown = func(ctx context.Context, side int, name string) ([]collector.SpanTypeTime, error) {
		return a.cfg.Compare.VersionBreakdown(ctx, service, []string{va, vb}[side], name, from, to)
	}
	return s, err
}

// timeSides reads the service's aggregates over two windows.
func (a *API) timeSides(ctx context.Context, service string, aFrom, aTo, bFrom, bTo time.Time) (sides, error) {
	from, to := [2]time.Time{aFrom, bFrom}, [2]time.Time{aTo, bTo}
	s, err := bothSides(func(side int) (map[string]collector.Aggregate, error) {
		return a.cfg.Store.EndpointAggregates(ctx, service, from[side], to[side])
	})
	s.breakdown = func(ctx context.Context, side int, name string) ([]collector.SpanTypeTime, error) {
		return a.cfg.Store.Breakdown(ctx, service, name, from[side], to[side])
	}
	return s, err
}

// bothSides reads side 0 (A) and side 1 (B) side by side: each is a pass over its own aggregates.
func bothSides(read func(side int) (map[string]collector.Aggregate, error)) (sides, error) {
	var s sides
	var errB error
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.b, errB = read(1)
	}()
	var errA error
	s.a, errA = read(0)
	<-done
	return s, cmp.Or(errA, errB)
}

// labelSides reads the service's transactions in the range (at most MaxCompareTransactions) and sorts
// those whose label key is va or vb into A and B, by name: of each, the store decodes only the name,
// duration, outcome and that label, and reads its hourly partitions in parallel, each goroutine into
// its own histograms, merged at the end.
func (a *API) labelSides(ctx context.Context, service, key, va, vb string, from, to time.Time) (sides, error) {
	// Each of the scan's goroutines fills its own two sides, an aggregate per name with a sparse
	// histogram (a few KiB however many names the service has: a dense one is 27 KiB); they are
	// merged once it is done.
	var (
		mu      sync.Mutex
		workers [][2]map[string]*collector.Aggregate
		scanned atomic.Int64
		s       sides
	)
	err := a.cfg.Compare.ScanLabel(ctx, service, key, from, to, func() func(*collector.LabelledTransaction) (bool, error) {
		accs := [2]map[string]*collector.Aggregate{{}, {}}
		mu.Lock()
		workers = append(workers, accs)
		mu.Unlock()
		// The store reads a partition's transactions name by name: the last name's accumulators
		// spare most map lookups.
		var lastName [2]string
		var last [2]*collector.Aggregate
		return func(t *collector.LabelledTransaction) (bool, error) {
			if scanned.Add(1) > MaxCompareTransactions {
				return false, nil
			}
			side := -1
			switch {
			case !t.Labelled:
			case t.Label == va:
				side = 0
			case t.Label == vb:
				side = 1
			}
			if side < 0 {
				return true, nil
			}
			c := last[side]
			if c == nil || t.Name != lastName[side] {
				if c = accs[side][t.Name]; c == nil {
					c = &collector.Aggregate{Latency: hdrhistogram.NewPacked(histogramLowest, histogramHighest, histogramDigits)}
					accs[side][strings.Clone(t.Name)] = c
				}
				last[side], lastName[side] = c, strings.Clone(t.Name)
			}
			c.Count++
			switch t.Outcome {
			case "success":
				c.Successes++
			case "failure":
				c.Failures++
			}
			_ = c.Latency.RecordValue(min(max(int64(t.Duration/time.Microsecond), histogramLowest), histogramHighest))
			return true, nil
		}
	})
	if err != nil {
		return s, err
	}
	s.scanned = min(scanned.Load(), MaxCompareTransactions)
	s.truncated = scanned.Load() > MaxCompareTransactions
	for side := range 2 {
		out := map[string]collector.Aggregate{}
		for _, w := range workers {
			for n, c := range w[side] {
				agg, ok := out[n]
				if !ok {
					out[n] = *c
					continue
				}
				agg.Latency.Merge(c.Latency)
				agg.Count += c.Count
				agg.Successes += c.Successes
				agg.Failures += c.Failures
				out[n] = agg
			}
		}
		if side == 0 {
			s.a = out
		} else {
			s.b = out
		}
	}
	return s, nil
}

// The geometry of the latency histograms a label comparison builds: the store's (µs from 1 to one
// hour, 2 significant digits), so that its figures read as the aggregates' do.
const (
	histogramLowest  = 1
	histogramHighest = int64(time.Hour / time.Microsecond)
	histogramDigits  = 2
)

// window reads a time window from two required parameters, as timeRange reads from and to.
func (p *params) window(fromName, toName string) (from, to time.Time) {
	if p.str(fromName) == "" || p.str(toName) == "" {
		for _, n := range []string{fromName, toName} {
			if p.v.Get(n) == "" && p.err == nil {
				p.fail(badParam(n, "required"))
			}
		}
		return from, to
	}
	from, to = p.time(fromName, time.Time{}), p.time(toName, time.Time{})
	if p.err != nil {
		return from, to
	}
	switch {
	case !from.Before(to):
		p.fail(badParam(fromName, "%s is not before %s (%s)", from.Format(time.RFC3339), toName, to.Format(time.RFC3339)))
	case to.Sub(from) > MaxRange:
		p.fail(badParam(fromName, "the window is longer than %d days", MaxRange/(24*time.Hour)))
	}
	return from, to
}
