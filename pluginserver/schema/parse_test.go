package schema_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

func plugin(config string, extra ...string) string {
	fields := `{"config":` + config + `}`
	for _, e := range extra {
		fields = e + "," + fields
	}
	return `{"name":"p","fields":[` + fields + `]}`
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, schema, err string
	}{
		{"not json", `{`, "parse plugin schema: unexpected end of JSON input"},
		{"unknown attribute", plugin(`{"type":"record","fields":[{"a":{"type":"string","colour":"red"}}]}`), "config.fields.a.colour: unknown attribute"},
		{"lua function attribute", plugin(`{"type":"record","fields":[{"a":{"type":"string","custom_validator":"f"}}]}`), "custom_validator: needs a Lua function"},
		{"unknown type", plugin(`{"type":"record","fields":[{"a":{"type":"text"}}]}`), "config.a: invalid type: text"},
		{"missing type", plugin(`{"type":"record","fields":[{"a":{"required":true}}]}`), "config.a: missing type declaration"},
		{"short description", plugin(`{"type":"record","fields":[{"a":{"type":"string","description":"short"}}]}`), "config.a.description: length must be between 10 and 500 (is 5)"},
		{"one_of on boolean", plugin(`{"type":"record","fields":[{"a":{"type":"boolean","one_of":[true]}}]}`), "config.a: field of type 'boolean' cannot have attribute 'one_of'"},
		{"between on string", plugin(`{"type":"record","fields":[{"a":{"type":"string","between":[1,2]}}]}`), "config.a: field of type 'string' cannot have attribute 'between'"},
		{"between shape", plugin(`{"type":"record","fields":[{"a":{"type":"integer","between":[1]}}]}`), "between: length must be 2"},
		{"array without elements", plugin(`{"type":"record","fields":[{"a":{"type":"array"}}]}`), "config.a: field of type 'array' must declare 'elements'"},
		{"map without values", plugin(`{"type":"record","fields":[{"a":{"type":"map","keys":{"type":"string"}}}]}`), "must declare 'keys' and 'values'"},
		{"bad default", plugin(`{"type":"record","fields":[{"a":{"type":"integer","default":"x"}}]}`), "config.a.default: invalid default: expected an integer"},
		{"top-level field", plugin(`{"type":"record","fields":[]}`, `{"limit":{"type":"integer"}}`), "limit: cannot create a new field"},
		{"consumer_group is Enterprise", plugin(`{"type":"record","fields":[]}`, `{"consumer_group":{"type":"foreign","reference":"consumer_groups","eq":null}}`), "consumer_group: cannot create a new field"},
		{"changed type", plugin(`{"type":"record","fields":[]}`, `{"enabled":{"type":"string"}}`), "enabled: cannot change type in a specialized field"},
		{"missing config", `{"name":"p","fields":[]}`, "config: required field missing"},
		{"missing name", `{"fields":[{"config":{"type":"record","fields":[]}}]}`, "name: required field missing"},
		{"two keys", `{"name":"p","fields":[{"config":{"type":"record","fields":[]},"x":{}}]}`, "exactly one key"},
		{"unknown top-level", `{"name":"p","fields":[],"version":1}`, "version: unknown field"},
		{"bad lua pattern", plugin(`{"type":"record","fields":[{"a":{"type":"string","match":"%"}}]}`), "config.a.match: invalid Lua pattern"},
		{"unknown entity check", plugin(`{"type":"record","fields":[],"entity_checks":[{"one_of_these":["a"]}]}`), "config.entity_checks[0]: one_of_these: unknown entity check"},
		{"custom entity check", plugin(`{"type":"record","fields":[],"entity_checks":[{"custom_entity_check":{}}]}`), "needs a Lua function"},
		{"conditional without then", plugin(`{"type":"record","fields":[],"entity_checks":[{"conditional":{"if_field":"a","if_match":{}}}]}`), "conditional.then_field: required field missing"},
		{"wrong attribute value type", plugin(`{"type":"record","fields":[{"a":{"type":"string","len_max":"9"}}]}`), "len_max: expected an integer"},
		{"unique_across_ws needs unique", plugin(`{"type":"record","fields":[{"a":{"type":"string","unique_across_ws":true}}]}`), "config.a.unique: required field missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.Parse([]byte(tt.schema))
			require.Error(t, err)
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestParseKongShapes(t *testing.T) {
	// What a Lua plugin's schema.lua would declare, as JSON.
	raw := `{"name":"p","fields":[
		{"consumer":{"type":"foreign","reference":"consumers","eq":null}},
		{"protocols":{"type":"set","required":true,"default":["http","https"],"elements":{"type":"string","one_of":["http","https"]}}},
		{"config":{"type":"record","fields":[
			{"policy":{"type":"string","default":"local","one_of":["local","redis"]}},
			{"redis":{"type":"record","fields":[{"host":{"type":"string"}},{"port":{"type":"integer","default":6379,"between":[0,65535]}}]}},
			{"header":{"type":"string","required":false,"len_min":0}}
		],"entity_checks":[{"conditional":{"if_field":"policy","if_match":{"eq":"redis"},"then_field":"redis.host","then_match":{"required":true}}}]}}]}`
	p, err := schema.Parse([]byte(raw))
	require.NoError(t, err)
	require.Equal(t, schema.Null, p.Field("consumer").Eq)
	require.False(t, *p.Config().Field("header").Required)

	got, err := p.NormalizeEntity(map[string]any{"config": map[string]any{"header": ""}})
	require.NoError(t, err)
	require.Equal(t, []any{"http", "https"}, got["protocols"])
	require.Equal(t, map[string]any{"policy": "local", "redis": map[string]any{"port": 6379.0}, "header": ""}, got["config"])

	_, err = p.NormalizeConfig(map[string]any{"policy": "redis"})
	require.EqualError(t, err, "config.redis.host: required field missing\nconfig: failed conditional validation given value of field 'policy'")

	again, err := json.Marshal(p)
	require.NoError(t, err)
	require.JSONEq(t, raw, string(again))
}

func FuzzParse(f *testing.F) {
	p := sampleSchema(f)
	raw, err := json.Marshal(p)
	require.NoError(f, err)
	f.Add(raw)
	f.Add([]byte(plugin(`{"type":"record","fields":[{"a":{"type":"string","match":"^%d+$","default":"1"}}]}`)))
	f.Add([]byte(plugin(`{"type":"record","fields":[{"m":{"type":"map","keys":{"type":"string"},"values":{"type":"array","elements":{"type":"integer"}}}}],"entity_checks":[{"at_least_one_of":["m"]}]}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := schema.Parse(data)
		if err != nil {
			return
		}
		// An accepted schema survives a round trip and can validate.
		out, err := json.Marshal(p)
		require.NoError(t, err)
		back, err := schema.Parse(out)
		require.NoError(t, err, "%s", out)
		require.Equal(t, p, back)
		_, _ = p.NormalizeConfig(map[string]any{})
		_, _ = p.NormalizeEntity(map[string]any{"config": map[string]any{"a": "1", "m": map[string]any{"k": []any{1.0}}}})
		_ = schema.Markdown(p)
	})
}
