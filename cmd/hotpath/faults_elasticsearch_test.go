//go:build faults

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector/elasticsearch"
	"github.com/hotpath-apm/hotpath/collector/elasticsearch/estest"
)

// esProxy forwards connections on a fixed loopback address to Elasticsearch: down closes the listener
// and cuts every connection (Elasticsearch killed: connection refused), up listens again.
type esProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newESProxy(t *testing.T, target string) *esProxy {
	t.Helper()
	p := &esProxy{target: target, addr: "127.0.0.1:0"}
	p.up(t)
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.down)
	return p
}

func (p *esProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.conns = ln, map[net.Conn]bool{}
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *esProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// TestFaultElasticsearchOutage: a collector process exports to Elasticsearch (the strict fake, behind a
// proxy that can refuse connections) while agents send. Elasticsearch answers 503, then 429, then is
// gone (connection refused), and meanwhile the collector is stopped with SIGTERM, started, killed with
// SIGKILL and started again. Once Elasticsearch is back the export's lag returns to 0, and every
// acknowledged event is in Elasticsearch exactly once per _id.
func TestFaultElasticsearchOutage(t *testing.T) {
	es := estest.NewServer()
	defer es.Close()
	proxy := newESProxy(t, strings.TrimPrefix(es.URL, "http://"))
	dataDir := t.TempDir()
	args := []string{"--elasticsearch", "http://" + proxy.addr, "--es-metrics-grace", "1s"}
	proc := startCollectorProcess(t, "127.0.0.1:0", dataDir, args...)
	listen := strings.TrimPrefix(proc.url, "http://")
	load := newIntakeLoad(loadgenConfig{url: proc.url, concurrency: 2, events: 600, rate: 3000, spans: 5, gzip: true, service: "esoutage"})
	ctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan intakeReport, 1)
	go func() { loadDone <- load.run(ctx) }()
	phase := func(what string, d time.Duration) {
		t.Helper()
		acked := load.acked()
		time.Sleep(d) // the fault's length, not a synchronisation
		t.Logf("%s: %d events acknowledged in %v", what, load.acked()-acked, d)
	}
	phase("Elasticsearch up", 3*time.Second)
	es.SetOutage(http.StatusServiceUnavailable)
	phase("Elasticsearch answering 503", 4*time.Second)
	es.SetOutage(http.StatusTooManyRequests)
	phase("Elasticsearch answering 429", 4*time.Second)
	_, page := get(t, proc.url+"/metrics", "")
	for _, status := range []string{"503", "429"} {
		if !strings.Contains(page, `hotpath_elasticsearch_bulk_requests_total{status="`+status+`"}`) {
			t.Errorf("/metrics counts no bulk answer %s", status)
		}
	}
	proxy.down()
	phase("Elasticsearch gone", 3*time.Second)
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-proc.exited:
		if err != nil {
			t.Errorf("SIGTERM during the outage: %v: %s", err, proc.stderr)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("the collector did not stop on SIGTERM during the outage")
	}
	proc = startCollectorProcess(t, listen, dataDir, args...)
	phase("restarted, Elasticsearch gone", 3*time.Second)
	proc.kill(t)
	proc = startCollectorProcess(t, listen, dataDir, args...)
	phase("killed and restarted, Elasticsearch gone", 3*time.Second)
	proxy.up(t)
	es.SetOutage(0)
	phase("Elasticsearch back", 3*time.Second)
	stopLoad()
	rep := <-loadDone

	start := time.Now()
	waitForCondWithin(t, 3*time.Minute, "the export's lag at 0", func() bool {
		_, page := get(t, proc.url+"/metrics", "")
		return metricLine(page, "hotpath_elasticsearch_lag_events") == "0"
	})
	t.Logf("lag back to 0 %v after the load ended", time.Since(start).Round(time.Millisecond))
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-proc.exited; err != nil {
		t.Fatalf("collector stopped with %v: %s", err, proc.stderr)
	}
	checkAcked(t, load, rep, dataDir)

	ids := map[string]bool{}
	for _, d := range es.Docs() {
		if isAggregatedMetricset(d.Index) {
			continue
		}
		if ids[d.ID] {
			t.Fatalf("_id %s indexed twice", d.ID)
		}
		ids[d.ID] = true
	}
	events := storedEvents(t, dataDir)
	for i := range events {
		id := string(elasticsearch.AppendDocumentID(nil, &events[i]))
		if !ids[id] {
			t.Fatalf("stored event %s is not in Elasticsearch", id)
		}
		delete(ids, id)
	}
	if len(ids) != 0 {
		t.Errorf("%d documents in Elasticsearch that the store does not hold", len(ids))
	}
	t.Logf("%d events stored, each in Elasticsearch once; %d bulk requests", len(events), es.BulkRequests())
}
