package state

import (
	"context"
	"fmt"
	"time"
)

// Reserve implements Counters with one run of reserve.lua.
func (r *Redis) Reserve(ctx context.Context, subject string, windows []Window, cost int64) (Decision, error) {
	if err := checkReserve(subject, windows, cost); err != nil {
		return Decision{}, fmt.Errorf("redis reserve: %w", err)
	}
	now := r.now().UnixMilli()
	tag := hashTag(subject)
	keys := make([]string, len(windows))
	args := make([]any, 1, 1+2*len(windows))
	args[0] = cost
	for i, w := range windows {
		sp := currentSpan(now, w.Size)
		keys[i] = r.counterKey(tag, w, sp.start)
		args = append(args, w.Limit, counterTTL(sp, now))
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	res, err := reserveScript.Run(ctx, r.client, keys, args...).Int64Slice()
	if err != nil {
		return Decision{}, wrap("redis reserve", err)
	}
	if len(res) != 1+len(windows) {
		return Decision{}, fmt.Errorf("redis reserve: %d replies for %d windows", len(res), len(windows))
	}
	var used [MaxWindows]int64
	copy(used[:], res[1:])
	var d Decision
	d.fill(windows, now, cost, res[0] == 1, &used)
	return d, nil
}

// Adjust implements Counters with one run of adjust.lua, or none when every
// window has ended.
func (r *Redis) Adjust(ctx context.Context, subject string, windows []Window, delta int64, at time.Time) error {
	if err := checkAdjust(subject, windows, delta); err != nil {
		return fmt.Errorf("redis adjust: %w", err)
	}
	if delta == 0 {
		return nil
	}
	now := r.now().UnixMilli()
	atMS := min(at.UnixMilli(), now) // a reservation cannot be in the future
	tag := hashTag(subject)
	keys := make([]string, 0, len(windows))
	args := make([]any, 1, 1+len(windows))
	args[0] = delta
	for _, w := range windows {
		sp := currentSpan(atMS, w.Size)
		if sp.end <= now {
			continue // that window has ended
		}
		keys = append(keys, r.counterKey(tag, w, sp.start))
		args = append(args, counterTTL(sp, now))
	}
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	return wrap("redis adjust", adjustScript.Run(ctx, r.client, keys, args...).Err())
}
