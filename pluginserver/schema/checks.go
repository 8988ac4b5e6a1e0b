package schema

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// entityCheck is one decoded entity check (init.lua Schema.entity_checkers).
type entityCheck struct {
	name   string
	fields []string // at_least_one_of, only_one_of, distinct, mutually_*

	ifField, thenField   string
	ifMatch, thenMatch   *Field
	elseMatch            *Field
	thenAtLeastOneOf     []string
	elseThenAtLeastOneOf []string
	thenErr, elseThenErr string
	set1, set2           []string
}

var listChecks = []string{"at_least_one_of", "only_one_of", "distinct", "mutually_required", "mutually_exclusive"}

// conditionalAttrs are what if_match, then_match and else_match may hold
// (metaschema.lua conditional_validators).
var conditionalAttrs = []string{
	"required", "elements", "keys", "values", "between", "eq", "ne", "gt", "len_eq", "len_min",
	"len_max", "match", "not_match", "match_all", "match_none", "match_any", "starts_with",
	"one_of", "not_one_of", "contains", "is_regex", "timestamp", "uuid", "mutually_exclusive_subsets",
}

func decodeCheck(m map[string]any) (*entityCheck, error) {
	if len(m) != 1 {
		return nil, errors.New("an entity check is an object with exactly one key")
	}
	var name string
	var arg any
	for name, arg = range m {
	}
	ec := &entityCheck{name: name}
	var err error
	switch {
	case slices.Contains(listChecks, name):
		ec.fields, err = asStrings(arg)
	case name == "conditional":
		err = decodeArgs(arg, map[string]any{
			"if_field": &ec.ifField, "if_match": &ec.ifMatch,
			"then_field": &ec.thenField, "then_match": &ec.thenMatch, "then_err": &ec.thenErr,
		}, "if_field", "if_match", "then_field", "then_match")
	case name == "conditional_at_least_one_of":
		err = decodeArgs(arg, map[string]any{
			"if_field": &ec.ifField, "if_match": &ec.ifMatch,
			"then_at_least_one_of": &ec.thenAtLeastOneOf, "then_err": &ec.thenErr,
			"else_match": &ec.elseMatch, "else_then_at_least_one_of": &ec.elseThenAtLeastOneOf,
			"else_then_err": &ec.elseThenErr,
		}, "if_field", "if_match", "then_at_least_one_of")
		if err == nil && ec.elseMatch != nil && ec.elseThenAtLeastOneOf == nil {
			err = errors.New("else_then_at_least_one_of: required field missing with else_match")
		}
	case name == "mutually_exclusive_sets":
		err = decodeArgs(arg, map[string]any{"set1": &ec.set1, "set2": &ec.set2}, "set1", "set2")
	case name == "custom_entity_check":
		err = errors.New("needs a Lua function, which JSON cannot express")
	default:
		err = errors.New("unknown entity check")
	}
	if err != nil {
		return nil, within(name, err)
	}
	return ec, nil
}

// decodeArgs decodes a check's argument object into typed destinations.
func decodeArgs(arg any, dst map[string]any, required ...string) error {
	m, ok := arg.(map[string]any)
	if !ok {
		return errors.New("expected a record")
	}
	for _, k := range sortedKeys(m) {
		d, known := dst[k]
		if !known {
			return within(k, errors.New("unknown field"))
		}
		var err error
		switch d := d.(type) {
		case *string:
			*d, err = asString(m[k])
		case *[]string:
			*d, err = asStrings(m[k])
		case **Field:
			*d, err = decodeField(m[k])
			if err == nil {
				for _, attr := range setAttrs(*d) {
					if !slices.Contains(conditionalAttrs, attr) {
						err = within(attr, errors.New("not allowed in a conditional match"))
					}
				}
			}
		}
		if err != nil {
			return within(k, err)
		}
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return within(k, errors.New("required field missing"))
		}
	}
	return nil
}

func (ec *entityCheck) fieldNames() []string {
	var out []string
	out = append(out, ec.fields...)
	for _, s := range []string{ec.ifField, ec.thenField} {
		if s != "" {
			out = append(out, s)
		}
	}
	out = append(out, ec.thenAtLeastOneOf...)
	out = append(out, ec.elseThenAtLeastOneOf...)
	out = append(out, ec.set1...)
	out = append(out, ec.set2...)
	return out
}

// Kong's run_entity_check flags, per checker.
var (
	runWithMissing = map[string]bool{"at_least_one_of": true, "conditional_at_least_one_of": true,
		"mutually_required": true, "mutually_exclusive": true, "mutually_exclusive_sets": true}
	runWithInvalid = map[string]bool{"at_least_one_of": true, "conditional_at_least_one_of": true,
		"only_one_of": true, "distinct": true, "conditional": true}
)

// recordState is what entity checks need to know about a normalised record.
type recordState struct {
	c     *collector
	path  string // the record's path
	rec   *Field
	value map[string]any
	first int // index of the record's first error in c.errs
}

func (rs *recordState) fieldPath(name string) string {
	if rs.path == "" {
		return name
	}
	return rs.path + "." + name
}

// hasErrors reports whether the named field (or anything inside it) failed.
func (rs *recordState) hasErrors(name string) bool {
	p := rs.fieldPath(name)
	for _, fe := range rs.c.errs[rs.first:] {
		if !fe.Entity && (fe.Path == p || strings.HasPrefix(fe.Path, p+".") || strings.HasPrefix(fe.Path, p+"[")) {
			return true
		}
	}
	return false
}

// missing reports a required field without value, which Kong holds as
// nil (an optional unset field is ngx.null).
func (rs *recordState) missing(name string) bool {
	_, ok := rs.get(name)
	f := rs.rec.path(name)
	return !ok && (f == nil || f.isRequired())
}

func (rs *recordState) get(name string) (any, bool) {
	var cur any = rs.value
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

func (rs *recordState) nonEmpty(name string) bool {
	v, _ := rs.get(name)
	return isNonEmpty(v)
}

func isNonEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ", ")
}

func runEntityChecks(rs *recordState, checks []map[string]any) {
	for _, raw := range checks {
		ec, err := decodeCheck(raw)
		if err != nil { // Parse and ForConfig rule this out
			rs.c.addEntity(rs.path, "invalid entity check: "+err.Error())
			continue
		}
		rs.run(ec)
	}
}

func (rs *recordState) run(ec *entityCheck) {
	names := ec.fieldNames()
	invalid := false
	for _, n := range names {
		if v, ok := rs.get(n); ok {
			if f := rs.rec.path(n); f != nil && f.Type == TypeString && f.Referenceable && isReferenceValue(v) {
				return // Kong does not check vault references
			}
		}
		if rs.hasErrors(n) {
			invalid = true
		}
	}
	if invalid && !runWithInvalid[ec.name] {
		return
	}
	if !runWithMissing[ec.name] {
		required := ec.fields
		if ec.name == "conditional" {
			required = []string{ec.ifField}
		}
		for _, n := range required {
			if rs.missing(n) {
				if !rs.hasErrors(n) {
					rs.c.add(rs.fieldPath(n), "field required for entity check")
				}
				return
			}
		}
	}
	switch ec.name {
	case "at_least_one_of":
		for _, n := range ec.fields {
			if rs.nonEmpty(n) {
				return
			}
		}
		rs.c.addEntity(rs.path, "at least one of these fields must be non-empty: "+quotedList(ec.fields))
	case "only_one_of":
		count := 0
		for _, n := range ec.fields {
			if rs.nonEmpty(n) {
				count++
			}
		}
		if count != 1 {
			rs.c.addEntity(rs.path, "exactly one of these fields must be non-empty: "+quotedList(ec.fields))
		}
	case "distinct":
		var seen []any
		for _, n := range ec.fields {
			v, _ := rs.get(n)
			if !isNonEmpty(v) || !reflect.TypeOf(v).Comparable() {
				continue // Lua compares tables by identity: never equal
			}
			if slices.Contains(seen, v) {
				rs.c.addEntity(rs.path, "values of these fields must be distinct: "+quotedList(ec.fields))
				return
			}
			seen = append(seen, v)
		}
	case "mutually_required":
		count := 0
		for _, n := range ec.fields {
			if rs.nonEmpty(n) {
				count++
			}
		}
		if count != 0 && count != len(ec.fields) {
			rs.c.addEntity(rs.path, "all or none of these fields must be set: "+quotedList(ec.fields))
		}
	case "mutually_exclusive":
		count := 0
		for _, n := range ec.fields {
			if rs.nonEmpty(n) {
				count++
			}
		}
		if count > 1 {
			rs.c.addEntity(rs.path, "only one or none of these fields must be set: "+quotedList(ec.fields))
		}
	case "mutually_exclusive_sets":
		var ne1, ne2 []string
		for _, n := range ec.set1 {
			if rs.nonEmpty(n) {
				ne1 = append(ne1, n)
			}
		}
		for _, n := range ec.set2 {
			if rs.nonEmpty(n) {
				ne2 = append(ne2, n)
			}
		}
		if len(ne1) > 0 && len(ne2) > 0 {
			rs.c.addEntity(rs.path, fmt.Sprintf("these sets are mutually exclusive: (%s), (%s)", quotedList(ne1), quotedList(ne2)))
		}
	case "conditional":
		rs.conditional(ec)
	case "conditional_at_least_one_of":
		rs.conditionalAtLeastOneOf(ec)
	}
}

func (rs *recordState) conditional(ec *entityCheck) {
	ifValue, _ := rs.get(ec.ifField)
	if ok, _ := matches(overlay(rs.rec.path(ec.ifField), ec.ifMatch), ifValue); !ok {
		return
	}
	thenValue, _ := rs.get(ec.thenField)
	failed := func() {
		msg := fmt.Sprintf("failed conditional validation given value of field '%s'", ec.ifField)
		if ec.thenErr != "" {
			msg = luaFormat(ec.thenErr, ec.ifField)
		}
		rs.c.addEntity(rs.path, msg)
	}
	if ec.thenMatch.Required != nil && *ec.thenMatch.Required && thenValue == nil {
		rs.c.add(rs.fieldPath(ec.thenField), "required field missing")
		failed()
		return
	}
	if ok, msg := matches(overlay(rs.rec.path(ec.thenField), ec.thenMatch), thenValue); !ok {
		rs.c.add(rs.fieldPath(ec.thenField), msg)
		failed()
	}
}

func (rs *recordState) conditionalAtLeastOneOf(ec *entityCheck) {
	ifValue, _ := rs.get(ec.ifField)
	ifField := rs.rec.path(ec.ifField)
	names, custom := ec.thenAtLeastOneOf, ec.thenErr
	if ok, _ := matches(overlay(ifField, ec.ifMatch), ifValue); !ok {
		if ec.elseMatch == nil {
			return
		}
		if ok, _ := matches(overlay(ifField, ec.elseMatch), ifValue); !ok {
			return
		}
		names, custom = ec.elseThenAtLeastOneOf, ec.elseThenErr
	}
	for _, n := range names {
		if rs.nonEmpty(n) {
			return
		}
	}
	msg := "at least one of these fields must be non-empty: " + quotedList(names)
	if custom != "" {
		msg = luaFormat(custom, quotedList(names))
	}
	rs.c.addEntity(rs.path, msg)
}

// luaFormat applies string.format with one string argument, as Kong does
// for then_err.
func luaFormat(format, arg string) string {
	if !strings.Contains(format, "%s") {
		return strings.ReplaceAll(format, "%%", "%")
	}
	return strings.ReplaceAll(strings.Replace(format, "%s", arg, 1), "%%", "%")
}

// overlay is Kong's setmetatable(match, {__index = field}): the match's
// attributes over the field's definition.
func overlay(base, over *Field) *Field {
	out := &Field{}
	if base != nil {
		*out = *base
	}
	ov, dst := reflect.ValueOf(over).Elem(), reflect.ValueOf(out).Elem()
	for i := 0; i < ov.NumField(); i++ {
		if !ov.Field(i).IsZero() {
			dst.Field(i).Set(ov.Field(i))
		}
	}
	return out
}

// matches is Kong's validate_field used as a predicate: a nil value is
// ngx.null.
func matches(f *Field, v any) (bool, string) {
	if v == nil {
		switch {
		case f.Ne == any(Null):
			return false, errOr(f, "value must not be null")
		case f.Eq != nil && f.Eq != any(Null):
			return false, "value must be " + luaString(f.Eq)
		case f.isRequired():
			return false, "required field missing"
		}
		return true, ""
	}
	if f.Type == "" {
		// Nothing to type-check against (an unknown if_field): validators only.
		c := &collector{}
		f.validate(c, "", v)
		if len(c.errs) > 0 {
			return false, c.errs[0].Message
		}
		return true, ""
	}
	c := &collector{}
	f.normalize(c, "", v)
	if len(c.errs) > 0 {
		return false, c.errs[0].Message
	}
	return true, ""
}

func isReferenceValue(v any) bool {
	s, ok := v.(string)
	return ok && isReference(s)
}
