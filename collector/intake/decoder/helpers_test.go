package decoder

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// fixtures are the intake v2 bodies of Elastic APM Server's tests (and hotpath's own, see
// collector/testdata/apm-server), which the decoder, intake and elasticsearch tests share. The golden
// Elasticsearch documents for them are tested through the whole chain, decoder, enrich and the real
// renderer, by collector/elasticsearch's TestGoldenDocuments.
const fixtures = "../../testdata/apm-server/intake-v2"

// responsesIndex is what APM Server answers for its handler cases (collector/testdata/apm-server).
const responsesIndex = "../../testdata/apm-server/responses/index.json"

// requestTime is the request time of the fixtures' goldens (es-source/CHAIN.md).
var requestTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// backendBase is the base event APM Server builds for a backend request from 127.0.0.1.
func backendBase() collector.Event {
	return collector.Event{
		Timestamp: requestTime,
		Host:      collector.Host{IP: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
	}
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
