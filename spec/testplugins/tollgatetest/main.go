// Command tollgatetest is a test-only plugin server built on Tollgate's
// runtime, hosting the plugins of package testplugin (tollgate-test and
// tollgate-noop) with the same command line as the tollgate binary.
package main

import (
	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/spec/testplugins/testplugin"
)

func main() {
	p := &pluginserver.Program{Name: "tollgatetest", Plugins: testplugin.All()}
	p.Main()
}
