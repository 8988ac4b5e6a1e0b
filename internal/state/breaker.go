package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Breakers hold circuit-breaker state per target (a provider, a model, an
// upstream), shared by every node that uses the same backend.
//
// A breaker is closed until FailureThreshold consecutive failures (within
// Window, when set) open it. Open, it refuses calls for CoolDown; then it
// is half-open and admits up to HalfOpenProbes calls at a time. A probe's
// success closes it, a failure opens it for another CoolDown. Results that
// arrive while it is open are ignored: they belong to calls admitted before.
type Breakers interface {
	// Allow reports whether a call to the target of key may go ahead.
	Allow(ctx context.Context, key string, cfg BreakerConfig) (Permit, error)
	// Record reports the outcome of a call and returns the resulting state.
	Record(ctx context.Context, key string, cfg BreakerConfig, success bool) (BreakerState, error)
	// Status returns the state of each key; unknown keys are closed.
	Status(ctx context.Context, keys []string) (map[string]BreakerStatus, error)
}

// BreakerConfig tunes one breaker.
type BreakerConfig struct {
	FailureThreshold int           // consecutive failures that open it, ≥ 1
	CoolDown         time.Duration // how long it stays open, ≥ 1ms
	HalfOpenProbes   int           // concurrent calls allowed half-open, ≥ 1
	// Window, when positive, only counts failures within this long of the
	// first failure of the streak; older streaks start again.
	Window time.Duration
}

// BreakerState is closed, open or half-open.
type BreakerState uint8

// The breaker states.
const (
	BreakerClosed BreakerState = iota
	BreakerOpen
	BreakerHalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half_open"
	}
	return fmt.Sprintf("BreakerState(%d)", uint8(s))
}

// MarshalText makes the state "closed", "open" or "half_open" in JSON.
func (s BreakerState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Permit is the answer of Allow.
type Permit struct {
	Allowed bool
	State   BreakerState
	// Probe reports that the call was admitted as a half-open probe; its
	// outcome decides whether the breaker closes.
	Probe bool
	// RetryAt, when refused, is when the breaker may admit calls again.
	RetryAt time.Time
}

// BreakerStatus is the state of one breaker for a status endpoint.
type BreakerStatus struct {
	State    BreakerState `json:"state"`
	Failures int          `json:"failures"`
	OpenedAt time.Time    `json:"opened_at,omitzero"`
	RetryAt  time.Time    `json:"retry_at,omitzero"`
}

func checkBreaker(key string, cfg BreakerConfig) error {
	var errs []error
	if key == "" {
		errs = append(errs, errors.New("key must not be empty"))
	}
	if cfg.FailureThreshold < 1 {
		errs = append(errs, fmt.Errorf("failure threshold %d must be ≥ 1", cfg.FailureThreshold))
	}
	if cfg.CoolDown < time.Millisecond {
		errs = append(errs, fmt.Errorf("cool-down %s must be ≥ 1ms", cfg.CoolDown))
	}
	if cfg.HalfOpenProbes < 1 {
		errs = append(errs, fmt.Errorf("half-open probes %d must be ≥ 1", cfg.HalfOpenProbes))
	}
	if cfg.Window < 0 {
		errs = append(errs, fmt.Errorf("window %s must not be negative", cfg.Window))
	}
	return errors.Join(errs...)
}

// breakerSlack keeps a breaker's state a while after it could matter, so a
// node with a slightly late clock still sees it.
const breakerSlack = time.Minute

// breakerTTL is how long a breaker's state lives after its last change: a
// cool-down, a probe lease and a failure window, plus slack. An idle
// failure streak is forgotten after it.
func breakerTTL(cfg BreakerConfig) time.Duration {
	return 2*cfg.CoolDown + cfg.Window + breakerSlack
}

// breaker is the state of one breaker, in Unix milliseconds. The memory
// backend runs these methods; the Redis scripts allow.lua and record.lua
// implement the same transitions and the conformance suite holds them equal.
type breaker struct {
	state        BreakerState // as stored: open stays open until an Allow after the cool-down
	failures     int
	firstFailure int64 // start of the current failure streak
	openedAt     int64
	retryAt      int64 // end of the cool-down
	probes       int   // probes admitted in the current lease
	probeUntil   int64 // end of the probe lease: unreported probes are presumed lost
}

func (b *breaker) allow(now int64, cfg BreakerConfig) Permit {
	switch b.state {
	case BreakerClosed:
		return Permit{Allowed: true, State: BreakerClosed}
	case BreakerOpen:
		if now < b.retryAt {
			return Permit{State: BreakerOpen, RetryAt: time.UnixMilli(b.retryAt)}
		}
		b.state, b.probes = BreakerHalfOpen, 0
	default:
		if now >= b.probeUntil {
			b.probes = 0
		}
	}
	if b.probes >= cfg.HalfOpenProbes {
		return Permit{State: BreakerHalfOpen, RetryAt: time.UnixMilli(b.probeUntil)}
	}
	b.probes++
	b.probeUntil = now + cfg.CoolDown.Milliseconds()
	return Permit{Allowed: true, State: BreakerHalfOpen, Probe: true}
}

func (b *breaker) record(now int64, cfg BreakerConfig, success bool) BreakerState {
	switch {
	case b.state == BreakerOpen:
		return BreakerOpen
	case success:
		*b = breaker{}
		return BreakerClosed
	case b.state == BreakerHalfOpen:
		b.failures++
		b.open(now, cfg)
		return BreakerOpen
	}
	if b.failures > 0 && cfg.Window > 0 && now-b.firstFailure >= cfg.Window.Milliseconds() {
		b.failures = 0
	}
	if b.failures == 0 {
		b.firstFailure = now
	}
	b.failures++
	if b.failures >= cfg.FailureThreshold {
		b.open(now, cfg)
		return BreakerOpen
	}
	return BreakerClosed
}

func (b *breaker) open(now int64, cfg BreakerConfig) {
	b.state = BreakerOpen
	b.openedAt = now
	b.retryAt = now + cfg.CoolDown.Milliseconds()
	b.probes, b.probeUntil = 0, 0
}

// status reports an open breaker whose cool-down has passed as half-open:
// the next Allow admits a probe.
func (b *breaker) status(now int64) BreakerStatus {
	st := BreakerStatus{State: b.state, Failures: b.failures}
	if b.state == BreakerOpen && now >= b.retryAt {
		st.State = BreakerHalfOpen
	}
	if b.state != BreakerClosed {
		st.OpenedAt = time.UnixMilli(b.openedAt)
		if st.State == BreakerOpen {
			st.RetryAt = time.UnixMilli(b.retryAt)
		}
	}
	return st
}
