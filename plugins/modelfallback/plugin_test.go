package modelfallback_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/plugins/modelfallback"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

func keyring(t *testing.T) *seal.Keyring {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	return kr
}

var config = map[string]any{
	"targets": []any{
		map[string]any{"provider": "openai", "url": "https://api.openai.com", "model": "gpt-4o-mini", "api_key": "sk-1"},
		map[string]any{"name": "backup", "provider": "anthropic", "url": "https://api.anthropic.com", "model": "claude", "api_key": "sk-2", "timeout": 5000},
	},
	"egress": map[string]any{"port": 9999},
}

func TestAccessHandsTheSealedPlanToEgress(t *testing.T) {
	kr := keyring(t)
	h := plugintest.New(t, modelfallback.New(func() (*seal.Keyring, error) { return kr, nil }))
	inst := h.Start(t, config)
	r := plugintest.Request("POST", "/v1/chat/completions", []byte(`{"model":"x","messages":[]}`))
	r.Shared["tollgate.handoff"] = "X-Tollgate-Reservation:sealed-by-the-rate-limiter"
	res := inst.Access(t, r)
	require.Equal(t, "sealed-by-the-rate-limiter", r.Headers.Get("X-Tollgate-Reservation"), "earlier hand-offs go to egress")
	require.False(t, res.Exited())
	require.True(t, r.Upstream.TargetSet)
	require.Equal(t, "127.0.0.1", r.Upstream.Host)
	require.Equal(t, 9999, r.Upstream.Port)
	require.Equal(t, "http", r.Upstream.Scheme)
	require.Equal(t, "/v1/chat/completions", r.Upstream.Path)

	id := r.Headers.Get(egress.HeaderRequestID)
	require.Len(t, id, 32)
	sealed := r.Headers.Get(egress.HeaderPlan)
	require.NotContains(t, sealed, "sk-1", "credentials travel sealed")
	plan, _, err := egress.OpenPlan(kr, id, sealed)
	require.NoError(t, err)
	require.Len(t, plan.Targets, 2)
	require.Equal(t, "openai@api.openai.com/gpt-4o-mini", plan.Targets[0].Name)
	require.Equal(t, "sk-1", plan.Targets[0].APIKey)
	require.Equal(t, 60000, plan.Targets[0].TimeoutMS, "schema default")
	require.Equal(t, 0, plan.Targets[0].Tier)
	require.Equal(t, 1, plan.Targets[1].Tier, "the list order is the tier order")
	require.Equal(t, []string{"429", "5xx", "timeout", "connection"}, plan.RetryOn)
	require.Equal(t, 3, plan.MaxAttempts)
	require.True(t, plan.Breaker.Enabled)
	require.Equal(t, 5, plan.Breaker.FailureThreshold)
	require.Equal(t, "test-route", plan.Route)

	// Each request gets its own id, so a captured plan opens for no other.
	r2 := plugintest.Request("POST", "/v1/chat/completions", []byte(`{}`))
	inst.Access(t, r2)
	require.NotEqual(t, id, r2.Headers.Get(egress.HeaderRequestID))
	_, _, err = egress.OpenPlan(kr, r2.Headers.Get(egress.HeaderRequestID), sealed)
	require.Error(t, err)
}

func TestBadConfigsAreRefused(t *testing.T) {
	def := modelfallback.New(func() (*seal.Keyring, error) { return keyring(t), nil })
	for name, c := range map[string]string{
		"no targets":               `{"targets":[]}`,
		"unknown provider":         `{"targets":[{"provider":"bard","url":"https://x"}]}`,
		"not a url":                `{"targets":[{"provider":"openai","url":"ftp://x"}]}`,
		"azure without deployment": `{"targets":[{"provider":"azure","url":"https://x.openai.azure.com"}]}`,
		"duplicate names":          `{"targets":[{"provider":"openai","url":"https://a","model":"m"},{"provider":"openai","url":"https://a","model":"m"}]}`,
		"bad retry_on":             `{"targets":[{"provider":"openai","url":"https://a"}],"retry_on":["404"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := def.Start([]byte(c))
			require.Error(t, err)
			require.Contains(t, err.Error(), "config")
		})
	}
}

func TestNoKeyringNoInstance(t *testing.T) {
	def := modelfallback.New(func() (*seal.Keyring, error) { return nil, seal.ErrNoSecret })
	_, err := def.Start([]byte(`{"targets":[{"provider":"openai","url":"https://a"}]}`))
	require.ErrorIs(t, err, seal.ErrNoSecret)
}
