package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// NormalizeConfig validates a plugin config the way Kong does on insert and
// returns a normalised copy with every default applied: records always
// present, unset optional fields absent. Errors are a *ValidationError
// with paths under "config".
func (p *Plugin) NormalizeConfig(config map[string]any) (map[string]any, error) {
	cfg := p.Config()
	if cfg == nil {
		return nil, fmt.Errorf("plugin schema %q has no config record", p.Name)
	}
	if config == nil {
		config = map[string]any{}
	}
	c := &collector{}
	out := cfg.normalize(c, "config", config)
	if err := c.err(); err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// NormalizeEntity validates a whole plugin entity, as found in a decK file
// or an Admin API request, and returns a normalised copy: name set,
// protocols and enabled defaulted, config normalised, and scoping checked
// against the schema (a consumer on a plugin whose schema forbids one
// fails with `consumer: value must be null`, as in Kong).
func (p *Plugin) NormalizeEntity(entity map[string]any) (map[string]any, error) {
	in := make(map[string]any, len(entity)+1)
	for k, v := range entity {
		in[k] = v
	}
	if name, ok := in["name"]; !ok || name == nil {
		in["name"] = p.Name
	} else if name != p.Name {
		return nil, &ValidationError{Errors: []*FieldError{{Path: "name", Message: fmt.Sprintf("expected %q: this is the schema of plugin %s", p.Name, p.Name)}}}
	}
	c := &collector{}
	out := p.entityRecord().normalizeRecord(c, "", in)
	if err := c.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// entityRecord is the plugins entity specialised by the plugin's fields.
func (p *Plugin) entityRecord() *Field {
	rec := &Field{Type: TypeRecord, EntityChecks: p.EntityChecks}
	for _, nf := range entityFields {
		if own := p.Field(nf.Name); own != nil {
			nf = NamedField{Name: nf.Name, Field: own}
		}
		rec.Fields = append(rec.Fields, nf)
	}
	return rec
}

// Normalize validates v against f and returns a normalised copy, path
// prefixing every error. A nil v is an unset field: its default, a
// materialised record, nil, or `required field missing`.
func (f *Field) Normalize(path string, v any) (any, error) {
	c := &collector{}
	var out any
	if v == nil {
		out, _ = f.missing(c, path)
	} else {
		out = f.normalize(c, path, v)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// missing is Kong's handle_missing_field for an absent (or null) value.
func (f *Field) missing(c *collector, path string) (any, bool) {
	if f.Default != nil && f.Default != any(Null) {
		return f.normalize(c, path, f.Default), true
	}
	if f.Type == TypeRecord && f.isRequired() && !f.Abstract {
		return f.normalizeRecord(c, path, map[string]any{}), true
	}
	if f.isRequired() {
		c.add(path, "required field missing")
	}
	return nil, false
}

// normalize checks a non-nil value and returns its normalised copy.
func (f *Field) normalize(c *collector, path string, v any) any {
	if f.Eq == any(Null) {
		c.add(path, errOr(f, "value must be null"))
		return v
	}
	var out any
	switch f.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			c.add(path, "expected a string")
			return v
		}
		if f.Referenceable && isReference(s) {
			return s
		}
		out = s
	case TypeInteger:
		n, ok := toFloat(v)
		if !ok || n != math.Trunc(n) || math.IsInf(n, 0) {
			c.add(path, "expected an integer")
			return v
		}
		out = n
	case TypeNumber:
		n, ok := toFloat(v)
		if !ok {
			c.add(path, "expected a number")
			return v
		}
		out = n
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			c.add(path, "expected a boolean")
			return v
		}
		out = b
	case TypeArray, TypeSet:
		list, ok := toList(v)
		if !ok {
			c.add(path, "expected "+article(f.Type))
			return v
		}
		if f.Type == TypeSet {
			list = dedupe(list)
		}
		arr := make([]any, len(list))
		for i, e := range list {
			ep := path + "[" + strconv.Itoa(i) + "]"
			if e == nil {
				c.add(ep, "required field missing")
				continue
			}
			if f.Elements != nil {
				arr[i] = f.Elements.normalize(c, ep, e)
			}
		}
		out = arr
	case TypeMap:
		m, ok := toObject(v)
		if !ok {
			c.add(path, "expected a map")
			return v
		}
		res := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			kp := path + "." + k
			if f.Keys != nil {
				f.Keys.normalize(c, kp, k)
			}
			if m[k] == nil {
				c.add(kp, "required field missing")
				continue
			}
			if f.Values != nil {
				res[k] = f.Values.normalize(c, kp, m[k])
			}
		}
		out = res
	case TypeRecord:
		m, ok := toObject(v)
		if !ok {
			c.add(path, "expected a record")
			return v
		}
		return f.normalizeRecord(c, path, m)
	case TypeForeign:
		switch r := v.(type) {
		case string:
			if r == "" {
				c.add(path, "expected a foreign key: an id or a name")
			}
			return r
		default:
			m, ok := toObject(v)
			if !ok {
				c.add(path, "expected a foreign key: an id, a name or {\"id\": …}")
				return v
			}
			return deepCopy(m)
		}
	case TypeJSON:
		// Kong checks json fields against their json_schema; we do not.
		return deepCopy(v)
	default:
		c.add(path, "invalid type: "+f.Type)
		return v
	}
	f.validate(c, path, out)
	return out
}

func article(t string) string {
	if t == TypeArray {
		return "an array"
	}
	return "a " + t
}

func (f *Field) normalizeRecord(c *collector, path string, m map[string]any) map[string]any {
	first := len(c.errs)
	out := make(map[string]any, len(f.Fields))
	for _, nf := range f.Fields {
		p := join(path, nf.Name)
		v := m[nf.Name]
		if v == nil {
			if nv, ok := nf.Field.missing(c, p); ok {
				out[nf.Name] = nv
			}
			continue
		}
		out[nf.Name] = nf.Field.normalize(c, p, v)
	}
	var unknown []string
	for k := range m {
		if lookup(f.Fields, k) == nil {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		c.add(join(path, k), "unknown field")
	}
	if len(f.EntityChecks) > 0 {
		runEntityChecks(&recordState{c: c, path: path, rec: f, value: out, first: first}, f.EntityChecks)
	}
	return out
}

func errOr(f *Field, msg string) string {
	if f.Err != "" {
		return f.Err
	}
	return msg
}

// validate runs Kong's validators in Kong's order and reports the first
// that fails (Schema:validate_field).
func (f *Field) validate(c *collector, path string, v any) {
	if msg := f.firstFailure(v); msg != "" {
		c.add(path, errOr(f, msg))
	}
}

func (f *Field) firstFailure(v any) string {
	if f.Eq != nil && f.Eq != any(Null) && !equal(v, f.Eq) {
		return "value must be " + luaString(f.Eq)
	}
	if f.Ne != nil && f.Ne != any(Null) && equal(v, f.Ne) {
		return "value must not be " + luaString(v)
	}
	for _, o := range f.NotOneOf {
		if equal(v, o) {
			return "must not be one of: " + luaConcat(f.NotOneOf)
		}
	}
	if f.OneOf != nil {
		found := false
		for _, o := range f.OneOf {
			if equal(v, o) {
				found = true
				break
			}
		}
		if !found {
			return "expected one of: " + luaConcat(f.OneOf)
		}
	}
	n, isNum := v.(float64)
	s, isStr := v.(string)
	if f.Gt != nil && isNum && !(n > *f.Gt) {
		return "value must be greater than " + luaNumber(*f.Gt)
	}
	if f.Timestamp && isNum && !(n > 0) {
		return "expected a valid timestamp"
	}
	if f.UUID && isStr && !isUUID(s) {
		return "expected a valid UUID"
	}
	if f.IsRegex && isStr {
		if _, err := regexp.Compile(s); err != nil {
			return "not a valid regex: " + s
		}
	}
	if len(f.Between) == 2 && isNum && (n < f.Between[0] || n > f.Between[1]) {
		return fmt.Sprintf("value should be between %s and %s", luaInt(f.Between[0]), luaInt(f.Between[1]))
	}
	if length, ok := valueLen(v); ok {
		lenMin := f.LenMin
		if lenMin == nil && f.Type == TypeString {
			lenMin = ptr(1) // Kong rejects empty strings unless len_min says otherwise
		}
		switch {
		case f.LenEq != nil && length != *f.LenEq:
			return fmt.Sprintf("length must be %d", *f.LenEq)
		case lenMin != nil && length < *lenMin:
			return fmt.Sprintf("length must be at least %d", *lenMin)
		case f.LenMax != nil && length > *f.LenMax:
			return fmt.Sprintf("length must be at most %d", *f.LenMax)
		}
	}
	if isStr {
		if msg := f.patternFailure(s); msg != "" {
			return msg
		}
	}
	if f.Contains != nil {
		list, _ := v.([]any)
		found := false
		for _, e := range list {
			if equal(e, f.Contains) {
				found = true
				break
			}
		}
		if !found {
			return "expected to contain: " + luaString(f.Contains)
		}
	}
	if f.MutuallyExclusiveSubsets != nil {
		if msg := mutuallyExclusiveSubsets(v, f.MutuallyExclusiveSubsets); msg != "" {
			return msg
		}
	}
	return ""
}

func (f *Field) patternFailure(s string) string {
	invalid := "invalid value: " + s
	match := func(pat string) (bool, string) {
		ok, err := luaMatch(s, pat)
		if err != nil {
			return false, fmt.Sprintf("cannot match Lua pattern %q: %v", pat, err)
		}
		return ok, ""
	}
	if f.StartsWith != "" && !strings.HasPrefix(s, f.StartsWith) {
		return "should start with: " + f.StartsWith
	}
	if f.NotMatch != "" {
		if ok, e := match(f.NotMatch); e != "" || ok {
			return orDefault(e, invalid)
		}
	}
	for _, r := range f.MatchNone {
		if ok, e := match(r.Pattern); e != "" || ok {
			return orDefault(e, orDefault(r.Err, invalid))
		}
	}
	if f.Match != "" {
		if ok, e := match(f.Match); e != "" || !ok {
			return orDefault(e, invalid)
		}
	}
	for _, r := range f.MatchAll {
		if ok, e := match(r.Pattern); e != "" || !ok {
			return orDefault(e, orDefault(r.Err, invalid))
		}
	}
	if f.MatchAny != nil {
		for _, pat := range f.MatchAny.Patterns {
			if ok, e := match(pat); e != "" {
				return e
			} else if ok {
				return ""
			}
		}
		return orDefault(f.MatchAny.Err, invalid)
	}
	return ""
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func mutuallyExclusiveSubsets(v any, subsets [][]string) string {
	list, _ := v.([]any)
	memberOf := map[int]bool{}
	var order []int
	for _, e := range list {
		s, _ := e.(string)
		for i, subset := range subsets {
			for _, m := range subset {
				if m == s && !memberOf[i] {
					memberOf[i] = true
					order = append(order, i)
				}
			}
		}
	}
	if len(order) <= 1 {
		return ""
	}
	parts := make([]string, len(order))
	for i, idx := range order {
		parts[i] = "(" + quotedList(subsets[idx]) + ")"
	}
	return "these sets are mutually exclusive: " + strings.Join(parts, ", ")
}

func valueLen(v any) (int, bool) {
	switch v := v.(type) {
	case string:
		return len(v), true // Lua's # counts bytes
	case []any:
		return len(v), true
	case map[string]any:
		return len(v), true
	}
	return 0, false
}

// isReference is kong.vault.is_reference.
func isReference(s string) bool {
	return strings.HasPrefix(s, "{vault://") && strings.HasSuffix(s, "}")
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isDigit(c) && !(c|0x20 >= 'a' && c|0x20 <= 'f') {
				return false
			}
		}
	}
	return true
}

// equal is Lua's == on JSON values: tables are never equal.
func equal(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch a.(type) {
	case string, bool:
		return a == b
	}
	return false
}

// luaString is tostring() as Kong's messages print values.
func luaString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case NullValue:
		return "null"
	}
	if n, ok := toFloat(v); ok {
		return luaNumber(n)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func luaConcat(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = luaString(v)
	}
	return strings.Join(parts, ", ")
}

// luaNumber formats like LuaJIT's tostring (%.14g).
func luaNumber(n float64) string {
	return strconv.FormatFloat(n, 'g', 14, 64)
}

// luaInt formats like string.format("%d", n).
func luaInt(n float64) string {
	if math.Abs(n) < 1e18 {
		return strconv.FormatInt(int64(n), 10)
	}
	return luaNumber(n)
}

func formatNumber(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// toFloat accepts JSON numbers and, for callers that build values in Go
// or decode YAML, every Go number type.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

// toList accepts JSON arrays, Go slices and an empty object (an empty Lua
// table is both).
func toList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case map[string]any:
		return []any{}, len(l) == 0
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// toObject accepts JSON objects, Go maps with string keys and an empty
// array.
func toObject(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case []any:
		return map[string]any{}, len(m) == 0
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// dedupe removes repeated scalars, keeping the first, as Kong's make_set
// does (tables are never equal in Lua, so they all stay).
func dedupe(list []any) []any {
	out := make([]any, 0, len(list))
	for _, v := range list {
		dup := false
		for _, seen := range out {
			if equal(v, seen) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
