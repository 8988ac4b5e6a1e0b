package plugins_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/plugins"
)

// TestOrderFollowsTheDataFlow: authorize, validate, mask, count, cache,
// route to a model — highest priority first; and no plugin declares a
// response handler (Kong would buffer every answer) or a log handler.
func TestOrderFollowsTheDataFlow(t *testing.T) {
	want := []string{"tollgate-prompt-guard", "tollgate-pii-mask", "tollgate-token-rate-limit", "tollgate-model-fallback"}
	defs := plugins.All(plugins.Deps{})
	var names []string
	prev := 1 << 30
	for _, d := range defs {
		m := d.Meta()
		names = append(names, m.Name)
		require.Less(t, m.Priority, prev, "%s is listed out of priority order", m.Name)
		require.Less(t, m.Priority, 800, "below Kong's request-transformer (801)")
		require.Greater(t, m.Priority, 777, "above Kong's ai-* plugins")
		prev = m.Priority
		require.Equal(t, []string{"access"}, d.Phases(), "%s: access only", m.Name)
		_, err := d.Schema()
		require.NoError(t, err, m.Name)
	}
	require.Equal(t, want, names)
}
