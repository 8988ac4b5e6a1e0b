package schema

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EntityChecker is implemented by a config struct, or a nested record
// struct, that needs Kong's cross-field checks (at_least_one_of,
// only_one_of, conditional, mutually_required, mutually_exclusive, …).
// KongEntityChecks is called on the zero value; each element is one check
// in Kong's JSON shape, for example
//
//	{"at_least_one_of": []string{"api_key", "api_key_header"}}
type EntityChecker interface {
	KongEntityChecks() []map[string]any
}

// DefaultProtocols are the protocols a plugin accepts unless
// Options.Protocols says otherwise (Kong's typedefs.protocols_http).
var DefaultProtocols = []string{"grpc", "grpcs", "http", "https"}

// kongProtocols are Kong's constants.PROTOCOLS.
var kongProtocols = []string{"grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"}

// maxJSONInt is the largest integer a JSON number (an IEEE double) holds
// exactly; it bounds uint and uint64 fields.
const maxJSONInt = 1<<53 - 1

// ForConfig derives a plugin's Kong schema from its config struct: config
// is a pointer to the struct (new(Config)) or its reflect.Type. Field names
// come from `json` tags, attributes from `kong` tags and descriptions from
// `desc` tags (README.md, "Config tags"). Every problem is reported, each
// naming the Go field and the schema path.
func ForConfig(pluginName string, config any, opts Options) (*Plugin, error) {
	t, ok := config.(reflect.Type)
	if !ok {
		t = reflect.TypeOf(config)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("schema for %s: config must be a struct, not %v", pluginName, t)
	}
	b := &builder{implicit: map[*Field][]float64{}, stack: map[reflect.Type]bool{}}
	cfg := b.record(t, "config", t.Name())
	if len(b.errs) > 0 {
		return nil, fmt.Errorf("schema for %s: %w", pluginName, errors.Join(b.errs...))
	}

	protocols := opts.Protocols
	if protocols == nil {
		protocols = DefaultProtocols
	}
	for _, proto := range protocols {
		if !slices.Contains(kongProtocols, proto) {
			return nil, fmt.Errorf("schema for %s: unknown protocol %q (Kong knows %s)", pluginName, proto, strings.Join(kongProtocols, ", "))
		}
	}
	p := &Plugin{Name: pluginName}
	p.Fields = append(p.Fields, NamedField{Name: "protocols", Field: &Field{
		Type:     TypeSet,
		Required: ptr(true),
		Default:  stringsToAny(protocols),
		Elements: &Field{Type: TypeString, OneOf: stringsToAny(protocols)},
	}})
	for _, forbid := range []struct {
		on         bool
		name, refs string
	}{{opts.NoConsumer, "consumer", "consumers"}, {opts.NoRoute, "route", "routes"}, {opts.NoService, "service", "services"}} {
		if forbid.on {
			p.Fields = append(p.Fields, NamedField{Name: forbid.name, Field: &Field{Type: TypeForeign, Reference: forbid.refs, Eq: Null}})
		}
	}
	p.Fields = append(p.Fields, NamedField{Name: "config", Field: cfg})
	if err := checkPlugin(p, true); err != nil {
		return nil, fmt.Errorf("schema for %s: %w", pluginName, err)
	}
	return p, nil
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

type builder struct {
	errs []error
	// implicit holds the bounds a Go integer kind imposes, to check
	// between attributes given in tags against them.
	implicit map[*Field][]float64
	stack    map[reflect.Type]bool
}

func (b *builder) errorf(goName, path, format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("%s (%s): %s", goName, path, fmt.Sprintf(format, args...)))
}

func (b *builder) record(t reflect.Type, path, goName string) *Field {
	f := &Field{Type: TypeRecord, Fields: []NamedField{}}
	b.structFields(t, path, goName, f, map[string]string{})
	if ec, ok := reflect.New(t).Interface().(EntityChecker); ok {
		checks, err := canonicalChecks(ec.KongEntityChecks())
		if err != nil {
			b.errorf(goName, path, "KongEntityChecks: %v", err)
		}
		f.EntityChecks = checks
	}
	return f
}

func canonicalChecks(checks []map[string]any) ([]map[string]any, error) {
	if checks == nil {
		return nil, nil
	}
	raw, err := json.Marshal(checks)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return asObjects(v)
}

func (b *builder) structFields(t reflect.Type, path, goName string, rec *Field, names map[string]string) {
	if b.stack[t] {
		b.errorf(goName, path, "recursive type %s cannot be a Kong schema", t)
		return
	}
	b.stack[t] = true
	defer delete(b.stack, t)
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		goField := goName + "." + sf.Name
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue // excluded from JSON, so not config
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if sf.Tag.Get("kong") != "" || sf.Tag.Get("desc") != "" {
					b.errorf(goField, path, "an embedded struct is flattened (as encoding/json does), so it cannot have kong or desc tags; give it a json name to make it a record")
				}
				b.structFields(et, path, goName+"."+et.Name(), rec, names)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		fpath := path + "." + name
		if !hasTag || name == "" {
			b.errorf(goField, path, "missing json tag with the Kong field name")
			continue
		}
		if !isName(name) {
			b.errorf(goField, fpath, "json name %q is not a Kong field name (lower-case snake_case)", name)
			continue
		}
		for _, opt := range strings.Split(opts, ",") {
			if opt != "" && opt != "omitempty" && opt != "omitzero" {
				b.errorf(goField, fpath, "json option %q is not supported", opt)
			}
		}
		if prev, dup := names[name]; dup {
			b.errorf(goField, fpath, "field name %q is also used by %s", name, prev)
			continue
		}
		names[name] = goField
		f := b.goType(sf.Type, fpath, goField)
		if f == nil {
			continue
		}
		if sf.Type.Kind() == reflect.Pointer && f.Type == TypeRecord {
			f.Required = ptr(false) // a nil pointer is a valid config
		}
		if tag := sf.Tag.Get("kong"); tag != "" {
			attrs, err := parseTag(tag)
			if err != nil {
				b.errorf(goField, fpath, "kong tag: %v", err)
				continue
			}
			for _, a := range attrs {
				if err := applyAttr(f, a); err != nil {
					b.errorf(goField, fpath, "kong tag %s: %v", a.key(), err)
				}
			}
		}
		f.Description = sf.Tag.Get("desc")
		b.checkImplicit(f, goField, fpath)
		rec.Fields = append(rec.Fields, NamedField{Name: name, Field: f})
	}
}

// checkImplicit verifies that between attributes stay within what the Go
// integer kind can hold.
func (b *builder) checkImplicit(f *Field, goName, path string) {
	for _, sub := range []*Field{f, f.Elements, f.Keys, f.Values} {
		if sub == nil {
			continue
		}
		if sub != f {
			b.checkImplicit(sub, goName, path)
			continue
		}
		lim, ok := b.implicit[f]
		if ok && (len(f.Between) != 2 || f.Between[0] < lim[0] || f.Between[1] > lim[1]) {
			b.errorf(goName, path, "between %v is outside what the Go type holds (%s:%s)", f.Between, formatNumber(lim[0]), formatNumber(lim[1]))
		}
	}
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	timeType            = reflect.TypeFor[time.Time]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// goType maps a Go type to a Kong field without tags.
func (b *builder) goType(t reflect.Type, path, goName string) *Field {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		b.errorf(goName, path, "time.Duration is not supported: use an integer number of seconds (or ms where Kong uses ms) and say the unit in desc")
		return nil
	case t == timeType:
		b.errorf(goName, path, "time.Time is not supported: use an integer Unix time or a string")
		return nil
	case t.Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(jsonUnmarshalerType),
		t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType):
		b.errorf(goName, path, "%s decodes itself from JSON, so its Kong type is unknown", t)
		return nil
	}
	integer := func(lo, hi float64) *Field {
		f := &Field{Type: TypeInteger}
		if hi != 0 {
			f.Between = []float64{lo, hi}
			b.implicit[f] = []float64{lo, hi}
		}
		return f
	}
	switch t.Kind() {
	case reflect.String:
		return &Field{Type: TypeString}
	case reflect.Bool:
		return &Field{Type: TypeBoolean}
	case reflect.Int, reflect.Int64:
		return integer(0, 0)
	case reflect.Int8:
		return integer(math.MinInt8, math.MaxInt8)
	case reflect.Int16:
		return integer(math.MinInt16, math.MaxInt16)
	case reflect.Int32:
		return integer(math.MinInt32, math.MaxInt32)
	case reflect.Uint8:
		return integer(0, math.MaxUint8)
	case reflect.Uint16:
		return integer(0, math.MaxUint16)
	case reflect.Uint32:
		return integer(0, math.MaxUint32)
	case reflect.Uint, reflect.Uint64:
		return integer(0, maxJSONInt)
	case reflect.Float32, reflect.Float64:
		return &Field{Type: TypeNumber}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			b.errorf(goName, path, "%s is not supported (encoding/json makes it base64): use a string", t)
			return nil
		}
		el := b.goType(t.Elem(), path+"[]", goName)
		if el == nil {
			return nil
		}
		return &Field{Type: TypeArray, Elements: el}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			b.errorf(goName, path, "%s is not supported: map keys must be strings", t)
			return nil
		}
		v := b.goType(t.Elem(), path+".*", goName)
		if v == nil {
			return nil
		}
		return &Field{Type: TypeMap, Keys: &Field{Type: TypeString}, Values: v}
	case reflect.Struct:
		return b.record(t, path, goName)
	case reflect.Array:
		b.errorf(goName, path, "Go array %s is not supported: use a slice with len_eq", t)
	default:
		b.errorf(goName, path, "Go type %s (%s) has no Kong equivalent", t, t.Kind())
	}
	return nil
}

// applyAttr applies one tag attribute to f or to the nested field it targets.
func applyAttr(f *Field, a tagAttr) error {
	for _, t := range a.Target {
		var next *Field
		switch t {
		case "elements":
			next = f.Elements
		case "keys":
			next = f.Keys
		case "values":
			next = f.Values
		}
		if next == nil {
			return fmt.Errorf("a %s field has no %s", f.Type, t)
		}
		f = next
	}
	if !a.HasValue {
		switch a.Name {
		case "required", "referenceable", "encrypted", "immutable", "unique", "auto",
			"is_regex", "uuid", "timestamp", "transient":
		case "description", "desc":
		default:
			if !knownAttrs[a.Name] {
				return errors.New("unknown attribute")
			}
			return errors.New("needs a value (name=value)")
		}
	}
	var err error
	switch a.Name {
	case "required":
		var v bool
		v, err = flagValue(a)
		f.Required = &v
	case "referenceable":
		f.Referenceable, err = flagValue(a)
	case "encrypted":
		f.Encrypted, err = flagValue(a)
	case "immutable":
		f.Immutable, err = flagValue(a)
	case "unique":
		f.Unique, err = flagValue(a)
	case "auto":
		f.Auto, err = flagValue(a)
	case "is_regex":
		f.IsRegex, err = flagValue(a)
	case "uuid":
		f.UUID, err = flagValue(a)
	case "timestamp":
		f.Timestamp, err = flagValue(a)
	case "transient":
		f.Transient, err = flagValue(a)
	case "type":
		switch {
		case a.Value == f.Type:
		case a.Value == TypeSet && f.Type == TypeArray, a.Value == TypeArray && f.Type == TypeSet:
			f.Type = a.Value
		default:
			err = fmt.Errorf("a Go %s cannot be a Kong %s (only array ↔ set)", f.Type, a.Value)
		}
	case "default":
		f.Default, err = typedValue(f, a.Value, false)
	case "eq":
		f.Eq, err = typedValue(f, a.Value, true)
	case "ne":
		f.Ne, err = typedValue(f, a.Value, true)
	case "one_of":
		f.OneOf, err = valueList(f, a.Value)
	case "not_one_of":
		f.NotOneOf, err = valueList(f, a.Value)
	case "contains":
		if f.Elements == nil {
			return fmt.Errorf("a %s field has no elements", f.Type)
		}
		f.Contains, err = typedValue(f.Elements, a.Value, false)
	case "examples":
		f.Examples, err = jsonList(a.Value)
	case "between":
		lo, hi, ok := strings.Cut(a.Value, ":")
		var l, h float64
		if ok {
			l, err = strconv.ParseFloat(lo, 64)
			if err == nil {
				h, err = strconv.ParseFloat(hi, 64)
			}
		}
		if !ok || err != nil || l > h {
			return fmt.Errorf("%q is not lo:hi with lo <= hi", a.Value)
		}
		f.Between = []float64{l, h}
	case "gt":
		var g float64
		g, err = strconv.ParseFloat(a.Value, 64)
		f.Gt = &g
	case "len_eq":
		f.LenEq, err = lenValue(a.Value)
	case "len_min":
		f.LenMin, err = lenValue(a.Value)
	case "len_max":
		f.LenMax, err = lenValue(a.Value)
	case "match":
		f.Match = a.Value
	case "not_match":
		f.NotMatch = a.Value
	case "starts_with":
		f.StartsWith = a.Value
	case "err":
		f.Err = a.Value
	case "reference":
		f.Reference = a.Value
	case "on_delete":
		f.OnDelete = a.Value
	case "match_all", "match_none", "match_any", "mutually_exclusive_subsets":
		var v any
		if err := json.Unmarshal([]byte(a.Value), &v); err != nil {
			return fmt.Errorf("expected JSON: %w", err)
		}
		err = f.setAttr(a.Name, v)
	case "description", "desc":
		return errors.New("use the desc tag")
	default:
		return errors.New("unknown attribute")
	}
	return err
}

func flagValue(a tagAttr) (bool, error) {
	if !a.HasValue {
		return true, nil
	}
	switch a.Value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", a.Value)
}

func lenValue(s string) (*int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%q is not a non-negative integer", s)
	}
	return &n, nil
}

func jsonList(s string) ([]any, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("expected a JSON array: %w", err)
	}
	return asList(v)
}

// typedValue reads a tag value as a value of f's type: strings as they are
// (or as a JSON string if they start with a double quote), numbers and
// booleans as such, everything else as JSON. With nullOK, null is Null.
func typedValue(f *Field, raw string, nullOK bool) (any, error) {
	if nullOK && raw == "null" {
		return Null, nil
	}
	switch f.Type {
	case TypeString:
		if strings.HasPrefix(raw, `"`) {
			var s string
			if err := json.Unmarshal([]byte(raw), &s); err != nil {
				return nil, fmt.Errorf("invalid JSON string: %w", err)
			}
			return s, nil
		}
		return raw, nil
	case TypeInteger, TypeNumber:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("%q is not a number", raw)
		}
		if f.Type == TypeInteger && n != math.Trunc(n) {
			return nil, fmt.Errorf("%q is not an integer", raw)
		}
		return n, nil
	case TypeBoolean:
		switch raw {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", raw)
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, fmt.Errorf("expected JSON for a %s: %w", f.Type, err)
	}
	if v == nil {
		return nil, errors.New("null is not a value here")
	}
	return v, nil
}

// valueList reads one_of and not_one_of: a|b|c, or a JSON array.
func valueList(f *Field, raw string) ([]any, error) {
	if strings.HasPrefix(raw, "[") {
		return jsonList(raw)
	}
	parts := strings.Split(raw, "|")
	out := make([]any, len(parts))
	for i, p := range parts {
		v, err := typedValue(f, p, false)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
