package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Allow implements Breakers with one run of allow.lua.
func (r *Redis) Allow(ctx context.Context, key string, cfg BreakerConfig) (Permit, error) {
	if err := checkBreaker(key, cfg); err != nil {
		return Permit{}, fmt.Errorf("redis breaker allow: %w", err)
	}
	now := r.now().UnixMilli()
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	res, err := allowScript.Run(ctx, r.client, []string{r.breakerKey(key)},
		now, now+cfg.CoolDown.Milliseconds(), cfg.HalfOpenProbes, breakerTTL(cfg).Milliseconds(),
	).Int64Slice()
	if err != nil {
		return Permit{}, wrap("redis breaker allow", err)
	}
	if len(res) != 4 {
		return Permit{}, fmt.Errorf("redis breaker allow: %d replies, want 4", len(res))
	}
	p := Permit{Allowed: res[0] == 1, State: BreakerState(res[1]), Probe: res[2] == 1}
	if !p.Allowed {
		p.RetryAt = time.UnixMilli(res[3])
	}
	return p, nil
}

// Record implements Breakers with one run of record.lua.
func (r *Redis) Record(ctx context.Context, key string, cfg BreakerConfig, success bool) (BreakerState, error) {
	if err := checkBreaker(key, cfg); err != nil {
		return 0, fmt.Errorf("redis breaker record: %w", err)
	}
	now := r.now().UnixMilli()
	ok := 0
	if success {
		ok = 1
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	st, err := recordScript.Run(ctx, r.client, []string{r.breakerKey(key)},
		now, ok, cfg.FailureThreshold, cfg.Window.Milliseconds(),
		now+cfg.CoolDown.Milliseconds(), breakerTTL(cfg).Milliseconds(),
	).Int64()
	if err != nil {
		return 0, wrap("redis breaker record", err)
	}
	return BreakerState(st), nil
}

// Status implements Breakers with one pipeline of HMGETs (one round trip
// per Cluster node holding some of the keys).
func (r *Redis) Status(ctx context.Context, keys []string) (map[string]BreakerStatus, error) {
	out := make(map[string]BreakerStatus, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	for _, k := range keys {
		if k == "" {
			return nil, errors.New("redis breaker status: key must not be empty")
		}
	}
	now := r.now().UnixMilli()
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	cmds := make([]*redis.SliceCmd, len(keys))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, r.breakerKey(k), "s", "f", "oa", "ra")
		}
		return nil
	})
	if err != nil {
		return nil, wrap("redis breaker status", err)
	}
	for i, k := range keys {
		b, err := parseBreaker(cmds[i].Val())
		if err != nil {
			return nil, fmt.Errorf("redis breaker status: %w", err)
		}
		out[k] = b.status(now)
	}
	return out, nil
}

// parseBreaker reads the fields s, f, oa and ra of a breaker hash; all nil
// means no hash, a closed breaker.
func parseBreaker(vals []any) (breaker, error) {
	var b breaker
	if len(vals) != 4 || vals[0] == nil {
		return b, nil
	}
	switch vals[0] {
	case "c":
		b.state = BreakerClosed
	case "o":
		b.state = BreakerOpen
	case "h":
		b.state = BreakerHalfOpen
	default:
		return b, fmt.Errorf("unknown breaker state %q", vals[0])
	}
	var n [3]int64 // f, oa, ra
	for i, v := range vals[1:] {
		s, _ := v.(string)
		if s == "" {
			continue
		}
		var err error
		if n[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return b, fmt.Errorf("breaker hash: %w", err)
		}
	}
	b.failures, b.openedAt, b.retryAt = int(n[0]), n[1], n[2]
	return b, nil
}
