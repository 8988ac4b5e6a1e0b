package llm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScanValue(t *testing.T) {
	tests := []struct {
		in   string
		want int // end of the first value
	}{
		{`"abc" x`, 5},
		{`"a\"b" x`, 6},
		{`"a\\" x`, 5},
		{`"a\\\"" x`, 7},
		{`"\\\\" x`, 6},
		{`"unterminated`, -1},
		{`"ends in escape\"`, -1},
		{`{"a":"}"} x`, 9},
		{`[1,[2,{"b":"]"}]] x`, 17},
		{`[1,2`, -1},
		{`123,`, 3},
		{`-1.5e3}`, 6},
		{`true]`, 4},
		{`null`, 4},
		{``, -1},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, scanValue([]byte(tt.in), 0))
		})
	}
}

func TestDecodeKeepsLayout(t *testing.T) {
	body := "{ \"a\" : 1 ,\n\t\"b\":[ 1 , \"x\" ]\n}"
	a := &arena{}
	root := &node{raw: []byte(body)}
	dup, err := root.decodeObject(a)
	require.NoError(t, err)
	require.Empty(t, dup)
	require.Len(t, root.c.members, 2)
	require.Equal(t, "a", string(root.c.members[0].key))
	require.Equal(t, ` "a" : `, string(root.c.members[0].head))
	require.Equal(t, " ,\n\t\"b\":", string(root.c.members[1].head))
	require.Equal(t, "\n", string(root.c.tail))
	arr := root.get("b")
	require.NoError(t, arr.decodeArray(a))
	require.Len(t, arr.items(), 2)

	// Rebuilding every container reproduces the body exactly.
	root.markDirty()
	arr.markDirty()
	require.Equal(t, body, string(root.encode(nil)))

	arr.items()[1].setRaw([]byte(`"y"`))
	root.set("c", []byte(`true`))
	require.Equal(t, "{ \"a\" : 1 ,\n\t\"b\":[ 1 , \"y\" ] ,\n\t\"c\":true\n}", string(root.encode(nil)))
	root.del("a")
	require.Equal(t, "{ \n\t\"b\":[ 1 , \"y\" ] ,\n\t\"c\":true\n}", string(root.encode(nil)))
	root.del("c")
	require.Equal(t, "{ \n\t\"b\":[ 1 , \"y\" ]\n}", string(root.encode(nil)))
	root.set("d", []byte(`null`))
	require.Equal(t, "{ \n\t\"b\":[ 1 , \"y\" ], \n\t\"d\":null\n}", string(root.encode(nil)))
}

func TestDecodeEmptyAndEscapedKeys(t *testing.T) {
	a := &arena{}
	for _, body := range []string{`{}`, `{ }`, "{\n}"} {
		n := &node{raw: []byte(body)}
		_, err := n.decodeObject(a)
		require.NoError(t, err)
		n.set("k", []byte(`1`))
		require.Equal(t, `{"k":1`+body[1:], string(n.encode(nil)))
	}
	for _, body := range []string{`[]`, `[ ]`} {
		n := &node{raw: []byte(body)}
		require.NoError(t, n.decodeArray(a))
		require.Empty(t, n.items())
	}
	n := &node{raw: []byte(`{"\u006b":1,"k\"":2}`)}
	_, err := n.decodeObject(a)
	require.NoError(t, err)
	require.Equal(t, `1`, string(n.get("k").raw))
	require.Equal(t, `2`, string(n.get(`k"`).raw))
	n.set("k", []byte(`3`))
	require.Equal(t, `{"\u006b":3,"k\"":2}`, string(n.encode(nil)))
}

func TestDecodeDuplicates(t *testing.T) {
	a := &arena{}
	for _, keys := range []int{2, linearKeys, linearKeys + 1, 3 * linearKeys} {
		var b strings.Builder
		b.WriteString(`{`)
		for i := range keys {
			b.WriteString(`"k` + strings.Repeat("x", i) + `":0,`)
		}
		b.WriteString(`"kx":1}`)
		n := &node{raw: []byte(b.String())}
		dup, err := n.decodeObject(a)
		require.NoError(t, err)
		require.Equal(t, "kx", dup, keys)
	}
}

func TestDecodeMalformed(t *testing.T) {
	// The parser only sees valid JSON, but the splitters must not panic
	// when that is not so.
	a := &arena{}
	for _, body := range []string{`{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,`, `{"a" 1}`, `{1:2}`, `{"a":1]`, `{"a":"}`} {
		n := &node{raw: []byte(body)}
		_, err := n.decodeObject(a)
		require.Error(t, err, body)
	}
	for _, body := range []string{`[`, `[1`, `[1,`, `[1}`, `["]`} {
		n := &node{raw: []byte(body)}
		require.Error(t, n.decodeArray(a), body)
	}
}

func TestEncodeCachesAndReencodes(t *testing.T) {
	a := &arena{}
	root := &node{raw: []byte(`{"a":{"b":"x"},"c":"y"}`)}
	_, err := root.decodeObject(a)
	require.NoError(t, err)
	inner := root.get("a")
	_, err = inner.decodeObject(a)
	require.NoError(t, err)
	inner.get("b").setRaw([]byte(`"X"`))
	first := root.encode(nil)
	require.Equal(t, `{"a":{"b":"X"},"c":"y"}`, string(first))
	require.False(t, root.dirty)
	// An edit after an encode rebuilds from the cached bytes of the rest.
	root.get("c").setRaw([]byte(`"Y"`))
	require.Equal(t, `{"a":{"b":"X"},"c":"Y"}`, string(root.encode(nil)))
	require.Equal(t, `{"a":{"b":"X"},"c":"y"}`, string(first), "earlier results are not overwritten")
}

func TestCarveIsolates(t *testing.T) {
	var chunk []int
	x := carve(&chunk, []int{1, 2})
	y := carve(&chunk, []int{3, 4})
	x = append(x, 9)
	require.Equal(t, []int{1, 2, 9}, x)
	require.Equal(t, []int{3, 4}, y)
}

func TestMeasure(t *testing.T) {
	ok, containers, values := measure([]byte(`{"a":[1,2,{"b":"[,{"}],"c":3}`), 3)
	require.True(t, ok)
	require.Equal(t, 3, containers)
	require.Equal(t, 7, values)
	ok, _, _ = measure([]byte(`[[[[]]]]`), 3)
	require.False(t, ok)
}

func TestQuote(t *testing.T) {
	require.Equal(t, `"<a> & b"`, string(quote("<a> & b")))
	require.Equal(t, `"\"\\\n\u0001"`, string(quote("\"\\\n\x01")))
	require.Equal(t, `"\ufffd"`, string(quote("\xff")))
	s, ok := unquote([]byte(`"caf\u00e9"`))
	require.True(t, ok)
	require.Equal(t, "café", s)
}

// Rebuilding every container the parser decoded gives back the body, byte
// for byte: the layout is kept, not only the meaning.
func TestRebuildIsIdentity(t *testing.T) {
	var bodies [][]byte
	reqs, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	require.NoError(t, err)
	for _, p := range reqs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		bodies = append(bodies, b)
	}
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	require.NoError(t, err)
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		lines := strings.Split(string(b), "\n")
		require.GreaterOrEqual(t, len(lines), 2, p)
		body, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		require.NoError(t, err, p)
		bodies = append(bodies, []byte(body))
	}
	parsed := 0
	for _, body := range bodies {
		r, err := Parse(FormatUnknown, body)
		if err != nil {
			continue
		}
		parsed++
		markAll(r.doc.root)
		require.Equal(t, string(trimWS(body)), string(r.doc.root.encode(nil)))
	}
	require.Greater(t, parsed, len(reqs))
}

func markAll(n *node) {
	if n.c == nil {
		return
	}
	n.dirty = true
	for _, m := range n.c.members {
		markAll(m.val)
	}
	for _, e := range n.c.elems {
		markAll(e)
	}
}
