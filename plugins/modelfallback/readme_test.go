package modelfallback_test

import (
	"flag"
	"testing"

	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/plugins/modelfallback"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table")

// TestREADMEConfigTableIsCurrent keeps the README's table equal to the
// schema Kong gets from the dump.
func TestREADMEConfigTableIsCurrent(t *testing.T) {
	plugintest.CheckREADME(t, modelfallback.New(func() (*seal.Keyring, error) { return nil, nil }), "README.md", *update)
}
