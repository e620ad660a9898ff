package estest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodTx = `{"@timestamp":"2026-01-01T00:00:00.000Z","_doc_count":3,"event":{"outcome":"success","success_count":{"sum":3,"value_count":3}},"metricset":{"interval":"1m","name":"transaction"},"transaction":{"duration.histogram":{"counts":[2,1],"values":[100,2047]},"duration.summary":{"sum":2247,"value_count":3}}}`

func TestCheckMetricset(t *testing.T) {
	for _, tc := range []struct {
		name, index, source string
		ok                  bool
	}{
		{"well formed", "metrics-apm.transaction.1m-default", goodTx, true},
		{"not an aggregated metricset", "metrics-apm.app.search-default", `{"_doc_count":-1}`, true},
		{"values not ascending", "metrics-apm.transaction.1m-default", strings.Replace(goodTx, "[100,2047]", "[2047,100]", 1), false},
		{"values repeated", "metrics-apm.transaction.1m-default", strings.Replace(goodTx, "[100,2047]", "[100,100]", 1), false},
		{"fractional count", "metrics-apm.transaction.1m-default", strings.Replace(goodTx, "[2,1]", "[2.5,1]", 1), false},
		{"lengths differ", "metrics-apm.transaction.1m-default", strings.Replace(goodTx, "[2,1]", "[2]", 1), false},
		{"negative _doc_count", "metrics-apm.transaction.1m-default", strings.Replace(goodTx, `"_doc_count":3`, `"_doc_count":-3`, 1), false},
		{"summary without value_count", "metrics-apm.transaction.1m-default", strings.Replace(goodTx, `"sum":2247,"value_count":3`, `"sum":2247`, 1), false},
		{"success_count with a third member", "metrics-apm.transaction.1m-default", strings.Replace(goodTx, `"sum":3,"value_count":3`, `"sum":3,"value_count":3,"max":1`, 1), false},
		{"wrong interval", "metrics-apm.transaction.10m-default", goodTx, false},
		{"fractional response time", "metrics-apm.service_destination.1m-default",
			`{"@timestamp":"2026-01-01T00:00:00.000Z","_doc_count":1,"metricset":{"interval":"1m","name":"service_destination"},"span":{"destination":{"service":{"response_time":{"count":1,"sum.us":1.5}}}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkMetricset(tc.index, []byte(tc.source)); (got == nil) != tc.ok {
				t.Errorf("checkMetricset = %+v, want ok=%v", got, tc.ok)
			}
		})
	}
}

// TestGoldenMetricsetsPass: every document APM Server's aggregator wrote for the fixtures passes.
func TestGoldenMetricsetsPass(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/apm-server/es-metrics/*.metrics.ndjson")
	if len(files) == 0 {
		t.Fatal("no golden metricsets found")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(raw)) {
			var d struct {
				Index  string          `json:"index"`
				Source json.RawMessage `json:"source"`
			}
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				t.Fatal(err)
			}
			if fail := checkMetricset(d.Index, d.Source); fail != nil {
				t.Errorf("%s: %s: %s", filepath.Base(f), fail.Reason, d.Source)
			}
		}
	}
}
