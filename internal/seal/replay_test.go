package seal_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/seal"
)

func newGuard(c *clock, capacity int) *seal.ReplayGuard {
	g := seal.NewReplayGuard(capacity)
	g.Now = c.Now
	return g
}

func TestReplayGuard(t *testing.T) {
	type step struct {
		advance time.Duration
		id      string
		ttl     time.Duration
		want    error
	}
	tests := []struct {
		name     string
		capacity int
		steps    []step
	}{
		{name: "second use rejected", steps: []step{
			{id: "a", ttl: time.Minute},
			{id: "a", ttl: time.Minute, want: seal.ErrReplay},
			{advance: 59 * time.Second, id: "a", ttl: time.Minute, want: seal.ErrReplay},
			{id: "b", ttl: time.Minute},
		}},
		{name: "expiry frees the id", steps: []step{
			{id: "a", ttl: time.Minute},
			{advance: time.Minute, id: "a", ttl: time.Minute},
			{id: "a", ttl: time.Minute, want: seal.ErrReplay},
		}},
		{name: "bounded: full fails closed, expiry frees room", capacity: 2, steps: []step{
			{id: "a", ttl: 10 * time.Second},
			{id: "b", ttl: time.Minute},
			{id: "c", ttl: time.Minute, want: seal.ErrGuardFull},
			{id: "a", ttl: time.Minute, want: seal.ErrReplay},
			{advance: 10 * time.Second, id: "c", ttl: time.Minute},
			{id: "a", ttl: time.Minute, want: seal.ErrGuardFull},
		}},
		{name: "already expired", steps: []step{
			{id: "a", ttl: 0, want: seal.ErrExpired},
			{id: "a", ttl: -time.Second, want: seal.ErrExpired},
			{id: "a", ttl: time.Second},
		}},
		{name: "empty id", steps: []step{
			{id: "", ttl: time.Second, want: seal.ErrMalformed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			g := newGuard(c, tt.capacity)
			for i, s := range tt.steps {
				c.Advance(s.advance)
				err := g.Check(s.id, c.Now().Add(s.ttl))
				if s.want == nil {
					require.NoError(t, err, "step %d", i)
				} else {
					require.ErrorIs(t, err, s.want, "step %d", i)
				}
			}
		})
	}
}

func TestReplayGuardEvictsExpired(t *testing.T) {
	c := newClock()
	g := newGuard(c, 0)
	for i := range 1000 {
		require.NoError(t, g.Check(fmt.Sprintf("req-%d", i), c.Now().Add(time.Duration(i+1)*time.Millisecond)))
	}
	require.Equal(t, 1000, g.Len())
	c.Advance(500 * time.Millisecond)
	require.NoError(t, g.Check("later", c.Now().Add(time.Minute)))
	require.Equal(t, 501, g.Len(), "500 expired ids dropped, 500 left plus the new one")
}

func TestReplayGuardConcurrent(t *testing.T) {
	g := seal.NewReplayGuard(0)
	exp := time.Now().Add(time.Minute)
	const workers, ids = 8, 500
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			// Every worker presents every id: each must be accepted exactly once.
			for i := range ids {
				err := g.Check(fmt.Sprintf("req-%d", i), exp)
				if err == nil {
					accepted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(ids), accepted.Load())
	require.Equal(t, ids, g.Len())
}

// TestEgressFlow shows how egress composes binding and the guard.
func TestEgressFlow(t *testing.T) {
	c := newClock()
	kr := newKeyring(t, c, mustKey(t, testSecret))
	var guard seal.ReplayChecker = newGuard(c, 0)

	v, err := kr.Seal(purpose, "req-A", []byte("map"), 30*time.Second)
	require.NoError(t, err)

	accept := func(requestID, value string) error {
		env, err := kr.OpenEnvelope(purpose, requestID, value)
		if err != nil {
			return err
		}
		return guard.Check(requestID, env.ExpiresAt)
	}
	require.NoError(t, accept("req-A", v))
	require.ErrorIs(t, accept("req-A", v), seal.ErrReplay, "same request replayed")
	require.ErrorIs(t, accept("req-B", v), seal.ErrAuth, "value moved to another request")
	c.Advance(30 * time.Second)
	require.ErrorIs(t, accept("req-A", v), seal.ErrExpired)
}
