package schema

// Kong field types (kong/db/schema/init.lua Schema.valid_types, minus
// "function", which JSON cannot express).
const (
	TypeString  = "string"
	TypeNumber  = "number"
	TypeInteger = "integer"
	TypeBoolean = "boolean"
	TypeArray   = "array"
	TypeSet     = "set"
	TypeMap     = "map"
	TypeRecord  = "record"
	TypeForeign = "foreign"
	TypeJSON    = "json"
)

// NullValue is the type of [Null].
type NullValue struct{}

// MarshalJSON encodes JSON null.
func (NullValue) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// String is "null", as Lua prints ngx.null in Kong's messages.
func (NullValue) String() string { return "null" }

// Null is an explicit JSON null as an attribute value, for example the
// `"eq": null` that forbids consumer scoping (Kong's typedefs.no_consumer).
// A nil attribute means "unset" and is omitted from the JSON.
var Null NullValue

// Field is one Kong schema field definition (the value in {"name": {...}}).
// Zero values mean "unset" and are omitted from the JSON, except Required,
// which is a pointer so that `required: false` can be expressed.
type Field struct {
	Type        string
	Required    *bool
	Default     any
	Description string
	Examples    []any

	Reference        string
	Auto             bool
	Unique           bool
	UniqueAcrossWS   bool
	OnDelete         string
	Abstract         bool
	GenerateAdminAPI *bool
	Immutable        bool
	Err              string
	Encrypted        bool
	Referenceable    bool
	Transient        bool
	JSONSchema       map[string]any
	Deprecation      *Deprecation

	// Validators, in the order Kong runs them (init.lua validators_order).
	Eq, Ne                   any
	NotOneOf, OneOf          []any
	Gt                       *float64
	Timestamp, UUID, IsRegex bool
	Between                  []float64 // [lo, hi], inclusive
	LenEq, LenMin, LenMax    *int
	StartsWith               string
	NotMatch                 string
	MatchNone                []MatchRule
	Match                    string
	MatchAll                 []MatchRule
	MatchAny                 *MatchAny
	Contains                 any
	MutuallyExclusiveSubsets [][]string

	// Nested definitions: elements of arrays and sets, keys and values of
	// maps, fields of records (in order).
	Elements     *Field
	Keys, Values *Field
	Fields       []NamedField
	// EntityChecks are a record's cross-field checks, each a single-key
	// object such as {"at_least_one_of": ["a", "b"]}, in Kong's JSON shape.
	EntityChecks []map[string]any
}

// NamedField is one entry of a record's fields. JSON: {"<name>": {...}}.
type NamedField struct {
	Name  string
	Field *Field
}

// MatchRule is one element of match_all or match_none: a Lua pattern and
// the error reported when it fails.
type MatchRule struct {
	Pattern string `json:"pattern"`
	Err     string `json:"err,omitempty"`
}

// MatchAny is the argument of match_any: the value must match one pattern.
type MatchAny struct {
	Patterns []string `json:"patterns"`
	Err      string   `json:"err,omitempty"`
}

// Deprecation marks a field as deprecated; Kong logs the message when the
// field is used.
type Deprecation struct {
	Message          string              `json:"message"`
	RemovalInVersion string              `json:"removal_in_version"`
	OldDefault       any                 `json:"old_default,omitempty"`
	ReplacedWith     []DeprecationTarget `json:"replaced_with,omitempty"`
}

// DeprecationTarget is where a deprecated field's value moved to.
type DeprecationTarget struct {
	Path []string `json:"path"`
}

// Plugin is a plugin's schema as Kong reads it from a dump's "Schema".
type Plugin struct {
	Name   string
	Fields []NamedField
	// EntityChecks apply to the whole plugin entity (rarely needed).
	EntityChecks []map[string]any
}

// Options restrict where a plugin may be applied.
type Options struct {
	// NoConsumer, NoRoute and NoService forbid scoping the plugin to a
	// consumer, route or service (Kong's typedefs.no_consumer & co.).
	NoConsumer, NoRoute, NoService bool
	// Protocols allowed for the plugin; the default is grpc, grpcs, http,
	// https (Kong's typedefs.protocols_http).
	Protocols []string
}

// Config returns the plugin's "config" record, or nil.
func (p *Plugin) Config() *Field { return p.Field("config") }

// Field returns the top-level field called name, or nil.
func (p *Plugin) Field(name string) *Field {
	if p == nil {
		return nil
	}
	return lookup(p.Fields, name)
}

// Field returns the record field called name, or nil.
func (f *Field) Field(name string) *Field {
	if f == nil {
		return nil
	}
	return lookup(f.Fields, name)
}

func lookup(fields []NamedField, name string) *Field {
	for _, nf := range fields {
		if nf.Name == name {
			return nf.Field
		}
	}
	return nil
}

// isRequired reports Kong's effective `required`: records are required
// unless they say otherwise (entity.lua make_records_required).
func (f *Field) isRequired() bool {
	if f.Required != nil {
		return *f.Required
	}
	return f.Type == TypeRecord
}

func ptr[T any](v T) *T { return &v }
