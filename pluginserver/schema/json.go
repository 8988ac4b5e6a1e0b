package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// pathError is a decoding or metaschema problem at a dotted path.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// within prefixes err's path with seg.
func within(seg string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pathError
	if errors.As(err, &pe) && error(pe) == err {
		return &pathError{path: seg + "." + pe.path, err: pe.err}
	}
	return &pathError{path: seg, err: err}
}

// object writes a JSON object with keys in insertion order.
type object struct {
	buf bytes.Buffer
	err error
}

func (o *object) add(key string, v any) {
	if o.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		o.err = fmt.Errorf("encode %s: %w", key, err)
		return
	}
	if o.buf.Len() == 0 {
		o.buf.WriteByte('{')
	} else {
		o.buf.WriteByte(',')
	}
	k, _ := json.Marshal(key)
	o.buf.Write(k)
	o.buf.WriteByte(':')
	o.buf.Write(b)
}

func (o *object) bytes() ([]byte, error) {
	if o.err != nil {
		return nil, o.err
	}
	if o.buf.Len() == 0 {
		return []byte("{}"), nil
	}
	o.buf.WriteByte('}')
	return o.buf.Bytes(), nil
}

func (o *object) flag(key string, v bool) {
	if v {
		o.add(key, true)
	}
}

func (o *object) str(key, v string) {
	if v != "" {
		o.add(key, v)
	}
}

// MarshalJSON encodes f in Kong's shape, omitting unset attributes.
func (f *Field) MarshalJSON() ([]byte, error) {
	var o object
	o.str("type", f.Type)
	if f.Required != nil {
		o.add("required", *f.Required)
	}
	if f.Default != nil {
		o.add("default", f.Default)
	}
	o.str("description", f.Description)
	if f.Examples != nil {
		o.add("examples", f.Examples)
	}
	o.str("reference", f.Reference)
	o.flag("auto", f.Auto)
	o.flag("unique", f.Unique)
	o.flag("unique_across_ws", f.UniqueAcrossWS)
	o.str("on_delete", f.OnDelete)
	o.flag("abstract", f.Abstract)
	if f.GenerateAdminAPI != nil {
		o.add("generate_admin_api", *f.GenerateAdminAPI)
	}
	o.flag("immutable", f.Immutable)
	o.str("err", f.Err)
	o.flag("encrypted", f.Encrypted)
	o.flag("referenceable", f.Referenceable)
	o.flag("transient", f.Transient)
	if f.JSONSchema != nil {
		o.add("json_schema", f.JSONSchema)
	}
	if f.Deprecation != nil {
		o.add("deprecation", f.Deprecation)
	}
	if f.Eq != nil {
		o.add("eq", f.Eq)
	}
	if f.Ne != nil {
		o.add("ne", f.Ne)
	}
	if f.NotOneOf != nil {
		o.add("not_one_of", f.NotOneOf)
	}
	if f.OneOf != nil {
		o.add("one_of", f.OneOf)
	}
	if f.Gt != nil {
		o.add("gt", *f.Gt)
	}
	o.flag("timestamp", f.Timestamp)
	o.flag("uuid", f.UUID)
	o.flag("is_regex", f.IsRegex)
	if f.Between != nil {
		o.add("between", f.Between)
	}
	if f.LenEq != nil {
		o.add("len_eq", *f.LenEq)
	}
	if f.LenMin != nil {
		o.add("len_min", *f.LenMin)
	}
	if f.LenMax != nil {
		o.add("len_max", *f.LenMax)
	}
	o.str("starts_with", f.StartsWith)
	o.str("not_match", f.NotMatch)
	if f.MatchNone != nil {
		o.add("match_none", f.MatchNone)
	}
	o.str("match", f.Match)
	if f.MatchAll != nil {
		o.add("match_all", f.MatchAll)
	}
	if f.MatchAny != nil {
		o.add("match_any", f.MatchAny)
	}
	if f.Contains != nil {
		o.add("contains", f.Contains)
	}
	if f.MutuallyExclusiveSubsets != nil {
		o.add("mutually_exclusive_subsets", f.MutuallyExclusiveSubsets)
	}
	if f.Elements != nil {
		o.add("elements", f.Elements)
	}
	if f.Keys != nil {
		o.add("keys", f.Keys)
	}
	if f.Values != nil {
		o.add("values", f.Values)
	}
	if f.Fields != nil {
		o.add("fields", f.Fields)
	}
	if f.EntityChecks != nil {
		o.add("entity_checks", f.EntityChecks)
	}
	return o.bytes()
}

// UnmarshalJSON decodes a field definition, rejecting attributes that
// Kong's metaschema does not know.
func (f *Field) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	g, err := decodeField(v)
	if err != nil {
		return err
	}
	*f = *g
	return nil
}

// MarshalJSON encodes {"<name>": {...}}.
func (nf NamedField) MarshalJSON() ([]byte, error) {
	var o object
	o.add(nf.Name, nf.Field)
	return o.bytes()
}

// UnmarshalJSON decodes {"<name>": {...}}.
func (nf *NamedField) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	g, err := decodeNamedField(v)
	if err != nil {
		return err
	}
	*nf = g
	return nil
}

// MarshalJSON encodes {"name": ..., "fields": [...]} as Kong reads it.
func (p *Plugin) MarshalJSON() ([]byte, error) {
	var o object
	o.add("name", p.Name)
	fields := p.Fields
	if fields == nil {
		fields = []NamedField{}
	}
	o.add("fields", fields)
	if p.EntityChecks != nil {
		o.add("entity_checks", p.EntityChecks)
	}
	return o.bytes()
}

// UnmarshalJSON decodes a plugin schema without checking it against the
// metaschema; [Parse] does both.
func (p *Plugin) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("schema must be a JSON object")
	}
	var out Plugin
	for _, k := range sortedKeys(m) {
		val := m[k]
		var err error
		switch k {
		case "name":
			out.Name, err = asString(val)
		case "fields":
			out.Fields, err = decodeFields(val)
		case "entity_checks":
			out.EntityChecks, err = asObjects(val)
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return within(k, err)
		}
	}
	*p = out
	return nil
}

func decodeFields(v any) ([]NamedField, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("expected an array")
	}
	out := make([]NamedField, 0, len(list))
	for i, item := range list {
		nf, err := decodeNamedField(item)
		if err != nil {
			if nf.Name == "" {
				return nil, within(fmt.Sprintf("[%d]", i), err)
			}
			return nil, err
		}
		out = append(out, nf)
	}
	return out, nil
}

func decodeNamedField(v any) (NamedField, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return NamedField{}, errors.New("each entry in fields must be an object with exactly one key")
	}
	for name, def := range m {
		f, err := decodeField(def)
		if err != nil {
			return NamedField{Name: name}, within(name, err)
		}
		return NamedField{Name: name, Field: f}, nil
	}
	panic("unreachable")
}

// decodeField turns a JSON-decoded definition into a Field.
func decodeField(v any) (*Field, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("field definition must be an object")
	}
	f := &Field{}
	for _, k := range sortedKeys(m) {
		if err := f.setAttr(k, m[k]); err != nil {
			return nil, within(k, err)
		}
	}
	return f, nil
}

// setAttr sets one attribute from its JSON-decoded value. JSON null is
// "unset" for every attribute except the value-carrying ones (default, eq,
// ne, contains), where it is [Null].
func (f *Field) setAttr(k string, v any) error {
	if v == nil {
		switch k {
		case "default":
			f.Default = Null
		case "eq":
			f.Eq = Null
		case "ne":
			f.Ne = Null
		case "contains":
			f.Contains = Null
		default:
			if !knownAttrs[k] {
				return errors.New("unknown attribute")
			}
		}
		return nil
	}
	var err error
	switch k {
	case "type":
		f.Type, err = asString(v)
	case "required":
		f.Required, err = asBoolPtr(v)
	case "default":
		f.Default = v
	case "description":
		f.Description, err = asString(v)
	case "examples":
		f.Examples, err = asList(v)
	case "reference":
		f.Reference, err = asString(v)
	case "auto":
		f.Auto, err = asBool(v)
	case "unique":
		f.Unique, err = asBool(v)
	case "unique_across_ws":
		f.UniqueAcrossWS, err = asBool(v)
	case "on_delete":
		f.OnDelete, err = asString(v)
	case "abstract":
		f.Abstract, err = asBool(v)
	case "generate_admin_api":
		f.GenerateAdminAPI, err = asBoolPtr(v)
	case "immutable":
		f.Immutable, err = asBool(v)
	case "err":
		f.Err, err = asString(v)
	case "encrypted":
		f.Encrypted, err = asBool(v)
	case "referenceable":
		f.Referenceable, err = asBool(v)
	case "transient":
		f.Transient, err = asBool(v)
	case "json_schema":
		m, isMap := v.(map[string]any)
		if !isMap {
			err = errors.New("expected a record")
		}
		f.JSONSchema = m
	case "deprecation":
		f.Deprecation = &Deprecation{}
		err = remarshal(v, f.Deprecation)
	case "eq":
		f.Eq = v
	case "ne":
		f.Ne = v
	case "not_one_of":
		f.NotOneOf, err = asList(v)
	case "one_of":
		f.OneOf, err = asList(v)
	case "gt":
		var g float64
		g, err = asNumber(v)
		f.Gt = &g
	case "timestamp":
		f.Timestamp, err = asBool(v)
	case "uuid":
		f.UUID, err = asBool(v)
	case "is_regex":
		f.IsRegex, err = asBool(v)
	case "between":
		f.Between, err = asNumbers(v)
		if err == nil && len(f.Between) != 2 {
			err = errors.New("length must be 2")
		}
	case "len_eq":
		f.LenEq, err = asIntPtr(v)
	case "len_min":
		f.LenMin, err = asIntPtr(v)
	case "len_max":
		f.LenMax, err = asIntPtr(v)
	case "starts_with":
		f.StartsWith, err = asString(v)
	case "not_match":
		f.NotMatch, err = asString(v)
	case "match":
		f.Match, err = asString(v)
	case "match_none":
		f.MatchNone, err = asMatchRules(v)
	case "match_all":
		f.MatchAll, err = asMatchRules(v)
	case "match_any":
		f.MatchAny, err = asMatchAny(v)
	case "contains":
		f.Contains = v
	case "mutually_exclusive_subsets":
		f.MutuallyExclusiveSubsets, err = asStringLists(v)
	case "elements":
		f.Elements, err = decodeField(v)
	case "keys":
		f.Keys, err = decodeField(v)
	case "values":
		f.Values, err = decodeField(v)
	case "fields":
		f.Fields, err = decodeFields(v)
	case "entity_checks":
		f.EntityChecks, err = asObjects(v)
	default:
		if impossibleAttrs[k] {
			return errors.New("needs a Lua function, which JSON cannot express")
		}
		return errors.New("unknown attribute")
	}
	return err
}

// knownAttrs are the attributes of Kong's metaschema field_schema that JSON
// can express.
var knownAttrs = map[string]bool{
	"type": true, "required": true, "default": true, "description": true, "examples": true,
	"reference": true, "auto": true, "unique": true, "unique_across_ws": true, "on_delete": true,
	"abstract": true, "generate_admin_api": true, "immutable": true, "err": true,
	"encrypted": true, "referenceable": true, "transient": true, "json_schema": true,
	"deprecation": true, "eq": true, "ne": true, "not_one_of": true, "one_of": true, "gt": true,
	"timestamp": true, "uuid": true, "is_regex": true, "between": true, "len_eq": true,
	"len_min": true, "len_max": true, "starts_with": true, "not_match": true, "match": true,
	"match_none": true, "match_all": true, "match_any": true, "contains": true,
	"mutually_exclusive_subsets": true, "elements": true, "keys": true, "values": true,
	"fields": true, "entity_checks": true,
}

// impossibleAttrs need a Lua function (protocol spec §6.5).
var impossibleAttrs = map[string]bool{
	"custom_validator": true, "shorthand_fields": true, "transformations": true, "check": true,
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

func asString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", errors.New("expected a string")
	}
	return s, nil
}

func asBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, errors.New("expected a boolean")
	}
	return b, nil
}

func asBoolPtr(v any) (*bool, error) {
	b, err := asBool(v)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func asNumber(v any) (float64, error) {
	n, ok := toFloat(v)
	if !ok {
		return 0, errors.New("expected a number")
	}
	return n, nil
}

func asIntPtr(v any) (*int, error) {
	n, ok := toFloat(v)
	if !ok || n != math.Trunc(n) || math.Abs(n) > 1<<53 {
		return nil, errors.New("expected an integer")
	}
	i := int(n)
	return &i, nil
}

func asList(v any) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		if m, isMap := v.(map[string]any); isMap && len(m) == 0 {
			return []any{}, nil
		}
		return nil, errors.New("expected an array")
	}
	out := make([]any, len(l))
	for i, e := range l {
		if e == nil {
			e = Null
		}
		out[i] = e
	}
	return out, nil
}

func asNumbers(v any) ([]float64, error) {
	l, err := asList(v)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(l))
	for i, e := range l {
		if out[i], err = asNumber(e); err != nil {
			return nil, within(fmt.Sprintf("[%d]", i), err)
		}
	}
	return out, nil
}

func asStrings(v any) ([]string, error) {
	l, err := asList(v)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], err = asString(e); err != nil {
			return nil, within(fmt.Sprintf("[%d]", i), err)
		}
	}
	return out, nil
}

func asStringLists(v any) ([][]string, error) {
	l, err := asList(v)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(l))
	for i, e := range l {
		if out[i], err = asStrings(e); err != nil {
			return nil, within(fmt.Sprintf("[%d]", i), err)
		}
	}
	return out, nil
}

func asObjects(v any) ([]map[string]any, error) {
	l, err := asList(v)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, within(fmt.Sprintf("[%d]", i), errors.New("expected a record"))
		}
		out[i] = m
	}
	return out, nil
}

func asMatchRules(v any) ([]MatchRule, error) {
	var out []MatchRule
	if err := remarshal(v, &out); err != nil {
		return nil, fmt.Errorf("expected an array of {pattern, err}: %w", err)
	}
	for i, r := range out {
		if r.Pattern == "" {
			return nil, within(fmt.Sprintf("[%d].pattern", i), errors.New("required field missing"))
		}
	}
	return out, nil
}

func asMatchAny(v any) (*MatchAny, error) {
	var out MatchAny
	if err := remarshal(v, &out); err != nil {
		return nil, fmt.Errorf("expected {patterns, err}: %w", err)
	}
	if out.Patterns == nil {
		return nil, within("patterns", errors.New("required field missing"))
	}
	return &out, nil
}
