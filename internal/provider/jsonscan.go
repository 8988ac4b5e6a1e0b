package provider

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// This file holds a small scanner for the hot path of streams: finding a
// few top-level members of a chunk (usage, choices, error, type, index,
// delta) without decoding the whole chunk, and copying JSON strings as
// they are. It checks the syntax of what it scans (strings strictly:
// escapes, control characters, UTF-8, since they are copied into client
// output), so what it accepts encoding/json accepts too; values are decoded
// with encoding/json where they are used.

// text is what the scanner reads: event data (string) or a body.
type text interface{ ~string | ~[]byte }

// member returns the raw value of the top-level member key of the JSON
// object b, or nil when b is not an object, has no such member or is
// malformed. Keys are compared as written (providers do not escape them).
func member[T text](b T, key string) T {
	var found T
	members(b, func(k, v T) bool {
		if string(k) == key {
			found = v
			return false
		}
		return true
	})
	return found
}

// members calls fn with each top-level member of the object b (the key
// without quotes, as written, and the raw value) until fn returns false. It
// reports whether b is a well-formed object as far as it was scanned.
func members[T text](b T, fn func(key, val T) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end, ok := skipString(b, i)
		if !ok {
			return false
		}
		key := b[i+1 : end-1]
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		vend, ok := skipValue(b, i)
		if !ok {
			return false
		}
		if !fn(key, b[i:vend]) {
			return true
		}
		i = skipWS(b, vend)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return skipWS(b, i+1) == len(b)
		default:
			return false
		}
	}
}

func skipWS[T text](b T, i int) int {
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

// skipString returns the index after the JSON string starting at b[i],
// checking it strictly.
func skipString[T text](b T, i int) (int, bool) {
	i++ // the opening quote
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return 0, false
				}
				for k := i + 2; k < i+6; k++ {
					if !isHex(b[k]) {
						return 0, false
					}
				}
				i += 6
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		case c >= utf8.RuneSelf:
			_, size := utf8.DecodeRuneInString(string(b[i:min(i+utf8.UTFMax, len(b))]))
			if size == 1 {
				return 0, false
			}
			i += size
		default:
			i++
		}
	}
	return 0, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// maxScanDepth bounds nesting in skipValue; deeper input is malformed for
// our purposes (real chunks nest a few levels).
const maxScanDepth = 256

// skipValue returns the index after the JSON value starting at b[i],
// checking its syntax.
func skipValue[T text](b T, i int) (int, bool) {
	return skipValueDepth(b, i, 0)
}

func skipValueDepth[T text](b T, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxScanDepth {
		return 0, false
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i)
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == end {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				var ok bool
				if i, ok = skipString(b, i); !ok {
					return 0, false
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipWS(b, i+1)
			}
			var ok bool
			if i, ok = skipValueDepth(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case end:
				return i + 1, true
			default:
				return 0, false
			}
		}
	case 't':
		return skipLiteral(b, i, "true")
	case 'f':
		return skipLiteral(b, i, "false")
	case 'n':
		return skipLiteral(b, i, "null")
	}
	return skipNumber(b, i)
}

func skipLiteral[T text](b T, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// skipNumber checks JSON's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber[T text](b T, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

// isNull reports whether v is absent or JSON null.
func isNull[T text](v T) bool { return len(v) == 0 || string(v) == "null" }

// isEmptyArray reports whether v is [] (whitespace allowed).
func isEmptyArray[T text](v T) bool {
	if len(v) < 2 || v[0] != '[' {
		return false
	}
	return skipWS(v, 1) == len(v)-1 && v[len(v)-1] == ']'
}

// stringValue decodes a JSON string value; ok is false for anything else.
func stringValue[T text](v T) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if end, ok := skipString(v, 0); !ok || end != len(v) {
		return "", false
	}
	raw := v[1 : len(v)-1]
	if !hasEscape(raw) {
		return string(raw), true
	}
	var s string
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return "", false
	}
	return s, true
}

func hasEscape[T text](b T) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			return true
		}
	}
	return false
}

// intValue decodes a JSON integer.
func intValue[T text](v T) (int, bool) {
	n, err := strconv.Atoi(string(v))
	return n, err == nil
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xF])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hex[c>>4], hex[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
