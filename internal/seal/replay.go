package seal

import (
	"container/heap"
	"fmt"
	"sync"
	"time"
)

// ReplayChecker records request ids and rejects one presented again before it
// expires. [ReplayGuard] is the in-memory implementation; a shared store (for
// example Redis with SET NX PX) can implement it for a cluster of egress nodes.
type ReplayChecker interface {
	// Check records requestID until expiresAt. It returns an error wrapping
	// ErrReplay if the id is already recorded and unexpired.
	Check(requestID string, expiresAt time.Time) error
}

// DefaultReplayCapacity is the capacity of a ReplayGuard made with capacity 0.
const DefaultReplayCapacity = 1 << 18

// ReplayGuard is a bounded, concurrency-safe, in-memory [ReplayChecker]. An id
// is remembered until its expiry, which callers take from
// [Envelope.ExpiresAt] and is therefore at most [MaxTTL] away.
//
// When the guard holds capacity unexpired ids, Check fails closed with
// [ErrGuardFull] rather than forgetting an id early, which would reopen the
// replay window. Size capacity above peak requests per second times the
// longest TTL in use.
type ReplayGuard struct {
	// Now is the clock; nil means [time.Now]. Set it before first use.
	Now func() time.Time

	mu       sync.Mutex
	capacity int
	seen     map[string]time.Time
	byExpiry expiryHeap
}

var _ ReplayChecker = (*ReplayGuard)(nil)

// NewReplayGuard returns a guard that remembers at most capacity ids
// (capacity <= 0 means [DefaultReplayCapacity]).
func NewReplayGuard(capacity int) *ReplayGuard {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	return &ReplayGuard{capacity: capacity, seen: make(map[string]time.Time)}
}

// Check implements [ReplayChecker]. It rejects an empty id ([ErrMalformed]),
// an expiry not after now ([ErrExpired]), an id already seen and unexpired
// ([ErrReplay]) and a new id when the guard is full ([ErrGuardFull]).
func (g *ReplayGuard) Check(requestID string, expiresAt time.Time) error {
	if requestID == "" {
		return fmt.Errorf("check replay: empty request id: %w", ErrMalformed)
	}
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	if !now.Before(expiresAt) {
		return fmt.Errorf("check replay: %w", ErrExpired)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	g.evict(now)
	if _, ok := g.seen[requestID]; ok {
		return fmt.Errorf("check replay: request id already used: %w", ErrReplay)
	}
	if len(g.seen) >= g.capacity {
		return fmt.Errorf("check replay: %d unexpired ids: %w", len(g.seen), ErrGuardFull)
	}
	g.seen[requestID] = expiresAt
	heap.Push(&g.byExpiry, expiryEntry{id: requestID, exp: expiresAt})
	return nil
}

// Len returns the number of ids currently remembered, expired or not.
func (g *ReplayGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

// evict drops every id whose expiry is not after now. Each id is pushed once
// and popped once, so the cost is amortised O(log n) per Check.
func (g *ReplayGuard) evict(now time.Time) {
	for len(g.byExpiry) > 0 && !now.Before(g.byExpiry[0].exp) {
		e := heap.Pop(&g.byExpiry).(expiryEntry)
		delete(g.seen, e.id)
	}
}

type expiryEntry struct {
	id  string
	exp time.Time
}

type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = expiryEntry{}
	*h = old[:len(old)-1]
	return e
}
