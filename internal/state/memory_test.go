package state_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/state"
)

func TestMemoryConformance(t *testing.T) {
	runConformance(t, func(t *testing.T, now func() time.Time) state.Backend {
		m := state.NewMemory(state.WithClock(now))
		t.Cleanup(func() { require.NoError(t, m.Close()) })
		return m
	})
}

func TestMemoryClosed(t *testing.T) {
	m := state.NewMemory()
	require.NoError(t, m.Close())
	require.Error(t, m.Ping(ctx))
	_, err := m.Reserve(ctx, "s", three, 1)
	require.Error(t, err)
	require.Error(t, m.Set(ctx, "k", nil, time.Second))
}

func TestMemoryKVIsBounded(t *testing.T) {
	clk := newClock()
	m := state.NewMemory(state.WithClock(clk.Now), state.WithMaxKVEntries(640))
	for i := range 10_000 {
		require.NoError(t, m.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour))
	}
	var kept int
	for i := range 10_000 {
		if _, ok, _ := m.Get(ctx, fmt.Sprint("k", i)); ok {
			kept++
		}
	}
	require.LessOrEqual(t, kept, 640)
	require.Greater(t, kept, 0)
	_, ok, _ := m.Get(ctx, "k9999")
	require.True(t, ok, "the newest entry is kept")
}

func TestBreakerStatusJSON(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	raw, err := json.Marshal(map[string]state.BreakerStatus{
		"a": {State: state.BreakerOpen, Failures: 3, OpenedAt: at, RetryAt: at.Add(time.Minute)},
		"b": {State: state.BreakerClosed},
	})
	require.NoError(t, err)
	require.JSONEq(t, `{
		"a": {"state": "open", "failures": 3, "opened_at": "2030-01-01T00:00:00Z", "retry_at": "2030-01-01T00:01:00Z"},
		"b": {"state": "closed", "failures": 0}
	}`, string(raw))
}
