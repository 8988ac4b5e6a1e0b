package proxy

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

// envRef is a reference to Kong's env vault: {vault://env/<name>}.
var envRef = regexp.MustCompile(`^\{vault://env/([A-Za-z0-9_-]+)\}$`)

// resolveRefs replaces vault references in the referenceable fields of a
// normalised config, as Kong does before it sends the config to a plugin.
// Only the env vault is emulated: {vault://env/openai-api-key} reads
// OPENAI_API_KEY. An unresolvable reference fails the load.
func resolveRefs(f *schema.Field, v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for _, nf := range f.Fields {
			if e, ok := x[nf.Name]; ok {
				r, err := resolveRefs(nf.Field, e, path+"."+nf.Name)
				if err != nil {
					return nil, err
				}
				x[nf.Name] = r
			}
		}
		if f.Values != nil {
			for k, e := range x {
				r, err := resolveRefs(f.Values, e, path+"."+k)
				if err != nil {
					return nil, err
				}
				x[k] = r
			}
		}
	case []any:
		if f.Elements != nil {
			for i, e := range x {
				r, err := resolveRefs(f.Elements, e, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				x[i] = r
			}
		}
	case string:
		m := envRef.FindStringSubmatch(x)
		if m == nil || !f.Referenceable {
			return v, nil
		}
		name := strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))
		val, ok := os.LookupEnv(name)
		if !ok {
			return nil, fmt.Errorf("%s: vault reference %s: environment variable %s is not set", path, x, name)
		}
		return val, nil
	}
	return v, nil
}
