package state

import (
	"context"
	"errors"
	"hash/maphash"
	"sync/atomic"
	"time"
)

// Memory is the in-process backend: the default, for one node. In sidecar
// mode every plugin and the egress share one Memory, so a reservation made
// by a plugin is reconciled by the egress. It is safe for concurrent use;
// expired entries are swept as it is used, so memory stays bounded by the
// live windows, breakers and KV entries (the last capped by
// WithMaxKVEntries).
type Memory struct {
	now      func() time.Time
	seed     maphash.Seed
	closed   atomic.Bool
	counters [shards]counterShard
	kv       [shards]kvShard
	kvCap    int // entries per KV shard
	breakers breakerStore
}

var _ Backend = (*Memory)(nil)

// shards splits the memory backend's maps so that unrelated subjects do not
// contend on one lock.
const shards = 64

// sweepEvery is how often, in the backend's clock, a shard drops its
// expired entries; each sweep walks the shard once.
const sweepEvery = 10 * time.Second

var errClosed = errors.New("backend closed")

// NewMemory returns an empty memory backend.
func NewMemory(opts ...Option) *Memory {
	o := buildOptions(opts)
	m := &Memory{now: o.now, seed: maphash.MakeSeed(), kvCap: max(1, o.maxKVEntries/shards)}
	for i := range shards {
		m.counters[i].m = make(map[string]*counterSet)
		m.kv[i].m = make(map[string]kvEntry)
	}
	m.breakers.m = make(map[string]*breakerEntry)
	return m
}

// Ping fails only after Close.
func (m *Memory) Ping(context.Context) error {
	if m.closed.Load() {
		return errClosed
	}
	return nil
}

// Close drops nothing but makes later calls fail, like a closed Redis client.
func (m *Memory) Close() error {
	m.closed.Store(true)
	return nil
}

func (m *Memory) shard(key string) int {
	return int(maphash.String(m.seed, key) % shards)
}

func (m *Memory) nowMS() int64 { return m.now().UnixMilli() }

// sweeper schedules a shard's sweeps.
type sweeper struct{ next int64 }

// due reports whether a sweep is due at now, and if so schedules the next.
func (s *sweeper) due(now int64) bool {
	if now < s.next {
		return false
	}
	s.next = now + sweepEvery.Milliseconds()
	return true
}
