package schema

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		tag  string
		want []tagAttr
		err  string
	}{
		{"required", []tagAttr{{Name: "required"}}, ""},
		{"required, between=1:10", []tagAttr{{Name: "required"}, {Name: "between", Value: "1:10", HasValue: true}}, ""},
		{`default=["a","b"],type=set`, []tagAttr{{Name: "default", Value: `["a","b"]`, HasValue: true}, {Name: "type", Value: "set", HasValue: true}}, ""},
		{`default={"a":1,"b":[1,2]}`, []tagAttr{{Name: "default", Value: `{"a":1,"b":[1,2]}`, HasValue: true}}, ""},
		{`default="a,b"`, []tagAttr{{Name: "default", Value: `"a,b"`, HasValue: true}}, ""},
		{`match='^%d+,%d+$',len_max=9`, []tagAttr{{Name: "match", Value: "^%d+,%d+$", HasValue: true}, {Name: "len_max", Value: "9", HasValue: true}}, ""},
		{`err='can''t be empty'`, []tagAttr{{Name: "err", Value: "can't be empty", HasValue: true}}, ""},
		{`match=[%w_]+`, []tagAttr{{Name: "match", Value: "[%w_]+", HasValue: true}}, ""},
		{`match=%[`, []tagAttr{{Name: "match", Value: "%[", HasValue: true}}, ""},
		{"elements.len_max=128,values.elements.match=^a", []tagAttr{
			{Target: []string{"elements"}, Name: "len_max", Value: "128", HasValue: true},
			{Target: []string{"values", "elements"}, Name: "match", Value: "^a", HasValue: true}}, ""},
		{"one_of=a|b|c", []tagAttr{{Name: "one_of", Value: "a|b|c", HasValue: true}}, ""},
		{"default=", []tagAttr{{Name: "default", HasValue: true}}, ""},
		{"", nil, ""},
		{"required,", nil, "tag ends with ','"},
		{",required", nil, "empty attribute at offset 0"},
		{"required,required", nil, "required: given twice"},
		{"fields.x=1", nil, `fields.x: "fields" is not elements, keys or values`},
		{"Required", nil, `"Required" is not an attribute name`},
		{"err='open", nil, "err: unterminated quoted value"},
		{"err='a'b", nil, "err: expected ',' at offset 7"},
		{`default=[1,2`, nil, "default: invalid JSON value: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			got, err := parseTag(tt.tag)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			again, err := parseTag(formatTag(got))
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func FuzzTag(f *testing.F) {
	for _, seed := range []string{
		"required,between=1:1000000",
		"default=block,one_of=block|log",
		"referenceable,encrypted",
		"len_min=1,elements.len_max=128,elements.match=^[%w%.%-_:/]+$",
		`type=set,default=["a","b"]`,
		`match='^%d+,%d+$',err='can''t'`,
		`match_all=[{"pattern":"^a","err":"x, y"}]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		attrs, err := parseTag(tag)
		if err != nil {
			return
		}
		again, err := parseTag(formatTag(attrs))
		if err != nil {
			t.Fatalf("formatTag(parseTag(%q)) = %q does not parse: %v", tag, formatTag(attrs), err)
		}
		require.Equal(t, attrs, again)
		// Applying any parsed tag to any field must not panic.
		for _, typ := range []string{TypeString, TypeInteger, TypeArray, TypeMap, TypeRecord} {
			fld := &Field{Type: typ, Elements: &Field{Type: TypeString}, Keys: &Field{Type: TypeString}, Values: &Field{Type: TypeInteger}}
			for _, a := range attrs {
				_ = applyAttr(fld, a)
			}
		}
	})
}
