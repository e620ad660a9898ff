package elasticsearch

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseBulkResponse reads a filtered bulk response of 500 items, one in ten refused with an
// error (its type and reason read), as the exporter reads every _bulk answer.
func BenchmarkParseBulkResponse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"took":12,"errors":true,"items":[`)
	for i := range 500 {
		if i > 0 {
			sb.WriteByte(',')
		}
		if i%10 == 0 {
			fmt.Fprintf(&sb, `{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected item %d","caused_by":{"type":"x"}}}}`, i)
		} else {
			sb.WriteString(`{"create":{"status":201}}`)
		}
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	items := make([]itemResult, 0, 500)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if items, err = parseBulkResponse(items[:0], body); err != nil || len(items) != 500 || items[10].reason != "rejected item 10" {
			b.Fatal(err, len(items))
		}
	}
}
