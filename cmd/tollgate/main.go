// Command tollgate hosts Tollgate's Kong plugins (one per process, or all in
// one sidecar process) and prints what Kong's pluginserver query_cmd expects.
package main

import (
	"github.com/tollgate-ai/tollgate/plugins"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

func main() {
	p := &pluginserver.Program{Name: "tollgate", Plugins: plugins.All()}
	p.Main()
}
