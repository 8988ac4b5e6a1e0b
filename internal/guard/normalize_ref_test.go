package guard

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// refAppendCollapsed is appendCollapsed as first written, per byte, kept
// as the reference for the optimized one. It drops invisible characters, lower-cases ASCII and turns
// each run of white space into one space, or one newline when the run
// holds a line break; leading and trailing white space goes.
func refAppendCollapsed(dst []byte, s string) []byte {
	start := len(dst)
	space := byte(0) // pending separator
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\t':
				if space == 0 {
					space = ' '
				}
				continue
			case c == '\n':
				space = '\n'
				continue
			case c < 0x20 || c == 0x7f:
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			if space != 0 && len(dst) > start {
				dst = append(dst, space)
			}
			space = 0
			dst = append(dst, c)
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
		if space != 0 && len(dst) > start {
			dst = append(dst, space)
		}
		space = 0
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// refAppendFold is AppendFold as first written, kept as the reference
// for the optimized one. It appends the folded view of the normalized text s to dst:
// look-alikes and leetspeak folded, diacritics dropped, every run of
// characters that are neither letters nor digits turned into one space.
func refAppendFold(n *Normalizer, dst []byte, s string) []byte {
	start := len(dst)
	sep := false
	emit := func(c byte) {
		if sep && len(dst) > start {
			dst = append(dst, ' ')
		}
		sep = false
		dst = append(dst, c)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if f := asciiFold[c]; f != 0 {
				emit(f)
			} else {
				sep = true
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if f, ok := homoglyphs[r]; ok {
			i += size
			emit(f)
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
			case r < utf8.RuneSelf:
				if f := asciiFold[r]; f != 0 {
					emit(f)
				} else {
					sep = true
				}
			case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
				if f, ok := homoglyphs[r]; ok {
					emit(f)
					continue
				}
				if sep && len(dst) > start {
					dst = append(dst, ' ')
				}
				sep = false
				dst = utf8.AppendRune(dst, r)
			default:
				sep = true
			}
		}
	}
	return squeezeSpelled(dst, start)
}

// randomText draws text from pieces that exercise every branch of the
// normalizer: white space of all kinds, controls, spelled-out words,
// homoglyphs, diacritics, CJK, Hangul and invalid UTF-8.
func randomText(r *rand.Rand) string {
	pieces := []string{"a", "b", "x", "ignore", "Rules", "IGN0RE", "1", "3", " ", "  ", "\t", "\n", " \n ", "\r", "\x00", "\x7f",
		".", "-", "_", "@", "$", "é", "ï", "ö", "ǅ", "İ", "ß", "ﬁ", "Ｉ", "ｇ", "а", "е", "о", "α", "ο", "ℓ", "\u200b", "\u00ad",
		"\u2028", "\u0085", "\u3000", "\u00a0", "e\u0301", "\u0301", "忽略", "指令", "한국어", "ㄱ", "ä", "\xff", "\xe4\xb8", "\ufffd",
		"ʰ", "①", "½", "ॐ", "क़", "ை"}
	var b strings.Builder
	for range r.IntN(30) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func checkAgainstReference(t *testing.T, s string) {
	t.Helper()
	var n, ref Normalizer
	require.Equal(t, string(refAppendCollapsed([]byte("pre"), s)), string(appendCollapsed([]byte("pre"), s)), "collapse %q", s)
	require.Equal(t, string(refAppendFold(&ref, []byte("pre"), s)), string(n.AppendFold([]byte("pre"), s)), "fold %q", s)
	ns := n.Normalize(s)
	wantFold := string(refAppendFold(&ref, nil, ns))
	require.Equal(t, wantFold, string(n.AppendFold(nil, ns)), "fold of normalized %q", s)
	norm, folded := n.appendViews([]byte("pre"), []byte("fix"), s)
	require.Equal(t, "pre"+ns, string(norm), "views: normalized %q", s)
	require.Equal(t, "fix"+wantFold, string(folded), "views: folded %q", s)
}

// TestNormalizeReference holds the optimized normalizer to the per-byte
// reference on random text and on the labeled prompts.
func TestNormalizeReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ascii := []string{"a", "b", "x", "IGN0RE", "Rules", "1", "3", " ", "  ", "\t", "\n", " \n ", "\r", "\x00", "\x7f", ".", "-", "_", "@", "$", "?"}
	for range 20000 {
		checkAgainstReference(t, randomText(r))
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(ascii[r.IntN(len(ascii))])
		}
		checkAgainstReference(t, b.String())
	}
	for _, p := range loadPrompts(t) {
		checkAgainstReference(t, p.Text)
	}
}

// refDecoded is Decoded as first written, byte by byte, kept as the
// reference for the skipping one.
func refDecoded(s string) []string {
	var out []string
	var buf []byte
	for i := 0; i < len(s); {
		if !refIsB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && refIsB64(s[j]) {
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

func refIsB64(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

// TestDecodedReference holds Decoded to the reference on random text
// made of encoded spans, padding and separators.
func TestDecodedReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"aWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM", "69676e6f726520616c6c", "SGVsbG8gd29ybGQh", "abc", "x", "=", "==", " ", ".", "-", "_", "+/", "é", "\n"}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		require.Equal(t, refDecoded(s), Decoded(s), "%q", s)
	}
	for _, p := range loadPrompts(t) {
		require.Equal(t, refDecoded(p.Text), Decoded(p.Text), "%q", p.Text)
	}
}
