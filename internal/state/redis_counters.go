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
	var spans [MaxWindows]span
	for i, w := range windows {
		spans[i] = currentSpan(now, w.Size)
	}
	a := new(scriptArgs)
	r.counterKeys(a, hashTag(subject), windows, spans[:len(windows)])
	a.arg(cost)
	for i, w := range windows {
		a.arg(w.Limit)
		a.arg(counterTTL(spans[i], now))
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	res, err := r.run(ctx, reserveLua, a).Slice()
	if err != nil {
		return Decision{}, wrap("redis reserve", err)
	}
	if len(res) != 1+len(windows) {
		return Decision{}, fmt.Errorf("redis reserve: %d replies for %d windows", len(res), len(windows))
	}
	var reply [1 + MaxWindows]int64
	for i, v := range res {
		n, ok := v.(int64)
		if !ok {
			return Decision{}, fmt.Errorf("redis reserve: reply %d is %T, not an integer", i, v)
		}
		reply[i] = n
	}
	var used [MaxWindows]int64
	copy(used[:], reply[1:])
	var d Decision
	d.fill(windows, now, cost, reply[0] == 1, &used)
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
	var (
		open  [MaxWindows]Window
		spans [MaxWindows]span
		nOpen int
	)
	for _, w := range windows {
		sp := currentSpan(atMS, w.Size)
		if sp.end <= now {
			continue // that window has ended
		}
		open[nOpen], spans[nOpen] = w, sp
		nOpen++
	}
	if nOpen == 0 {
		return nil
	}
	a := new(scriptArgs)
	r.counterKeys(a, hashTag(subject), open[:nOpen], spans[:nOpen])
	a.arg(delta)
	for _, sp := range spans[:nOpen] {
		a.arg(counterTTL(sp, now))
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	return wrap("redis adjust", r.run(ctx, adjustLua, a).Err())
}
