package unmask

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

var errJSON = errors.New("malformed JSON")

// edit replaces b[start:end] with raw.
type edit struct {
	start, end int
	raw        []byte
}

// walker visits every value of a JSON document with its path. Path
// elements are object keys, or for array elements their index as "#0",
// "#1", …. str gets each string value (not keys) as written, with its
// offset; scalar gets numbers and literals.
type walker struct {
	b      []byte
	path   []string
	str    func(path []string, raw []byte, at int)
	scalar func(path []string, raw []byte)
	depth  int
}

// maxDepth bounds nesting, so a hostile answer cannot exhaust the stack.
const maxDepth = 128

// walk visits the document b.
func walk(b []byte, str func(path []string, raw []byte, at int), scalar func(path []string, raw []byte)) error {
	w := walker{b: b, str: str, scalar: scalar}
	i, err := w.value(skipWS(b, 0))
	if err != nil {
		return err
	}
	if skipWS(b, i) != len(b) {
		return errJSON
	}
	return nil
}

// splice applies edits, in document order, to b; without edits it
// returns b itself.
func splice(b []byte, edits []edit) []byte {
	if len(edits) == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	prev := 0
	for _, e := range edits {
		out = append(out, b[prev:e.start]...)
		out = append(out, e.raw...)
		prev = e.end
	}
	return append(out, b[prev:]...)
}

// rewriteStrings returns b with the string values fn replaced; every other
// byte (numbers as written, key order, whitespace) is kept. It returns b
// itself when nothing changed.
func rewriteStrings(b []byte, fn func(path []string, s string) (string, bool)) ([]byte, error) {
	var edits []edit
	var ferr error
	err := walk(b, func(path []string, raw []byte, at int) {
		if ferr != nil {
			return
		}
		s, err := unquote(raw)
		if err != nil {
			ferr = err
			return
		}
		if r, ok := fn(path, s); ok && r != s {
			edits = append(edits, edit{at, at + len(raw), quote(r)})
		}
	}, nil)
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	return splice(b, edits), nil
}

func (w *walker) value(i int) (int, error) {
	if i >= len(w.b) {
		return 0, errJSON
	}
	switch c := w.b[i]; {
	case c == '{':
		return w.object(i)
	case c == '[':
		return w.array(i)
	case c == '"':
		end, err := scanString(w.b, i)
		if err != nil {
			return 0, err
		}
		if w.str != nil {
			w.str(w.path, w.b[i:end], i)
		}
		return end, nil
	default:
		end, err := scanScalar(w.b, i)
		if err == nil && w.scalar != nil {
			w.scalar(w.path, w.b[i:end])
		}
		return end, err
	}
}

func (w *walker) object(i int) (int, error) {
	if w.depth++; w.depth > maxDepth {
		return 0, errJSON
	}
	defer func() { w.depth-- }()
	i = skipWS(w.b, i+1)
	if i < len(w.b) && w.b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(w.b) || w.b[i] != '"' {
			return 0, errJSON
		}
		end, err := scanString(w.b, i)
		if err != nil {
			return 0, err
		}
		key, err := unquote(w.b[i:end])
		if err != nil {
			return 0, err
		}
		i = skipWS(w.b, end)
		if i >= len(w.b) || w.b[i] != ':' {
			return 0, errJSON
		}
		w.path = append(w.path, key)
		i, err = w.value(skipWS(w.b, i+1))
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return 0, err
		}
		i = skipWS(w.b, i)
		if i >= len(w.b) {
			return 0, errJSON
		}
		switch w.b[i] {
		case ',':
			i = skipWS(w.b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, errJSON
		}
	}
}

func (w *walker) array(i int) (int, error) {
	if w.depth++; w.depth > maxDepth {
		return 0, errJSON
	}
	defer func() { w.depth-- }()
	i = skipWS(w.b, i+1)
	if i < len(w.b) && w.b[i] == ']' {
		return i + 1, nil
	}
	for n := 0; ; n++ {
		w.path = append(w.path, index(n))
		var err error
		i, err = w.value(i)
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return 0, err
		}
		i = skipWS(w.b, i)
		if i >= len(w.b) {
			return 0, errJSON
		}
		switch w.b[i] {
		case ',':
			i = skipWS(w.b, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, errJSON
		}
	}
}

var indexes = func() (out [16]string) {
	for i := range out {
		out[i] = "#" + strconv.Itoa(i)
	}
	return out
}()

// index is the path element of array element n.
func index(n int) string {
	if n < len(indexes) {
		return indexes[n]
	}
	return "#" + strconv.Itoa(n)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the string starting at b[i].
func scanString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
		case c < 0x20:
			return 0, errJSON
		}
	}
	return 0, errJSON
}

// scanScalar returns the index after the number or literal at b[i]; it
// only delimits it, json.Valid on the whole document is the caller's check.
func scanScalar(b []byte, i int) (int, error) {
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		if c == '"' || c == '{' || c == '[' || c == ':' {
			return 0, errJSON
		}
		j++
	}
	if !validScalar(b[i:j]) {
		return 0, errJSON
	}
	return j, nil
}

// validScalar reports whether b is a JSON number or literal.
func validScalar(b []byte) bool {
	switch string(b) {
	case "true", "false", "null":
		return true
	case "":
		return false
	}
	i := 0
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || (n > 1 && b[start] == '0') {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

func unquote(raw []byte) (string, error) {
	simple := true
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errJSON
	}
	return s, nil
}

// quote encodes s as a JSON string the way encoding/json does, without
// escaping HTML characters (providers do not either).
func quote(s string) []byte {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// jsonEscape is s as it appears inside a JSON string, without the quotes.
func jsonEscape(s string) string {
	q := quote(s)
	return string(q[1 : len(q)-1])
}
