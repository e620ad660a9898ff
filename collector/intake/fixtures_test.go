package intake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/hotpath-apm/hotpath/collector"
)

// responseIndex is testdata/responses/index.json: what APM Server answers, case by case.
type responseIndex struct {
	Cases []struct {
		Case     string          `json:"case"`
		Request  string          `json:"request"`
		Fixture  *string         `json:"fixture"`
		Status   int             `json:"status"`
		BodyFile string          `json:"body_file"`
		Body     json.RawMessage `json:"body"`
	} `json:"cases"`
}

// approvedBody is an APM Server answer: an intake result or an error document.
type approvedBody struct {
	Accepted *int `json:"accepted"`
	Errors   []struct {
		Message  string `json:"message"`
		Document string `json:"document"`
	} `json:"errors"`
	Error *string `json:"error"`
}

// fixtureCase says how to reproduce one case of the index: the request and the API's setup.
type fixtureCase struct {
	method      string
	path        string
	header      map[string]string
	body        func(t *testing.T, fixture []byte) []byte
	cfg         Config
	processorFn func(call int, b *collector.Batch) error
}

// fixtureCases maps every case of index.json to its request, as its "request" field describes it.
func fixtureCases() map[string]fixtureCase {
	verboseJSON := func() fixtureCase {
		return fixtureCase{
			method: http.MethodPost, path: "/intake/v2/events?verbose",
			header: map[string]string{"Accept": "application/json", "Content-Type": "application/x-ndjson"},
		}
	}
	with := func(c fixtureCase, f func(*fixtureCase)) fixtureCase { f(&c); return c }
	cases := map[string]fixtureCase{}
	for _, name := range []string{"InvalidEvent", "InvalidJSONEvent", "InvalidJSONMetadata", "InvalidMetadata",
		"InvalidMetadata2", "UnrecognizedEvent", "Success"} {
		cases[name] = verboseJSON()
	}
	cases["Method"] = fixtureCase{method: http.MethodGet, path: "/intake/v2/events?verbose"}
	cases["ContentType"] = with(verboseJSON(), func(c *fixtureCase) { c.header["Content-Type"] = "application/json" })
	cases["EmptyBody"] = with(verboseJSON(), func(c *fixtureCase) {
		c.body = func(*testing.T, []byte) []byte { return nil }
	})
	cases["CompressedBodyReaderDeflateInvalid"] = with(verboseJSON(), func(c *fixtureCase) { c.header["Content-Encoding"] = "deflate" })
	cases["CompressedBodyReaderDeflateValid"] = with(verboseJSON(), func(c *fixtureCase) {
		c.header["Content-Encoding"] = "deflate"
		c.body = func(t *testing.T, b []byte) []byte { return zlibbed(t, b) }
	})
	cases["CompressedBodyReaderGzipInvalid"] = with(verboseJSON(), func(c *fixtureCase) { c.header["Content-Encoding"] = "gzip" })
	cases["CompressedBodyReaderGzipValid"] = with(verboseJSON(), func(c *fixtureCase) {
		c.header["Content-Encoding"] = "gzip"
		c.body = func(t *testing.T, b []byte) []byte { return gzipped(t, b) }
	})
	cases["TooLarge"] = with(verboseJSON(), func(c *fixtureCase) { c.cfg.MaxEventSize = 10 })
	cases["Closing"] = with(verboseJSON(), func(c *fixtureCase) {
		c.processorFn = func(int, *collector.Batch) error { return collector.ErrShuttingDown }
	})
	queueFull := with(verboseJSON(), func(c *fixtureCase) {
		c.processorFn = func(int, *collector.Batch) error { return collector.ErrQueueFull }
	})
	cases["FullQueueLegacy"], cases["FullQueue"] = queueFull, queueFull
	cases["integration/backend/TestIntakeBackendHandler_AuthorizationMiddleware/Unauthorized"] = fixtureCase{
		method: http.MethodPost, path: "/intake/v2/events", cfg: Config{SecretToken: "1234"},
	}
	cases["integration/backend/TestIntakeBackendHandler_AuthorizationMiddleware/Authorized"] = fixtureCase{
		method: http.MethodGet, path: "/intake/v2/events", cfg: Config{SecretToken: "1234"},
		header: map[string]string{"Authorization": "Bearer 1234"},
	}
	cases["integration/rum/TestRUMHandler_KillSwitchMiddleware/OffRum"] = fixtureCase{
		method: http.MethodPost, path: "/intake/v2/rum/events",
	}
	return cases
}

// decoderMessagePrefixes are the prefixes of the decoder's free-text messages: the rest of the
// wording may differ from APM Server's (see testdata/responses and the fixtures' README).
var decoderMessagePrefixes = []string{"decode error: ", "validation error: "}

// TestAPMServerResponses replays every case of APM Server's response index against the API and checks
// the status, accepted, the error documents and messages, the headers and the content type.
func TestAPMServerResponses(t *testing.T) {
	var index responseIndex
	if err := json.Unmarshal(readFixture(t, "responses/index.json"), &index); err != nil {
		t.Fatal(err)
	}
	cases := fixtureCases()
	if len(index.Cases) != len(cases) {
		t.Errorf("index has %d cases, the test knows %d", len(index.Cases), len(cases))
	}
	for _, ic := range index.Cases {
		t.Run(ic.Case, func(t *testing.T) {
			fc, ok := cases[ic.Case]
			if !ok {
				t.Fatalf("no request for case %q (%s)", ic.Case, ic.Request)
			}
			var want approvedBody
			if err := json.Unmarshal(readFixture(t, "responses/"+ic.BodyFile), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(ic.Body, new(approvedBody)); err != nil {
				t.Fatal(err)
			}
			var body []byte
			if ic.Fixture != nil {
				body = readFixture(t, "intake-v2/"+*ic.Fixture)
			}
			if fc.body != nil {
				body = fc.body(t, body)
			}
			api, rec, _ := newTestAPI(t, fc.cfg)
			rec.fail = fc.processorFn
			req := httptest.NewRequest(fc.method, fc.path, bytes.NewReader(body))
			for k, v := range fc.header {
				req.Header.Set(k, v)
			}
			w := serve(api.Handler(), req)

			if w.Code != ic.Status {
				t.Fatalf("status %d, APM Server answers %d; body %s", w.Code, ic.Status, w.Body)
			}
			checkHeaders(t, req, w)
			var got approvedBody
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			checkBody(t, got, want)
		})
	}
}

// checkHeaders checks the headers every APM Server answer has.
func checkHeaders(t *testing.T, req *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	intake := strings.HasPrefix(req.URL.Path, "/intake/v2/events")
	if got := w.Header().Get("Connection"); intake && w.Code >= 400 && w.Code != 401 && got != "Close" {
		t.Errorf("status %d with Connection %q, want Close", w.Code, got)
	} else if (w.Code < 400 || w.Code == 401) && got != "" {
		t.Errorf("status %d with Connection %q, want none", w.Code, got)
	}
	wantCT := "text/plain; charset=utf-8"
	if strings.Contains(req.Header.Get("Accept"), "application/json") {
		wantCT = "application/json"
	}
	if w.Body.Len() > 0 {
		if got := w.Header().Get("Content-Type"); got != wantCT {
			t.Errorf("Content-Type %q, want %q", got, wantCT)
		}
		if wantCT == "application/json" && !strings.Contains(w.Body.String(), "\n  \"") {
			t.Errorf("JSON body is not indented as APM Server's: %q", w.Body)
		}
	}
}

// checkBody compares an answer with APM Server's: accepted, the error documents exactly, and the
// messages exactly except for the decoder's wording after its prefix.
func checkBody(t *testing.T, got, want approvedBody) {
	t.Helper()
	if !reflect.DeepEqual(got.Accepted, want.Accepted) {
		t.Errorf("accepted %v, want %v", deref(got.Accepted), deref(want.Accepted))
	}
	if !reflect.DeepEqual(got.Error, want.Error) {
		t.Errorf("error %q, want %q", deref(got.Error), deref(want.Error))
	}
	if len(got.Errors) != len(want.Errors) {
		t.Fatalf("errors %+v, want %+v", got.Errors, want.Errors)
	}
	for i := range want.Errors {
		g, w := got.Errors[i], want.Errors[i]
		if g.Document != w.Document {
			t.Errorf("errors[%d].document %q, want %q", i, g.Document, w.Document)
		}
		if g.Message == w.Message {
			continue
		}
		matched := false
		for _, p := range decoderMessagePrefixes {
			if strings.HasPrefix(w.Message, p) && strings.HasPrefix(g.Message, p) {
				matched = true
			}
		}
		if !matched {
			t.Errorf("errors[%d].message %q, want %q (or its prefix)", i, g.Message, w.Message)
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
