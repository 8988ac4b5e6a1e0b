package state

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMemorySweeps checks that memory stays bounded by live state: counters
// of ended windows, expired KV entries and idle breakers are dropped.
func TestMemorySweeps(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemory(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	windows := []Window{{Name: "minute", Size: time.Minute, Limit: 10}, {Name: "hour", Size: time.Hour, Limit: 10}}
	cb := BreakerConfig{FailureThreshold: 1, CoolDown: time.Second, HalfOpenProbes: 1}
	for i := range 1000 {
		key := fmt.Sprint("s", i)
		_, err := m.Reserve(ctx, key, windows, 1)
		require.NoError(t, err)
		require.NoError(t, m.Set(ctx, key, []byte("v"), time.Minute))
		_, err = m.Record(ctx, key, cb, false)
		require.NoError(t, err)
	}
	require.Equal(t, 1000, m.counterEntries())
	require.Equal(t, 1000, m.kvEntries())
	require.Len(t, m.breakers.m, 1000)

	// An hour and a sweep interval later, touching each shard sweeps it.
	now = now.Add(time.Hour + sweepEvery)
	for i := range 1000 {
		key := fmt.Sprint("t", i)
		_, err := m.Reserve(ctx, key, windows, 0)
		require.NoError(t, err)
		require.NoError(t, m.Set(ctx, key, []byte("v"), time.Second))
	}
	_, err := m.Allow(ctx, "x", cb)
	require.NoError(t, err)
	require.Equal(t, 1000, m.counterEntries(), "only the new subjects")
	require.Equal(t, 1000, m.kvEntries())
	require.Empty(t, m.breakers.m)

	// A success forgets a breaker at once: closed with no failures is the
	// default.
	_, err = m.Record(ctx, "y", cb, true)
	require.NoError(t, err)
	require.Empty(t, m.breakers.m)
}

// TestMemoryDropsEndedSlots: a subject whose window set changes keeps
// only the live windows.
func TestMemoryDropsEndedSlots(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemory(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for i := range 100 {
		w := []Window{{Name: fmt.Sprint("w", i), Size: time.Second, Limit: 10}}
		_, err := m.Reserve(ctx, "s", w, 1)
		require.NoError(t, err)
		now = now.Add(time.Second)
	}
	set := m.counters[m.shard("s")].m["s"]
	require.LessOrEqual(t, len(set.slots), 2)
}

func (m *Memory) counterEntries() int {
	n := 0
	for i := range m.counters {
		n += len(m.counters[i].m)
	}
	return n
}

func (m *Memory) kvEntries() int {
	n := 0
	for i := range m.kv {
		n += len(m.kv[i].m)
	}
	return n
}

func TestBreakerStateText(t *testing.T) {
	for st, want := range map[BreakerState]string{
		BreakerClosed: "closed", BreakerOpen: "open", BreakerHalfOpen: "half_open", 7: "BreakerState(7)",
	} {
		require.Equal(t, want, st.String())
		txt, err := st.MarshalText()
		require.NoError(t, err)
		require.Equal(t, want, string(txt))
	}
}
