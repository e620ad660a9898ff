package intake

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hotpath-apm/hotpath/collector"
)

// asyncStore is a BatchEnqueuer test double: EnqueueBatch copies the batch's ids and queues it; the
// test decides when, and how, each batch's commit ends.
type asyncStore struct {
	mu          sync.Mutex
	enqueued    []*pendingCommit // in enqueue order
	inflight    int              // enqueued, wait not yet returned
	maxInflight int
	arrived     chan *pendingCommit
	refuse      func(n int) error // called with the batch's number (1-based); non-nil refuses it at once
}

type pendingCommit struct {
	ids      []string
	observer string
	done     chan error
}

func newAsyncStore() *asyncStore { return &asyncStore{arrived: make(chan *pendingCommit, 1000)} }

func (s *asyncStore) ProcessBatch(ctx context.Context, b *collector.Batch) error {
	wait, err := s.EnqueueBatch(ctx, b)
	if err != nil {
		return err
	}
	return wait()
}

func (s *asyncStore) EnqueueBatch(_ context.Context, b *collector.Batch) (func() error, error) {
	s.mu.Lock()
	n := len(s.enqueued) + 1
	refuse := s.refuse
	s.mu.Unlock()
	if refuse != nil {
		if err := refuse(n); err != nil {
			return nil, err
		}
	}
	pc := &pendingCommit{done: make(chan error, 1)}
	for i := range *b {
		e := &(*b)[i]
		pc.ids = append(pc.ids, e.Transaction.ID)
		pc.observer = e.Observer.Type
	}
	s.mu.Lock()
	s.enqueued = append(s.enqueued, pc)
	s.inflight++
	s.maxInflight = max(s.maxInflight, s.inflight)
	s.mu.Unlock()
	s.arrived <- pc
	return func() error {
		err := <-pc.done
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
		return err
	}, nil
}

// TestPipelineOverlapsCommits: while a stream's first batches wait for their commit, the stream goes on
// being decoded and enqueued, up to MaxBatchesInFlight; the answer waits for every commit.
func TestPipelineOverlapsCommits(t *testing.T) {
	store := newAsyncStore()
	api, _, _ := newTestAPI(t, Config{Processor: store, BatchSize: 10, MaxBatchesInFlight: 3})
	answered := make(chan streamResult, 1)
	go func() {
		_, res := post(t, api.Handler(), bytes.NewReader(newStream("svc").transactions(50).bytes()), nil)
		answered <- res
	}()
	// Three batches are enqueued before any commit ends.
	var first []*pendingCommit
	for range 3 {
		select {
		case pc := <-store.arrived:
			first = append(first, pc)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d batches enqueued, then nothing while they wait for their commit", len(first))
		}
	}
	select {
	case pc := <-store.arrived:
		t.Fatalf("a fourth batch (%v) was enqueued with three in flight", pc.ids)
	case res := <-answered:
		t.Fatalf("answered %+v before the commits ended", res)
	default:
	}
	if first[0].observer != "apm-server" {
		t.Errorf("batch not enriched: observer.type %q", first[0].observer)
	}
	for _, pc := range first {
		pc.done <- nil
	}
	for range 2 {
		(<-store.arrived).done <- nil
	}
	res := <-answered
	if res.Accepted != 50 || len(res.Errors) != 0 {
		t.Fatalf("answer %+v", res)
	}
	var ids []string
	for _, pc := range store.enqueued {
		ids = append(ids, pc.ids...)
	}
	if len(ids) != 50 || ids[0] != "0000000000000001" || ids[49] != "0000000000000032" {
		t.Errorf("stored ids %v", ids)
	}
	if store.maxInflight != 3 {
		t.Errorf("%d batches in flight at most, want MaxBatchesInFlight (3)", store.maxInflight)
	}
}

// TestPipelineCommitFails: a batch whose commit fails is not accepted, the stream stops, and the answer
// is APM Server's for that error; the batches committed around it count.
func TestPipelineCommitFails(t *testing.T) {
	for name, tt := range map[string]struct {
		failBatch  int
		err        error
		wantStatus int
		wantMsg    string
	}{
		"queue full mid-stream": {2, collector.ErrQueueFull, 503, "cannot handle stream: cannot process batch: queue is full"},
		"disk error at the end": {5, errors.New("disk on fire"), 500, "cannot handle stream: cannot process batch: disk on fire"},
	} {
		t.Run(name, func(t *testing.T) {
			store := newAsyncStore()
			api, _, reg := newTestAPI(t, Config{Processor: store, BatchSize: 10, MaxBatchesInFlight: 2})
			go func() {
				for n := 1; ; n++ {
					pc, ok := <-store.arrived
					if !ok {
						return
					}
					if n == tt.failBatch {
						pc.done <- tt.err
					} else {
						pc.done <- nil
					}
				}
			}()
			defer close(store.arrived)
			w, res := post(t, api.Handler(), bytes.NewReader(newStream("svc").transactions(50).bytes()), nil)
			if w.Code != tt.wantStatus || len(res.Errors) != 1 || res.Errors[0].Message != tt.wantMsg {
				t.Fatalf("%d %+v", w.Code, res)
			}
			store.mu.Lock()
			enqueued := len(store.enqueued)
			store.mu.Unlock()
			// Accepted: every enqueued batch but the failed one.
			if want := (enqueued - 1) * 10; res.Accepted != want {
				t.Errorf("accepted %d, want %d (%d batches enqueued, one failed)", res.Accepted, want, enqueued)
			}
			if got := metric(t, reg, "hotpath_intake_events_accepted_total"); got != float64(res.Accepted) {
				t.Errorf("accepted metric %v", got)
			}
		})
	}
}

// TestPipelineEnqueueRefused: a batch refused at once ends the stream as with ProcessBatch.
func TestPipelineEnqueueRefused(t *testing.T) {
	store := newAsyncStore()
	store.refuse = func(n int) error {
		if n == 3 {
			return collector.ErrShuttingDown
		}
		return nil
	}
	go func() {
		for pc := range store.arrived {
			pc.done <- nil
		}
	}()
	defer close(store.arrived)
	api, _, _ := newTestAPI(t, Config{Processor: store, BatchSize: 10})
	w, res := post(t, api.Handler(), bytes.NewReader(newStream("svc").transactions(50).bytes()), nil)
	if w.Code != 503 || res.Accepted != 20 || res.Errors[0].Message != "server is shutting down" {
		t.Errorf("%d %+v", w.Code, res)
	}
}
