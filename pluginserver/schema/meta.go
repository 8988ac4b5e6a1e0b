package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Parse reads a plugin schema, the "Schema" of a dump, and checks it as
// Kong does when it loads the dump (MetaSchema.MetaSubSchema, then
// Entity.new_subschema): unknown attributes and types, attributes on types
// that cannot have them, descriptions outside 10–500 bytes, defaults that
// fail their own field, top-level fields that the plugins entity does not
// have, and a missing config record are all rejected. Malformed Lua
// patterns are rejected too, where Kong would fail later, at validation.
func Parse(data []byte) (*Plugin, error) {
	var p Plugin
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parse plugin schema: %w", err)
	}
	if err := checkPlugin(&p, false); err != nil {
		return nil, fmt.Errorf("plugin schema %q: %w", p.Name, err)
	}
	return &p, nil
}

// entityFields are the fields of Kong's plugins entity
// (kong/db/schema/entities/plugins.lua) that a plugin schema may specialise,
// with their types. consumer_group exists only in Kong Enterprise.
var entityFields = []NamedField{
	{"id", &Field{Type: TypeString, UUID: true, Auto: true}},
	{"name", &Field{Type: TypeString, Required: ptr(true)}},
	{"instance_name", &Field{Type: TypeString}},
	{"created_at", &Field{Type: TypeInteger, Timestamp: true, Auto: true}},
	{"updated_at", &Field{Type: TypeInteger, Timestamp: true, Auto: true}},
	{"route", &Field{Type: TypeForeign, Reference: "routes", Default: Null}},
	{"service", &Field{Type: TypeForeign, Reference: "services", Default: Null}},
	{"consumer", &Field{Type: TypeForeign, Reference: "consumers", Default: Null}},
	{"config", &Field{Type: TypeRecord, Abstract: true}},
	{"protocols", &Field{Type: TypeSet, Required: ptr(true), Default: stringsToAny(DefaultProtocols),
		Elements: &Field{Type: TypeString, OneOf: stringsToAny(kongProtocols)}}},
	{"enabled", &Field{Type: TypeBoolean, Required: ptr(true), Default: true}},
	{"tags", &Field{Type: TypeSet, Elements: &Field{Type: TypeString}}},
}

var validTypes = []string{TypeString, TypeNumber, TypeInteger, TypeBoolean, TypeArray, TypeSet, TypeMap, TypeRecord, TypeForeign, TypeJSON}

// attrTypes restricts attributes to types, as metaschema.lua's
// attribute_types does, plus the restrictions without which a Kong
// validator would raise a Lua error instead of reporting a problem.
var attrTypes = map[string][]string{
	"between":                    {TypeInteger, TypeNumber},
	"gt":                         {TypeInteger, TypeNumber},
	"len_eq":                     {TypeArray, TypeSet, TypeString, TypeMap},
	"len_min":                    {TypeArray, TypeSet, TypeString, TypeMap},
	"len_max":                    {TypeArray, TypeSet, TypeString, TypeMap},
	"match":                      {TypeString},
	"not_match":                  {TypeString},
	"match_all":                  {TypeString},
	"match_none":                 {TypeString},
	"match_any":                  {TypeString},
	"starts_with":                {TypeString},
	"one_of":                     {TypeString, TypeNumber, TypeInteger},
	"contains":                   {TypeArray, TypeSet},
	"is_regex":                   {TypeString},
	"timestamp":                  {TypeNumber, TypeInteger},
	"uuid":                       {TypeString},
	"unique":                     {TypeString, TypeNumber, TypeInteger, TypeForeign},
	"abstract":                   {TypeString, TypeNumber, TypeInteger, TypeRecord, TypeArray, TypeSet, TypeMap},
	"json_schema":                {TypeJSON},
	"transient":                  {TypeString, TypeNumber, TypeInteger, TypeArray, TypeSet, TypeBoolean},
	"elements":                   {TypeArray, TypeSet},
	"keys":                       {TypeMap},
	"values":                     {TypeMap},
	"fields":                     {TypeRecord},
	"reference":                  {TypeForeign},
	"mutually_exclusive_subsets": {TypeArray, TypeSet},
	"entity_checks":              {TypeRecord},
	"referenceable":              {TypeString},
}

// checkPlugin checks a plugin schema against Kong's metaschema. authoring
// adds the checks ForConfig makes on our own schemas: entity checks must
// name existing fields.
func checkPlugin(p *Plugin, authoring bool) error {
	c := &collector{}
	if p.Name == "" {
		c.add("name", "required field missing")
	}
	seen := map[string]bool{}
	for _, nf := range p.Fields {
		if seen[nf.Name] {
			c.add(nf.Name, "field defined twice")
			continue
		}
		seen[nf.Name] = true
		parent := lookup(entityFields, nf.Name)
		if parent == nil {
			c.add(nf.Name, fmt.Sprintf("cannot create a new field: a plugin schema may only specialise fields of the plugins entity (%s)", entityFieldNames()))
			continue
		}
		if nf.Field == nil {
			c.add(nf.Name, "missing type declaration")
			continue
		}
		if !compatible(parent, nf.Field) {
			c.add(nf.Name, fmt.Sprintf("cannot change type in a specialized field (plugins entity has %s)", parent.Type))
			continue
		}
		checkField(c, nf.Name, nf.Field, authoring)
	}
	if cfg := p.Config(); cfg == nil {
		c.add("config", "required field missing: a plugin schema needs a config record")
	}
	if p.EntityChecks != nil {
		root := &Field{Type: TypeRecord, Fields: p.Fields}
		checkEntityChecks(c, "", root, p.EntityChecks, authoring)
	}
	return c.err()
}

func entityFieldNames() string {
	names := make([]string, len(entityFields))
	for i, nf := range entityFields {
		names[i] = nf.Name
	}
	return strings.Join(names, ", ")
}

// compatible is init.lua's compatible_fields.
func compatible(parent, f *Field) bool {
	if parent.Type == TypeRecord && f.Type == TypeJSON {
		return true
	}
	if parent.Type != f.Type {
		return false
	}
	switch parent.Type {
	case TypeArray, TypeSet:
		return f.Elements != nil && parent.Elements.Type == f.Elements.Type
	case TypeMap:
		return f.Keys != nil && f.Values != nil && parent.Keys.Type == f.Keys.Type && parent.Values.Type == f.Values.Type
	}
	return true
}

// setAttrs lists the attributes that are set on f, by JSON name.
func setAttrs(f *Field) []string {
	raw, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return sortedKeys(m)
}

func checkField(c *collector, path string, f *Field, authoring bool) {
	if f.Type == "" {
		c.add(path, "missing type declaration")
		return
	}
	if !slices.Contains(validTypes, f.Type) {
		c.add(path, fmt.Sprintf("invalid type: %s (expected one of: %s)", f.Type, strings.Join(validTypes, ", ")))
		return
	}
	for _, attr := range setAttrs(f) {
		if types, ok := attrTypes[attr]; ok && !slices.Contains(types, f.Type) {
			c.add(path, fmt.Sprintf("field of type '%s' cannot have attribute '%s'", f.Type, attr))
		}
	}
	switch f.Type {
	case TypeArray, TypeSet:
		if f.Elements == nil {
			c.add(path, fmt.Sprintf("field of type '%s' must declare 'elements'", f.Type))
		}
	case TypeMap:
		if f.Keys == nil || f.Values == nil {
			c.add(path, "field of type 'map' must declare 'keys' and 'values'")
		} else if f.Keys.Type != TypeString {
			c.add(path+".keys", "map keys must be strings: JSON objects have no other keys")
		}
	case TypeRecord:
		if f.Fields == nil && !f.Abstract {
			c.add(path, "field of type 'record' must declare 'fields'")
		}
	case TypeJSON:
		if f.JSONSchema == nil {
			c.add(path, "field of type 'json' must declare 'json_schema'")
		}
	}
	if d := len(f.Description); f.Description != "" && (d < 10 || d > 500) {
		c.add(path+".description", fmt.Sprintf("length must be between 10 and 500 (is %d)", d))
	}
	if f.OnDelete != "" && !slices.Contains([]string{"restrict", "cascade", "null"}, f.OnDelete) {
		c.add(path+".on_delete", "expected one of: restrict, cascade, null")
	}
	if f.UniqueAcrossWS && !f.Unique {
		c.add(path+".unique", "required field missing: unique_across_ws needs unique")
	}
	if f.Deprecation != nil && (f.Deprecation.Message == "" || f.Deprecation.RemovalInVersion == "") {
		c.add(path+".deprecation", "message and removal_in_version are required")
	}
	for _, lp := range []struct{ attr, pat string }{{"match", f.Match}, {"not_match", f.NotMatch}} {
		if lp.pat != "" {
			checkPattern(c, path+"."+lp.attr, lp.pat)
		}
	}
	for i, r := range f.MatchAll {
		checkPattern(c, fmt.Sprintf("%s.match_all[%d]", path, i), r.Pattern)
	}
	for i, r := range f.MatchNone {
		checkPattern(c, fmt.Sprintf("%s.match_none[%d]", path, i), r.Pattern)
	}
	if f.MatchAny != nil {
		for i, pat := range f.MatchAny.Patterns {
			checkPattern(c, fmt.Sprintf("%s.match_any.patterns[%d]", path, i), pat)
		}
	}
	if f.OneOf != nil && len(f.OneOf) == 0 && authoring {
		c.add(path+".one_of", "an empty one_of accepts nothing")
	}
	for _, sub := range []struct {
		name string
		f    *Field
	}{{"elements", f.Elements}, {"keys", f.Keys}, {"values", f.Values}} {
		if sub.f != nil {
			checkField(c, path+"."+sub.name, sub.f, authoring)
		}
	}
	names := map[string]bool{}
	for _, nf := range f.Fields {
		if nf.Field == nil {
			c.add(path+"."+nf.Name, "missing type declaration")
			continue
		}
		if names[nf.Name] {
			c.add(path+"."+nf.Name, "field defined twice")
		}
		names[nf.Name] = true
		checkField(c, path+"."+nf.Name, nf.Field, authoring)
	}
	if f.EntityChecks != nil {
		checkEntityChecks(c, path, f, f.EntityChecks, authoring)
	}
	// Kong validates a default against its own field (type "self").
	if f.Default != nil && f.Default != any(Null) {
		if _, err := f.Normalize(path+".default", f.Default); err != nil {
			if ve, ok := err.(*ValidationError); ok {
				for _, fe := range ve.Errors {
					c.add(fe.Path, "invalid default: "+fe.Message)
				}
			} else {
				c.add(path+".default", "invalid default: "+err.Error())
			}
		}
	}
}

func checkPattern(c *collector, path, pat string) {
	if err := checkLuaPattern(pat); err != nil {
		c.add(path, fmt.Sprintf("invalid Lua pattern %q: %v", pat, err))
	}
}

// checkEntityChecks checks the shape of a record's entity checks (the
// metaschema's entity_checks_schema) and, when authoring, that they name
// fields of the record.
func checkEntityChecks(c *collector, path string, rec *Field, checks []map[string]any, authoring bool) {
	prefix := path
	if prefix != "" {
		prefix += "."
	}
	for i, raw := range checks {
		cpath := fmt.Sprintf("%sentity_checks[%d]", prefix, i)
		ec, err := decodeCheck(raw)
		if err != nil {
			c.add(cpath, err.Error())
			continue
		}
		if !authoring {
			continue
		}
		for _, name := range ec.fieldNames() {
			if rec.path(name) == nil {
				c.add(cpath, fmt.Sprintf("%s names unknown field %q", ec.name, name))
			}
		}
	}
}

// path finds a field by dotted name within a record.
func (f *Field) path(name string) *Field {
	cur := f
	for _, part := range strings.Split(name, ".") {
		if cur == nil || cur.Type != TypeRecord {
			return nil
		}
		cur = cur.Field(part)
	}
	return cur
}
