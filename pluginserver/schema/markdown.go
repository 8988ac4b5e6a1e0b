package schema

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Markdown renders the plugin's config as a table for its README: one row
// per field (nested records flattened to dotted paths, `[]` for the
// elements of arrays and sets, `*` for map values) with its type, whether
// it is required, its default and its description followed by its
// constraints. The output depends only on the schema.
func Markdown(p *Plugin) string {
	var b strings.Builder
	b.WriteString("| Field | Type | Required | Default | Description |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	if cfg := p.Config(); cfg != nil {
		markdownRows(&b, "", cfg)
	}
	return b.String()
}

func markdownRows(b *strings.Builder, prefix string, rec *Field) {
	for _, nf := range rec.Fields {
		path, f := join(prefix, nf.Name), nf.Field
		required := "no"
		if f.isRequired() {
			required = "yes"
		}
		def := ""
		if f.Default != nil {
			def = code(jsonText(f.Default))
		}
		desc := f.Description
		if notes := constraints(f); notes != "" {
			desc = strings.TrimSpace(desc + " " + notes)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", cell(code(path)), typeName(f), required, cell(def), cell(desc))
		nestedRows(b, path, f)
	}
}

// nestedRows lists the fields of records inside f, however deep.
func nestedRows(b *strings.Builder, path string, f *Field) {
	switch {
	case f.Type == TypeRecord:
		markdownRows(b, path, f)
	case (f.Type == TypeArray || f.Type == TypeSet) && f.Elements != nil:
		nestedRows(b, path+"[]", f.Elements)
	case f.Type == TypeMap && f.Values != nil:
		nestedRows(b, path+".*", f.Values)
	}
}

func typeName(f *Field) string {
	switch {
	case (f.Type == TypeArray || f.Type == TypeSet) && f.Elements != nil:
		return f.Type + " of " + typeName(f.Elements)
	case f.Type == TypeMap && f.Keys != nil && f.Values != nil:
		return "map of " + typeName(f.Keys) + " to " + typeName(f.Values)
	}
	return f.Type
}

// constraints describes f's validators in sentences, then those of its
// elements, keys and values.
func constraints(f *Field) string {
	notes := ownConstraints(f)
	for _, sub := range []struct {
		label string
		f     *Field
	}{{"Elements", f.Elements}, {"Keys", f.Keys}, {"Values", f.Values}} {
		if sub.f == nil || sub.f.Type == TypeRecord {
			continue
		}
		if n := ownConstraints(sub.f); len(n) > 0 {
			notes = append(notes, sub.label+": "+strings.ToLower(n[0][:1])+n[0][1:])
			notes = append(notes, n[1:]...)
		}
	}
	return strings.Join(notes, " ")
}

func ownConstraints(f *Field) []string {
	var n []string
	add := func(format string, args ...any) { n = append(n, fmt.Sprintf(format, args...)) }
	if f.OneOf != nil {
		add("One of: %s.", codeList(f.OneOf))
	}
	if f.NotOneOf != nil {
		add("Not one of: %s.", codeList(f.NotOneOf))
	}
	if f.Eq != nil {
		add("Must be %s.", code(jsonText(f.Eq)))
	}
	if f.Ne != nil {
		add("Must not be %s.", code(jsonText(f.Ne)))
	}
	if len(f.Between) == 2 {
		add("Between %s and %s.", formatNumber(f.Between[0]), formatNumber(f.Between[1]))
	}
	if f.Gt != nil {
		add("Greater than %s.", formatNumber(*f.Gt))
	}
	unit := "Length"
	if f.Type != TypeString {
		unit = "Size"
	}
	if f.LenEq != nil {
		add("%s %d.", unit, *f.LenEq)
	}
	if f.LenMin != nil {
		add("%s at least %d.", unit, *f.LenMin)
	}
	if f.LenMax != nil {
		add("%s at most %d.", unit, *f.LenMax)
	}
	if f.StartsWith != "" {
		add("Starts with %s.", code(f.StartsWith))
	}
	if f.Match != "" {
		add("Matches the Lua pattern %s.", code(f.Match))
	}
	if f.NotMatch != "" {
		add("Does not match the Lua pattern %s.", code(f.NotMatch))
	}
	for _, r := range f.MatchAll {
		add("Matches the Lua pattern %s.", code(r.Pattern))
	}
	for _, r := range f.MatchNone {
		add("Does not match the Lua pattern %s.", code(r.Pattern))
	}
	if f.MatchAny != nil {
		pats := make([]any, len(f.MatchAny.Patterns))
		for i, p := range f.MatchAny.Patterns {
			pats[i] = p
		}
		add("Matches one of the Lua patterns %s.", codeList(pats))
	}
	if f.Contains != nil {
		add("Contains %s.", code(jsonText(f.Contains)))
	}
	if f.IsRegex {
		add("A regular expression.")
	}
	if f.UUID {
		add("A UUID.")
	}
	if f.Timestamp {
		add("A Unix timestamp.")
	}
	if f.Referenceable {
		add("Referenceable (a `{vault://…}` reference is resolved by Kong).")
	}
	if f.Encrypted {
		add("Encrypted at rest.")
	}
	return n
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func codeList(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		if s, ok := v.(string); ok {
			parts[i] = code(s)
		} else {
			parts[i] = code(jsonText(v))
		}
	}
	return strings.Join(parts, ", ")
}

// code makes an inline code span.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// cell escapes what would end a table cell (GitHub renders \| as | in code
// spans too).
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
