package query

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// ParamError is a bad request parameter: the API answers 400 with its message and the parameter's
// name.
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return fmt.Sprintf("parameter %q: %s", e.Param, e.Msg) }

func badParam(name, format string, args ...any) error {
	return &ParamError{Param: name, Msg: fmt.Sprintf(format, args...)}
}

// params reads a request's query string, remembering which parameters were read, so that done can
// refuse the ones an endpoint does not know (a misspelt filter must not silently select everything).
type params struct {
	v    url.Values
	used map[string]bool
	err  error // the first error
	now  time.Time
}

func newParams(v url.Values, now time.Time) *params {
	return &params{v: v, used: map[string]bool{}, now: now}
}

func (p *params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// str returns the parameter's single value ("" when absent); given twice, it is an error.
func (p *params) str(name string) string {
	p.used[name] = true
	vs := p.v[name]
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	p.fail(badParam(name, "given %d times; give it once", len(vs)))
	return ""
}

func (p *params) required(name string) string {
	s := p.str(name)
	if s == "" && p.err == nil {
		p.fail(badParam(name, "required"))
	}
	return s
}

// done returns the first error, or an error naming a parameter no reader asked for.
func (p *params) done() error {
	if p.err != nil {
		return p.err
	}
	var unknown []string
	for k := range p.v {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		known := make([]string, 0, len(p.used))
		for k := range p.used {
			known = append(known, k)
		}
		slices.Sort(known)
		return badParam(unknown[0], "unknown parameter; this endpoint takes %s", strings.Join(known, ", "))
	}
	return nil
}

// Range limits.
const (
	// DefaultRange is the time range of a request that gives no "from".
	DefaultRange = time.Hour
	// MaxRange is the longest time range a request may ask for.
	MaxRange = 90 * 24 * time.Hour
)

// timeRange reads "from" and "to": each an RFC 3339 time, a Unix time in milliseconds, "now", or
// "now-<duration>" ("now-15m", "now-24h", "now-7d"). Defaults: to = now, from = to - DefaultRange.
func (p *params) timeRange() (from, to time.Time) {
	to = p.time("to", p.now)
	from = p.time("from", to.Add(-DefaultRange))
	if p.err != nil {
		return from, to
	}
	switch {
	case !from.Before(to):
		p.fail(badParam("from", "%s is not before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339)))
	case to.Sub(from) > MaxRange:
		p.fail(badParam("from", "the range is longer than %d days", MaxRange/(24*time.Hour)))
	}
	return from, to
}

func (p *params) time(name string, def time.Time) time.Time {
	s := p.str(name)
	if s == "" {
		return def
	}
	t, err := parseTime(s, p.now)
	if err != nil {
		p.fail(badParam(name, "%v", err))
		return def
	}
	return t
}

func parseTime(s string, now time.Time) (time.Time, error) {
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		if rest == "" {
			return now, nil
		}
		sign := rest[0]
		if sign != '-' && sign != '+' {
			return time.Time{}, fmt.Errorf("%q: want now, now-<duration> or now+<duration>", s)
		}
		d, err := parseDuration(rest[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: %w", s, err)
		}
		if sign == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < -1e15 || ms > 1e15 {
			return time.Time{}, fmt.Errorf("%q: Unix milliseconds out of range", s)
		}
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time, Unix milliseconds or now-<duration>", s)
	}
	return t, nil
}

// parseDuration is time.ParseDuration that also takes whole days ("7d") and refuses negative ones.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (examples: 500ms, 15m, 24h, 7d)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// duration reads a duration parameter: a Go duration ("250ms", "2s") or a number of milliseconds.
func (p *params) duration(name string) time.Duration {
	s := p.str(name)
	if s == "" {
		return 0
	}
	if ms, err := strconv.ParseFloat(s, 64); err == nil {
		if ms < 0 || ms > float64(MaxRange/time.Millisecond) {
			p.fail(badParam(name, "%q milliseconds is out of range", s))
			return 0
		}
		return time.Duration(ms * float64(time.Millisecond))
	}
	d, err := parseDuration(s)
	if err != nil {
		p.fail(badParam(name, "%v", err))
	}
	return d
}

// intIn reads an integer in [lo, hi], def when absent.
func (p *params) intIn(name string, lo, hi, def int) int {
	s := p.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p.fail(badParam(name, "%q: want an integer from %d to %d", s, lo, hi))
		return def
	}
	return n
}

// flag reads a parameter that may only be "true" (or "1"); absent, it is false.
func (p *params) flag(name string) bool {
	switch s := p.str(name); s {
	case "":
		return false
	case "true", "1":
		return true
	default:
		p.fail(badParam(name, "%q: only true filters (leave the parameter out for everything)", s))
		return false
	}
}

// labels reads the repeatable "label" parameter, each "key:value".
func (p *params) labels() []collector.SummaryLabel {
	p.used["label"] = true
	var out []collector.SummaryLabel
	for _, s := range p.v["label"] {
		k, v, ok := strings.Cut(s, ":")
		if !ok || k == "" {
			p.fail(badParam("label", "%q: want key:value", s))
			return nil
		}
		out = append(out, collector.SummaryLabel{Key: k, Value: v})
	}
	if len(out) > 16 {
		p.fail(badParam("label", "%d labels; at most 16", len(out)))
	}
	return out
}

// oneOf reads a parameter that must be one of values; def when absent.
func (p *params) oneOf(name, def string, values ...string) string {
	s := p.str(name)
	if s == "" {
		return def
	}
	if !slices.Contains(values, s) {
		p.fail(badParam(name, "%q: want one of %s", s, strings.Join(values, ", ")))
		return def
	}
	return s
}

// interval reads "interval", the width of a series' points (whole minutes), or picks one that gives at
// most targetPoints points over [from, to). After an earlier parameter failed, it reads nothing and
// returns 0.
func (p *params) interval(from, to time.Time) time.Duration {
	if p.err != nil { // the range itself was refused: nothing to divide
		return 0
	}
	const targetPoints = 120
	const maxPoints = 1440
	span := to.Sub(from)
	if s := p.str("interval"); s != "" {
		d, err := parseDuration(s)
		switch {
		case err != nil:
			p.fail(badParam("interval", "%v", err))
		case d < time.Minute || d%time.Minute != 0:
			p.fail(badParam("interval", "%q: want whole minutes (1m, 5m, 1h...)", s))
		case span/d > maxPoints:
			p.fail(badParam("interval", "%q gives %d points over the range; at most %d", s, span/d, maxPoints))
		default:
			return d
		}
		return 0
	}
	nice := [...]time.Duration{
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	}
	for _, d := range nice {
		if span/d <= targetPoints {
			return d
		}
	}
	return nice[len(nice)-1]
}

var errNoTraceID = errors.New("a trace id is 1 to 128 characters among 0-9, a-z, A-Z, - and _")

func checkTraceID(id string) error {
	if id == "" || len(id) > 128 {
		return errNoTraceID
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return errNoTraceID
		}
	}
	return nil
}
