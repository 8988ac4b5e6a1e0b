package state_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/state"
)

// newBackendFunc returns an empty backend whose clock is now.
type newBackendFunc func(t *testing.T, now func() time.Time) state.Backend

// runConformance is the one suite both backends must pass, so that a
// deployment behaves the same on one node (memory) as on many (Redis).
func runConformance(t *testing.T, newBackend newBackendFunc) {
	tests := []struct {
		name string
		run  func(t *testing.T, b state.Backend, clk *fakeClock)
	}{
		{"ReserveAcrossWindows", testReserveAcrossWindows},
		{"ReserveRetryAfterIsLatestBlockingReset", testReserveRetryAfter},
		{"ReserveZeroCostAndExactFit", testReserveZeroCostAndExactFit},
		{"WindowRollover", testWindowRollover},
		{"WindowsAlignToEpoch", testWindowsAlignToEpoch},
		{"SubjectsAreIndependent", testSubjectsAreIndependent},
		{"Adjust", testAdjust},
		{"AdjustAfterWindowEnd", testAdjustAfterWindowEnd},
		{"InvalidArguments", testInvalidArguments},
		{"BreakerOpensAfterThreshold", testBreakerOpens},
		{"BreakerHalfOpenProbes", testBreakerHalfOpen},
		{"BreakerReopensOnProbeFailure", testBreakerReopens},
		{"BreakerLostProbes", testBreakerLostProbes},
		{"BreakerFailureWindow", testBreakerFailureWindow},
		{"BreakerStatus", testBreakerStatus},
		{"KV", testKV},
		{"KVExpiry", testKVExpiry},
		{"ConcurrentReserve", testConcurrentReserve},
		{"ConcurrentReserveAndRefund", testConcurrentReserveAndRefund},
		{"ConcurrentHalfOpenProbes", testConcurrentHalfOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			b := newBackend(t, clk.Now)
			require.NoError(t, b.Ping(context.Background()))
			tc.run(t, b, clk)
		})
	}
}

// fakeClock starts on 2030-01-01T00:00:00Z, a boundary of every window of a
// second, minute, hour or day since the epoch.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

var epoch2030 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newClock() *fakeClock { return &fakeClock{t: epoch2030} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var (
	ctx = context.Background()

	minute = state.Window{Name: "minute", Size: time.Minute, Limit: 100}
	hour   = state.Window{Name: "hour", Size: time.Hour, Limit: 150}
	day    = state.Window{Name: "day", Size: 24 * time.Hour, Limit: 1000}
	three  = []state.Window{minute, hour, day}
)

func reserve(t *testing.T, b state.Backend, subject string, windows []state.Window, cost int64) state.Decision {
	t.Helper()
	d, err := b.Reserve(ctx, subject, windows, cost)
	require.NoError(t, err)
	return d
}

// used reads the windows' counts without changing them: a zero cost. (It is
// denied only when a window is already over its limit.)
func used(t *testing.T, b state.Backend, subject string, windows []state.Window) []int64 {
	t.Helper()
	d := reserve(t, b, subject, windows, 0)
	var out []int64
	for _, w := range d.Windows() {
		out = append(out, w.Used)
	}
	return out
}

func requireTime(t *testing.T, want, got time.Time, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, want.UTC().Format(time.RFC3339Nano), got.UTC().Format(time.RFC3339Nano), msgAndArgs...)
}

func testReserveAcrossWindows(t *testing.T, b state.Backend, clk *fakeClock) {
	clk.Advance(10 * time.Second) // 00:00:10

	d := reserve(t, b, "alice", three, 60)
	require.True(t, d.Allowed)
	require.Equal(t, -1, d.Blocking)
	require.Zero(t, d.RetryAfter)
	ws := d.Windows()
	require.Len(t, ws, 3)
	for i, want := range []struct {
		name      string
		limit     int64
		remaining int64
		reset     time.Time
	}{
		{"minute", 100, 40, epoch2030.Add(time.Minute)},
		{"hour", 150, 90, epoch2030.Add(time.Hour)},
		{"day", 1000, 940, epoch2030.Add(24 * time.Hour)},
	} {
		require.Equal(t, want.name, ws[i].Name)
		require.Equal(t, want.limit, ws[i].Limit)
		require.EqualValues(t, 60, ws[i].Used)
		require.Equal(t, want.remaining, ws[i].Remaining, want.name)
		requireTime(t, want.reset, ws[i].Reset, want.name)
	}

	// 60 + 50 > 100 in the minute window: denied, and nothing is added.
	d = reserve(t, b, "alice", three, 50)
	require.False(t, d.Allowed)
	require.Equal(t, 0, d.Blocking)
	require.Equal(t, 50*time.Second, d.RetryAfter)
	require.EqualValues(t, 40, d.Windows()[0].Remaining)
	require.Equal(t, []int64{60, 60, 60}, used(t, b, "alice", three))

	d = reserve(t, b, "alice", three, 40)
	require.True(t, d.Allowed)
	require.EqualValues(t, 0, d.Windows()[0].Remaining)
	require.EqualValues(t, 50, d.Windows()[1].Remaining)

	// The next minute has room, the hour does not: the hour blocks.
	clk.Set(epoch2030.Add(time.Minute))
	d = reserve(t, b, "alice", three, 60)
	require.False(t, d.Allowed)
	require.Equal(t, 1, d.Blocking)
	require.Equal(t, 59*time.Minute, d.RetryAfter)
	require.Equal(t, []int64{0, 100, 100}, used(t, b, "alice", three))
}

func testReserveRetryAfter(t *testing.T, b state.Backend, clk *fakeClock) {
	clk.Advance(30 * time.Minute)
	reserve(t, b, "bob", three, 100) // minute full, hour at 100
	// Both the minute (resets in 1m) and the hour (30m) refuse 60: retrying
	// before both have reset is useless.
	d := reserve(t, b, "bob", three, 60)
	require.False(t, d.Allowed)
	require.Equal(t, 1, d.Blocking)
	require.Equal(t, 30*time.Minute, d.RetryAfter)

	// Only the minute refuses 10.
	d = reserve(t, b, "bob", three, 10)
	require.False(t, d.Allowed)
	require.Equal(t, 0, d.Blocking)
	require.Equal(t, time.Minute, d.RetryAfter)
}

func testReserveZeroCostAndExactFit(t *testing.T, b state.Backend, _ *fakeClock) {
	w := []state.Window{{Name: "minute", Size: time.Minute, Limit: 5}}
	require.True(t, reserve(t, b, "s", w, 5).Allowed, "cost equal to the limit fits")
	require.False(t, reserve(t, b, "s", w, 1).Allowed)
	d := reserve(t, b, "s", w, 0)
	require.True(t, d.Allowed, "zero cost is a read")
	require.EqualValues(t, 5, d.Windows()[0].Used)

	zero := []state.Window{{Name: "minute", Size: time.Minute, Limit: 0}}
	require.False(t, reserve(t, b, "z", zero, 1).Allowed)
	require.True(t, reserve(t, b, "z", zero, 0).Allowed)
}

func testWindowRollover(t *testing.T, b state.Backend, clk *fakeClock) {
	w := []state.Window{{Name: "minute", Size: time.Minute, Limit: 10}}
	require.True(t, reserve(t, b, "s", w, 10).Allowed)
	require.False(t, reserve(t, b, "s", w, 1).Allowed)

	clk.Set(epoch2030.Add(time.Minute - time.Millisecond))
	d := reserve(t, b, "s", w, 1)
	require.False(t, d.Allowed, "last millisecond of the window")
	require.Equal(t, time.Millisecond, d.RetryAfter)

	clk.Advance(time.Millisecond)
	d = reserve(t, b, "s", w, 1)
	require.True(t, d.Allowed, "a new window")
	require.EqualValues(t, 9, d.Windows()[0].Remaining)
	requireTime(t, epoch2030.Add(2*time.Minute), d.Windows()[0].Reset)

	// Windows two or more spans later start from zero too.
	clk.Advance(10 * time.Minute)
	require.Equal(t, []int64{0}, used(t, b, "s", w))
}

func testWindowsAlignToEpoch(t *testing.T, b state.Backend, clk *fakeClock) {
	clk.Set(epoch2030.Add(90*time.Second + 250*time.Millisecond)) // 00:01:30.250
	w := []state.Window{
		{Name: "second", Size: time.Second, Limit: 1},
		{Name: "minute", Size: time.Minute, Limit: 1},
		{Name: "odd", Size: 7 * time.Second, Limit: 1},
	}
	d := reserve(t, b, "s", w, 1)
	require.True(t, d.Allowed)
	requireTime(t, epoch2030.Add(91*time.Second), d.Windows()[0].Reset)
	requireTime(t, epoch2030.Add(2*time.Minute), d.Windows()[1].Reset)
	// 7 s windows count from the Unix epoch, not from midnight.
	end := (clk.Now().UnixMilli()/7000 + 1) * 7000
	requireTime(t, time.UnixMilli(end), d.Windows()[2].Reset)
}

func testSubjectsAreIndependent(t *testing.T, b state.Backend, _ *fakeClock) {
	w := []state.Window{{Name: "minute", Size: time.Minute, Limit: 1}}
	for _, s := range []string{"a", "b", "a{b}", "{a}", "#a", "a:b", "ü"} {
		require.True(t, reserve(t, b, s, w, 1).Allowed, s)
		require.False(t, reserve(t, b, s, w, 1).Allowed, s)
	}
	// Windows with the same size but different names count separately.
	other := []state.Window{{Name: "minute2", Size: time.Minute, Limit: 1}}
	require.True(t, reserve(t, b, "a", other, 1).Allowed)
}

func testAdjust(t *testing.T, b state.Backend, clk *fakeClock) {
	at := clk.Now()
	require.True(t, reserve(t, b, "s", three, 10).Allowed)

	require.NoError(t, b.Adjust(ctx, "s", three, -4, at))
	require.Equal(t, []int64{6, 6, 6}, used(t, b, "s", three), "refund")

	require.NoError(t, b.Adjust(ctx, "s", three, -100, at))
	require.Equal(t, []int64{0, 0, 0}, used(t, b, "s", three), "never below zero")

	require.NoError(t, b.Adjust(ctx, "s", three, 120, at))
	require.Equal(t, []int64{120, 120, 120}, used(t, b, "s", three), "debit may pass the limit")
	d := reserve(t, b, "s", three, 1)
	require.False(t, d.Allowed)
	require.EqualValues(t, 0, d.Windows()[0].Remaining, "remaining is never negative")

	require.NoError(t, b.Adjust(ctx, "s", three, 0, at))
	require.Equal(t, []int64{120, 120, 120}, used(t, b, "s", three))

	// A debit for a subject with no counters creates them; a refund does not.
	require.NoError(t, b.Adjust(ctx, "fresh", three, 7, at))
	require.Equal(t, []int64{7, 7, 7}, used(t, b, "fresh", three))
	require.NoError(t, b.Adjust(ctx, "nobody", three, -7, at))
	require.Equal(t, []int64{0, 0, 0}, used(t, b, "nobody", three))

	// A reservation time in the future (a clock ahead) counts as now.
	require.NoError(t, b.Adjust(ctx, "s", three, -20, at.Add(48*time.Hour)))
	require.Equal(t, []int64{100, 100, 100}, used(t, b, "s", three))
}

func testAdjustAfterWindowEnd(t *testing.T, b state.Backend, clk *fakeClock) {
	at := clk.Now()
	require.True(t, reserve(t, b, "s", three, 50).Allowed)

	// The minute of the reservation has ended; the hour and day have not.
	clk.Advance(time.Minute)
	require.True(t, reserve(t, b, "s", three, 5).Allowed) // counted in the new minute
	require.NoError(t, b.Adjust(ctx, "s", three, -30, at))
	require.Equal(t, []int64{5, 25, 25}, used(t, b, "s", three), "the new minute is not refunded")
	require.NoError(t, b.Adjust(ctx, "s", three, 10, at))
	require.Equal(t, []int64{5, 35, 35}, used(t, b, "s", three), "nor debited")

	// Once every window has ended, Adjust does nothing.
	clk.Advance(24 * time.Hour)
	require.NoError(t, b.Adjust(ctx, "s", three, 10, at))
	require.Equal(t, []int64{0, 0, 0}, used(t, b, "s", three))
}

func testInvalidArguments(t *testing.T, b state.Backend, _ *fakeClock) {
	many := make([]state.Window, state.MaxWindows+1)
	for i := range many {
		many[i] = state.Window{Name: string(rune('a' + i)), Size: time.Second, Limit: 1}
	}
	for _, tc := range []struct {
		name    string
		subject string
		windows []state.Window
		cost    int64
	}{
		{"empty subject", "", three, 1},
		{"no windows", "s", nil, 1},
		{"too many windows", "s", many, 1},
		{"negative cost", "s", three, -1},
		{"huge cost", "s", three, 1 << 60},
		{"unnamed window", "s", []state.Window{{Size: time.Second, Limit: 1}}, 1},
		{"zero size", "s", []state.Window{{Name: "w", Limit: 1}}, 1},
		{"sub-millisecond size", "s", []state.Window{{Name: "w", Size: 1500 * time.Microsecond, Limit: 1}}, 1},
		{"negative limit", "s", []state.Window{{Name: "w", Size: time.Second, Limit: -1}}, 1},
		{"duplicate name", "s", []state.Window{minute, minute}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Reserve(ctx, tc.subject, tc.windows, tc.cost)
			require.Error(t, err)
			require.NotErrorIs(t, err, state.ErrUnavailable)
			if tc.cost >= 0 {
				require.Error(t, b.Adjust(ctx, tc.subject, tc.windows, tc.cost, time.Now()))
			}
		})
	}
	cfg := state.BreakerConfig{FailureThreshold: 1, CoolDown: time.Second, HalfOpenProbes: 1}
	for _, bad := range []state.BreakerConfig{
		{CoolDown: time.Second, HalfOpenProbes: 1},
		{FailureThreshold: 1, HalfOpenProbes: 1},
		{FailureThreshold: 1, CoolDown: time.Second},
		{FailureThreshold: 1, CoolDown: time.Second, HalfOpenProbes: 1, Window: -time.Second},
	} {
		_, err := b.Allow(ctx, "k", bad)
		require.Error(t, err, "%+v", bad)
		_, err = b.Record(ctx, "k", bad, false)
		require.Error(t, err, "%+v", bad)
	}
	_, err := b.Allow(ctx, "", cfg)
	require.Error(t, err)
	_, err = b.Status(ctx, []string{""})
	require.Error(t, err)
	require.Error(t, b.Set(ctx, "k", []byte("v"), 0), "ttl is required")
	require.Error(t, b.Set(ctx, "", []byte("v"), time.Second))
	_, _, err = b.Get(ctx, "")
	require.Error(t, err)
	require.Error(t, b.Delete(ctx, ""))
}

var breakerCfg = state.BreakerConfig{FailureThreshold: 3, CoolDown: 30 * time.Second, HalfOpenProbes: 2}

func allow(t *testing.T, b state.Backend, key string, cfg state.BreakerConfig) state.Permit {
	t.Helper()
	p, err := b.Allow(ctx, key, cfg)
	require.NoError(t, err)
	return p
}

func record(t *testing.T, b state.Backend, key string, cfg state.BreakerConfig, success bool) state.BreakerState {
	t.Helper()
	st, err := b.Record(ctx, key, cfg, success)
	require.NoError(t, err)
	return st
}

// trip opens the breaker of key at the clock's time.
func trip(t *testing.T, b state.Backend, key string, cfg state.BreakerConfig) {
	t.Helper()
	for range cfg.FailureThreshold - 1 {
		require.Equal(t, state.BreakerClosed, record(t, b, key, cfg, false))
	}
	require.Equal(t, state.BreakerOpen, record(t, b, key, cfg, false))
}

func testBreakerOpens(t *testing.T, b state.Backend, clk *fakeClock) {
	p := allow(t, b, "openai", breakerCfg)
	require.Equal(t, state.Permit{Allowed: true, State: state.BreakerClosed}, p)

	require.Equal(t, state.BreakerClosed, record(t, b, "openai", breakerCfg, false))
	require.Equal(t, state.BreakerClosed, record(t, b, "openai", breakerCfg, false))
	require.Equal(t, state.BreakerClosed, record(t, b, "openai", breakerCfg, true), "a success ends the streak")
	require.Equal(t, state.BreakerClosed, record(t, b, "openai", breakerCfg, false))
	require.Equal(t, state.BreakerClosed, record(t, b, "openai", breakerCfg, false))
	require.True(t, allow(t, b, "openai", breakerCfg).Allowed)

	openedAt := clk.Now()
	require.Equal(t, state.BreakerOpen, record(t, b, "openai", breakerCfg, false), "third consecutive failure")
	p = allow(t, b, "openai", breakerCfg)
	require.False(t, p.Allowed)
	require.Equal(t, state.BreakerOpen, p.State)
	requireTime(t, openedAt.Add(30*time.Second), p.RetryAt)

	clk.Advance(30*time.Second - time.Millisecond)
	require.False(t, allow(t, b, "openai", breakerCfg).Allowed, "still cooling down")
	require.Equal(t, state.BreakerOpen, record(t, b, "openai", breakerCfg, true), "late results are ignored while open")
	require.False(t, allow(t, b, "openai", breakerCfg).Allowed)

	require.True(t, allow(t, b, "anthropic", breakerCfg).Allowed, "breakers are per key")
}

func testBreakerHalfOpen(t *testing.T, b state.Backend, clk *fakeClock) {
	trip(t, b, "k", breakerCfg)
	clk.Advance(breakerCfg.CoolDown)

	for range breakerCfg.HalfOpenProbes {
		p := allow(t, b, "k", breakerCfg)
		require.Equal(t, state.Permit{Allowed: true, State: state.BreakerHalfOpen, Probe: true}, p)
	}
	p := allow(t, b, "k", breakerCfg)
	require.False(t, p.Allowed, "probe limit")
	require.Equal(t, state.BreakerHalfOpen, p.State)
	requireTime(t, clk.Now().Add(breakerCfg.CoolDown), p.RetryAt, "when the probe lease ends")

	require.Equal(t, state.BreakerClosed, record(t, b, "k", breakerCfg, true), "a probe's success closes it")
	require.Equal(t, state.Permit{Allowed: true, State: state.BreakerClosed}, allow(t, b, "k", breakerCfg))
	// Closed again with a fresh streak.
	require.Equal(t, state.BreakerClosed, record(t, b, "k", breakerCfg, false))
	st, err := b.Status(ctx, []string{"k"})
	require.NoError(t, err)
	require.Equal(t, 1, st["k"].Failures)
}

func testBreakerReopens(t *testing.T, b state.Backend, clk *fakeClock) {
	trip(t, b, "k", breakerCfg)
	clk.Advance(breakerCfg.CoolDown)
	require.True(t, allow(t, b, "k", breakerCfg).Probe)

	clk.Advance(time.Second)
	reopened := clk.Now()
	require.Equal(t, state.BreakerOpen, record(t, b, "k", breakerCfg, false), "a probe's failure re-opens it")
	p := allow(t, b, "k", breakerCfg)
	require.False(t, p.Allowed)
	require.Equal(t, state.BreakerOpen, p.State)
	requireTime(t, reopened.Add(breakerCfg.CoolDown), p.RetryAt, "for another full cool-down")

	clk.Advance(breakerCfg.CoolDown)
	require.True(t, allow(t, b, "k", breakerCfg).Probe)
}

func testBreakerLostProbes(t *testing.T, b state.Backend, clk *fakeClock) {
	cfg := breakerCfg
	cfg.HalfOpenProbes = 1
	trip(t, b, "k", cfg)
	clk.Advance(cfg.CoolDown)
	require.True(t, allow(t, b, "k", cfg).Probe)
	require.False(t, allow(t, b, "k", cfg).Allowed)

	// The probe never reports (its node died): after a cool-down its slot
	// is free again, so the breaker cannot stay half-open for ever.
	clk.Advance(cfg.CoolDown)
	require.True(t, allow(t, b, "k", cfg).Probe)
}

func testBreakerFailureWindow(t *testing.T, b state.Backend, clk *fakeClock) {
	cfg := breakerCfg
	cfg.Window = 10 * time.Second
	require.Equal(t, state.BreakerClosed, record(t, b, "k", cfg, false))
	clk.Advance(10 * time.Second) // the streak is now too old
	require.Equal(t, state.BreakerClosed, record(t, b, "k", cfg, false))
	require.Equal(t, state.BreakerClosed, record(t, b, "k", cfg, false), "only two in the window")
	clk.Advance(9 * time.Second)
	require.Equal(t, state.BreakerOpen, record(t, b, "k", cfg, false), "three within 10s")
}

func testBreakerStatus(t *testing.T, b state.Backend, clk *fakeClock) {
	openedAt := clk.Now()
	trip(t, b, "open", breakerCfg)
	require.Equal(t, state.BreakerClosed, record(t, b, "failing", breakerCfg, false))

	st, err := b.Status(ctx, []string{"open", "failing", "unknown"})
	require.NoError(t, err)
	require.Len(t, st, 3)
	require.Equal(t, state.BreakerOpen, st["open"].State)
	require.Equal(t, 3, st["open"].Failures)
	requireTime(t, openedAt, st["open"].OpenedAt)
	requireTime(t, openedAt.Add(breakerCfg.CoolDown), st["open"].RetryAt)
	require.Equal(t, state.BreakerStatus{State: state.BreakerClosed, Failures: 1}, st["failing"])
	require.Equal(t, state.BreakerStatus{State: state.BreakerClosed}, st["unknown"])

	clk.Advance(breakerCfg.CoolDown)
	st, err = b.Status(ctx, []string{"open"})
	require.NoError(t, err)
	require.Equal(t, state.BreakerHalfOpen, st["open"].State, "the next Allow probes")
	requireTime(t, openedAt, st["open"].OpenedAt)
	require.True(t, st["open"].RetryAt.IsZero())

	require.True(t, allow(t, b, "open", breakerCfg).Probe)
	st, err = b.Status(ctx, []string{"open"})
	require.NoError(t, err)
	require.Equal(t, state.BreakerHalfOpen, st["open"].State)

	empty, err := b.Status(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, empty)
}

func testKV(t *testing.T, b state.Backend, _ *fakeClock) {
	_, ok, err := b.Get(ctx, "missing")
	require.NoError(t, err)
	require.False(t, ok)

	val := []byte("hello")
	require.NoError(t, b.Set(ctx, "k", val, time.Hour))
	val[0] = 'J' // Set kept a copy
	got, ok, err := b.Get(ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "hello", string(got))
	got[0] = 'Y' // Get returned a copy
	got, _, _ = b.Get(ctx, "k")
	require.Equal(t, "hello", string(got))

	require.NoError(t, b.Set(ctx, "k", []byte("world"), time.Hour))
	got, _, _ = b.Get(ctx, "k")
	require.Equal(t, "world", string(got), "overwrite")

	require.NoError(t, b.Set(ctx, "empty", nil, time.Hour))
	got, ok, err = b.Get(ctx, "empty")
	require.NoError(t, err)
	require.True(t, ok, "an empty value is a value")
	require.Empty(t, got)

	require.NoError(t, b.Delete(ctx, "k"))
	_, ok, err = b.Get(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, b.Delete(ctx, "k"), "deleting twice is fine")

	bin := []byte{0, 1, 2, 255, '\n'}
	require.NoError(t, b.Set(ctx, "bin", bin, time.Hour))
	got, _, _ = b.Get(ctx, "bin")
	require.Equal(t, bin, got)
}

// testKVExpiry moves the injected clock (memory) and lets a short real TTL
// pass (Redis expires keys on its own clock); it polls, never sleeps.
func testKVExpiry(t *testing.T, b state.Backend, clk *fakeClock) {
	require.NoError(t, b.Set(ctx, "short", []byte("v"), 20*time.Millisecond))
	require.NoError(t, b.Set(ctx, "long", []byte("v"), time.Hour))
	clk.Advance(time.Second)
	require.Eventually(t, func() bool {
		_, ok, err := b.Get(ctx, "short")
		return err == nil && !ok
	}, 5*time.Second, 5*time.Millisecond)
	_, ok, err := b.Get(ctx, "long")
	require.NoError(t, err)
	require.True(t, ok)
}

func testConcurrentReserve(t *testing.T, b state.Backend, _ *fakeClock) {
	const workers, attempts, limit = 64, 20, 500
	windows := []state.Window{
		{Name: "minute", Size: time.Minute, Limit: limit},
		{Name: "hour", Size: time.Hour, Limit: 10 * limit},
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range attempts {
				d, err := b.Reserve(ctx, "hot", windows, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, limit, admitted.Load(), "never more than the limit, and no lost updates")
	require.Equal(t, []int64{limit, limit}, used(t, b, "hot", windows))
}

func testConcurrentReserveAndRefund(t *testing.T, b state.Backend, clk *fakeClock) {
	const workers, attempts, limit = 64, 20, 1000
	windows := []state.Window{{Name: "minute", Size: time.Minute, Limit: limit}}
	at := clk.Now()
	var net atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range attempts {
				cost := int64(1 + (w+i)%5)
				d, err := b.Reserve(ctx, "hot", windows, cost)
				if err != nil {
					t.Error(err)
					return
				}
				if !d.Allowed {
					continue
				}
				net.Add(cost)
				if i%2 == 0 { // the answer was shorter than reserved
					if err := b.Adjust(ctx, "hot", windows, -1, at); err != nil {
						t.Error(err)
						return
					}
					net.Add(-1)
				}
			}
		})
	}
	wg.Wait()
	got := used(t, b, "hot", windows)[0]
	require.Equal(t, net.Load(), got)
	require.LessOrEqual(t, got, int64(limit))
}

func testConcurrentHalfOpen(t *testing.T, b state.Backend, clk *fakeClock) {
	cfg := breakerCfg
	cfg.HalfOpenProbes = 3
	trip(t, b, "k", cfg)
	clk.Advance(cfg.CoolDown)
	var probes atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			p, err := b.Allow(ctx, "k", cfg)
			if err != nil {
				t.Error(err)
				return
			}
			if p.Allowed {
				probes.Add(1)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 3, probes.Load())
}
