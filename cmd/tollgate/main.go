// Command tollgate hosts Tollgate's Kong plugins (one per process, or all in
// one sidecar process next to the egress proxy) and prints what Kong's
// pluginserver query_cmd expects.
package main

import (
	"errors"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/plugins"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

func main() {
	k := &keys{}
	// One memory backend per process: the plugins' memory policies and the
	// egress that settles their reservations share it in sidecar mode.
	mem := state.NewMemory()
	// One metrics registry too: the plugins' series and egress's are served
	// together on the sidecar's admin /metrics.
	reg := prometheus.NewRegistry()
	eg := &egressCmd{keys: k, memory: mem, reg: reg}
	p := &pluginserver.Program{
		Name:       "tollgate",
		Plugins:    plugins.All(plugins.Deps{Keyring: k.get, Memory: func() (state.Counters, error) { return mem, nil }, Metrics: reg}),
		Prepare:    k.prepare,
		ServeFlags: eg.flags,
		Sidecar:    eg.run,
		Commands: map[string]pluginserver.Command{
			"egress": {Usage: "[--listen ADDR] [--admin-listen ADDR]     the egress proxy alone (TOLLGATE_SECRET required)", Run: eg.main},
			"pii":    {Usage: "scan [--types T,…] [--region R] < text         PII findings as JSON spans", Run: piiCmd{os.Stdin, os.Stdout, os.Stderr}.main},
			"tokens": {Usage: "[--model M] [--text] < body.json          count prompt tokens, print JSON", Run: tokensCmd{os.Stdin, os.Stdout, os.Stderr}.main},
		},
	}
	p.Main()
}

// keys is the process's sealing keyring, chosen once the mode is known:
// from TOLLGATE_SECRET, or random when plugins and egress share the process.
type keys struct {
	mu sync.Mutex
	kr *seal.Keyring
}

func (k *keys) prepare(sidecar bool) error {
	kr, err := seal.KeyringFromEnv(os.LookupEnv, sidecar)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.kr = kr
	k.mu.Unlock()
	return nil
}

func (k *keys) get() (*seal.Keyring, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kr == nil {
		return nil, errors.New("no sealing key: set " + seal.EnvSecret)
	}
	return k.kr, nil
}
