package promptguard_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/plugins/promptguard"
	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table")

const begin, end = "<!-- config:begin (generated from the schema: go test -update) -->\n", "<!-- config:end -->"

// TestREADMEConfigTableIsCurrent keeps the README's table equal to the
// schema Kong gets from the dump.
func TestREADMEConfigTableIsCurrent(t *testing.T) {
	sch, err := promptguard.Definition.Schema()
	require.NoError(t, err)
	table := schema.Markdown(sch)
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	doc := string(raw)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	require.True(t, i >= 0 && j > i, "README.md lacks the config markers")
	want := doc[:i+len(begin)] + table + doc[j:]
	if *update {
		require.NoError(t, os.WriteFile("README.md", []byte(want), 0o644))
		return
	}
	require.True(t, want == doc, "README.md is stale: go test ./plugins/promptguard -update")
}
