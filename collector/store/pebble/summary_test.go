package pebble

import (
	"reflect"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// TestTxSummaryTakesWhatItsKeyHolds: a transaction summary's value leaves out what its time-index key
// holds (the name, a timestamp in UnixNano's range) and stores hex ids as bytes; read with the key's
// fields, it is the summary written, whatever the ids and the time.
func TestTxSummaryTakesWhatItsKeyHolds(t *testing.T) {
	base := collector.TransactionSummary{
		Duration: 1234567 * time.Microsecond, Name: "GET /products/{id}", Type: "request", Result: "HTTP 2xx",
		Outcome: "success", TraceID: "0af7651916cd43dd8448eb211c80319c", TransactionID: "b7ad6b7169203331", Sampled: true,
		Timestamp: time.Date(2026, 12, 7, 9, 1, 2, 345678901, time.UTC),
		Labels:    []collector.SummaryLabel{{Key: "team", Value: "search"}},
	}
	cases := map[string]func(*collector.TransactionSummary){
		"hex ids":              func(*collector.TransactionSummary) {},
		"uppercase ids":        func(s *collector.TransactionSummary) { s.TraceID, s.TransactionID = "0AF7651916CD43DD", "B7AD" },
		"odd-length ids":       func(s *collector.TransactionSummary) { s.TraceID, s.TransactionID = "abc", "0" },
		"ids that are not hex": func(s *collector.TransactionSummary) { s.TraceID, s.TransactionID = "trace-1", "tx 1" },
		"no ids":               func(s *collector.TransactionSummary) { s.TraceID, s.TransactionID = "", "" },
		"longest hex id":       func(s *collector.TransactionSummary) { s.TraceID = string(make128hex()) },
		"no timestamp":         func(s *collector.TransactionSummary) { s.Timestamp = time.Time{} },
		"before 1678":          func(s *collector.TransactionSummary) { s.Timestamp = time.Date(1600, 1, 1, 0, 0, 0, 7, time.UTC) },
		"after 2262":           func(s *collector.TransactionSummary) { s.Timestamp = time.Date(2500, 1, 1, 0, 0, 0, 7, time.UTC) },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			want := base
			change(&want)
			v := appendTxSummary(nil, &want)
			var got collector.TransactionSummary
			withKeyFields(&got, want.Name, timeKey(want.Timestamp))
			if err := decodeTxSummary(v, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back as\n%+v\nwant\n%+v", got, want)
			}
			var lt collector.LabelledTransaction
			if err := decodeLabelled(string(v), want.Name, "team", &lt); err != nil {
				t.Fatal(err)
			}
			if lt.Name != want.Name || lt.Duration != want.Duration || lt.Outcome != want.Outcome || lt.Label != "search" || !lt.Labelled {
				t.Errorf("labelled read as %+v", lt)
			}
		})
	}
	// What the value leaves out: the name, the timestamp, and half of each hex id.
	earlier := appendTxSummaryEarlier(nil, &base)
	now := appendTxSummary(nil, &base)
	if saved := len(earlier) - len(now); saved < len(base.Name)+len(base.TraceID)/2+len(base.TransactionID)/2+8 {
		t.Errorf("the value is %d bytes, %d fewer than an earlier version's", len(now), saved)
	}
}

// TestTxSummaryOfAnEarlierVersion: a value an earlier version wrote (the name, the timestamp and the
// ids as strings in it) reads as it did, whatever the key says.
func TestTxSummaryOfAnEarlierVersion(t *testing.T) {
	want := collector.TransactionSummary{
		Duration: time.Second, Name: "GET /search", Type: "request", Result: "HTTP 5xx", Outcome: "failure",
		TraceID: "0af7651916cd43dd8448eb211c80319c", TransactionID: "b7ad6b7169203331",
		Timestamp: time.Date(2026, 11, 1, 0, 0, 0, 1, time.UTC), Labels: []collector.SummaryLabel{{Key: "k", Value: "v"}},
	}
	var got collector.TransactionSummary
	withKeyFields(&got, "the key's name", timeKey(want.Timestamp.Add(time.Hour)))
	if err := decodeTxSummary(appendTxSummaryEarlier(nil, &want), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back as\n%+v\nwant\n%+v", got, want)
	}
	var lt collector.LabelledTransaction
	if err := decodeLabelled(string(appendTxSummaryEarlier(nil, &want)), "the key's name", "k", &lt); err != nil || lt.Name != want.Name {
		t.Errorf("labelled: %+v, %v", lt, err)
	}
}

// appendTxSummaryEarlier is appendTxSummary as versions before 2026-12-07 wrote it.
func appendTxSummaryEarlier(b []byte, s *collector.TransactionSummary) []byte {
	if s.Duration != 0 {
		b = appendInt(b, 1<<3, int64(s.Duration))
	}
	b = appendString(b, 2<<3|2, s.Type)
	b = appendString(b, 3<<3|2, s.Result)
	b = appendString(b, 4<<3|2, s.Outcome)
	b = appendString(b, 5<<3|2, s.TraceID)
	b = appendString(b, 6<<3|2, s.TransactionID)
	if s.Sampled {
		b = appendBool(b, 7<<3, true)
	}
	b = appendString(b, 8<<3|2, s.Name)
	if !s.Timestamp.IsZero() {
		b = appendTime(b, 9<<3|2, s.Timestamp)
	}
	return appendSummaryLabels(b, 10<<3|2, s.Labels)
}

func make128hex() []byte {
	b := make([]byte, 128)
	for i := range b {
		b[i] = "0123456789abcdef"[i%16]
	}
	return b
}
