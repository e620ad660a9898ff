package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanESSummary(t *testing.T) {
	for _, tc := range []struct {
		file string
		want esSummary
		// completeWithin: the summary is complete after at most this many bytes, whatever follows.
		completeWithin int
	}{
		{"search.json", esSummary{took: 42, hasTook: true, hasTimedOut: true, shardsFailed: 0, hasShardsFailed: true,
			hits: 1234, hasHits: true}, 160},
		{"search_gte.json", esSummary{took: 7, hasTook: true, hasTimedOut: true, hasShardsFailed: true,
			hits: 10000, hitsLowerBound: true, hasHits: true}, 250},
		{"search_total_int.json", esSummary{took: 3, hasTook: true, hasTimedOut: true, hasShardsFailed: true,
			hits: 17, hasHits: true}, 110},
		{"search_partial.json", esSummary{took: 5012, hasTook: true, timedOut: true, hasTimedOut: true,
			shardsFailed: 2, hasShardsFailed: true, hits: 88, hasHits: true}, 900},
		{"search_no_total.json", esSummary{took: 1, hasTook: true, hasTimedOut: true, hasShardsFailed: true}, 130},
		{"msearch.json", esSummary{took: 11, hasTook: true}, 25},
		{"bulk.json", esSummary{took: 30, hasTook: true, errors: true, hasErrors: true}, 35},
		{"error.json", esSummary{}, 1000},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, complete := scanESSummary(body)
			if !complete || got != tc.want {
				t.Fatalf("got %+v complete %v, want %+v", got, complete, tc.want)
			}
			// Every prefix gives a subset of the fields, and once complete, the final answer.
			firstComplete := -1
			for n := 0; n <= len(body); n++ {
				s, c := scanESSummary(body[:n])
				if c && firstComplete < 0 {
					firstComplete = n
				}
				if firstComplete >= 0 && s != tc.want {
					t.Fatalf("prefix %d (complete since %d): %+v", n, firstComplete, s)
				}
				if s.hasTook && s.took != tc.want.took || s.hasHits && s.hits != tc.want.hits {
					t.Fatalf("prefix %d: wrong value %+v", n, s)
				}
			}
			if firstComplete > tc.completeWithin {
				t.Errorf("complete only after %d bytes, want <= %d", firstComplete, tc.completeWithin)
			}
		})
	}
}

func TestScanESSummaryBadInput(t *testing.T) {
	for _, body := range []string{
		"", " ", "{", `{"took"`, `{"took":`, `{"took":1`, `{"took":12`, `{"timed_out":tr`, `{"timed_out":f`,
		`{"hits":{"total":{"value":3`,
	} {
		if s, complete := scanESSummary([]byte(body)); complete {
			t.Errorf("%q: complete (%+v), but more bytes could follow", body, s)
		}
	}
	for _, body := range []string{
		"[]", "null", "<html>", `{"took":x}`, `{"took":1 2}`, `{took:1}`, `{"timed_out":maybe}`,
		`{"a":"` + "\x01" + `"}`, `{"a":` + strings.Repeat("[", maxSkipDepth+1),
	} {
		if _, complete := scanESSummary([]byte(body)); !complete {
			t.Errorf("%q: not complete, but no bytes can make it valid", body)
		}
	}
	// What came before a fault is kept.
	if s, _ := scanESSummary([]byte(`{"took":9,"timed_out":nope}`)); !s.hasTook || s.took != 9 || s.hasTimedOut {
		t.Errorf("got %+v", s)
	}
	// Saturation rather than overflow.
	if s, _ := scanESSummary([]byte(`{"took":99999999999999999999999,"x":1}`)); s.took != 1<<63-1 {
		t.Errorf("took %d", s.took)
	}
}

func FuzzScanESSummary(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint(len(b)/2))
	}
	f.Add([]byte(`{"took":1,"hits":{"total":{"relation":"gte","value":5}}}`), uint(10))
	f.Fuzz(func(t *testing.T, body []byte, cut uint) {
		s, complete := scanESSummary(body)
		// A complete summary does not change whatever follows.
		if complete {
			if s2, c2 := scanESSummary(append(body[:len(body):len(body)], `,"took":1}garbage`...)); !c2 || s2 != s {
				t.Fatalf("complete %+v changed to %+v (complete %v) by more bytes", s, s2, c2)
			}
		}
		// A complete prefix gives the answer of the whole.
		k := int(cut % uint(len(body)+1))
		if sp, cp := scanESSummary(body[:k]); cp && (!complete || sp != s) {
			t.Fatalf("prefix %d complete %+v, whole %+v complete %v", k, sp, s, complete)
		}
	})
}
