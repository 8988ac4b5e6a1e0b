package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// tagAttr is one item of a `kong:"…"` tag: [target.]name[=value].
type tagAttr struct {
	Target   []string // "elements", "keys", "values", outermost first
	Name     string
	Value    string
	HasValue bool
}

func (a tagAttr) key() string {
	return strings.Join(append(append([]string{}, a.Target...), a.Name), ".")
}

// jsonAttrs take a value that may be written as JSON (an array, an object
// or a string in double quotes), commas included.
var jsonAttrs = map[string]bool{
	"default": true, "eq": true, "ne": true, "contains": true, "one_of": true,
	"not_one_of": true, "examples": true, "match_all": true, "match_none": true,
	"match_any": true, "mutually_exclusive_subsets": true,
}

var tagTargets = map[string]bool{"elements": true, "keys": true, "values": true}

// parseTag splits a kong tag into attributes. Grammar (README.md, "Config
// tags"):
//
//	tag    = item *( "," *" " item )
//	item   = *( target "." ) name [ "=" value ]
//	target = "elements" / "keys" / "values"
//	value  = "'" *( not-"'" / "''" ) "'"   ; quoted: anything, '' is one '
//	       / json                          ; only for jsonAttrs, if it starts with [ { or "
//	       / *( not-"," )                  ; plain: up to the next comma
func parseTag(tag string) ([]tagAttr, error) {
	var out []tagAttr
	seen := map[string]bool{}
	i := 0
	for i < len(tag) {
		for i < len(tag) && tag[i] == ' ' {
			i++
		}
		start := i
		for i < len(tag) && tag[i] != '=' && tag[i] != ',' {
			i++
		}
		path := strings.TrimSpace(tag[start:i])
		if path == "" {
			return nil, fmt.Errorf("empty attribute at offset %d", start)
		}
		parts := strings.Split(path, ".")
		a := tagAttr{Name: parts[len(parts)-1]}
		for _, t := range parts[:len(parts)-1] {
			if !tagTargets[t] {
				return nil, fmt.Errorf("%s: %q is not elements, keys or values", path, t)
			}
			a.Target = append(a.Target, t)
		}
		if !isName(a.Name) {
			return nil, fmt.Errorf("%q is not an attribute name", a.Name)
		}
		if i < len(tag) && tag[i] == '=' {
			i++
			a.HasValue = true
			v, next, err := scanValue(tag, i, jsonAttrs[a.Name])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			a.Value, i = v, next
		}
		if i < len(tag) {
			if tag[i] != ',' {
				return nil, fmt.Errorf("%s: expected ',' at offset %d", path, i)
			}
			i++
			if i == len(tag) {
				return nil, errors.New("tag ends with ','")
			}
		}
		if seen[a.key()] {
			return nil, fmt.Errorf("%s: given twice", a.key())
		}
		seen[a.key()] = true
		out = append(out, a)
	}
	return out, nil
}

// scanValue reads the value that starts at tag[i], returning it unquoted
// and the index just past it.
func scanValue(tag string, i int, jsonOK bool) (string, int, error) {
	if i < len(tag) && tag[i] == '\'' {
		var b strings.Builder
		for j := i + 1; j < len(tag); j++ {
			if tag[j] != '\'' {
				b.WriteByte(tag[j])
				continue
			}
			if j+1 < len(tag) && tag[j+1] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			return b.String(), j + 1, nil
		}
		return "", 0, errors.New("unterminated quoted value")
	}
	if jsonOK && i < len(tag) && (tag[i] == '[' || tag[i] == '{' || tag[i] == '"') {
		dec := json.NewDecoder(strings.NewReader(tag[i:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", 0, fmt.Errorf("invalid JSON value: %w", err)
		}
		end := i + int(dec.InputOffset())
		return tag[i:end], end, nil
	}
	end := strings.IndexByte(tag[i:], ',')
	if end < 0 {
		return tag[i:], len(tag), nil
	}
	return tag[i : i+end], i + end, nil
}

// formatTag is the inverse of parseTag: it quotes values only when needed.
func formatTag(attrs []tagAttr) string {
	items := make([]string, len(attrs))
	for i, a := range attrs {
		s := a.key()
		if a.HasValue {
			s += "=" + quoteTagValue(a.Value, jsonAttrs[a.Name])
		}
		items[i] = s
	}
	return strings.Join(items, ",")
}

func quoteTagValue(v string, jsonOK bool) string {
	needs := strings.ContainsAny(v, ",") || strings.HasPrefix(v, "'")
	if jsonOK && v != "" && strings.ContainsRune("[{\"", rune(v[0])) {
		needs = !isJSONValue(v)
	}
	if !needs {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// isJSONValue reports whether v is exactly one JSON value, as scanValue
// would read it.
func isJSONValue(v string) bool {
	dec := json.NewDecoder(strings.NewReader(v))
	var raw json.RawMessage
	return dec.Decode(&raw) == nil && int(dec.InputOffset()) == len(v)
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}
