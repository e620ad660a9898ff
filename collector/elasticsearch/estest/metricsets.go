package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// APM Server's aggregated metricsets (metrics-apm.{transaction,service_transaction,service_summary,
// service_destination}.{1m,10m,60m}-*) are mapped by the apm-data plugin's index templates with field
// types that refuse what is not well formed. checkMetricset applies those rules, as the templates would:
//
//   - transaction.duration.histogram is a histogram field: values strictly ascending, counts whole and
//     not negative, as many of each;
//   - transaction.duration.summary and event.success_count are aggregate_metric_double fields with
//     the metrics sum and value_count: exactly those two members, value_count whole and not negative;
//   - _doc_count is a whole number, not negative;
//   - span.destination.service.response_time.count and .sum.us are whole numbers (long fields);
//   - metricset.name and metricset.interval name the data stream's metricset and interval.

// isAggregatedIndex reports whether name is one of the aggregated metricsets' data streams; it returns
// the metricset and interval the name says.
func isAggregatedIndex(name string) (metricset, interval string, ok bool) {
	rest, ok := strings.CutPrefix(name, "metrics-apm.")
	if !ok {
		return "", "", false
	}
	dataset, _, ok := strings.Cut(rest, "-")
	if !ok {
		return "", "", false
	}
	metricset, interval, ok = strings.Cut(dataset, ".")
	switch metricset {
	case "transaction", "service_transaction", "service_summary", "service_destination":
	default:
		return "", "", false
	}
	switch interval {
	case "1m", "10m", "60m":
		return metricset, interval, ok
	}
	return "", "", false
}

// checkMetricset checks an aggregated metricset document of index; nil when it is well formed.
func checkMetricset(index string, source []byte) *ItemFailure {
	ms, ivl, ok := isAggregatedIndex(index)
	if !ok {
		return nil
	}
	bad := func(format string, args ...any) *ItemFailure {
		return &ItemFailure{400, "document_parsing_exception", "[1:1] failed to parse: " + fmt.Sprintf(format, args...)}
	}
	dec := json.NewDecoder(bytes.NewReader(source))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return bad("%v", err)
	}
	if m, _ := get(doc, "metricset").(map[string]any); m == nil || m["name"] != ms || m["interval"] != ivl {
		return bad("metricset.name and metricset.interval must be %q and %q in %s", ms, ivl, index)
	}
	if v, present := doc["_doc_count"]; present && !whole(v) {
		return bad("[_doc_count] must be a whole number that is not negative, not %v", v)
	}
	if h, present := lookup(doc, "transaction", "duration.histogram"); present {
		if err := checkHistogram(h); err != "" {
			return bad("field [transaction.duration.histogram]: %s", err)
		}
	}
	for _, path := range [][]string{{"transaction", "duration.summary"}, {"event", "success_count"}} {
		if v, present := lookup(doc, path...); present {
			m, _ := v.(map[string]any)
			_, hasSum := m["sum"].(json.Number)
			if len(m) != 2 || !hasSum || !whole(m["value_count"]) {
				return bad("field [%s] of type [aggregate_metric_double] must hold exactly sum and a whole value_count, not %v", strings.Join(path, "."), v)
			}
		}
	}
	if rt, present := lookup(doc, "span", "destination", "service", "response_time"); present {
		m, _ := rt.(map[string]any)
		if !whole(m["count"]) || !whole(m["sum.us"]) {
			return bad("span.destination.service.response_time.count and .sum.us must be whole numbers, not %v", rt)
		}
	}
	return nil
}

// checkHistogram checks a histogram field's value; "" when it is well formed.
func checkHistogram(v any) string {
	m, _ := v.(map[string]any)
	values, _ := m["values"].([]any)
	counts, _ := m["counts"].([]any)
	if len(m) != 2 || values == nil || counts == nil || len(values) != len(counts) {
		return "a histogram holds values and counts of the same length"
	}
	prev := 0.0
	for i, x := range values {
		n, ok := x.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return "values must be numbers"
		}
		if i > 0 && f <= prev {
			return "values must be in increasing order, got [" + n.String() + "] after [" + fmt.Sprint(prev) + "]"
		}
		prev = f
		if !whole(counts[i]) {
			return "counts must be whole numbers that are not negative"
		}
	}
	return ""
}

// whole reports whether v is a JSON number that is a whole number and not negative.
func whole(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	_, err := n.Int64()
	return err == nil && !strings.HasPrefix(n.String(), "-")
}

// get returns member name of an object value, or nil.
func get(v any, name string) any {
	m, _ := v.(map[string]any)
	return m[name]
}

// lookup follows path through nested objects; present is false when a step is missing.
func lookup(v any, path ...string) (any, bool) {
	for _, p := range path {
		m, _ := v.(map[string]any)
		next, ok := m[p]
		if !ok {
			return nil, false
		}
		v = next
	}
	return v, true
}
