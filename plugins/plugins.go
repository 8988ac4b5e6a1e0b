// Package plugins lists Tollgate's Kong plugins, in priority order, for the
// tollgate binary to host. Each plugin lives in its own sub-package.
package plugins

import "github.com/tollgate-ai/tollgate/pluginserver"

// All returns every plugin the tollgate binary hosts.
func All() []pluginserver.Definition {
	// The feature plugins (opa, prompt-guard, pii-mask, token-rate-limit,
	// semantic-cache, model-fallback) register here as they land (issues 3–6+).
	return []pluginserver.Definition{}
}
