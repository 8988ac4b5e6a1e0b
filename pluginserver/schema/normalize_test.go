package schema_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

func field(t testing.TB, def string) *schema.Field {
	t.Helper()
	var f schema.Field
	require.NoError(t, json.Unmarshal([]byte(def), &f))
	return &f
}

func decode(t testing.TB, s string) any {
	t.Helper()
	if s == "" {
		return nil
	}
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

func TestNormalizeValidators(t *testing.T) {
	tests := []struct {
		name  string
		field string
		in    string // JSON; "" is absent
		want  string // JSON of the normalised value, when no error
		err   string
	}{
		// presence and defaults
		{"absent optional", `{"type":"string"}`, "", "null", ""},
		{"absent default", `{"type":"integer","default":5}`, "", "5", ""},
		{"absent required", `{"type":"string","required":true}`, "", "", "x: required field missing"},
		{"null gets default", `{"type":"string","default":"a"}`, "null", `"a"`, ""},
		{"record materialised", `{"type":"record","fields":[{"a":{"type":"integer","default":1}}]}`, "", `{"a":1}`, ""},
		{"optional record absent", `{"type":"record","required":false,"fields":[{"a":{"type":"integer","default":1}}]}`, "", "null", ""},
		{"record default merged", `{"type":"record","default":{"a":2},"fields":[{"a":{"type":"integer"}},{"b":{"type":"string","default":"z"}}]}`, "", `{"a":2,"b":"z"}`, ""},
		// types
		{"string type", `{"type":"string"}`, "1", "", "x: expected a string"},
		{"empty string", `{"type":"string"}`, `""`, "", "x: length must be at least 1"},
		{"empty string allowed", `{"type":"string","len_min":0}`, `""`, `""`, ""},
		{"integer whole", `{"type":"integer"}`, "1.5", "", "x: expected an integer"},
		{"integer ok", `{"type":"integer"}`, "3", "3", ""},
		{"integer type", `{"type":"integer"}`, `"3"`, "", "x: expected an integer"},
		{"number", `{"type":"number"}`, "true", "", "x: expected a number"},
		{"boolean", `{"type":"boolean"}`, `"yes"`, "", "x: expected a boolean"},
		{"array", `{"type":"array","elements":{"type":"string"}}`, `"a"`, "", "x: expected an array"},
		{"set", `{"type":"set","elements":{"type":"string"}}`, `{"a":1}`, "", "x: expected a set"},
		{"empty object is an empty array", `{"type":"array","elements":{"type":"string"}}`, `{}`, "[]", ""},
		{"map", `{"type":"map","keys":{"type":"string"},"values":{"type":"integer"}}`, `[1]`, "", "x: expected a map"},
		{"record", `{"type":"record","fields":[]}`, `"a"`, "", "x: expected a record"},
		{"array elements", `{"type":"array","elements":{"type":"integer","between":[1,5]}}`, `[1,9,"a"]`, "",
			"x[1]: value should be between 1 and 5\nx[2]: expected an integer"},
		{"null element", `{"type":"array","elements":{"type":"string"}}`, `["a",null]`, "", "x[1]: required field missing"},
		{"set dedupes", `{"type":"set","elements":{"type":"string"}}`, `["a","b","a"]`, `["a","b"]`, ""},
		{"map keys and values", `{"type":"map","keys":{"type":"string","len_max":2},"values":{"type":"integer"}}`, `{"abc":1,"b":"x","c":2}`, "",
			"x.abc: length must be at most 2\nx.b: expected an integer"},
		{"unknown field", `{"type":"record","fields":[{"a":{"type":"string"}}]}`, `{"b":1,"a":"x"}`, "", "x.b: unknown field"},
		{"foreign forbidden", `{"type":"foreign","reference":"consumers","eq":null}`, `{"id":"x"}`, "", "x: value must be null"},
		{"json any", `{"type":"json","json_schema":{"inline":{}}}`, `{"a":[1]}`, `{"a":[1]}`, ""},
		// validators
		{"between", `{"type":"integer","between":[1,10]}`, "11", "", "x: value should be between 1 and 10"},
		{"between ok", `{"type":"number","between":[0,1]}`, "0.5", "0.5", ""},
		{"gt", `{"type":"number","gt":0}`, "0", "", "x: value must be greater than 0"},
		{"eq", `{"type":"string","eq":"a"}`, `"b"`, "", "x: value must be a"},
		{"ne", `{"type":"integer","ne":200}`, "200", "", "x: value must not be 200"},
		{"one_of", `{"type":"string","one_of":["block","log"]}`, `"x"`, "", "x: expected one of: block, log"},
		{"one_of numbers", `{"type":"integer","one_of":[1,60]}`, "2", "", "x: expected one of: 1, 60"},
		{"not_one_of", `{"type":"string","not_one_of":["a","b"]}`, `"a"`, "", "x: must not be one of: a, b"},
		{"len_eq", `{"type":"string","len_eq":2}`, `"abc"`, "", "x: length must be 2"},
		{"len_min array", `{"type":"array","elements":{"type":"string"},"len_min":1}`, `[]`, "", "x: length must be at least 1"},
		{"len_max map", `{"type":"map","keys":{"type":"string"},"values":{"type":"string"},"len_max":1}`, `{"a":"1","b":"2"}`, "", "x: length must be at most 1"},
		{"len counts bytes", `{"type":"string","len_max":2}`, `"é"`, `"é"`, ""},
		{"match", `{"type":"string","match":"^%d+$"}`, `"12a"`, "", "x: invalid value: 12a"},
		{"match ok", `{"type":"string","match":"^[%w%.%-_:/]+$"}`, `"gpt-4o:mini/2024"`, `"gpt-4o:mini/2024"`, ""},
		{"not_match", `{"type":"string","not_match":"%s"}`, `"a b"`, "", "x: invalid value: a b"},
		{"match_all", `{"type":"string","match_all":[{"pattern":"^a"},{"pattern":"b$","err":"must end with b"}]}`, `"ac"`, "", "x: must end with b"},
		{"match_none", `{"type":"string","match_none":[{"pattern":"%.%.","err":"no dot dot"}]}`, `"a..b"`, "", "x: no dot dot"},
		{"match_any", `{"type":"string","match_any":{"patterns":["^a","^b"],"err":"a or b first"}}`, `"c"`, "", "x: a or b first"},
		{"match_any ok", `{"type":"string","match_any":{"patterns":["^a","^b"]}}`, `"bc"`, `"bc"`, ""},
		{"starts_with", `{"type":"string","starts_with":"tg_"}`, `"x"`, "", "x: should start with: tg_"},
		{"contains", `{"type":"array","elements":{"type":"string"},"contains":"user"}`, `["a"]`, "", "x: expected to contain: user"},
		{"is_regex", `{"type":"string","is_regex":true}`, `"a("`, "", "x: not a valid regex: a("},
		{"uuid", `{"type":"string","uuid":true}`, `"nope"`, "", "x: expected a valid UUID"},
		{"uuid ok", `{"type":"string","uuid":true}`, `"1B4E28BA-2FA1-11D2-883F-0016D3CCA427"`, `"1B4E28BA-2FA1-11D2-883F-0016D3CCA427"`, ""},
		{"timestamp", `{"type":"integer","timestamp":true}`, "0", "", "x: expected a valid timestamp"},
		{"mutually_exclusive_subsets", `{"type":"set","elements":{"type":"string"},"mutually_exclusive_subsets":[["a"],["b","c"]]}`, `["a","c"]`, "",
			"x: these sets are mutually exclusive: ('a'), ('b', 'c')"},
		{"err overrides", `{"type":"integer","between":[1,2],"err":"pick 1 or 2"}`, "3", "", "x: pick 1 or 2"},
		{"first failing validator only", `{"type":"string","one_of":["aaaa"],"len_max":2}`, `"bbb"`, "", "x: expected one of: aaaa"},
		{"vault reference skips validators", `{"type":"string","referenceable":true,"match":"^sk%-"}`, `"{vault://env/key}"`, `"{vault://env/key}"`, ""},
		{"reference needs referenceable", `{"type":"string","match":"^sk%-"}`, `"{vault://env/key}"`, "", "x: invalid value: {vault://env/key}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := field(t, tt.field)
			in := decode(t, tt.in)
			before, _ := json.Marshal(in)
			got, err := f.Normalize("x", in)
			after, _ := json.Marshal(in)
			require.Equal(t, string(before), string(after), "input must not change")
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			raw, err := json.Marshal(got)
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(raw))
		})
	}
}

func record(t testing.TB, fields string, checks string) *schema.Field {
	return field(t, `{"type":"record","fields":`+fields+`,"entity_checks":`+checks+`}`)
}

const abFields = `[{"a":{"type":"string"}},{"b":{"type":"string"}},{"c":{"type":"integer"}}]`

func TestNormalizeEntityChecks(t *testing.T) {
	tests := []struct {
		name   string
		fields string
		checks string
		in     string
		err    string
	}{
		{"at_least_one_of ok", abFields, `[{"at_least_one_of":["a","b"]}]`, `{"b":"x"}`, ""},
		{"at_least_one_of", abFields, `[{"at_least_one_of":["a","b"]}]`, `{}`, "config: at least one of these fields must be non-empty: 'a', 'b'"},
		{"only_one_of two", abFields, `[{"only_one_of":["a","b"]}]`, `{"a":"x","b":"y"}`, "config: exactly one of these fields must be non-empty: 'a', 'b'"},
		{"only_one_of none", abFields, `[{"only_one_of":["a","b"]}]`, `{}`, "config: exactly one of these fields must be non-empty: 'a', 'b'"},
		{"only_one_of ok", abFields, `[{"only_one_of":["a","b"]}]`, `{"a":"x"}`, ""},
		{"mutually_required", abFields, `[{"mutually_required":["a","b"]}]`, `{"a":"x"}`, "config: all or none of these fields must be set: 'a', 'b'"},
		{"mutually_required none", abFields, `[{"mutually_required":["a","b"]}]`, `{}`, ""},
		{"mutually_exclusive", abFields, `[{"mutually_exclusive":["a","b"]}]`, `{"a":"x","b":"y"}`, "config: only one or none of these fields must be set: 'a', 'b'"},
		{"mutually_exclusive skipped on invalid field", abFields, `[{"mutually_exclusive":["a","c"]}]`, `{"a":"x","c":"y"}`, "config.c: expected an integer"},
		{"mutually_exclusive_sets", abFields, `[{"mutually_exclusive_sets":{"set1":["a"],"set2":["b","c"]}}]`, `{"a":"x","c":1}`,
			"config: these sets are mutually exclusive: ('a'), ('c')"},
		{"distinct", abFields, `[{"distinct":["a","b"]}]`, `{"a":"x","b":"x"}`, "config: values of these fields must be distinct: 'a', 'b'"},
		{"distinct ok", abFields, `[{"distinct":["a","b"]}]`, `{"a":"x","b":"y"}`, ""},
		{"conditional required", abFields,
			`[{"conditional":{"if_field":"a","if_match":{"eq":"redis"},"then_field":"b","then_match":{"required":true}}}]`,
			`{"a":"redis"}`, "config.b: required field missing\nconfig: failed conditional validation given value of field 'a'"},
		{"conditional not triggered", abFields,
			`[{"conditional":{"if_field":"a","if_match":{"eq":"redis"},"then_field":"b","then_match":{"required":true}}}]`,
			`{"a":"memory"}`, ""},
		{"conditional then_match", abFields,
			`[{"conditional":{"if_field":"a","if_match":{"one_of":["x"]},"then_field":"c","then_match":{"between":[1,5]},"then_err":"c must be small when %s is x"}}]`,
			`{"a":"x","c":9}`, "config.c: value should be between 1 and 5\nconfig: c must be small when a is x"},
		{"conditional_at_least_one_of", abFields,
			`[{"conditional_at_least_one_of":{"if_field":"a","if_match":{"eq":"x"},"then_at_least_one_of":["b","c"]}}]`,
			`{"a":"x"}`, "config: at least one of these fields must be non-empty: 'b', 'c'"},
		{"conditional_at_least_one_of else", abFields,
			`[{"conditional_at_least_one_of":{"if_field":"a","if_match":{"eq":"x"},"then_at_least_one_of":["b"],"else_match":{"eq":"y"},"else_then_at_least_one_of":["c"],"else_then_err":"need %s"}}]`,
			`{"a":"y"}`, "config: need 'c'"},
		{"nested field in check", `[{"p":{"type":"string"}},{"r":{"type":"record","fields":[{"h":{"type":"string"}}]}}]`,
			`[{"conditional":{"if_field":"p","if_match":{"eq":"redis"},"then_field":"r.h","then_match":{"required":true}}}]`,
			`{"p":"redis"}`, "config.r.h: required field missing\nconfig: failed conditional validation given value of field 'p'"},
		{"references skip checks", `[{"a":{"type":"string","referenceable":true}},{"b":{"type":"string"}}]`, `[{"mutually_exclusive":["a","b"]}]`,
			`{"a":"{vault://env/a}","b":"x"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := record(t, tt.fields, tt.checks)
			_, err := f.Normalize("config", decode(t, tt.in))
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.err)
		})
	}
}

func validSample() map[string]any {
	return map[string]any{
		"windows": []any{map[string]any{"seconds": 60.0, "limit": 1000.0}},
		"models":  []any{"gpt-4o"},
	}
}

func TestNormalizeConfig(t *testing.T) {
	p := sampleSchema(t)
	in := validSample()
	got, err := p.NormalizeConfig(in)
	require.NoError(t, err)
	require.Equal(t, true, got["fault_tolerant"])
	require.Equal(t, "memory", got["policy"])
	require.Equal(t, map[string]any{"port": 6379.0, "timeout": 2000.0, "database": 0.0, "ssl": false}, got["redis"])
	require.Equal(t, []any{"a", "b"}, got["tags"])
	require.NotContains(t, got, "extra_redis", "optional record stays unset")
	require.NotContains(t, got, "api_key", "unset optional fields stay unset")
	require.Equal(t, validSample(), in, "input must not change")

	// The normalised config decodes into the struct.
	raw, err := json.Marshal(got)
	require.NoError(t, err)
	var cfg Sample
	require.NoError(t, json.Unmarshal(raw, &cfg))
	require.Equal(t, 6379, cfg.Redis.Port)
	require.Equal(t, 429, cfg.Code)
}

func TestNormalizeConfigErrors(t *testing.T) {
	p := sampleSchema(t)
	in := validSample()
	in["windows"] = []any{
		map[string]any{"seconds": 60.0, "limit": 1000.0},
		map[string]any{"seconds": 61.0, "limit": 0.0, "name": "9x"},
	}
	in["policy"] = "redis"
	in["mode"] = "drop"
	in["bogus"] = true
	in["redis"] = map[string]any{"port": 70000.0}
	_, err := p.NormalizeConfig(in)
	require.Error(t, err)

	var ve *schema.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, map[string]string{
		"config.redis.port":         "value should be between 0 and 65535",
		"config.windows[1].seconds": "expected one of: 1, 60, 3600, 86400",
		"config.windows[1].limit":   "value should be between 1 and 1000000",
		"config.windows[1].name":    "must be an identifier",
		"config.mode":               "expected one of: block, log",
		"config.bogus":              "unknown field",
		"config.redis.host":         "required field missing",
		"config":                    "failed conditional validation given value of field 'policy'",
	}, ve.Messages())

	var fe *schema.FieldError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, "config.redis.port", fe.Path)

	fields := ve.Fields()
	cfg := fields["config"].(map[string]any)
	require.Equal(t, []any{"failed conditional validation given value of field 'policy'"}, cfg["@entity"])
	windows := cfg["windows"].([]any)
	require.Nil(t, windows[0])
	require.Equal(t, "value should be between 1 and 1000000", windows[1].(map[string]any)["limit"])
	require.Contains(t, ve.Summary(), "schema violation (config.redis.port: value should be between 0 and 65535; ")
}

func TestNormalizeConfigRequired(t *testing.T) {
	p := sampleSchema(t)
	_, err := p.NormalizeConfig(nil)
	require.EqualError(t, err, "config.windows: required field missing")
}

func TestNormalizeEntity(t *testing.T) {
	p := sampleSchema(t)
	tests := []struct {
		name   string
		entity map[string]any
		check  func(t *testing.T, got map[string]any)
		err    string
	}{
		{"defaults", map[string]any{"config": validSample()}, func(t *testing.T, got map[string]any) {
			require.Equal(t, "tollgate-sample", got["name"])
			require.Equal(t, true, got["enabled"])
			require.Equal(t, []any{"grpc", "grpcs", "http", "https"}, got["protocols"])
			require.Equal(t, "memory", got["config"].(map[string]any)["policy"])
		}, ""},
		{"route scoping allowed", map[string]any{"route": "chat", "config": validSample(), "enabled": false, "tags": []any{"t"}}, func(t *testing.T, got map[string]any) {
			require.Equal(t, "chat", got["route"])
			require.Equal(t, false, got["enabled"])
		}, ""},
		{"consumer forbidden", map[string]any{"consumer": map[string]any{"id": "c"}, "config": validSample()}, nil, "consumer: value must be null"},
		{"bad protocol", map[string]any{"protocols": []any{"tcp"}, "config": validSample()}, nil, "protocols[0]: expected one of: grpc, grpcs, http, https"},
		{"unknown entity field", map[string]any{"ordering": map[string]any{}, "config": validSample()}, nil, "ordering: unknown field"},
		{"other plugin", map[string]any{"name": "key-auth"}, nil, `name: expected "tollgate-sample": this is the schema of plugin tollgate-sample`},
		{"config errors", map[string]any{}, nil, "config.windows: required field missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.NormalizeEntity(tt.entity)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			tt.check(t, got)
		})
	}
}

func TestNormalizeAcceptsGoValues(t *testing.T) {
	// Values decoded from YAML or built in Go: ints, typed slices and maps.
	p := sampleSchema(t)
	got, err := p.NormalizeConfig(map[string]any{
		"windows": []map[string]any{{"seconds": 60, "limit": 10}},
		"headers": map[string]string{"x-a": "1"},
	})
	require.NoError(t, err)
	require.Equal(t, 60.0, got["windows"].([]any)[0].(map[string]any)["seconds"])
	require.Equal(t, map[string]any{"x-a": "1"}, got["headers"])
}

func BenchmarkNormalize(b *testing.B) {
	p := sampleSchema(b)
	in := validSample()
	in["policy"] = "redis"
	in["redis"] = map[string]any{"host": "redis.local", "password": "{vault://env/redis}"}
	in["headers"] = map[string]any{"x-a": "1", "x-b": "2"}
	in["models"] = []any{"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.NormalizeConfig(in); err != nil {
			b.Fatal(err)
		}
	}
}
