// Package plugins lists Tollgate's Kong plugins, in priority order, for the
// tollgate binary to host. Each plugin lives in its own sub-package.
package plugins

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/plugins/modelfallback"
	"github.com/tollgate-ai/tollgate/plugins/piimask"
	"github.com/tollgate-ai/tollgate/plugins/promptguard"
	"github.com/tollgate-ai/tollgate/plugins/tokenratelimit"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

// Deps are what the plugins of one process share with each other and
// with the egress proxy.
type Deps struct {
	// Keyring seals the hand-off to egress; it is resolved when an
	// instance starts, after the process knows its mode.
	Keyring func() (*seal.Keyring, error)
	// Memory is the process's memory state backend, shared by the plugins
	// and, in sidecar mode, the egress.
	Memory func() (state.Counters, error)
	// Metrics, when set, is where plugins register their metrics.
	Metrics prometheus.Registerer
}

// All returns every plugin the tollgate binary hosts.
func All(d Deps) []pluginserver.Definition {
	// The other feature plugins (opa, semantic-cache) register
	// here as they land.
	return []pluginserver.Definition{
		promptguard.New(promptguard.Deps{Metrics: d.Metrics}),
		piimask.New(piimask.Deps{Keyring: d.Keyring, Metrics: d.Metrics}),
		tokenratelimit.New(tokenratelimit.Deps{Keyring: d.Keyring, Memory: d.Memory, Metrics: d.Metrics}),
		modelfallback.New(d.Keyring),
	}
}
