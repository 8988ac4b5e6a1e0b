package state

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

type kvShard struct {
	mu    sync.Mutex
	m     map[string]kvEntry
	sweep sweeper
}

type kvEntry struct {
	val     []byte
	expires int64
}

// Get implements KV.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, fmt.Errorf("memory kv get: %w", err)
	}
	if m.closed.Load() {
		return nil, false, fmt.Errorf("memory kv get: %w", errClosed)
	}
	now := m.nowMS()
	sh := &m.kv[m.shard(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if !ok {
		return nil, false, nil
	}
	if e.expires <= now {
		delete(sh.m, key)
		return nil, false, nil
	}
	return bytes.Clone(e.val), true, nil
}

// Set implements KV. When the store is full it evicts an arbitrary entry:
// a cache may lose entries, it must not grow without bound.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	if err := checkKV(key, ttl); err != nil {
		return fmt.Errorf("memory kv set: %w", err)
	}
	if m.closed.Load() {
		return fmt.Errorf("memory kv set: %w", errClosed)
	}
	now := m.nowMS()
	e := kvEntry{val: bytes.Clone(val), expires: now + ttl.Milliseconds()}
	if e.val == nil {
		e.val = []byte{}
	}
	sh := &m.kv[m.shard(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.sweep.due(now) {
		sh.dropExpired(now)
	}
	if _, ok := sh.m[key]; !ok && len(sh.m) >= m.kvCap {
		sh.dropExpired(now)
		for k := range sh.m {
			if len(sh.m) < m.kvCap {
				break
			}
			delete(sh.m, k)
		}
	}
	sh.m[key] = e
	return nil
}

// Delete implements KV.
func (m *Memory) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("memory kv delete: %w", err)
	}
	if m.closed.Load() {
		return fmt.Errorf("memory kv delete: %w", errClosed)
	}
	sh := &m.kv[m.shard(key)]
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
	return nil
}

func (sh *kvShard) dropExpired(now int64) {
	for k, e := range sh.m {
		if e.expires <= now {
			delete(sh.m, k)
		}
	}
}
