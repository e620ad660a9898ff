package agent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.elastic.co/apm/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hotpath-apm/hotpath/agent"
)

// TestLoggerTraceIDs: a handler's log lines carry the ids of its transaction and span in ECS names, and
// an error logged through ReportErrors reaches the APM server attached to that transaction and span.
func TestLoggerTraceIDs(t *testing.T) {
	in := newIntake(t)
	tracer := tracer(t, in)
	core, logs := observer.New(zapcore.InfoLevel)
	base := agent.ReportErrors(zap.New(core), tracer)

	var txID, spanID, traceID string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		agent.Logger(r.Context(), base).Info("searching")
		span, ctx := apm.StartSpan(r.Context(), "build query", "app.query")
		agent.Logger(ctx, base).Error("synonym expansion failed", zap.Error(errors.New("synonyms: dictionary missing")))
		tc := span.TraceContext()
		traceID, txID, spanID = tc.Trace.String(), apm.TransactionFromContext(ctx).TraceContext().Span.String(), tc.Span.String()
		span.End()
	})
	srv := httptest.NewServer(agent.Wrap(mux, agent.WithTracer(tracer)))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/search")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tracer.Flush(nil)

	entries := logs.All()
	if len(entries) != 2 {
		t.Fatalf("%d log entries", len(entries))
	}
	want := []map[string]any{
		{"trace.id": traceID, "transaction.id": txID},
		{"trace.id": traceID, "transaction.id": txID, "span.id": spanID},
	}
	for i, e := range entries {
		fields := map[string]any{}
		for k, v := range e.ContextMap() {
			if k != "error" {
				fields[k] = v
			}
		}
		if len(fields) != len(want[i]) {
			t.Errorf("entry %q: fields %v, want %v", e.Message, fields, want[i])
		}
		for k, v := range want[i] {
			if fields[k] != v {
				t.Errorf("entry %q: %s = %v, want %v", e.Message, k, fields[k], v)
			}
		}
	}

	errs := decode[sentError](t, in, "error")
	if len(errs) != 1 {
		t.Fatalf("%d errors sent, want 1", len(errs))
	}
	e := errs[0]
	if e.TraceID != traceID || e.TransactionID != txID || e.ParentID != spanID {
		t.Errorf("error ids %s %s %s, want %s %s %s", e.TraceID, e.TransactionID, e.ParentID, traceID, txID, spanID)
	}
	if e.Log == nil || e.Log.Message != "synonym expansion failed" || e.Exception == nil || e.Exception.Message != "synonyms: dictionary missing" {
		t.Errorf("error log %+v exception %+v", e.Log, e.Exception)
	}
}

func TestLoggerWithoutTransaction(t *testing.T) {
	base := zap.NewNop()
	if agent.Logger(context.Background(), base) != base {
		t.Fatal("Logger without a transaction should return base")
	}
}
