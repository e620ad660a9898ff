package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

// payloadGen writes intake v2 streams of synthetic traces, shaped as the Elastic Go agent writes them
// for a search service: per trace one transaction ("GET /search" with its HTTP request and response)
// and its spans (query building, a call to a segmenter, an Elasticsearch search, a cache lookup,
// ranking; repeated if more are asked for). Every trace gets a trace id unique to the run: the run's
// random prefix, then the trace's number, so that tests can tell which traces a 202 covered.
type payloadGen struct {
	service string
	spans   int     // per transaction
	run     [8]byte // random per generator
	next    atomic.Uint64
}

func newPayloadGen(service string, spans int) *payloadGen {
	g := &payloadGen{service: service, spans: spans}
	_, _ = rand.Read(g.run[:]) // crypto/rand.Read never fails
	return g
}

// eventsPerTrace is the number of events a trace has.
func (g *payloadGen) eventsPerTrace() int { return 1 + g.spans }

// traceID returns the trace id of trace number seq.
func (g *payloadGen) traceID(seq uint64) string {
	var b [16]byte
	copy(b[:8], g.run[:])
	binary.BigEndian.PutUint64(b[8:], seq)
	return hex.EncodeToString(b[:])
}

// appendStream appends a stream of n traces to b and returns it with the number of the first trace
// (the traces are first..first+n-1).
func (g *payloadGen) appendStream(b []byte, n int, now time.Time) ([]byte, uint64) {
	first := g.next.Add(uint64(n)) - uint64(n) + 1
	b = append(b, `{"metadata":{"service":{"name":`...)
	b = strconv.AppendQuote(b, g.service)
	b = append(b, `,"version":"1.4.2","environment":"bench","agent":{"name":"go","version":"2.7.12","activation_method":"import"},"language":{"name":"go","version":"go1.26"},"runtime":{"name":"gc","version":"go1.26"},"framework":{"name":"net/http","version":"go1.26"}},"process":{"pid":4242,"ppid":1,"title":"search","argv":["/usr/local/bin/search","-listen",":8080"]},"system":{"architecture":"amd64","detected_hostname":"search-7d9f","configured_hostname":"search-7d9f","platform":"linux"},"labels":{"team":"search","region":"eu-west-1"}}}`...)
	b = append(b, '\n')
	end := now.UnixMicro()
	for i := range n {
		b = g.appendTrace(b, first+uint64(i), end-int64(n-i)*40)
	}
	return b, first
}

// routes and queryWords vary the synthetic requests.
var (
	routes     = []string{"/search", "/search", "/search", "/suggest", "/products/{id}", "/products/{id}/similar", "/cart", "/health"}
	queryWords = []string{"running+shoes", "red+dress", "laptop", "usb-c+cable", "coffee+grinder", "tent", "headphones", "desk+lamp", "yoga+mat", "kettle"}
)

// spanShapes are the spans of a trace, cycled: name, type, subtype, action, and the rest of the span
// object after "duration".
var spanShapes = []struct{ name, typ, subtype, action, context string }{
	{"build query", "app", "internal", "", `"outcome":"success"`},
	{"POST segmenter", "external", "http", "", `"outcome":"success","context":{"http":{"method":"POST","url":"http://segmenter:9000/segment","status_code":200},"destination":{"address":"segmenter","port":9000,"service":{"type":"","name":"","resource":"segmenter:9000"}},"service":{"target":{"type":"http","name":"segmenter:9000"}}}`},
	{"Elasticsearch: POST /products/_search", "db", "elasticsearch", "request", `"outcome":"success","context":{"db":{"type":"elasticsearch","statement":"{\"query\":{\"bool\":{\"must\":[{\"match\":{\"title\":\"running shoes\"}}],\"filter\":[{\"term\":{\"in_stock\":true}}]}},\"size\":20}"},"http":{"method":"POST","url":"http://es:9200/products/_search","status_code":200},"destination":{"address":"es","port":9200,"service":{"type":"","name":"","resource":"elasticsearch"}},"service":{"target":{"type":"elasticsearch"}}}`},
	{"GET cache", "db", "redis", "query", `"outcome":"success","context":{"db":{"type":"redis","statement":"GET q:running shoes"},"destination":{"address":"cache","port":6379,"service":{"type":"","name":"","resource":"redis"}},"service":{"target":{"type":"redis"}}}`},
	{"rank results", "app", "internal", "", `"outcome":"success"`},
}

func (g *payloadGen) appendTrace(b []byte, seq uint64, endMicros int64) []byte {
	var raw [16]byte
	copy(raw[:8], g.run[:])
	binary.BigEndian.PutUint64(raw[8:], seq)
	var traceHex [32]byte
	hex.Encode(traceHex[:], raw[:])
	// Transaction and span ids: the trace's number and the event's index, mixed with the run prefix.
	id := func(k int) [16]byte {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], binary.BigEndian.Uint64(g.run[:])^(seq<<8|uint64(k)))
		var h [16]byte
		hex.Encode(h[:], v[:])
		return h
	}
	txID := id(0)
	// Some variety, as real traffic has, so that compression ratios are not flattering: the route,
	// the query and the durations follow the trace number.
	h := seq * 0x9e3779b97f4a7c15
	route := routes[h%uint64(len(routes))]
	word := queryWords[(h>>8)%uint64(len(queryWords))]
	txMicros := int64(5000 + (h>>16)%40000)
	start := endMicros - txMicros

	b = append(b, `{"transaction":{"id":"`...)
	b = append(b, txID[:]...)
	b = append(b, `","trace_id":"`...)
	b = append(b, traceHex[:]...)
	b = append(b, `","name":"GET `...)
	b = append(b, route...)
	b = append(b, `","type":"request","timestamp":`...)
	b = strconv.AppendInt(b, start, 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendFloat(b, float64(txMicros)/1000, 'f', 3, 64)
	b = append(b, `,"result":"HTTP 2xx","outcome":"success","sampled":true,"span_count":{"started":`...)
	b = strconv.AppendInt(b, int64(g.spans), 10)
	b = append(b, `,"dropped":0},"context":{"request":{"method":"GET","url":{"full":"http://search:8080`...)
	b = append(b, route...)
	b = append(b, `?q=`...)
	b = append(b, word...)
	b = append(b, `","protocol":"http:","hostname":"search","port":"8080","pathname":"`...)
	b = append(b, route...)
	b = append(b, `","search":"q=`...)
	b = append(b, word...)
	b = append(b, `"},"headers":{"Accept":["application/json"],"User-Agent":["Mozilla/5.0 (X11; Linux x86_64)"]},"http_version":"1.1","socket":{"remote_address":"10.0.3.`...)
	b = strconv.AppendUint(b, h>>40%250, 10)
	b = append(b, `"}},"response":{"status_code":200,"headers":{"Content-Type":["application/json"]}},"user":{"id":"u-`...)
	b = strconv.AppendUint(b, h>>24%5000, 10)
	b = append(b, `"},"tags":{"query":"`...)
	b = append(b, word...)
	b = append(b, `"}}}}`...)
	b = append(b, '\n')

	offset := int64(500)
	step := txMicros / int64(g.spans+1)
	for k := range g.spans {
		shape := spanShapes[k%len(spanShapes)]
		spanID := id(k + 1)
		b = append(b, `{"span":{"id":"`...)
		b = append(b, spanID[:]...)
		b = append(b, `","transaction_id":"`...)
		b = append(b, txID[:]...)
		b = append(b, `","parent_id":"`...)
		b = append(b, txID[:]...)
		b = append(b, `","trace_id":"`...)
		b = append(b, traceHex[:]...)
		b = append(b, `","name":`...)
		b = strconv.AppendQuote(b, shape.name)
		b = append(b, `,"type":"`...)
		b = append(b, shape.typ...)
		b = append(b, `","subtype":"`...)
		b = append(b, shape.subtype...)
		if shape.action != "" {
			b = append(b, `","action":"`...)
			b = append(b, shape.action...)
		}
		b = append(b, `","timestamp":`...)
		b = strconv.AppendInt(b, start+offset, 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendFloat(b, float64(step/2+int64((h>>uint(k*3))%uint64(step/2+1)))/1000, 'f', 3, 64)
		b = append(b, ',')
		b = append(b, shape.context...)
		b = append(b, "}}\n"...)
		offset += step
	}
	return b
}
