package search

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// emergencyCache keeps the latest answers to the queries searched, least recently used out first, for
// when Elasticsearch cannot answer: a stale answer to a popular query beats a 503. Entries older than
// ttl are not served.
type emergencyCache struct {
	max int
	ttl time.Duration

	mu    sync.Mutex // guards order and byKey
	order *list.List // of *cacheEntry, most recently used first
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key    string
	answer []byte
	stored time.Time
}

func newEmergencyCache(max int, ttl time.Duration) *emergencyCache {
	return &emergencyCache{max: max, ttl: ttl, order: list.New(), byKey: map[string]*list.Element{}}
}

// cacheKey is what makes two requests the same question: everything but the user, whose history only
// reorders the hits of a personalized ranking (an emergency answer is unpersonalized).
func cacheKey(r Request) string {
	return fmt.Sprintf("%q|%s|%s|%d|%d|%d|%d", r.Q, r.Category, r.Brand, r.MinPrice, r.MaxPrice, r.Size, r.From)
}

// put stores answer for key, evicting the least recently used entry past max.
func (c *emergencyCache) put(key string, answer []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value = &cacheEntry{key: key, answer: answer, stored: now}
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, answer: answer, stored: now})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
}

// get returns the answer stored for key, if it is younger than ttl, and when it was stored.
func (c *emergencyCache) get(key string, now time.Time) ([]byte, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, time.Time{}, false
	}
	ce := e.Value.(*cacheEntry)
	if now.Sub(ce.stored) > c.ttl {
		c.order.Remove(e)
		delete(c.byKey, key)
		return nil, time.Time{}, false
	}
	c.order.MoveToFront(e)
	return ce.answer, ce.stored, true
}

// len returns the number of entries.
func (c *emergencyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
