package guard

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Normalizer turns text into the two views the guard matches on: the
// normalized view (NFKC, no invisible characters, lower case, collapsed
// white space), which patterns see, and the folded view (the normalized
// view with look-alike letters, leetspeak digits and diacritics folded and
// punctuation turned into spaces), which phrases see.
//
// A Normalizer keeps its buffers between calls, so reusing one saves
// allocations; the zero value is ready to use. It is not safe for
// concurrent use.
type Normalizer struct {
	a, b []byte
}

// Normalize returns the normalized view of s (see [Normalizer]).
func Normalize(s string) string {
	var n Normalizer
	return n.Normalize(s)
}

// Fold returns the folded view of s, which should be a [Normalize] output.
func Fold(s string) string {
	var n Normalizer
	return string(n.AppendFold(nil, s))
}

// Normalize returns the normalized view of s. When s is already normalized
// (most ASCII prompts), it returns s itself without allocating.
func (n *Normalizer) Normalize(s string) string {
	if isNormalASCII(s) {
		return s
	}
	n.b = n.AppendNormalize(n.b[:0], s)
	return string(n.b)
}

// AppendNormalize appends the normalized view of s to dst. ASCII text is
// handled in one pass without allocating when dst has room.
func (n *Normalizer) AppendNormalize(dst []byte, s string) []byte {
	if isASCII(s) {
		return appendCollapsed(dst, s)
	}
	// Invisible characters go first, so that NFKC composes what they
	// separated; case folding can leave text that is not NFKC, so NFKC
	// runs again after it.
	n.a = appendVisible(n.a[:0], s)
	n.b = norm.NFKC.Append(n.b[:0], n.a...)
	n.a = appendLower(n.a[:0], n.b)
	n.b = norm.NFKC.Append(n.b[:0], n.a...)
	return appendCollapsed(dst, bstr(n.b))
}

func isASCII(s string) bool {
	// Eight bytes at a time: any byte from 0x80 sets a high bit.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isNormalASCII reports whether s is ASCII and already in normal form.
func isNormalASCII(s string) bool {
	prevSpace := true // no leading white space
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf, c >= 'A' && c <= 'Z', c < 0x20 && c != '\n', c == 0x7f:
			return false
		case c == ' ' || c == '\n':
			if prevSpace {
				return false
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return !prevSpace || len(s) == 0
}

// invisible reports whether r is dropped: controls other than tab and
// newline, format characters (zero-width spaces and joiners, bidi
// controls, soft hyphen, tags) and a few other characters that render as
// nothing.
func invisible(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return true
	case r == 0x034f, r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0, r == utf8.RuneError,
		r >= 0xfe00 && r <= 0xfe0f, r >= 0xe0100 && r <= 0xe01ef:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

func appendVisible(dst []byte, s string) []byte {
	for _, r := range s {
		if !invisible(r) {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

func appendLower(dst, src []byte) []byte {
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		src = src[size:]
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// appendCollapsed drops invisible characters, lower-cases ASCII and turns
// each run of white space into one space, or one newline when the run
// holds a line break; leading and trailing white space goes.
func appendCollapsed(dst []byte, s string) []byte {
	start := len(dst)
	// The output is never longer than s: characters are kept or dropped,
	// and a separator stands for at least one white-space byte.
	dst = slices.Grow(dst, len(s))
	out := dst[start : start+len(s)]
	w := 0
	space := byte(0) // pending separator
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch k := asciiCollapse[c]; k {
			case collapseDrop:
				continue
			case collapseSpace:
				if space == 0 {
					space = ' '
				}
				continue
			case collapseLine:
				space = '\n'
				continue
			default:
				if space != 0 && w > 0 {
					out[w] = space
					w++
				}
				space = 0
				out[w] = k
				w++
			}
			// A run of plain characters, the common case.
			for i < len(s) {
				k := asciiCollapse[s[i]]
				if k < collapsePlain {
					break
				}
				out[w] = k
				w++
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case invisible(r):
			continue
		case r == 0x2028 || r == 0x2029 || r == 0x85:
			space = '\n'
			continue
		case unicode.IsSpace(r):
			if space == 0 {
				space = ' '
			}
			continue
		}
		if space != 0 && w > 0 {
			out[w] = space
			w++
		}
		space = 0
		w += copy(out[w:], s[i-size:i])
	}
	return dst[:start+w]
}

// asciiCollapse is appendCollapsed's view of an ASCII byte: one of the
// kinds below, or (collapsePlain and above) the byte to write.
const (
	collapseDrop  = 1
	collapseSpace = 2
	collapseLine  = 3
	collapsePlain = 4
)

var asciiCollapse = func() (t [256]byte) {
	for c := range utf8.RuneSelf {
		switch {
		case c == ' ' || c == '\t':
			t[c] = collapseSpace
		case c == '\n':
			t[c] = collapseLine
		case c < 0x20 || c == 0x7f:
			t[c] = collapseDrop
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		default:
			t[c] = byte(c)
		}
	}
	// Bytes from 0x80 are 0, below collapsePlain: they end a run.
	return t
}()

// asciiFold maps each ASCII byte of the normalized view to its folded
// form; 0 marks a separator (and every byte from 0x80, which is not ASCII).
var asciiFold = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(c)
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	t['_'] = '_'
	// Leetspeak. One and l both fold to i, so "1gnore" and "ru1es" meet
	// the phrases "ignore" and "rules", which fold the same way.
	for from, to := range map[byte]byte{'0': 'o', '1': 'i', 'l': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'} {
		t[from] = to
	}
	return t
}()

// homoglyphs maps lower-case Cyrillic, Greek and Latin look-alikes to the
// Latin letter they imitate. NFKC has already folded fullwidth and
// mathematical alphanumerics.
var homoglyphs = map[rune]byte{
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ԁ': 'd', 'һ': 'h', 'ӏ': 'i',
	'ԛ': 'q', 'ԝ': 'w', 'ɡ': 'g', 'ɑ': 'a', 'ı': 'i', 'ȷ': 'j', 'ℓ': 'i',
	'α': 'a', 'β': 'b', 'γ': 'y', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o',
	'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'ς': 's',
}

// AppendFold appends the folded view of the normalized text s to dst:
// look-alikes and leetspeak folded, diacritics dropped, every run of
// characters that are neither letters nor digits turned into one space.
func (n *Normalizer) AppendFold(dst []byte, s string) []byte {
	start := len(dst)
	dst = slices.Grow(dst, len(s))
	sep := false
	// ones counts the one-byte words that end just before the current
	// one; only a run of three or more needs squeezeSpelled.
	ones, spelled := 0, false
	word := start // start of the current word
	// space ends the current word and starts another.
	space := func() {
		if len(dst)-word == 1 {
			if ones++; ones >= 3 {
				spelled = true
			}
		} else {
			ones = 0
		}
		dst = append(dst, ' ')
		word = len(dst)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			f := asciiFold[c]
			if f == 0 {
				sep = true
				continue
			}
			if sep && len(dst) > start {
				space()
			}
			sep = false
			dst = append(dst, f)
			// The rest of the word, the common case.
			for i < len(s) {
				f := asciiFold[s[i]]
				if f == 0 {
					break
				}
				dst = append(dst, f)
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if f, ok := homoglyphs[r]; ok {
			i += size
			if sep && len(dst) > start {
				space()
			}
			sep = false
			dst = append(dst, f)
			continue
		}
		p := norm.NFD.PropertiesString(s[i:])
		i += size
		d := p.Decomposition()
		if len(d) == 0 {
			d = utf8.AppendRune(n.a[:0], r)
		}
		for len(d) > 0 {
			r, size := utf8.DecodeRune(d)
			d = d[size:]
			switch {
			case unicode.Is(unicode.Mn, r) || invisible(r):
				// Diacritics go, so "ïgnöre" meets "ignore".
				continue
			case r < utf8.RuneSelf:
				if f := asciiFold[r]; f != 0 {
					if sep && len(dst) > start {
						space()
					}
					sep = false
					dst = append(dst, f)
				} else {
					sep = true
				}
			case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
				if sep && len(dst) > start {
					space()
				}
				sep = false
				if f, ok := homoglyphs[r]; ok {
					dst = append(dst, f)
				} else {
					dst = utf8.AppendRune(dst, r)
				}
			default:
				sep = true
			}
		}
	}
	if len(dst)-word == 1 && ones >= 2 {
		spelled = true
	}
	if !spelled {
		return dst
	}
	return squeezeSpelled(dst, start)
}

// appendViews appends the normalized view of s to norm and its folded
// view to folded, like AppendNormalize then AppendFold, in one pass when
// s is ASCII (found out on the way).
func (n *Normalizer) appendViews(norm, folded []byte, s string) ([]byte, []byte) {
	ns, fs := len(norm), len(folded)
	// Neither view of ASCII text is longer than it (see appendCollapsed
	// and AppendFold).
	norm = slices.Grow(norm, len(s))
	folded = slices.Grow(folded, len(s))
	no, fo := norm[ns:ns+len(s)], folded[fs:fs+len(s)]
	w, v := 0, 0
	space := byte(0) // pending separator of the normalized view
	sep := false     // pending separator of the folded view
	ones, spelled, word := 0, false, 0
	for i := 0; i < len(s); i++ {
		k := asciiCollapse[s[i]]
		switch k {
		case 0:
			// Not ASCII: the general path, from the start.
			norm = n.AppendNormalize(norm[:ns], s)
			return norm, n.AppendFold(folded[:fs], bstr(norm[ns:]))
		case collapseDrop:
			continue
		case collapseSpace:
			if space == 0 {
				space = ' '
			}
			sep = true
			continue
		case collapseLine:
			space, sep = '\n', true
			continue
		}
		if space != 0 {
			if w > 0 {
				no[w] = space
				w++
			}
			space = 0
		}
		no[w] = k
		w++
		f := asciiFold[k]
		if f == 0 {
			sep = true
			continue
		}
		if sep && v > 0 {
			if v-word == 1 {
				if ones++; ones >= 3 {
					spelled = true
				}
			} else {
				ones = 0
			}
			fo[v] = ' '
			v++
			word = v
		}
		sep = false
		fo[v] = f
		v++
	}
	norm, folded = norm[:ns+w], folded[:fs+v]
	if v-word == 1 && ones >= 2 {
		spelled = true
	}
	if spelled {
		folded = squeezeSpelled(folded, fs)
	}
	return norm, folded
}

// squeezeSpelled joins runs of three or more one-letter words in
// dst[start:], in place, so that "i g n o r e" (from "I.g.n.o.r.e")
// reads "ignore".
func squeezeSpelled(dst []byte, start int) []byte {
	w, r := start, start
	for r < len(dst) {
		n := 0
		for k := r; k < len(dst) && dst[k] != ' ' && (k+1 == len(dst) || dst[k+1] == ' '); k += 2 {
			n++
		}
		if w > start {
			dst[w] = ' '
			w++
		}
		if n >= 3 {
			for j := range n {
				dst[w] = dst[r+2*j]
				w++
			}
			r += 2 * n
			continue
		}
		e := r
		for e < len(dst) && dst[e] != ' ' {
			e++
		}
		w += copy(dst[w:], dst[r:e])
		r = e + 1
	}
	return dst[:w]
}

// Decoding limits: spans shorter than minEncoded are not probed, and a
// decoded span must be mostly printable text.
const (
	minEncoded   = 16
	minPrintable = 0.9
)

// Decoded finds base64 (standard or URL alphabet, padded or not) and hex
// encoded spans of at least 16 characters in s, and returns the decoded
// text of those that decode to mostly printable UTF-8, so that rules and
// the detector can probe them. It runs in time linear in len(s) and
// returns nil, without allocating, when there is none. Run it on the raw
// text: normalization lower-cases, which breaks base64.
func Decoded(s string) []string {
	var out []string
	var buf []byte
	// i is always at the start of a run of base64 bytes or at a byte
	// outside the alphabet. A span needs minEncoded bytes, so when the
	// last byte of that window is outside, the search moves past it at
	// once: ordinary text is looked at a few bytes a word.
	for i := 0; i+minEncoded <= len(s); {
		w := i + minEncoded - 1
		if !isB64(s[w]) {
			i = w + 1
			continue
		}
		k := w - 1
		for k >= i && isB64(s[k]) {
			k--
		}
		if k >= i {
			i = k + 1
			continue
		}
		j := w + 1
		for j < len(s) && isB64(s[j]) {
			j++
		}
		end := j
		for end < len(s) && end-j < 2 && s[end] == '=' {
			end++
		}
		span := s[i:j]
		i = end
		if len(span) < minEncoded {
			continue
		}
		var err error
		buf, err = decodeSpan(buf[:0], span)
		if err == nil && printable(buf) {
			out = append(out, string(buf))
		}
	}
	return out
}

func isB64(c byte) bool { return b64Alphabet[c] }

// b64Alphabet holds the bytes of the standard and URL base64 alphabets.
var b64Alphabet = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
	}
	return t
}()

func decodeSpan(dst []byte, span string) ([]byte, error) {
	if len(span)%2 == 0 && isHex(span) {
		return hex.AppendDecode(dst, []byte(span))
	}
	enc := base64.RawStdEncoding
	for k := 0; k < len(span); k++ {
		if span[k] == '-' || span[k] == '_' {
			enc = base64.RawURLEncoding
			break
		}
	}
	if len(span)%4 == 1 {
		span = span[:len(span)-1]
	}
	return enc.AppendDecode(dst, []byte(span))
}

func isHex(s string) bool {
	for k := 0; k < len(s); k++ {
		c := s[k]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// printable reports whether b is UTF-8 text of which at least minPrintable
// of the runes are graphic or white space, with at least one letter.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	total, good, letters := 0, 0, 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		total++
		if unicode.IsGraphic(r) || r == '\n' || r == '\t' || r == '\r' {
			good++
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters > 0 && float64(good) >= minPrintable*float64(total)
}

// bstr views b as a string without copying, for passing a buffer to a
// string function that does not keep it; b must not change meanwhile.
func bstr(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// sbytes views s as bytes without copying; the bytes must not be written.
func sbytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
