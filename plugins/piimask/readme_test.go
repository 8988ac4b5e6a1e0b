package piimask_test

import (
	"flag"
	"testing"

	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/plugins/piimask"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table")

// TestREADMEConfigTableIsCurrent keeps the README's table equal to the
// schema Kong gets from the dump.
func TestREADMEConfigTableIsCurrent(t *testing.T) {
	def := piimask.New(piimask.Deps{Keyring: func() (*seal.Keyring, error) { return nil, nil }})
	plugintest.CheckREADME(t, def, "README.md", *update)
}
