package promptguard_test

import (
	"flag"
	"testing"

	"github.com/tollgate-ai/tollgate/plugins/promptguard"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table")

// TestREADMEConfigTableIsCurrent keeps the README's table equal to the
// schema Kong gets from the dump.
func TestREADMEConfigTableIsCurrent(t *testing.T) {
	plugintest.CheckREADME(t, promptguard.Definition, "README.md", *update)
}
