package spec

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/tollgate-ai/tollgate"

// TestLayering enforces the dependency direction of CONVENTIONS.md:
// cmd → plugins, pluginserver, internal; plugins → pluginserver, internal;
// internal never imports plugins, pluginserver or spec; non-test code never
// imports spec/, test-helper packages or the provider fakes.
func TestLayering(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var checked int
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		}
		require.NoError(t, err)
		checked++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		underSpec := strings.HasPrefix(rel, "spec")
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if strings.HasPrefix(rel, "internal") {
				for _, banned := range []string{"plugins", "pluginserver", "spec", "cmd"} {
					require.False(t, dep == banned || strings.HasPrefix(dep, banned+"/"), "%s imports %s", rel, dep)
				}
			}
			if underSpec {
				continue
			}
			testOnly := strings.HasPrefix(dep, "spec") || strings.HasSuffix(dep, "test") ||
				strings.HasPrefix(dep, "internal/fakellm") || strings.HasPrefix(dep, "internal/redistest")
			require.False(t, testOnly, "non-test package %s imports test-only %s", rel, dep)
		}
	}
	require.Greater(t, checked, 5)
}
