package main

import (
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/examples/search/esstandin"
)

// TestDemoFailover runs the demo with an overload episode 20 s after the stand-in starts and sees it
// through the query API: the breaker opened, at least 70% of the searches while it was open or probing
// were answered by the emergency cache, and the transactions say who served them.
func TestDemoFailover(t *testing.T) {
	cfg, err := parseDemoFlags([]string{"--listen", "127.0.0.1:0", "--rate", "20", "--catalog-size", "500",
		"--duration", "3m"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.episodes = esstandin.Overload{First: 20 * time.Second, Length: 15 * time.Second, Delay: 1500 * time.Millisecond}
	d := startDemo(t, cfg)
	run, began, stderr := d.demoRunning, d.began, &d.stderr

	type failoverAnswer struct {
		Breakers []struct {
			Name          string `json:"name"`
			OpenIntervals []struct {
				From time.Time  `json:"from"`
				To   *time.Time `json:"to"`
			} `json:"open_intervals"`
			Changes int `json:"changes"`
		} `json:"breakers"`
		ServedBy []struct {
			Minute         time.Time `json:"minute"`
			Elasticsearch  int64     `json:"elasticsearch"`
			EmergencyCache int64     `json:"emergency_cache"`
			Rejected       int64     `json:"rejected"`
		} `json:"served_by"`
	}
	type txPage struct {
		Transactions []struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"transactions"`
		Next *string `json:"next"`
	}
	rng := func(from, to time.Time) string {
		return "&from=" + url.QueryEscape(from.Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339Nano))
	}
	deadline := time.Now().Add(150 * time.Second)
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	var f failoverAnswer
	var winFrom, winTo time.Time
	for {
		f = failoverAnswer{}
		getJSON(t, run.collectorURL, "/api/v1/failover?service=search"+rng(began.Add(-time.Minute), time.Now().Add(time.Minute)), "", &f)
		if len(f.Breakers) == 1 && len(f.Breakers[0].OpenIntervals) > 0 {
			ivs := f.Breakers[0].OpenIntervals
			if last := ivs[len(ivs)-1]; last.To != nil {
				winFrom, winTo = ivs[0].From, *last.To
				// The window is flushed once a search after it has reached the collector.
				var after txPage
				getJSON(t, run.collectorURL, "/api/v1/transactions?service=search&name="+url.QueryEscape("GET /search")+"&limit=1"+
					rng(winTo.Add(2*time.Second), time.Now().Add(time.Minute)), "", &after)
				if len(after.Transactions) > 0 {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v no closed open interval in the query API: %+v\n%s", time.Since(began).Round(time.Second), f, stderr.String())
		}
		select {
		case <-poll.C:
		case <-d.stopped:
			t.Fatalf("the demo stopped: %v\n%s", d.err, stderr.String())
		}
	}
	t.Logf("breaker %s open from %v to %v (%d changes)", f.Breakers[0].Name, winFrom.Sub(began).Round(time.Millisecond),
		winTo.Sub(began).Round(time.Millisecond), f.Breakers[0].Changes)
	if f.Breakers[0].Name != "elasticsearch" || f.Breakers[0].Changes < 2 {
		t.Errorf("breaker %+v", f.Breakers[0])
	}
	var cached, served int64
	for _, m := range f.ServedBy {
		cached += m.EmergencyCache
		served += m.EmergencyCache + m.Elasticsearch + m.Rejected
	}
	if cached == 0 || served == 0 {
		t.Errorf("served_by minutes show no emergency cache: %+v", f.ServedBy)
	}

	// The searches during the episode, by who served them.
	by := map[string]int{}
	total := 0
	cursor := ""
	for {
		var page txPage
		getJSON(t, run.collectorURL, "/api/v1/transactions?service=search&name="+url.QueryEscape("GET /search")+"&limit=1000"+
			rng(winFrom, winTo)+cursor, "", &page)
		for _, tx := range page.Transactions {
			by[tx.Labels["served_by"]]++
			total++
		}
		if page.Next == nil {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(*page.Next)
	}
	share := float64(by["emergency_cache"]) / float64(max(total, 1))
	t.Logf("%d searches while the breaker was open or probing: %v; emergency cache %.0f%%", total, by, 100*share)
	if total < 50 {
		t.Fatalf("only %d searches in the window", total)
	}
	if by[""] > 0 {
		t.Errorf("%d searches carry no served_by", by[""])
	}
	if share < 0.70 {
		t.Errorf("the emergency cache served %.0f%% of the searches during the episode, want at least 70%%: %v", 100*share, by)
	}
}
