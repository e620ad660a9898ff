package decoder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// The golden documents (testdata/es-source) are what APM Server writes to Elasticsearch for each
// fixture. This test renders every decoded Event into the same shape with a small, test-only
// projection of the ECS fields, emulates the few APM Server processors that run between decoding and
// indexing (SetHostHostname, SetServiceNodeName, DropUnsampled), and compares field by field. Fields that
// only those processors or the indexing setup produce (observer.*, data_stream.*, error.grouping_key)
// and, for RUM, what source maps produce, are left out: they are not the decoder's.

var requestTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// backendBase is the base event APM Server builds for a backend request from 127.0.0.1.
func backendBase() collector.Event {
	return collector.Event{
		Timestamp: requestTime,
		Host:      collector.Host{IP: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
	}
}

// rumBase is the base event APM Server builds for a RUM request (CHAIN.md).
func rumBase() collector.Event {
	ip := netip.MustParseAddr("127.0.0.1")
	return collector.Event{
		Timestamp: requestTime,
		Client:    collector.Client{IP: ip},
		Source:    collector.Source{IP: ip, Port: 54321},
		UserAgent: collector.UserAgent{Original: "Go-http-client/1.1"},
	}
}

type manifestEntry struct {
	Fixture  string `json:"fixture"`
	Golden   string `json:"golden"`
	Endpoint string `json:"endpoint"`
	Accepted int    `json:"accepted"`
	Indexed  int    `json:"indexed"`
}

// decodeAll decodes a whole body and returns deep copies of every event handed on.
func decodeAll(t testing.TB, opts Options, body []byte, base collector.Event) ([]collector.Event, Result, error) {
	t.Helper()
	d := New(opts)
	var events []collector.Event
	res, err := d.Decode(context.Background(), bytes.NewReader(body), &base, collector.ProcessBatchFunc(func(_ context.Context, b *collector.Batch) error {
		for i := range *b {
			events = append(events, deepCopy((*b)[i]))
		}
		return nil
	}))
	return events, res, err
}

// deepCopy copies an event through reflection, so that the decoder's reuse of its storage for the next
// batch cannot change what a test holds.
func deepCopy(ev collector.Event) collector.Event {
	var out collector.Event
	copyValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(ev))
	return out
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Elem().Type())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Struct:
		if src.Type() == reflect.TypeOf(time.Time{}) || src.Type() == reflect.TypeOf(netip.Addr{}) {
			dst.Set(src)
			return
		}
		for i := 0; i < src.NumField(); i++ {
			if dst.Field(i).CanSet() {
				copyValue(dst.Field(i), src.Field(i))
			} else {
				dst.Set(src) // unexported fields: copy the whole value
				return
			}
		}
	default:
		dst.Set(src)
	}
}

func TestGoldenDocuments(t *testing.T) {
	var manifest []manifestEntry
	readJSON(t, "testdata/es-source/MANIFEST.json", &manifest)
	for _, m := range manifest {
		goldenPath := filepath.Join("testdata/es-source", m.Golden)
		if _, err := os.Stat(goldenPath); err != nil {
			continue // the fixture set has no golden file for it
		}
		t.Run(m.Fixture, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", m.Fixture))
			if err != nil {
				t.Fatal(err)
			}
			base := backendBase()
			rum := m.Endpoint == "rum"
			if rum {
				base = rumBase()
			}
			events, res, err := decodeAll(t, Options{BatchSize: 10}, body, base)
			if err != nil || len(res.Errors) > 0 {
				t.Fatalf("Decode: %v %v", err, res.Errors)
			}
			if res.Accepted != m.Accepted {
				t.Errorf("accepted %d, want %d", res.Accepted, m.Accepted)
			}
			var kept []collector.Event
			for _, ev := range events {
				// DropUnsampled: unsampled transactions of backend agents are not indexed.
				if ev.Kind == collector.KindTransaction && !ev.Transaction.Sampled && !rum {
					continue
				}
				kept = append(kept, ev)
			}
			golden := readGolden(t, goldenPath)
			if len(kept) != len(golden) {
				t.Fatalf("%d events to index, golden has %d", len(kept), len(golden))
			}
			for i := range kept {
				got := flatten(render(&kept[i]))
				want := flatten(golden[i])
				ignoreProcessorFields(want, rum)
				ignoreProcessorFields(got, rum)
				if diff := diffFlat(got, want); diff != "" {
					t.Errorf("event %d (%s):\n%s", i, kept[i].Kind, diff)
				}
			}
		})
	}
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T, path string) []map[string]any {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var doc struct {
			Source map[string]any `json:"source"`
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		out = append(out, doc.Source)
	}
	return out
}

func ignoreProcessorFields(flat map[string]any, rum bool) {
	for k := range flat {
		switch {
		case strings.HasPrefix(k, "observer."), strings.HasPrefix(k, "data_stream."), k == "error.grouping_key":
			delete(flat, k)
		case strings.HasSuffix(k, ".exclude_from_grouping"):
			delete(flat, k)
		case rum && (strings.Contains(k, ".sourcemap.") || strings.Contains(k, ".original.") ||
			strings.HasSuffix(k, ".library_frame") || k == "error.culprit"):
			delete(flat, k)
		}
	}
	// The internal metrics data stream drops sample types and units (SetDataStream).
	if _, ok := flat["metricset.name"]; ok {
		for k := range flat {
			if strings.HasPrefix(k, "metricset.samples.") && (strings.HasSuffix(k, ".type") || strings.HasSuffix(k, ".unit")) {
				delete(flat, k)
			}
		}
	}
}

// flatten turns a document into path -> scalar (or array of scalars), numbers as float64.
func flatten(doc map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
		case []any:
			objects := false
			for _, x := range v {
				if _, ok := x.(map[string]any); ok {
					objects = true
				}
			}
			if !objects {
				out[prefix] = normalizeScalars(v)
				return
			}
			for i, x := range v {
				walk(fmt.Sprintf("%s.%d", prefix, i), x)
			}
		default:
			out[prefix] = normalizeScalar(v)
		}
	}
	walk("", doc)
	return out
}

func normalizeScalars(v []any) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = normalizeScalar(x)
	}
	return out
}

func normalizeScalar(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := v.Float64()
		return f
	case int:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case uint16:
		return float64(v)
	case uint64:
		return float64(v)
	}
	return v
}

func diffFlat(got, want map[string]any) string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var b strings.Builder
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "  %s: missing, want %v\n", k, w)
		case !wok:
			fmt.Fprintf(&b, "  %s: got %v, not in golden\n", k, g)
		case !reflect.DeepEqual(g, w):
			fmt.Fprintf(&b, "  %s: got %#v, want %#v\n", k, g, w)
		}
	}
	return b.String()
}

// doc is a nested document under construction.
type doc map[string]any

// set stores v at a dotted path unless v is a zero value.
func (d doc) set(path string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case nil:
		return
	case []string:
		if len(x) == 0 {
			return
		}
		a := make([]any, len(x))
		for i := range x {
			a[i] = x[i]
		}
		v = a
	}
	parts := strings.Split(path, ".")
	m := d
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(doc)
		if !ok {
			next = doc{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

func toMap(d doc) map[string]any {
	out := map[string]any{}
	for k, v := range d {
		switch x := v.(type) {
		case doc:
			out[k] = toMap(x)
		case []doc:
			a := make([]any, len(x))
			for i := range x {
				a[i] = toMap(x[i])
			}
			out[k] = a
		default:
			out[k] = v
		}
	}
	return out
}

func rawToAny(r collector.RawJSON) any {
	if r == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(r)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(fmt.Sprintf("invalid RawJSON %q: %v", r, err))
	}
	return v
}

func kvMap(kvs []collector.KeyValue) any {
	if len(kvs) == 0 {
		return nil
	}
	m := map[string]any{}
	for _, kv := range kvs {
		m[kv.Key] = rawToAny(kv.Value)
	}
	return m
}

func headerMap(hs []collector.Header) any {
	if len(hs) == 0 {
		return nil
	}
	m := map[string]any{}
	for _, h := range hs {
		a := make([]any, len(h.Values))
		for i := range h.Values {
			a[i] = h.Values[i]
		}
		m[h.Key] = a
	}
	return m
}

func addr(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	return a.String()
}

func opt[T any](o collector.Optional[T]) any {
	if !o.Valid {
		return nil
	}
	return o.V
}

func nonZero[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

func sanitizeLabelKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '"':
			return '_'
		}
		return r
	}, k)
}

func frames(fs []collector.StackFrame) any {
	if len(fs) == 0 {
		return nil
	}
	out := make([]doc, len(fs))
	for i, f := range fs {
		d := doc{}
		d.set("abs_path", f.AbsPath)
		d.set("filename", f.Filename)
		d.set("classname", f.Classname)
		d.set("function", f.Function)
		d.set("module", f.Module)
		d.set("context.pre", f.PreContext)
		d.set("context.post", f.PostContext)
		d.set("line.context", f.ContextLine)
		d.set("line.number", opt(f.Lineno))
		d.set("line.column", opt(f.Colno))
		d.set("vars", kvMap(f.Vars))
		if f.LibraryFrame {
			d.set("library_frame", true)
		}
		out[i] = d
	}
	return out
}

// exceptions flattens an exception chain as APM Server's documents do: depth first, each cause after
// its parent, with "parent" naming the parent's index when it is not the previous entry.
func exceptions(x *collector.Exception) []doc {
	var out []doc
	var walk func(x *collector.Exception, parent int)
	walk = func(x *collector.Exception, parent int) {
		d := doc{}
		d.set("message", x.Message)
		d.set("module", x.Module)
		d.set("code", x.Code)
		d.set("type", x.Type)
		d.set("handled", opt(x.Handled))
		d.set("attributes", kvMap(x.Attributes))
		d.set("stacktrace", frames(x.Stacktrace))
		idx := len(out)
		if parent >= 0 && parent != idx-1 {
			d.set("parent", parent)
		}
		out = append(out, d)
		for i := range x.Cause {
			walk(&x.Cause[i], idx)
		}
	}
	walk(x, -1)
	return out
}

// render is the test's projection of an Event into APM Server's document shape.
func render(ev *collector.Event) map[string]any {
	// APM Server processors between decoding and indexing: SetHostHostname, SetServiceNodeName.
	host := ev.Host
	switch {
	case ev.Kubernetes.NodeName != "":
		host.Hostname = ev.Kubernetes.NodeName
	case ev.Kubernetes.PodName != "" || ev.Kubernetes.PodUID != "" || ev.Kubernetes.Namespace != "":
		host.Hostname = ""
	}
	if host.Name == "" {
		host.Name = host.Hostname
	}
	nodeName := ev.Service.NodeName
	if nodeName == "" {
		nodeName = ev.Container.ID
		if nodeName == "" {
			nodeName = host.Name
		}
	}

	d := doc{}
	d.set("@timestamp", ev.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z"))
	switch ev.Kind {
	case collector.KindTransaction, collector.KindSpan, collector.KindError:
		d.set("timestamp.us", ev.Timestamp.UnixMicro())
	}
	d.set("trace.id", ev.TraceID)
	d.set("parent.id", ev.ParentID)
	d.set("child.id", ev.ChildIDs)
	d.set("message", ev.Message)

	d.set("event.outcome", ev.Event.Outcome)
	if ev.Event.Duration != 0 || ev.Kind == collector.KindTransaction || ev.Kind == collector.KindSpan {
		d.set("event.duration", int64(ev.Event.Duration))
	}
	d.set("event.dataset", ev.Event.Dataset)
	d.set("event.kind", ev.Event.Kind)

	d.set("agent.name", ev.Agent.Name)
	d.set("agent.version", ev.Agent.Version)
	d.set("agent.ephemeral_id", ev.Agent.EphemeralID)
	d.set("agent.activation_method", ev.Agent.ActivationMethod)

	s := ev.Service
	d.set("service.name", s.Name)
	d.set("service.version", s.Version)
	d.set("service.environment", s.Environment)
	d.set("service.node.name", nodeName)
	d.set("service.language.name", s.Language.Name)
	d.set("service.language.version", s.Language.Version)
	d.set("service.runtime.name", s.Runtime.Name)
	d.set("service.runtime.version", s.Runtime.Version)
	d.set("service.framework.name", s.Framework.Name)
	d.set("service.framework.version", s.Framework.Version)
	d.set("service.origin.id", s.Origin.ID)
	d.set("service.origin.name", s.Origin.Name)
	d.set("service.origin.version", s.Origin.Version)
	if s.Target != (collector.ServiceTarget{}) {
		// A target's type is written even when empty.
		d.set("service.target", doc{"type": s.Target.Type})
		d.set("service.target.name", s.Target.Name)
	}

	d.set("host.hostname", host.Hostname)
	d.set("host.name", host.Name)
	d.set("host.id", host.ID)
	d.set("host.architecture", host.Architecture)
	d.set("host.os.platform", host.OS.Platform)
	if len(host.IP) > 0 {
		ips := make([]any, len(host.IP))
		for i, ip := range host.IP {
			ips[i] = ip.String()
		}
		d.set("host.ip", ips)
	}

	p := ev.Process
	d.set("process.pid", nonZero(p.PID))
	d.set("process.parent.pid", nonZero(p.PPID))
	d.set("process.title", p.Title)
	d.set("process.args", p.Argv)
	d.set("process.thread.name", p.ThreadName)

	d.set("container.id", ev.Container.ID)
	d.set("kubernetes.namespace", ev.Kubernetes.Namespace)
	d.set("kubernetes.node.name", ev.Kubernetes.NodeName)
	d.set("kubernetes.pod.name", ev.Kubernetes.PodName)
	d.set("kubernetes.pod.uid", ev.Kubernetes.PodUID)

	c := ev.Cloud
	d.set("cloud.account.id", c.AccountID)
	d.set("cloud.account.name", c.AccountName)
	d.set("cloud.availability_zone", c.AvailabilityZone)
	d.set("cloud.instance.id", c.InstanceID)
	d.set("cloud.instance.name", c.InstanceName)
	d.set("cloud.machine.type", c.MachineType)
	d.set("cloud.project.id", c.ProjectID)
	d.set("cloud.project.name", c.ProjectName)
	d.set("cloud.provider", c.Provider)
	d.set("cloud.region", c.Region)
	d.set("cloud.service.name", c.ServiceName)
	d.set("cloud.origin.account.id", c.Origin.AccountID)
	d.set("cloud.origin.provider", c.Origin.Provider)
	d.set("cloud.origin.region", c.Origin.Region)
	d.set("cloud.origin.service.name", c.Origin.ServiceName)

	f := ev.Faas
	d.set("faas.id", f.ID)
	d.set("faas.coldstart", opt(f.ColdStart))
	d.set("faas.execution", f.Execution)
	d.set("faas.trigger.type", f.TriggerType)
	d.set("faas.trigger.request_id", f.TriggerRequestID)
	d.set("faas.name", f.Name)
	d.set("faas.version", f.Version)

	d.set("network.connection.type", ev.Network.ConnectionType)
	d.set("network.connection.subtype", ev.Network.ConnectionSubtype)

	d.set("user.id", ev.User.ID)
	d.set("user.email", ev.User.Email)
	d.set("user.name", ev.User.Name)
	d.set("user.domain", ev.User.Domain)
	d.set("user_agent.original", ev.UserAgent.Original)

	d.set("client.ip", addr(ev.Client.IP))
	d.set("client.port", nonZero(ev.Client.Port))
	d.set("client.domain", ev.Client.Domain)
	d.set("source.ip", addr(ev.Source.IP))
	d.set("source.nat.ip", addr(ev.Source.NATIP))
	d.set("source.port", nonZero(ev.Source.Port))
	d.set("source.domain", ev.Source.Domain)
	d.set("destination.address", ev.Destination.Address)
	if _, err := netip.ParseAddr(ev.Destination.Address); err == nil {
		d.set("destination.ip", ev.Destination.Address) // written as sent
	}
	d.set("destination.port", nonZero(ev.Destination.Port))
	d.set("session.id", ev.Session.ID)
	d.set("session.sequence", nonZero(ev.Session.Sequence))

	u := ev.URL
	d.set("url.original", u.Original)
	d.set("url.scheme", u.Scheme)
	d.set("url.full", u.Full)
	d.set("url.domain", u.Domain)
	d.set("url.path", u.Path)
	d.set("url.query", u.Query)
	d.set("url.fragment", u.Fragment)
	d.set("url.port", nonZero(u.Port))

	for _, l := range ev.Labels {
		if l.Values != nil {
			d.set("labels."+sanitizeLabelKey(l.Key), l.Values)
		} else {
			d["labels"] = setIn(d["labels"], sanitizeLabelKey(l.Key), l.Value)
		}
	}
	for _, l := range ev.NumericLabels {
		if l.Values != nil {
			d["numeric_labels"] = setIn(d["numeric_labels"], sanitizeLabelKey(l.Key), l.Values)
		} else {
			d["numeric_labels"] = setIn(d["numeric_labels"], sanitizeLabelKey(l.Key), l.Value)
		}
	}

	if h := ev.HTTP; h != nil {
		d.set("http.version", h.Version)
		r := h.Request
		d.set("http.request.id", r.ID)
		d.set("http.request.method", r.Method)
		d.set("http.request.referrer", r.Referrer)
		d.set("http.request.headers", headerMap(r.Headers))
		d.set("http.request.env", kvMap(r.Env))
		d.set("http.request.cookies", kvMap(r.Cookies))
		d.set("http.request.body.original", rawToAny(r.Body))
		w := h.Response
		d.set("http.response.status_code", nonZero(w.StatusCode))
		d.set("http.response.headers", headerMap(w.Headers))
		d.set("http.response.finished", opt(w.Finished))
		d.set("http.response.headers_sent", opt(w.HeadersSent))
		d.set("http.response.transfer_size", opt(w.TransferSize))
		d.set("http.response.encoded_body_size", opt(w.EncodedBodySize))
		d.set("http.response.decoded_body_size", opt(w.DecodedBodySize))
	}
	if l := ev.Log; l != nil {
		d.set("log.level", l.Level)
		d.set("log.logger", l.Logger)
		d.set("log.origin.function", l.FunctionName)
		d.set("log.origin.file.name", l.FileName)
		d.set("log.origin.file.line", nonZero(l.FileLine))
	}
	if tx := ev.Transaction; tx != nil {
		d.set("transaction.id", tx.ID)
		d.set("transaction.name", tx.Name)
		d.set("transaction.type", tx.Type)
		d.set("transaction.result", tx.Result)
		if ev.Kind == collector.KindTransaction {
			d.set("transaction.sampled", tx.Sampled)
			d.set("transaction.representative_count", tx.RepresentativeCount)
		} else if tx.Sampled {
			d.set("transaction.sampled", true)
		}
		d.set("transaction.span_count.started", opt(tx.SpanCount.Started))
		d.set("transaction.span_count.dropped", opt(tx.SpanCount.Dropped))
		d.set("transaction.custom", kvMap(tx.Custom))
		d.set("transaction.profiler_stack_trace_ids", tx.ProfilerStackTraces)
		for _, m := range tx.Marks {
			for _, ms := range m.Measurements {
				d.set("transaction.marks."+m.Group+"."+ms.Name, ms.Value)
			}
		}
		if x := tx.Experience; x != nil {
			d.set("transaction.experience.cls", opt(x.CLS))
			d.set("transaction.experience.fid", opt(x.FID))
			d.set("transaction.experience.tbt", opt(x.TBT))
			// The longtask group is always written with an experience, zero when absent.
			lt := x.LongTask
			if lt == nil {
				lt = &collector.LongTask{}
			}
			d.set("transaction.experience.longtask.count", lt.Count)
			d.set("transaction.experience.longtask.sum", lt.Sum)
			d.set("transaction.experience.longtask.max", lt.Max)
		}
		if m := tx.Message; m != nil {
			renderMessage(d, "transaction.message", m)
		}
	}
	if sp := ev.Span; sp != nil {
		d.set("span.id", sp.ID)
		d.set("span.name", sp.Name)
		d.set("span.type", sp.Type)
		d.set("span.subtype", sp.Subtype)
		d.set("span.action", sp.Action)
		d.set("span.kind", sp.Kind)
		d.set("span.sync", opt(sp.Sync))
		if ev.Kind == collector.KindSpan {
			d.set("span.representative_count", sp.RepresentativeCount)
		}
		if db := sp.DB; db != nil {
			d.set("span.db.instance", db.Instance)
			d.set("span.db.statement", db.Statement)
			d.set("span.db.type", db.Type)
			d.set("span.db.user.name", db.UserName)
			d.set("span.db.link", db.Link)
			d.set("span.db.rows_affected", opt(db.RowsAffected))
		}
		if m := sp.Message; m != nil {
			renderMessage(d, "span.message", m)
		}
		if c := sp.Composite; c != nil {
			d.set("span.composite.compression_strategy", c.CompressionStrategy)
			d.set("span.composite.count", c.Count)
			d.set("span.composite.sum.us", int64(c.SumMillis*1000))
		}
		if ds := sp.DestinationService; ds != nil {
			d.set("span.destination.service.type", ds.Type)
			d.set("span.destination.service.name", ds.Name)
			d.set("span.destination.service.resource", ds.Resource)
		}
		d.set("span.stacktrace", frames(sp.Stacktrace))
		if st := sp.SelfTime; st != nil {
			d.set("span.self_time.count", st.Count)
			d["span"].(doc)["self_time"].(doc)["sum.us"] = int64(st.Sum / time.Microsecond)
		}
		for i, l := range sp.Links {
			d.set(fmt.Sprintf("span.links.%d.span.id", i), l.SpanID)
			d.set(fmt.Sprintf("span.links.%d.trace.id", i), l.TraceID)
		}
	}
	if e := ev.Error; e != nil {
		d.set("error.id", e.ID)
		d.set("error.culprit", e.Culprit)
		d.set("error.custom", kvMap(e.Custom))
		d.set("error.message", e.Message)
		d.set("error.type", e.Type)
		d.set("error.stack_trace", e.StackTrace)
		if e.Exception != nil {
			d.set("error.exception", exceptions(e.Exception))
		}
		if l := e.Log; l != nil {
			d.set("error.log.message", l.Message)
			d.set("error.log.level", l.Level)
			d.set("error.log.param_message", l.ParamMessage)
			d.set("error.log.logger_name", l.LoggerName)
			d.set("error.log.stacktrace", frames(l.Stacktrace))
		}
	}
	if ms := ev.Metricset; ms != nil {
		d.set("metricset.name", ms.Name)
		d.set("metricset.interval", ms.Interval)
		samples := append([]collector.MetricSample(nil), ms.Samples...)
		sort.Slice(samples, func(i, j int) bool { return samples[i].Name < samples[j].Name })
		var out []doc
		for _, sm := range samples {
			x := doc{}
			x.set("name", sm.Name)
			if sm.Type != collector.MetricUnspecified {
				x.set("type", sm.Type.String())
			}
			x.set("unit", sm.Unit)
			if sm.Histogram != nil {
				x.set("values", normalizeScalars(anySlice(sm.Histogram.Values)))
				x.set("counts", normalizeScalars(anySlice(sm.Histogram.Counts)))
			} else {
				x.set("value", sm.Value)
			}
			out = append(out, x)
		}
		if len(out) > 0 {
			d.set("metricset.samples", out)
		}
	}
	return toMap(d)
}

func renderMessage(d doc, prefix string, m *collector.Message) {
	d.set(prefix+".body", m.Body)
	d.set(prefix+".queue.name", m.QueueName)
	d.set(prefix+".routing_key", m.RoutingKey)
	d.set(prefix+".age.ms", opt(m.AgeMillis))
	d.set(prefix+".headers", headerMap(m.Headers))
}

func setIn(m any, key string, v any) doc {
	d, _ := m.(doc)
	if d == nil {
		d = doc{}
	}
	switch x := v.(type) {
	case []float64:
		d[key] = normalizeScalars(anySlice(x))
	default:
		d[key] = v
	}
	return d
}

func anySlice[T any](v []T) []any {
	out := make([]any, len(v))
	for i := range v {
		out[i] = v[i]
	}
	return out
}
