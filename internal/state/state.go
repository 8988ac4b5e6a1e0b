package state

import (
	"context"
	"errors"
	"time"
)

// Backend is one state store: the memory backend of a single node or the
// Redis backend shared by every Kong node.
type Backend interface {
	Counters
	Breakers
	KV
	// Ping reports whether the backend can serve; ErrUnavailable when not.
	Ping(ctx context.Context) error
	// Close releases the backend's connections. Using it afterwards fails.
	Close() error
}

// ErrUnavailable marks errors caused by the backend being unreachable,
// slow (a timeout) or unable to serve (Redis loading, read-only, out of
// memory, authentication refused). Callers test it with errors.Is and apply
// their fault_tolerant setting: let the request through or answer 503.
// Other errors are bugs or bad arguments and should not be hidden.
var ErrUnavailable = errors.New("state backend unavailable")

// Option configures NewMemory and NewRedis.
type Option func(*options)

type options struct {
	now          func() time.Time
	maxKVEntries int
}

// defaultMaxKVEntries bounds the memory backend's KV store; a full store
// evicts an arbitrary entry to admit a new one.
const defaultMaxKVEntries = 1 << 16

// WithClock replaces time.Now. Windows, breaker cool-downs and (in memory)
// KV expiry follow it, which lets tests move time. The Redis backend sends
// this clock's time to its scripts instead of using Redis TIME, so the
// clocks of all nodes sharing a Redis must be synchronised (NTP).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithMaxKVEntries bounds the number of KV entries the memory backend
// keeps (default 65536). The Redis backend ignores it: use Redis maxmemory.
func WithMaxKVEntries(n int) Option {
	return func(o *options) { o.maxKVEntries = n }
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now, maxKVEntries: defaultMaxKVEntries}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.maxKVEntries <= 0 {
		o.maxKVEntries = defaultMaxKVEntries
	}
	return o
}
