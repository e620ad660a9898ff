package elasticsearch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotpath-apm/hotpath/collector"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
	"github.com/hotpath-apm/hotpath/collector/store/pebble"
)

// expectedDoc is what the fake must hold for one stored event.
type expectedDoc struct {
	index, id string
	source    []byte
}

func expected(t *testing.T, events collector.Batch) []expectedDoc {
	t.Helper()
	out := make([]expectedDoc, len(events))
	for i := range events {
		e := &events[i]
		idx, err := elasticsearch.Index(e)
		if err != nil {
			t.Fatal(err)
		}
		src, err := elasticsearch.AppendDocument(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = expectedDoc{index: idx, id: string(elasticsearch.AppendDocumentID(nil, e)), source: src}
	}
	return out
}

// checkDelivered checks that every expected document is in docs: exactly once when it has an _id, at
// least once otherwise, and that docs holds nothing else. It returns how many extra copies of
// documents without an _id there were.
func checkDelivered(t *testing.T, want []expectedDoc, docs []estest.Doc) (duplicates int) {
	t.Helper()
	type key struct{ index, id, source string }
	got := map[key]int{}
	for _, d := range docs {
		k := key{d.Index, d.ID, string(d.Source)}
		if d.GeneratedID {
			k.id = ""
		}
		got[k]++
	}
	for _, w := range want {
		k := key{w.index, w.id, string(w.source)}
		n := got[k]
		switch {
		case n == 0:
			t.Errorf("missing in Elasticsearch: %s _id=%q %.120s", w.index, w.id, w.source)
		case n > 1 && w.id != "":
			t.Errorf("%d copies of _id %q (want exactly one)", n, w.id)
		case n > 1:
			duplicates += n - 1
		}
		delete(got, k)
	}
	for k, n := range got {
		t.Errorf("unexpected document in Elasticsearch (%d copies): %s _id=%q %.120s", n, k.index, k.id, k.source)
	}
	return duplicates
}

func TestExportEveryStoredEvent(t *testing.T) {
	s, st := fakeAndStore(t)
	first := makeEvents(0, 1000)
	store(t, st, first)

	reg := prometheus.NewRegistry()
	r := start(t, testConfig(t, s, reg), st)
	r.waitConfirmed(t, st.LastSeq()+1)

	// Events stored while the exporter runs are picked up too.
	second := makeEvents(1000, 501)
	store(t, st, second)
	r.waitConfirmed(t, st.LastSeq()+1)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	all := append(expected(t, first), expected(t, second)...)
	if dup := checkDelivered(t, all, s.Docs()); dup != 0 {
		t.Errorf("%d duplicates without any failure", dup)
	}
	if got := metric(t, reg, "hotpath_elasticsearch_docs_indexed_total"); got != 1501 {
		t.Errorf("docs_indexed_total = %v, want 1501", got)
	}
	if got := metric(t, reg, "hotpath_elasticsearch_lag_events"); got != 0 {
		t.Errorf("lag_events = %v, want 0", got)
	}
	if pos, _ := st.Cursor("elasticsearch"); pos != st.LastSeq()+1 {
		t.Errorf("cursor at %d, want %d", pos, st.LastSeq()+1)
	}
	if s.GzipRequests() != s.BulkRequests() || s.BulkRequests() < 2 {
		t.Errorf("%d of %d bulk requests gzipped", s.GzipRequests(), s.BulkRequests())
	}
	// The _id of each kind.
	for _, d := range s.Docs() {
		if strings.HasPrefix(d.Index, "traces-") || strings.HasPrefix(d.Index, "logs-apm.error") {
			if d.GeneratedID || !strings.Contains(d.ID, "-") {
				t.Fatalf("%s document has _id %q, want <trace.id>-<id>", d.Index, d.ID)
			}
		} else if !d.GeneratedID {
			t.Fatalf("%s document has its own _id %q", d.Index, d.ID)
		}
	}
}

// TestOutageAndRestart is the spool's promise: Elasticsearch answers 503 for a while, the collector
// is restarted in the middle (store closed and reopened, exporter stopped and started), then
// Elasticsearch recovers, but the first bulk request after recovery is indexed and its answer lost.
// At the end every stored event is in Elasticsearch, exactly once per _id, at least once otherwise.
func TestOutageAndRestart(t *testing.T) {
	s := estest.NewServer()
	defer s.Close()
	dir := t.TempDir()
	st := openStore(t, dir)
	before := makeEvents(0, 700)
	store(t, st, before)

	s.SetOutage(http.StatusServiceUnavailable)
	reg := prometheus.NewRegistry()
	r := start(t, testConfig(t, s, reg), st)
	waitFake(t, s, "retries during the outage", func(_ []estest.Doc, n int) bool { return n >= 5 })
	if got := metric(t, reg, "hotpath_elasticsearch_lag_events"); got != 700 {
		t.Errorf("lag during the outage = %v, want 700", got)
	}

	// Restart in the middle of the outage.
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	// Every answer the exporter read was a 503 (at most MaxInFlight requests were cut short by the stop).
	if got, n := metric(t, reg, "hotpath_elasticsearch_bulk_requests_total", "status", "503"), s.BulkRequests(); got < float64(n-2) {
		t.Errorf("bulk_requests_total{status=503} = %v after %d requests", got, n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if pos, _ := st.Cursor("elasticsearch"); pos != 1 {
		t.Errorf("cursor moved to %d during the outage", pos)
	}
	st = openStore(t, dir)
	after := makeEvents(700, 300)
	store(t, st, after)

	reg = prometheus.NewRegistry()
	r = start(t, testConfig(t, s, reg), st)
	waitFake(t, s, "retries after the restart", func(_ []estest.Doc, n int) bool { return n >= 10 })
	s.Inject(estest.Fault{Drop: true, After: true})
	s.SetOutage(0)
	r.waitConfirmed(t, st.LastSeq()+1)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	dup := checkDelivered(t, append(expected(t, before), expected(t, after)...), s.Docs())
	t.Logf("documents without _id delivered twice after the lost answer: %d", dup)
	if got := metric(t, reg, "hotpath_elasticsearch_docs_duplicate_total"); got == 0 {
		t.Error("no 409 duplicates counted, but the first answer after recovery was lost")
	}
	if pos, _ := st.Cursor("elasticsearch"); pos != st.LastSeq()+1 {
		t.Errorf("cursor at %d, want %d", pos, st.LastSeq()+1)
	}
}

// A document Elasticsearch refuses for good (a mapping error) is counted and dropped, once, and
// does not hold back the others.
func TestMappingErrorIsCountedNotRetried(t *testing.T) {
	s := estest.NewServer()
	defer s.Close()
	var mu sync.Mutex
	attempts := map[string]int{}
	s.FailItems(func(d estest.Doc) *estest.ItemFailure {
		if !bytes.Contains(d.Source, []byte(`"n":"7`)) { // events 7, 70-79, 700-799
			return nil
		}
		mu.Lock()
		attempts[string(d.Source)]++
		mu.Unlock()
		return &estest.ItemFailure{Status: 400, Type: "document_parsing_exception",
			Reason: "[1:2] failed to parse field [labels.n] of type [long]"}
	})
	events, reg := exportEvents(t, s, 1000)

	var want []expectedDoc
	refused := 0
	for _, d := range expected(t, events) {
		if bytes.Contains(d.source, []byte(`"n":"7`)) {
			refused++
			continue
		}
		want = append(want, d)
	}
	checkDelivered(t, want, s.Docs())
	if refused != 111 || len(attempts) != refused {
		t.Fatalf("%d documents refused, %d seen by the fake", refused, len(attempts))
	}
	for src, n := range attempts {
		if n != 1 {
			t.Errorf("refused document sent %d times: %.80s", n, src)
		}
	}
	if got := metric(t, reg, "hotpath_elasticsearch_docs_failed_total", "type", "document_parsing_exception"); got != float64(refused) {
		t.Errorf("docs_failed_total = %v, want %d", got, refused)
	}
}

// Per-document 429s (a busy node) are retried until they succeed; nothing is duplicated.
func TestItemRejectionsAreRetried(t *testing.T) {
	s := estest.NewServer()
	defer s.Close()
	// Every third event is rejected twice, then accepted.
	seen := map[string]int{}
	s.FailItems(func(d estest.Doc) *estest.ItemFailure {
		n := labelN(d.Source)
		seen[string(d.Source)]++
		if n%3 == 0 && seen[string(d.Source)] <= 2 {
			return &estest.ItemFailure{Status: 429, Type: "es_rejected_execution_exception", Reason: "queue full"}
		}
		return nil
	})
	events, reg := exportEvents(t, s, 600)
	if dup := checkDelivered(t, expected(t, events), s.Docs()); dup != 0 {
		t.Errorf("%d duplicates", dup)
	}
	if got := metric(t, reg, "hotpath_elasticsearch_docs_retried_total", "status", "429"); got != 400 {
		t.Errorf("docs_retried_total{status=429} = %v, want 400 (200 documents rejected twice)", got)
	}
}

// Timeouts and dropped connections, before or after Elasticsearch indexed the request, are retried.
func TestTimeoutsAndDroppedConnectionsAreRetried(t *testing.T) {
	s := estest.NewServer()
	defer s.Close()
	s.Inject(
		estest.Fault{Hang: true},
		estest.Fault{Drop: true},
		estest.Fault{Hang: true, After: true},
		estest.Fault{Status: 429},
		estest.Fault{Status: 500},
	)
	st := openStore(t, t.TempDir())
	events := makeEvents(0, 500)
	store(t, st, events)
	cfg := testConfig(t, s, nil)
	// The hanging requests time out; the others must not, also on a loaded machine under -race, where
	// a bulk request of 500 events took longer than the 300 ms this was.
	cfg.RequestTimeout = 2 * time.Second
	cfg.MaxInFlight = 1
	exportAll(t, cfg, st)
	checkDelivered(t, expected(t, events), s.Docs())
	if n := s.BulkRequests(); n < 6 {
		t.Errorf("%d bulk requests, want at least the 5 failed ones and one more", n)
	}
}

// labelN returns the value of the label n that makeEvents gives every event.
func labelN(src []byte) int {
	_, after, _ := bytes.Cut(src, []byte(`"labels":{"n":"`))
	n, _ := strconv.Atoi(string(after[:bytes.IndexByte(after, '"')]))
	return n
}

func TestVersionCheck(t *testing.T) {
	ctx := context.Background()
	old := estest.NewServer(estest.WithVersion("8.14.3"))
	defer old.Close()
	c, err := elasticsearch.NewClient(elasticsearch.ClientConfig{URLs: []string{old.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := elasticsearch.CheckVersion(ctx, c); err == nil || !strings.Contains(err.Error(), "8.14.3") ||
		!strings.Contains(err.Error(), "8.15.0 or later") {
		t.Errorf("8.14.3: %v", err)
	}
	st := openStore(t, t.TempDir())
	x, err := elasticsearch.New(testConfig(t, old, nil), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Run(ctx); err == nil || !strings.Contains(err.Error(), "8.15.0") {
		t.Errorf("Run against 8.14.3: %v", err)
	}
	_ = x.Close()

	for _, v := range []string{"8.15.0", "8.19.3", "9.0.0-SNAPSHOT", "10.0.0"} {
		s := estest.NewServer(estest.WithVersion(v))
		c, _ := elasticsearch.NewClient(elasticsearch.ClientConfig{URLs: []string{s.URL}})
		if got, err := elasticsearch.CheckVersion(ctx, c); err != nil || got != v {
			t.Errorf("%s: %q, %v", v, got, err)
		}
		_ = c.Close(ctx)
		s.Close()
	}

	gone := estest.NewServer()
	gone.Close()
	c, _ = elasticsearch.NewClient(elasticsearch.ClientConfig{URLs: []string{gone.URL}})
	if _, err := elasticsearch.CheckVersion(ctx, c); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("unreachable: %v", err)
	}

	auth := estest.NewServer(estest.WithBasicAuth("elastic", "secret"))
	defer auth.Close()
	c, _ = elasticsearch.NewClient(elasticsearch.ClientConfig{URLs: []string{auth.URL}, Username: "elastic", Password: "wrong"})
	if _, err := elasticsearch.CheckVersion(ctx, c); !errors.Is(err, elasticsearch.ErrConfig) || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := elasticsearch.CheckVersion(ctx, c); errors.Is(err, elasticsearch.ErrConfig) && strings.Contains(err.Error(), "cannot reach") {
		t.Error("unreachable is not a configuration error")
	}
}

// TLS with a CA of our own, and an API key.
func TestTLSAndAPIKey(t *testing.T) {
	s := estest.NewServer(estest.WithTLS(), estest.WithAPIKey("aWQ6a2V5"))
	defer s.Close()
	st := openStore(t, t.TempDir())
	events := makeEvents(0, 50)
	store(t, st, events)
	cfg := testConfig(t, s, nil)
	cfg.CACert = s.CACert()
	cfg.APIKey = "aWQ6a2V5"
	exportAll(t, cfg, st)
	checkDelivered(t, expected(t, events), s.Docs())

	cfg.CACert = nil // the system roots do not know the fake's certificate
	x, _ := elasticsearch.New(cfg, st)
	defer x.Close()
	if _, err := x.CheckVersion(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v", err)
	}
}

// faultyCursorExporter stores 2,000 events and returns an exporter of them to a fake Elasticsearch,
// whose cursor commits fail as fail says (see faultyCursor), in batches small enough for many commits.
func faultyCursorExporter(t *testing.T, fail func(n int) error) (*elasticsearch.Exporter, *pebble.Store) {
	t.Helper()
	s, st := fakeAndStore(t)
	store(t, st, makeEvents(0, 2000))
	cfg := testConfig(t, s, nil)
	cfg.FlushBytes = 16 << 10 // many batches, so many commits
	x, err := elasticsearch.New(cfg, &faultyCursor{Store: st, fail: fail})
	if err != nil {
		t.Fatal(err)
	}
	return x, st
}

// faultyCursor is a spool whose cursor commits fail as fail says for the nth commit (from 1): a disk
// under the store that failed, or that is full for a while.
type faultyCursor struct {
	*pebble.Store
	fail    func(n int) error
	mu      sync.Mutex
	commits int
}

func (f *faultyCursor) CommitCursor(name string, pos uint64) error {
	f.mu.Lock()
	f.commits++
	n := f.commits
	f.mu.Unlock()
	if err := f.fail(n); err != nil {
		return err
	}
	return f.Store.CommitCursor(name, pos)
}

var errCursorDisk = errors.New("injected: cursor write failed")

// When the cursor cannot be written, the export stops on its own with that error (nothing more it
// sends could be recorded), and the cursor stays where it was last written.
func TestCursorFailureStopsExport(t *testing.T) {
	x, st := faultyCursorExporter(t, func(n int) error {
		if n > 1 { // the cursor can no longer be written after its first commit
			return errCursorDisk
		}
		return nil
	})
	err := x.Run(context.Background())
	if !errors.Is(err, errCursorDisk) || !strings.Contains(err.Error(), "commit cursor") {
		t.Fatalf("Run: %v, want the cursor's error", err)
	}
	pos, _ := st.Cursor("elasticsearch")
	if pos <= 1 || pos > st.LastSeq() {
		t.Fatalf("cursor at %d after the failure, want the first commit's position (of %d events)", pos, st.LastSeq())
	}
	if got := x.Confirmed(); got != pos {
		t.Fatalf("Confirmed() = %d, cursor at %d: only what was written is confirmed", got, pos)
	}
}

// TestLagFromTheCursorWhileElasticsearchNeverAnswers: after a restart, while the cluster does not
// answer even the version check, hotpath_elasticsearch_lag_events counts the events after the cursor on
// disk (all of them when there is none yet), so an alert on lag fires during that outage.
func TestLagFromTheCursorWhileElasticsearchNeverAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cursor uint64 // 0: none on disk
		want   float64
	}{
		{"no cursor yet", 0, 500},
		{"cursor on disk", 201, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := make(chan struct{}, 1)
			silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case asked <- struct{}{}:
				default:
				}
				<-r.Context().Done() // never answers
			}))
			defer silent.Close()
			st := openStore(t, t.TempDir())
			store(t, st, makeEvents(0, 500))
			if tc.cursor != 0 {
				if _, err := st.RegisterCursor("elasticsearch"); err != nil {
					t.Fatal(err)
				}
				if err := st.CommitCursor("elasticsearch", tc.cursor); err != nil {
					t.Fatal(err)
				}
			}
			reg := prometheus.NewRegistry()
			cfg := testConfig(t, nil, reg)
			cfg.URLs = []string{silent.URL}
			r := start(t, cfg, st)
			<-asked // Run is waiting for the cluster
			if got := metric(t, reg, "hotpath_elasticsearch_lag_events"); got != tc.want {
				t.Errorf("lag_events = %v, want %v", got, tc.want)
			}
			if err := r.stop(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFlushIntervalWhileReading: a batch is sent once its oldest event has waited FlushInterval, also
// while the reader still finds more events at every read (a backlog, or intake faster than the reader)
// and the batch is far from FlushBytes. The reader used to check the interval only when the store had
// nothing new, so a collector restarted with a backlog, or under steady load, held its first batch
// until FlushBytes filled.
func TestFlushIntervalWhileReading(t *testing.T) {
	s, st := fakeAndStore(t)
	events := makeEvents(0, 3000) // several reads; rendering them takes longer than the interval
	store(t, st, events)
	cfg := testConfig(t, s, nil)
	cfg.FlushInterval = time.Millisecond
	cfg.FlushBytes = 64 << 20
	exportAll(t, cfg, st)
	checkDelivered(t, expected(t, events), s.Docs())
	if n := s.BulkRequests(); n < 2 {
		t.Fatalf("%d bulk request for 3,000 events read with a 1 ms flush interval: the batch was not cut", n)
	}
}

// While the store cannot write for now the export waits and retries, as for Elasticsearch, and it
// completes once the store writes again.
func TestUnwritableCursorWaits(t *testing.T) {
	refused := 0 // commits run one at a time
	x, st := faultyCursorExporter(t, func(n int) error {
		if n > 1 && n <= 4 { // a full disk for three commits, then the store recovered by itself
			refused++
			return fmt.Errorf("store: disk nearly full: %w", collector.ErrStorageUnavailable)
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := x.WaitConfirmed(wctx, st.LastSeq()+1); err != nil {
		t.Fatalf("the export did not complete after the store wrote again: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if refused != 3 {
		t.Fatalf("%d commits refused, want 3", refused)
	}
	if pos, _ := st.Cursor("elasticsearch"); pos != st.LastSeq()+1 {
		t.Fatalf("cursor at %d, want %d", pos, st.LastSeq()+1)
	}
}
