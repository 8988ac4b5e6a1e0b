package egress

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
)

// HeaderReservation carries tollgate-token-rate-limit's sealed reservation,
// which egress reconciles with the provider's real usage.
const (
	HeaderReservation  = "X-Tollgate-Reservation"
	PurposeReservation = "x-tollgate-reservation"
)

// Reservation is what the token rate limiter reserved for a request and
// where: egress debits or refunds the difference once the real usage is
// known, and releases it all when no provider answered.
type Reservation struct {
	// Policy is memory (the process's own backend, shared with egress in
	// sidecar mode) or redis (Redis names the server).
	Policy   string             `json:"policy"`
	Redis    *state.RedisConfig `json:"redis,omitempty"`
	Subject  string             `json:"subject"`
	Windows  []ReservedWindow   `json:"windows"`
	Reserved int64              `json:"reserved"`
	AtMS     int64              `json:"at"`
	// Ceiling, when positive, is the most tokens the request may use:
	// egress ends a stream that would pass it (enforce_during_stream).
	Ceiling int64 `json:"ceiling,omitempty"`
	// Price, when set, makes the counters money: what a request used is
	// prompt × Input + completion × Output (in the counters' unit per token)
	// rather than its tokens.
	Price *Price `json:"price,omitempty"`
}

// Price is what a token costs, in the unit of a money reservation's
// counters (micro-dollars: a price in US dollars per million tokens is
// the same number in micro-dollars per token).
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// used is what a request with this usage cost in the reservation's unit.
func (r *Reservation) used(prompt, completion int64) int64 {
	if r.Price == nil {
		return prompt + completion
	}
	return int64(math.Ceil(float64(prompt)*r.Price.Input + float64(completion)*r.Price.Output))
}

// ReservedWindow is a window of a reservation.
type ReservedWindow struct {
	Name   string `json:"name"`
	SizeMS int64  `json:"size_ms"`
	Limit  int64  `json:"limit"`
}

func (r *Reservation) windows() []state.Window {
	out := make([]state.Window, len(r.Windows))
	for i, w := range r.Windows {
		out[i] = state.Window{Name: w.Name, Size: time.Duration(w.SizeMS) * time.Millisecond, Limit: w.Limit}
	}
	return out
}

// SealReservation seals a request's reservations (tokens, money) for the
// request id.
func SealReservation(kr *seal.Keyring, requestID string, r []*Reservation, ttl time.Duration) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode reservation: %w", err)
	}
	return kr.Seal(PurposeReservation, requestID, b, ttl)
}

// counterPool opens the counters a reservation names: the process's
// memory backend, or one pooled Redis client per distinct configuration.
type counterPool struct {
	memory state.Counters
	mu     sync.Mutex
	redis  map[string]*state.Redis
}

func (p *counterPool) counters(r *Reservation) (state.Counters, error) {
	if r.Policy != "redis" {
		if p.memory == nil {
			return nil, fmt.Errorf("no memory backend to reconcile with")
		}
		return p.memory, nil
	}
	if r.Redis == nil {
		return nil, fmt.Errorf("redis reservation without a redis config")
	}
	b, _ := json.Marshal(r.Redis)
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.redis == nil {
		p.redis = map[string]*state.Redis{}
	}
	if c := p.redis[key]; c != nil {
		return c, nil
	}
	c, err := state.NewRedis(*r.Redis)
	if err != nil {
		return nil, err
	}
	p.redis[key] = c
	return c, nil
}

func (p *counterPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.redis {
		_ = c.Close()
	}
	p.redis = nil
}

// reconcile settles a request's reservations with what it really used.
func (e *Egress) reconcile(all []*Reservation, prompt, completion int64) {
	for _, res := range all {
		e.settle(res, res.used(prompt, completion))
	}
}

func (e *Egress) settle(res *Reservation, used int64) {
	c, err := e.pool.counters(res)
	if err != nil {
		e.log.Warn("reconcile token reservation", "error", err.Error())
		return
	}
	delta := used - res.Reserved
	if delta == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Adjust(ctx, res.Subject, res.windows(), delta, time.UnixMilli(res.AtMS)); err != nil {
		e.log.Warn("reconcile token reservation", "error", err.Error())
	}
}
