// Package state holds the state Tollgate shares between requests: token
// counters for rate limiting, circuit breakers for the egress, and a
// key-value store with expiry for caches. Each sits behind a small
// interface ([Counters], [Breakers], [KV]); a [Backend] bundles the three
// with Ping and Close.
//
// # Backends
//
// [Memory] ([NewMemory]) is the default: one node, no dependency. In
// sidecar mode every plugin and the egress of a node share one Memory, so
// the egress reconciles the reservation a plugin made. It is sharded,
// goroutine-safe, does not allocate to reserve, and sweeps expired entries
// as it goes, so its size follows the live state.
//
// [Redis] ([NewRedis]) is shared by every Kong node, through go-redis v9
// against a standalone server, Sentinel or Cluster, configured by the
// [RedisConfig] record that plugins embed as their `redis` field. Every
// operation is one round trip: an EVALSHA of an atomic Lua script (EVAL
// when the server answers NOSCRIPT), or one plain command (KV), or one
// pipeline (Status). All counters of a subject share a Cluster hash tag,
// so one script may update them all. Every key it writes expires.
//
// One conformance suite runs against both, so a deployment behaves the
// same on one node as on many.
//
// # Windows
//
// Counters use fixed windows aligned to the Unix epoch: a one-minute
// window runs from hh:mm:00 to the next minute on every node, whatever
// the time of the first request. Fixed windows were chosen because they
// are exact and cheap: one integer per window, a Reset that is the same
// for every caller (it becomes the RateLimit-Reset and Retry-After
// headers), and a refund after the answer lands in exactly the window that
// was charged. The cost is the known burst at a boundary: up to twice the
// limit across the end of one window and the start of the next. Pair a
// short window with a long one where that matters.
//
// Reserve adds a cost to all windows or to none. A denial says which
// window blocked and when every refusing window will have reset. Adjust
// settles a reservation against the windows that were current when it was
// made, and does nothing for windows that have ended since: their count
// is gone, and charging the new window for the old one's usage would be
// wrong.
//
// # Clocks
//
// Both backends take the time from [WithClock] (time.Now by default). The
// Redis scripts receive it as an argument rather than calling Redis TIME,
// which lets tests move time and keeps the window arithmetic in one place;
// the price is that the clocks of all nodes sharing a Redis must be
// synchronised (NTP). A node whose clock is off by a few seconds counts
// near a boundary in the neighbouring window; keys live a few seconds past
// their window for that reason. KV expiry on Redis uses the server's
// clock (SET PX).
//
// # Failures
//
// Errors are wrapped with the operation that failed and never contain a
// password or a subject. When Redis cannot be reached, times out (after
// RedisConfig.Timeout, or the caller's sooner deadline), or replies that it
// cannot serve (LOADING, READONLY, OOM, NOAUTH …), the error wraps
// [ErrUnavailable]: callers test it with errors.Is and apply their
// fault_tolerant setting, letting the request through or answering 503.
// The client neither retries commands (a retried reservation could count
// twice) nor retries dials, so an outage costs a request at most the
// timeout. It reconnects on its own when Redis is back.
package state
