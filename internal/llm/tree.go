package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// node is one JSON value of the body. It starts opaque (raw bytes only); the
// parser decodes the objects and arrays it interprets, and only those. An
// edit replaces a leaf's raw bytes and marks its ancestors dirty, so that
// encode rebuilds the dirty containers and copies everything else verbatim:
// unknown members, their order and their formatting survive.
type node struct {
	raw    []byte // the value as written in the body, or as last set
	parent *node
	c      *container // set once decoded
	kind   byte       // 0 while opaque, '{' or '[' once decoded
	dirty  bool       // a descendant changed; raw is stale
}

// container is the content of a decoded object or array.
type container struct {
	members []member // of an object
	elems   []*node  // of an array
	pres    [][]byte // the bytes before each element: whitespace and comma
	tail    []byte   // whitespace before the closing bracket
}

// member is one member of a decoded object. It keeps every byte from the
// end of the previous value to its own, so that a rebuilt object is laid out
// exactly as the original was.
type member struct {
	key  []byte // unescaped; aliases the body unless the key has escapes
	head []byte // whitespace, comma (but for the first), key as written, colon
	val  *node
}

// arena allocates the nodes of one parse in chunks, which takes most of the
// garbage out of parsing.
type arena struct {
	nodes   []node
	conts   []container
	members []member
	elems   []*node
	pres    [][]byte
	// scratch collects one container's members or elements before they
	// are copied into a chunk at their final size.
	scratchM []member
	scratchE []*node
	scratchP [][]byte
}

func (a *arena) node(raw []byte, parent *node) *node {
	if a == nil {
		return &node{raw: raw, parent: parent}
	}
	if len(a.nodes) == cap(a.nodes) {
		a.nodes = make([]node, 0, chunk(cap(a.nodes), 1))
	}
	a.nodes = append(a.nodes, node{raw: raw, parent: parent})
	return &a.nodes[len(a.nodes)-1]
}

func (a *arena) container() *container {
	if len(a.conts) == cap(a.conts) {
		a.conts = make([]container, 0, chunk(cap(a.conts), 1))
	}
	a.conts = append(a.conts, container{})
	return &a.conts[len(a.conts)-1]
}

// carve returns a copy of src in chunk's spare room, its capacity capped so
// that an append reallocates instead of overwriting the next carving.
func carve[T any](chunkp *[]T, src []T) []T {
	c := *chunkp
	if cap(c)-len(c) < len(src) {
		c = make([]T, 0, chunk(cap(c), len(src)))
	}
	n := len(c)
	c = append(c, src...)
	*chunkp = c
	return c[n:len(c):len(c)]
}

// chunk is the size of the next chunk after one of size prev, for at least
// need items.
func chunk(prev, need int) int {
	n := min(max(2*prev, 16), 1024)
	return max(n, need)
}

// errMalformed is returned by the splitters for input that json.Valid would
// have rejected. It is never expected, but keeps a scanner bug from becoming
// a panic.
var errMalformed = errors.New("malformed JSON")

// jsonType names the JSON type of a raw value for error messages.
func jsonType(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func (n *node) isNull() bool { return n == nil || (n.kind == 0 && len(n.raw) > 0 && n.raw[0] == 'n') }
func (n *node) isObject() bool {
	return n != nil && (n.kind == '{' || (n.kind == 0 && len(n.raw) > 0 && n.raw[0] == '{'))
}
func (n *node) isArray() bool {
	return n != nil && (n.kind == '[' || (n.kind == 0 && len(n.raw) > 0 && n.raw[0] == '['))
}
func (n *node) isString() bool { return n != nil && n.kind == 0 && len(n.raw) > 0 && n.raw[0] == '"' }

// items returns the elements of a decoded array.
func (n *node) items() []*node {
	if n.c == nil {
		return nil
	}
	return n.c.elems
}

// linearKeys is the object size up to which duplicate keys are found by a
// linear search.
const linearKeys = 16

// decodeObject splits an object node into members. It reports a duplicate
// key as dupKey: providers keep the last of two equal keys while a scanner
// may read the first, so a body with both could hide text from the checks.
func (n *node) decodeObject(a *arena) (dupKey string, err error) {
	if n.kind == '{' {
		return "", nil
	}
	b := n.raw
	if len(b) < 2 || b[0] != '{' {
		return "", errMalformed
	}
	ms := a.scratchM[:0]
	defer func() { a.scratchM = ms[:0] }()
	var seen map[string]struct{}
	start := 1
	i := skipWS(b, start)
	if i < len(b) && b[i] == '}' {
		n.decoded('{', a, ms, b[start:i])
		return "", nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return "", errMalformed
		}
		end := scanString(b, i)
		if end < 0 {
			return "", errMalformed
		}
		key, ok := unquoteBytes(b[i:end])
		if !ok {
			return "", errMalformed
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return "", errMalformed
		}
		i = skipWS(b, i+1)
		vend := scanValue(b, i)
		if vend < 0 {
			return "", errMalformed
		}
		if seen != nil {
			if _, dup := seen[string(key)]; dup {
				return string(key), nil
			}
			seen[string(key)] = struct{}{}
		} else {
			for _, o := range ms {
				if string(o.key) == string(key) {
					return string(key), nil
				}
			}
			if len(ms) == linearKeys {
				// Past a few keys a set keeps the check linear in the body.
				seen = make(map[string]struct{}, 2*linearKeys)
				for _, o := range ms {
					seen[string(o.key)] = struct{}{}
				}
				seen[string(key)] = struct{}{}
			}
		}
		ms = append(ms, member{key: key, head: b[start:i], val: a.node(b[i:vend], n)})
		start = vend
		i = skipWS(b, vend)
		if i >= len(b) {
			return "", errMalformed
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			n.decoded('{', a, ms, b[start:i])
			return "", nil
		default:
			return "", errMalformed
		}
	}
	return "", errMalformed
}

// decodeArray splits an array node into elements.
func (n *node) decodeArray(a *arena) error {
	if n.kind == '[' {
		return nil
	}
	b := n.raw
	if len(b) < 2 || b[0] != '[' {
		return errMalformed
	}
	es, pres := a.scratchE[:0], a.scratchP[:0]
	defer func() { a.scratchE, a.scratchP = es[:0], pres[:0] }()
	start := 1
	i := skipWS(b, start)
	if i < len(b) && b[i] == ']' {
		n.decodedArray(a, es, pres, b[start:i])
		return nil
	}
	for i < len(b) {
		vend := scanValue(b, i)
		if vend < 0 {
			return errMalformed
		}
		es = append(es, a.node(b[i:vend], n))
		pres = append(pres, b[start:i])
		start = vend
		i = skipWS(b, vend)
		if i >= len(b) {
			return errMalformed
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			n.decodedArray(a, es, pres, b[start:i])
			return nil
		default:
			return errMalformed
		}
	}
	return errMalformed
}

func (n *node) decoded(kind byte, a *arena, ms []member, tail []byte) {
	c := a.container()
	c.members, c.tail = carve(&a.members, ms), tail
	n.kind, n.c = kind, c
}

func (n *node) decodedArray(a *arena, es []*node, pres [][]byte, tail []byte) {
	c := a.container()
	c.elems, c.pres, c.tail = carve(&a.elems, es), carve(&a.pres, pres), tail
	n.kind, n.c = '[', c
}

// get returns the value of key in a decoded object, or nil.
func (n *node) get(key string) *node {
	if n.c == nil {
		return nil
	}
	for _, m := range n.c.members {
		if string(m.key) == key {
			return m.val
		}
	}
	return nil
}

// set replaces (or appends) key in a decoded object with raw.
func (n *node) set(key string, raw []byte) {
	if v := n.get(key); v != nil {
		v.setRaw(raw)
		return
	}
	head := append(quote(key), ':')
	if k := len(n.c.members); k > 0 {
		// Lay the new member out as its predecessor.
		prev := n.c.members[k-1].head
		i := skipWS(prev, 0)
		comma := i < len(prev) && prev[i] == ','
		if comma {
			i = skipWS(prev, i+1)
		}
		if end := scanString(prev, i); end > 0 {
			head = make([]byte, 0, len(prev)+len(key)+1)
			if !comma {
				head = append(head, ',')
			}
			head = append(head, prev[:i]...)
			head = append(head, quote(key)...)
			head = append(head, prev[end:]...)
		} else {
			head = append([]byte{','}, head...)
		}
	}
	n.c.members = append(n.c.members, member{key: []byte(key), head: head, val: &node{raw: raw, parent: n}})
	n.markDirty()
}

// del removes key from a decoded object.
func (n *node) del(key string) {
	for i, m := range n.c.members {
		if string(m.key) != key {
			continue
		}
		ms := append(n.c.members[:i:i], n.c.members[i+1:]...)
		if i == 0 && len(ms) > 0 {
			// The new first member loses its comma.
			h := ms[0].head
			if j := skipWS(h, 0); j < len(h) && h[j] == ',' {
				ms[0].head = append(append([]byte{}, h[:j]...), h[j+1:]...)
			}
		}
		n.c.members = ms
		n.markDirty()
		return
	}
}

// setRaw replaces the node's value; it becomes opaque.
func (n *node) setRaw(raw []byte) {
	n.raw, n.kind, n.c, n.dirty = raw, 0, nil, false
	if n.parent != nil {
		n.parent.markDirty()
	}
}

func (n *node) markDirty() {
	for p := n; p != nil; p = p.parent {
		p.dirty = true
	}
}

// encode appends the node's JSON to buf: the raw bytes when nothing below it
// changed, else the container rebuilt from its members' bytes, whitespace
// and order.
func (n *node) encode(buf []byte) []byte {
	if !n.dirty {
		return append(buf, n.raw...)
	}
	start := len(buf)
	switch n.kind {
	case '{':
		buf = append(buf, '{')
		for _, m := range n.c.members {
			buf = append(buf, m.head...)
			buf = m.val.encode(buf)
		}
		buf = append(buf, n.c.tail...)
		buf = append(buf, '}')
	case '[':
		buf = append(buf, '[')
		for i, e := range n.c.elems {
			buf = append(buf, n.c.pres[i]...)
			buf = e.encode(buf)
		}
		buf = append(buf, n.c.tail...)
		buf = append(buf, ']')
	default:
		buf = append(buf, n.raw...)
	}
	// Later encodes copy the result instead of rebuilding it. The capped
	// capacity keeps an append to raw from writing into buf.
	n.raw = buf[start:len(buf):len(buf)]
	n.dirty = false
	return buf
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the index after the string starting at b[i] == '"', or
// -1 if it is unterminated.
func scanString(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		esc := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			esc++
		}
		if esc%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// scanValue returns the index after the value starting at b[i], or -1.
func scanValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := scanString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// measure reports whether b nests objects and arrays at most max deep, and
// counts its containers and values (an upper bound of what a parse
// decodes). b must be valid JSON.
func measure(b []byte, max int) (ok bool, containers, values int) {
	depth := 0
	for j := 0; j < len(b); j++ {
		switch b[j] {
		case '"':
			end := scanString(b, j)
			if end < 0 {
				return false, 0, 0
			}
			j = end - 1
		case '{', '[':
			containers++
			depth++
			if depth > max {
				return false, 0, 0
			}
		case '}', ']':
			depth--
		case ',':
			values++
		}
	}
	return true, containers, values + containers + 1
}

// newArena returns an arena sized for a body with the given counts, capped
// so that a body of opaque values does not reserve memory it never uses.
func newArena(containers, values int) *arena {
	values = min(values, 256)
	return &arena{
		nodes:   make([]node, 0, values),
		conts:   make([]container, 0, min(containers, 64)),
		members: make([]member, 0, values),
	}
}

// unquote decodes a raw JSON string, quotes included.
func unquote(raw []byte) (string, bool) {
	b, ok := unquoteBytes(raw)
	return string(b), ok
}

// unquoteBytes is unquote without a copy for strings that have no escapes.
func unquoteBytes(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// quote encodes s as a JSON string without HTML escaping, as providers and
// SDKs write it.
func quote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func encodeInt(v int) []byte { return strconv.AppendInt(nil, int64(v), 10) }

func encodeBool(v bool) []byte {
	if v {
		return []byte("true")
	}
	return []byte("false")
}
