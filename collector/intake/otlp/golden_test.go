package otlp_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"

	"github.com/hotpath-apm/hotpath/collector/intake"
	"github.com/hotpath-apm/hotpath/collector/intake/otlp"
	"github.com/hotpath-apm/hotpath/internal/esdoctest"
)

// The golden documents in testdata/es-source are what Elastic APM Server 9.6.0 (apm-data v1.22.1)
// writes for the OTLP requests in testdata/inputs; testdata/CHAIN-OTLP.md says how they were made.
// Each input is sent to a real receiver on loopback as OTLP/HTTP with a JSON body, OTLP/HTTP with a
// protobuf body and OTLP/gRPC, and the documents the Elasticsearch exporter renders for what reaches
// the Processor are compared with APM Server's as canonical JSON (internal/esdoctest). error.id is
// random in both: it is checked to be 32 hex characters, different for every error, and left out.

type manifestEntry struct {
	Input        string         `json:"input"`
	Signal       string         `json:"signal"`
	Items        int            `json:"items"`
	Rejected     int64          `json:"rejected"`
	ErrorMessage string         `json:"error_message"`
	EventsGolden string         `json:"events_golden"`
	Indexed      int            `json:"indexed"`
	Documents    map[string]int `json:"documents"`
}

func readManifest(t *testing.T) []manifestEntry {
	t.Helper()
	raw, err := os.ReadFile("testdata/MANIFEST.json")
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var errorIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// transports are the three ways an input is sent.
var transports = []string{"http-json", "http-protobuf", "grpc"}

// export sends an OTLP/JSON request body over transport and returns the partial success's rejected
// count and message.
func export(t *testing.T, s *testServer, signal, transport string, body []byte) (int64, string) {
	t.Helper()
	switch signal {
	case "traces":
		rsp := exportOne(t, s, otlp.PathTraces, transport, body, ptraceotlp.NewExportRequest(),
			ptraceotlp.NewExportResponse(), ptraceotlp.NewGRPCClient)
		return rsp.PartialSuccess().RejectedSpans(), rsp.PartialSuccess().ErrorMessage()
	case "metrics":
		rsp := exportOne(t, s, otlp.PathMetrics, transport, body, pmetricotlp.NewExportRequest(),
			pmetricotlp.NewExportResponse(), pmetricotlp.NewGRPCClient)
		return rsp.PartialSuccess().RejectedDataPoints(), rsp.PartialSuccess().ErrorMessage()
	case "logs":
		rsp := exportOne(t, s, otlp.PathLogs, transport, body, plogotlp.NewExportRequest(),
			plogotlp.NewExportResponse(), plogotlp.NewGRPCClient)
		return rsp.PartialSuccess().RejectedLogRecords(), rsp.PartialSuccess().ErrorMessage()
	}
	t.Fatalf("unknown signal %q", signal)
	return 0, ""
}

// exportOne decodes body (OTLP/JSON) into req, sends it over transport (to path, or with a gRPC client
// of the signal's service made by newClient) and returns the answer, decoded into rsp over HTTP.
func exportOne[Req, Rsp protoMessage, C interface {
	Export(context.Context, Req, ...grpc.CallOption) (Rsp, error)
}](t *testing.T, s *testServer, path, transport string, body []byte, req Req, rsp Rsp, newClient func(*grpc.ClientConn) C) Rsp {
	t.Helper()
	if err := req.UnmarshalJSON(body); err != nil {
		t.Fatal(err)
	}
	if transport != "grpc" {
		postExport(t, s, path, transport, body, req, rsp)
		return rsp
	}
	rsp, err := newClient(s.Dial(t)).Export(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return rsp
}

type protoMessage interface {
	MarshalProto() ([]byte, error)
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

// postExport sends body (OTLP/JSON) as it is, or req as protobuf, and decodes the 200 answer into rsp.
func postExport(t *testing.T, s *testServer, path, transport string, body []byte, req, rsp protoMessage) {
	t.Helper()
	ct := "application/json"
	if transport == "http-protobuf" {
		ct = "application/x-protobuf"
		var err error
		if body, err = req.MarshalProto(); err != nil {
			t.Fatal(err)
		}
	}
	status, h, out := s.post(t, path, ct, body, nil)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	if got := h.Get("Content-Type"); got != ct {
		t.Errorf("answer's Content-Type %q, want %q", got, ct)
	}
	var err error
	if transport == "http-protobuf" {
		err = rsp.UnmarshalProto(out)
	} else {
		err = rsp.UnmarshalJSON(out)
	}
	if err != nil {
		t.Fatalf("answer does not decode: %v: %q", err, out)
	}
}

func TestGoldenDocuments(t *testing.T) {
	for _, m := range readManifest(t) {
		name := strings.TrimSuffix(filepath.Base(m.Input), ".json")
		for _, transport := range transports {
			t.Run(name+"/"+transport, func(t *testing.T) {
				body, err := os.ReadFile(filepath.Join("testdata", m.Input))
				if err != nil {
					t.Fatal(err)
				}
				goldenFile := m.EventsGolden
				if transport == "grpc" {
					if g := strings.Replace(goldenFile, ".source.", ".grpc.source.", 1); fileExists(filepath.Join("testdata", g)) {
						goldenFile = g
					}
				}
				golden, err := os.ReadFile(filepath.Join("testdata", goldenFile))
				if err != nil {
					t.Fatal(err)
				}
				want := esdoctest.ReadGolden(t, golden)
				if len(want) != m.Indexed {
					t.Fatalf("golden file has %d documents, the manifest says %d", len(want), m.Indexed)
				}

				s := newTestServer(t, intake.Config{}, otlp.Config{}, nil)
				rejected, msg := export(t, s, m.Signal, transport, body)
				_, got := s.rec.take()
				wantRejected, wantMsg := m.Rejected, m.ErrorMessage
				if m.Signal == "metrics" {
					// APM Server drops exponential histograms; hotpath keeps them. Their samples are
					// checked here, then left out of the comparison.
					var expPoints int64
					got, expPoints = takeExponentialHistograms(t, body, got)
					wantRejected -= expPoints
					if wantRejected == 0 {
						wantMsg = ""
					}
				}
				if rejected != wantRejected || msg != wantMsg {
					t.Errorf("partial success: rejected %d %q, want %d %q", rejected, msg, wantRejected, wantMsg)
				}
				compareDocuments(t, got, want, m.Signal == "metrics", goldenFile != m.EventsGolden)
			})
		}
	}
}

// compareDocuments compares rendered documents with golden ones, in order (sorted for metrics, whose
// order comes from a Go map in APM Server). peerPort says that source.port is the gRPC client's
// ephemeral port, which the golden documents fix at 54321.
func compareDocuments(t *testing.T, got, want []esdoctest.Doc, sorted, peerPort bool) {
	t.Helper()
	errorIDs := map[string]bool{}
	checkID := func(side string) func(doc map[string]any) {
		return func(doc map[string]any) {
			if peerPort && side == "got" {
				// The peer's ephemeral port (CHAIN-OTLP.md fixes it at 54321).
				if src, ok := doc["source"].(map[string]any); ok && src["port"] != nil {
					src["port"] = 54321
				}
			}
			e, ok := doc["error"].(map[string]any)
			if !ok {
				return
			}
			id, _ := e["id"].(string)
			if side == "got" {
				if !errorIDPattern.MatchString(id) || errorIDs[id] {
					t.Errorf("error.id %q is not 32 hex characters or repeats", id)
				}
				errorIDs[id] = true
			}
			delete(e, "id")
		}
	}
	var g, w []string
	for _, d := range got {
		g = append(g, d.Index+" "+esdoctest.Canonical(t, d.Source, checkID("got")))
	}
	for _, d := range want {
		w = append(w, d.Index+" "+esdoctest.Canonical(t, d.Source, checkID("want")))
	}
	if sorted {
		sort.Strings(g)
		sort.Strings(w)
	}
	if len(g) != len(w) {
		t.Errorf("%d documents, want %d", len(g), len(w))
	}
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			gi, gs, _ := strings.Cut(g[i], " ")
			wi, ws, _ := strings.Cut(w[i], " ")
			if gi != wi {
				t.Errorf("document %d: index %s, want %s", i, gi, wi)
			}
			t.Errorf("document %d (%s) differs from APM Server's:\n%s", i, wi, esdoctest.Diff(gs, ws))
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// takeExponentialHistograms checks that every data point of the request's exponential histograms
// became a histogram sample holding its count, and returns the documents without those samples (and
// without the documents that held nothing else), with the number of data points.
func takeExponentialHistograms(t *testing.T, body []byte, docs []esdoctest.Doc) ([]esdoctest.Doc, int64) {
	t.Helper()
	req := pmetricotlp.NewExportRequest()
	if err := req.UnmarshalJSON(body); err != nil {
		t.Fatal(err)
	}
	counts := map[string][]uint64{} // metric name -> data points' counts
	var points int64
	rms := req.Metrics().ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				if m := ms.At(k); m.Type() == pmetric.MetricTypeExponentialHistogram {
					dps := m.ExponentialHistogram().DataPoints()
					for l := range dps.Len() {
						counts[m.Name()] = append(counts[m.Name()], dps.At(l).Count())
						points++
					}
				}
			}
		}
	}
	if points == 0 {
		t.Fatal("the input has no exponential histogram")
	}
	var kept []esdoctest.Doc
	var found int64
	for _, d := range docs {
		var src map[string]any
		if err := json.Unmarshal(d.Source, &src); err != nil {
			t.Fatal(err)
		}
		ms, _ := src["metricset"].(map[string]any)
		samples, _ := ms["samples"].([]any)
		var rest []any
		for _, x := range samples {
			sample := x.(map[string]any)
			name, _ := sample["name"].(string)
			if _, ok := counts[name]; !ok {
				rest = append(rest, x)
				continue
			}
			found++
			var sum uint64
			for _, c := range sample["counts"].([]any) {
				sum += uint64(c.(float64))
			}
			if sample["type"] != "histogram" || !slices.Contains(counts[name], sum) {
				t.Errorf("exponential histogram %s: sample %v, want a histogram of one of the counts %v", name, sample, counts[name])
			}
		}
		if len(rest) == 0 && len(samples) > 0 {
			continue
		}
		if ms != nil {
			ms["samples"] = rest
		}
		d.Source = mustJSON(t, src)
		kept = append(kept, d)
	}
	if found != points {
		t.Errorf("%d exponential histogram samples, want %d", found, points)
	}
	return kept, points
}
