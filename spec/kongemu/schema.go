package kongemu

import (
	"errors"
	"fmt"
	"slices"
)

// bundledPlugin is a Lua plugin bundled with Kong that the emulator stands
// in for: its handler priority, the protocols its schema allows and a
// schema function that validates a config and fills its defaults.
type bundledPlugin struct {
	priority   int
	protocols  []string
	noConsumer bool // the schema has `consumer = typedefs.no_consumer`
	schema     func(map[string]any) (map[string]any, []error)
}

// bundled are the emulated bundled plugins (Kong 3.9 PRIORITY values).
var bundled = map[string]bundledPlugin{
	"key-auth": {
		priority:   1250,
		protocols:  httpProtocols,
		noConsumer: true,
		schema:     keyAuthSchema,
	},
}

// BundledPriority returns the handler priority of a bundled plugin the
// emulator provides (key-auth: 1250).
func BundledPriority(name string) (int, bool) {
	b, ok := bundled[name]
	return b.priority, ok
}

// IsBundled reports whether name is a bundled plugin the emulator provides.
func IsBundled(name string) bool {
	_, ok := bundled[name]
	return ok
}

// field is one scalar or array-of-strings field of a bundled schema.
type field struct {
	name     string
	kind     string // "boolean", "string" or "array" (of header names)
	required bool
	def      any // nil: no default
}

// keyAuthFields is kong/plugins/key-auth/schema.lua's config record.
var keyAuthFields = []field{
	{name: "key_names", kind: "array", required: true, def: []any{"apikey"}},
	{name: "hide_credentials", kind: "boolean", required: true, def: false},
	{name: "anonymous", kind: "string"},
	{name: "key_in_header", kind: "boolean", required: true, def: true},
	{name: "key_in_query", kind: "boolean", required: true, def: true},
	{name: "key_in_body", kind: "boolean", required: true, def: false},
	{name: "run_on_preflight", kind: "boolean", required: true, def: true},
	{name: "realm", kind: "string"},
}

func keyAuthSchema(in map[string]any) (map[string]any, []error) {
	return applySchema(keyAuthFields, in)
}

// applySchema validates in against fields and returns a copy with the
// defaults of absent fields filled and absent optional fields set to nil
// (Kong's null). An explicit null keeps null, so a required field fails.
func applySchema(fields []field, in map[string]any) (map[string]any, []error) {
	var errs []error
	out := make(map[string]any, len(fields))
	known := map[string]bool{}
	for _, f := range fields {
		known[f.name] = true
		v, present := in[f.name]
		if !present && f.def != nil {
			v = cloneValue(f.def)
		}
		if v == nil {
			if f.required {
				errs = append(errs, fmt.Errorf("%s: required field missing", f.name))
			}
			out[f.name] = nil
			continue
		}
		if err := checkKind(f, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
		out[f.name] = v
	}
	for _, k := range sortedKeys(in) {
		if !known[k] {
			errs = append(errs, fmt.Errorf("%s: unknown field", k))
		}
	}
	return out, errs
}

func checkKind(f field, v any) error {
	switch f.kind {
	case "boolean":
		if _, ok := v.(bool); !ok {
			return errors.New("expected a boolean")
		}
	case "string":
		if _, ok := v.(string); !ok {
			return errors.New("expected a string")
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return errors.New("expected an array")
		}
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("[%d]: expected a string", i)
			}
			if msg := checkHeaderName(s); msg != "" {
				return fmt.Errorf("[%d]: %s", i, msg)
			}
		}
	}
	return nil
}

func cloneValue(v any) any {
	if l, ok := v.([]any); ok {
		return slices.Clone(l)
	}
	return v
}

// KeyAuthConfig is key-auth's config after Kong's defaults.
type KeyAuthConfig struct {
	KeyNames        []string
	HideCredentials bool
	Anonymous       string // consumer id or username; "" is null
	KeyInHeader     bool
	KeyInQuery      bool
	KeyInBody       bool
	RunOnPreflight  bool
	Realm           *string // nil is null: the challenge is then plain "Key"
}

// ParseKeyAuthConfig validates a key-auth config map (as in Plugin.Config),
// fills Kong's defaults and returns it typed.
func ParseKeyAuthConfig(config map[string]any) (KeyAuthConfig, error) {
	m, errs := keyAuthSchema(config)
	if len(errs) > 0 {
		return KeyAuthConfig{}, fmt.Errorf("key-auth config: %w", errors.Join(errs...))
	}
	c := KeyAuthConfig{
		HideCredentials: m["hide_credentials"].(bool),
		KeyInHeader:     m["key_in_header"].(bool),
		KeyInQuery:      m["key_in_query"].(bool),
		KeyInBody:       m["key_in_body"].(bool),
		RunOnPreflight:  m["run_on_preflight"].(bool),
	}
	for _, k := range m["key_names"].([]any) {
		c.KeyNames = append(c.KeyNames, k.(string))
	}
	if a, ok := m["anonymous"].(string); ok {
		c.Anonymous = a
	}
	if r, ok := m["realm"].(string); ok {
		c.Realm = &r
	}
	return c, nil
}
