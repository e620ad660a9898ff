package elasticsearch

import (
	"testing"
	"time"
)

func TestParseBulkResponse(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []itemResult
		bad        bool
	}{
		{"filtered", `{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}}]}`,
			[]itemResult{{status: 201}, {status: 409, typ: "version_conflict_engine_exception", reason: "exists"}}, false},
		{"unfiltered", `{"took":3,"errors":true,"items":[{"create":{"_index":".ds-x","_id":"a","_version":1,"result":"created",` +
			`"_shards":{"total":2,"successful":1,"failed":0},"_seq_no":1,"_primary_term":1,"status":201}},` +
			`{"create":{"_index":"x","status":400,"error":{"type":"document_parsing_exception","reason":"r","caused_by":{"type":"x"}}}}]}`,
			[]itemResult{{status: 201}, {status: 400, typ: "document_parsing_exception", reason: "r"}}, false},
		{"no items", `{"errors":false}`, nil, false},
		{"error without type", `{"items":[{"create":{"status":500,"error":"boom"}}]}`, []itemResult{{status: 500, typ: "unknown"}}, false},
		{"item without status", `{"items":[{"create":{}}]}`, nil, true},
		{"truncated", `{"items":[{"create":{"status":201}}`, nil, true},
		{"not JSON", `<html>`, nil, true},
		{"status not a number", `{"items":[{"create":{"status":"201"}}]}`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBulkResponse(nil, []byte(tc.body))
			if tc.bad {
				if err == nil {
					t.Errorf("no error for %s", tc.body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d items, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("item %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// FuzzParseBulkResponse: a response from the network never panics the parser.
func FuzzParseBulkResponse(f *testing.F) {
	f.Add([]byte(`{"errors":true,"items":[{"create":{"status":429,"error":{"type":"t","reason":"r"}}}]}`))
	f.Add([]byte(`{"items":[{"create":{"status":1e400}}]}`))
	f.Add([]byte(`{"items":[[]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := parseBulkResponse(nil, b)
		if err == nil {
			for _, it := range items {
				if it.status == 0 {
					t.Fatalf("item without status accepted: %s", b)
				}
			}
		}
	})
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	ix := indexer{minBackoff: 100 * time.Millisecond, maxBackoff: 2 * time.Second}
	for n, want := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000} {
		want *= time.Millisecond
		for range 50 {
			if d := ix.backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if d := ix.backoff(1000); d > 2*time.Second || d < time.Second {
		t.Errorf("backoff(1000) = %v: overflow", d)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"8.15.0": true, "8.15.3": true, "8.14.9": false, "8.2.0": false,
		"9.0.0-SNAPSHOT": true, "7.17.0": false, "10.0": true, "garbage": false} {
		if got := versionAtLeast(v, MinVersion); got != want {
			t.Errorf("versionAtLeast(%q) = %v", v, got)
		}
	}
}
