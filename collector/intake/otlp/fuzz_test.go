package otlp

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
)

// The fuzz targets feed each decoder entry point, OTLP/JSON and protobuf for each signal, with
// arbitrary bytes: a body either fails to decode (answered 400) or decodes and maps into events that
// render as documents, without a panic. The seeds are the golden inputs, in both encodings.

type otlpRequest interface {
	UnmarshalJSON([]byte) error
	UnmarshalProto([]byte) error
	MarshalProto() ([]byte, error)
}

// fuzzSignal fuzzes the requests of signal, made by newReq and seeded with its fixture inputs as JSON
// and as protobuf: a body that decodes is given to translate.
func fuzzSignal[R otlpRequest](f *testing.F, signal string, newReq func() R, translate func(t *testing.T, req R)) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "inputs", signal+"-*.json"))
	if len(paths) == 0 {
		f.Fatalf("no %s inputs", signal)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		req := newReq()
		if err := req.UnmarshalJSON(b); err != nil {
			f.Fatal(err)
		}
		pb, err := req.MarshalProto()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(pb, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, protobuf bool) {
		req := newReq()
		decode := req.UnmarshalJSON
		if protobuf {
			decode = req.UnmarshalProto
		}
		if decode(b) != nil {
			return
		}
		translate(t, req)
	})
}

func FuzzTraces(f *testing.F) {
	fuzzSignal(f, "traces", ptraceotlp.NewExportRequest, func(t *testing.T, req ptraceotlp.ExportRequest) {
		dropInvalidSpans(req.Traces())
		var tr translator
		renderAll(t, tr.traces(req.Traces(), time.Unix(0, 0), nil))
	})
}

func FuzzMetrics(f *testing.F) {
	fuzzSignal(f, "metrics", pmetricotlp.NewExportRequest, func(t *testing.T, req pmetricotlp.ExportRequest) {
		var tr translator
		events, rejected := tr.metrics(req.Metrics(), nil)
		if rejected < 0 || rejected > int64(req.Metrics().DataPointCount()) {
			t.Fatalf("%d data points rejected of %d", rejected, req.Metrics().DataPointCount())
		}
		renderAll(t, events)
	})
}

func FuzzLogs(f *testing.F) {
	fuzzSignal(f, "logs", plogotlp.NewExportRequest, func(t *testing.T, req plogotlp.ExportRequest) {
		var tr translator
		events := tr.logs(req.Logs(), time.Unix(0, 0), nil)
		if len(events) != req.Logs().LogRecordCount() {
			t.Fatalf("%d events of %d log records", len(events), req.Logs().LogRecordCount())
		}
		renderAll(t, events)
	})
}

// renderAll renders every event as the Elasticsearch exporter does: what is stored can be exported.
func renderAll(t *testing.T, events collector.Batch) {
	for i := range events {
		if _, err := elasticsearch.AppendDocument(nil, &events[i]); err != nil {
			t.Fatalf("event %d does not render: %v", i, err)
		}
	}
}
