package tokenratelimit_test

import (
	"testing"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/plugins/tokenratelimit"
	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

func TestDecisionsAreCounted(t *testing.T) {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	mem := state.NewMemory()
	reg := prometheus.NewRegistry()
	def := tokenratelimit.New(tokenratelimit.Deps{
		Keyring: func() (*seal.Keyring, error) { return kr, nil },
		Memory:  func() (state.Counters, error) { return mem, nil },
		Metrics: reg,
	})
	h := plugintest.New(t, def)
	inst := h.Start(t, map[string]any{"route_id": "r1", "windows": []any{map[string]any{"size": 60, "limit": 300}}})
	shadow := h.Start(t, map[string]any{"route_id": "r2", "shadow": true, "limit_by": "ip", "windows": []any{map[string]any{"size": 60, "limit": 300}}})
	for range 3 {
		inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(10, 200)))
		shadow.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(10, 200)))
	}
	inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(10, 5000)))
	want := map[string]float64{"allowed": 2, "limited": 2, "shadow": 2, "too_large": 1}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		require.Equal(t, "tollgate_token_rate_limit_decisions_total", mf.GetName())
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	require.Equal(t, want, got)
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestCountersAreScopedLikeKongs: instances on different routes count
// apart, as Kong's rate-limiting keys its counters by route and service;
// consumer_group shares one count among a group's consumers.
func TestCountersAreScopedLikeKongs(t *testing.T) {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	mem := state.NewMemory()
	h := plugintest.New(t, tokenratelimit.New(tokenratelimit.Deps{
		Keyring: func() (*seal.Keyring, error) { return kr, nil },
		Memory:  func() (state.Counters, error) { return mem, nil },
	}))
	windows := []any{map[string]any{"size": 60, "limit": 300}}
	as := func(consumer string) *konghost.Request {
		r := plugintest.Request("POST", "/v1/chat/completions", body(10, 200))
		r.Consumer = &pb.Consumer{Id: consumer, Username: consumer}
		return r
	}
	r1 := h.Start(t, map[string]any{"route_id": "r1", "windows": windows})
	r1again := h.Start(t, map[string]any{"route_id": "r1", "windows": windows, "error_message": "other instance, same route"})
	r2 := h.Start(t, map[string]any{"route_id": "r2", "windows": windows})
	require.False(t, r1.Access(t, as("alice")).Exited())
	require.True(t, r1again.Access(t, as("alice")).Exited(), "same route: one count")
	require.False(t, r2.Access(t, as("alice")).Exited(), "another route counts apart")

	group := h.Start(t, map[string]any{"route_id": "r3", "consumer_group_id": "gold", "limit_by": "consumer_group", "windows": windows})
	require.False(t, group.Access(t, as("alice")).Exited())
	require.True(t, group.Access(t, as("bob")).Exited(), "bob shares alice's group count")
	ungrouped := h.Start(t, map[string]any{"route_id": "r4", "limit_by": "consumer_group", "windows": windows})
	require.False(t, ungrouped.Access(t, as("alice")).Exited())
	require.False(t, ungrouped.Access(t, as("bob")).Exited(), "without a group scope each consumer counts alone")
}
