package tokenratelimit_test

import (
	"flag"
	"testing"

	"github.com/tollgate-ai/tollgate/plugins/tokenratelimit"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table")

// TestREADMEConfigTableIsCurrent keeps the README's table equal to the
// schema Kong gets from the dump.
func TestREADMEConfigTableIsCurrent(t *testing.T) {
	plugintest.CheckREADME(t, tokenratelimit.New(tokenratelimit.Deps{}), "README.md", *update)
}
