package plugintest

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

// Markers around the generated configuration table of a plugin README.
const (
	ConfigBegin = "<!-- config:begin (generated from the schema: go test -update) -->\n"
	ConfigEnd   = "<!-- config:end -->"
)

// CheckREADME fails when the configuration table between the markers of
// the README at path differs from the one d's schema renders; with update
// set it rewrites the table instead. The README and the dump Kong reads
// can then never disagree.
func CheckREADME(t testing.TB, d pluginserver.Definition, path string, update bool) {
	t.Helper()
	sch, err := d.Schema()
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(raw)
	i, j := strings.Index(doc, ConfigBegin), strings.Index(doc, ConfigEnd)
	require.True(t, i >= 0 && j > i, "%s lacks the config markers", path)
	want := doc[:i+len(ConfigBegin)] + schema.Markdown(sch) + doc[j:]
	if update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		return
	}
	require.True(t, want == doc, "%s is stale: go test -run README -update", path)
}
