package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// breakerStore holds the memory backend's breakers under one lock: there
// are a few per upstream target, not one per caller.
type breakerStore struct {
	mu    sync.Mutex
	m     map[string]*breakerEntry
	sweep sweeper
}

type breakerEntry struct {
	breaker
	expires int64
}

// get returns the live entry of key, or nil.
func (s *breakerStore) get(key string, now int64) *breakerEntry {
	if s.sweep.due(now) {
		for k, e := range s.m {
			if e.expires <= now {
				delete(s.m, k)
			}
		}
	}
	e := s.m[key]
	if e != nil && e.expires <= now {
		delete(s.m, key)
		return nil
	}
	return e
}

// put keeps b under key, or forgets key when b is the default state.
func (s *breakerStore) put(key string, b breaker, now int64, cfg BreakerConfig) {
	if b == (breaker{}) {
		delete(s.m, key)
		return
	}
	s.m[key] = &breakerEntry{breaker: b, expires: now + breakerTTL(cfg).Milliseconds()}
}

// Allow implements Breakers.
func (m *Memory) Allow(_ context.Context, key string, cfg BreakerConfig) (Permit, error) {
	if err := checkBreaker(key, cfg); err != nil {
		return Permit{}, fmt.Errorf("memory breaker allow: %w", err)
	}
	if m.closed.Load() {
		return Permit{}, fmt.Errorf("memory breaker allow: %w", errClosed)
	}
	now := m.nowMS()
	s := &m.breakers
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(key, now)
	if e == nil {
		return Permit{Allowed: true, State: BreakerClosed}, nil
	}
	before := e.breaker
	p := e.allow(now, cfg)
	if e.breaker != before {
		s.put(key, e.breaker, now, cfg)
	}
	return p, nil
}

// Record implements Breakers.
func (m *Memory) Record(_ context.Context, key string, cfg BreakerConfig, success bool) (BreakerState, error) {
	if err := checkBreaker(key, cfg); err != nil {
		return 0, fmt.Errorf("memory breaker record: %w", err)
	}
	if m.closed.Load() {
		return 0, fmt.Errorf("memory breaker record: %w", errClosed)
	}
	now := m.nowMS()
	s := &m.breakers
	s.mu.Lock()
	defer s.mu.Unlock()
	var b breaker
	if e := s.get(key, now); e != nil {
		b = e.breaker
	}
	before := b
	st := b.record(now, cfg, success)
	if b != before {
		s.put(key, b, now, cfg)
	}
	return st, nil
}

// Status implements Breakers.
func (m *Memory) Status(_ context.Context, keys []string) (map[string]BreakerStatus, error) {
	if m.closed.Load() {
		return nil, fmt.Errorf("memory breaker status: %w", errClosed)
	}
	now := m.nowMS()
	out := make(map[string]BreakerStatus, len(keys))
	s := &m.breakers
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if k == "" {
			return nil, errors.New("memory breaker status: key must not be empty")
		}
		var b breaker
		if e := s.get(k, now); e != nil {
			b = e.breaker
		}
		out[k] = b.status(now)
	}
	return out, nil
}
