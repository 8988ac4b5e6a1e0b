package state_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-ai/tollgate/internal/state"
)

// A token rate limit with two windows on the memory backend: reserve the
// expected tokens before calling the model, then refund what the answer
// did not use.
func ExampleNewMemory() {
	clock := time.Date(2030, 1, 1, 12, 0, 30, 0, time.UTC)
	b := state.NewMemory(state.WithClock(func() time.Time { return clock }))
	defer b.Close()
	ctx := context.Background()
	windows := []state.Window{
		{Name: "minute", Size: time.Minute, Limit: 1000},
		{Name: "hour", Size: time.Hour, Limit: 5000},
	}

	at := clock
	d, _ := b.Reserve(ctx, "consumer-42", windows, 800) // prompt + max_tokens
	fmt.Println("allowed:", d.Allowed)
	for _, w := range d.Windows() {
		fmt.Printf("  %s: %d remaining, resets %s\n", w.Name, w.Remaining, w.Reset.UTC().Format(time.TimeOnly))
	}

	d, _ = b.Reserve(ctx, "consumer-42", windows, 300)
	fmt.Println("allowed:", d.Allowed, "retry after:", d.RetryAfter, "blocked by:", d.Windows()[d.Blocking].Name)

	// The answer used 500 of the 800 tokens reserved: refund 300.
	_ = b.Adjust(ctx, "consumer-42", windows, -300, at)
	d, _ = b.Reserve(ctx, "consumer-42", windows, 300)
	fmt.Println("allowed:", d.Allowed)

	// Output:
	// allowed: true
	//   minute: 200 remaining, resets 12:01:00
	//   hour: 4200 remaining, resets 13:00:00
	// allowed: false retry after: 30s blocked by: minute
	// allowed: true
}

// A circuit breaker shared by the plugins and the egress of one node.
func ExampleBreakers() {
	clock := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	var b state.Breakers = state.NewMemory(state.WithClock(func() time.Time { return clock }))
	ctx := context.Background()
	cfg := state.BreakerConfig{FailureThreshold: 2, CoolDown: 30 * time.Second, HalfOpenProbes: 1}

	b.Record(ctx, "openai/gpt-4o", cfg, false)
	st, _ := b.Record(ctx, "openai/gpt-4o", cfg, false)
	fmt.Println("after two failures:", st)

	p, _ := b.Allow(ctx, "openai/gpt-4o", cfg)
	fmt.Println("allowed:", p.Allowed, "retry at:", p.RetryAt.UTC().Format(time.TimeOnly))

	clock = clock.Add(30 * time.Second)
	p, _ = b.Allow(ctx, "openai/gpt-4o", cfg)
	fmt.Println("allowed:", p.Allowed, "probe:", p.Probe)
	st, _ = b.Record(ctx, "openai/gpt-4o", cfg, true)
	fmt.Println("after the probe:", st)

	// Output:
	// after two failures: open
	// allowed: false retry at: 12:00:30
	// allowed: true probe: true
	// after the probe: closed
}
