package agent

import (
	"container/heap"
	"sync"
	"time"
)

// watchdog is the one goroutine that tells a Listener when requests cross their slow threshold while
// running. Requests wait in a min-heap ordered by deadline; a single timer is set to the earliest one. A
// request costs one heap push when it starts and one removal when its handler returns: O(log n) under mu.
type watchdog struct {
	listener Listener

	mu    sync.Mutex
	cond  sync.Cond // on mu; broadcast when a RequestSlow call returns
	queue deadlines // guarded by mu

	wake chan struct{} // capacity 1: the earliest deadline moved earlier
	quit chan struct{} // closed by stop
	done chan struct{} // closed when run returns
}

func newWatchdog(l Listener) *watchdog {
	wd := &watchdog{
		listener: l,
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	wd.cond.L = &wd.mu
	return wd
}

// watch queues r, whose deadline is set, until its handler returns.
func (wd *watchdog) watch(r *Request) {
	wd.mu.Lock()
	heap.Push(&wd.queue, r)
	first := r.index == 0
	wd.mu.Unlock()
	if first {
		select {
		case wd.wake <- struct{}{}:
		default:
		}
	}
}

// unwatch takes r out of the queue, waiting for a RequestSlow call about it to return. It is idempotent.
func (wd *watchdog) unwatch(r *Request) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if r.index >= 0 {
		heap.Remove(&wd.queue, r.index)
	}
	for r.state == firing {
		wd.cond.Wait()
	}
	if r.state == running {
		r.state = returned
	}
}

// run is the watchdog goroutine: it waits for the earliest deadline, tells the listener about every
// request past its deadline, and goes back to waiting, until stop.
func (wd *watchdog) run() {
	defer close(wd.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []*Request
	for {
		wd.mu.Lock()
		now := time.Now()
		for len(wd.queue) > 0 && !wd.queue[0].deadline.After(now) {
			r := heap.Pop(&wd.queue).(*Request)
			r.state = firing
			due = append(due, r)
		}
		wd.mu.Unlock()

		for i, r := range due {
			wd.fire(r)
			due[i] = nil
		}
		due = due[:0]

		wd.mu.Lock()
		wait := time.Duration(-1)
		if len(wd.queue) > 0 {
			wait = max(time.Until(wd.queue[0].deadline), 0)
		}
		wd.mu.Unlock()
		if wait >= 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}

		select {
		case <-wd.quit:
			return
		case <-wd.wake:
		case <-timer.C:
		}
	}
}

// fire calls RequestSlow for r, which run has marked firing, then lets r's handler return.
func (wd *watchdog) fire(r *Request) {
	defer func() {
		wd.mu.Lock()
		r.state = running
		r.fired = true
		wd.cond.Broadcast()
		wd.mu.Unlock()
	}()
	wd.listener.RequestSlow(r)
}

// stop ends run and waits for it.
func (wd *watchdog) stop() {
	close(wd.quit)
	<-wd.done
}

// deadlines is a min-heap of requests by deadline (container/heap), keeping each request's index current
// so that it can be removed when its handler returns.
type deadlines []*Request

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].deadline.Before(d[j].deadline) }
func (d deadlines) Swap(i, j int) {
	d[i], d[j] = d[j], d[i]
	d[i].index = i
	d[j].index = j
}

func (d *deadlines) Push(x any) {
	r := x.(*Request)
	r.index = len(*d)
	*d = append(*d, r)
}

func (d *deadlines) Pop() any {
	old := *d
	n := len(old)
	r := old[n-1]
	old[n-1] = nil
	r.index = -1
	*d = old[:n-1]
	return r
}
