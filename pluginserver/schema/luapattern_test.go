package schema

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLuaMatch(t *testing.T) {
	tests := []struct {
		s, pat string
		want   bool
		err    string
	}{
		{"hello", "ell", true, ""},
		{"hello", "^ell", false, ""},
		{"hello", "^h.-o$", true, ""},
		{"", "", true, ""},
		{"", "^$", true, ""},
		{"a", "^$", false, ""},
		{"abc123", "^%a+%d+$", true, ""},
		{"abc123", "^%A", false, ""},
		{"ABC", "^%u+$", true, ""},
		{"abc", "^%l+$", true, ""},
		{"a b", "%s", true, ""},
		{"ab", "%S%S", true, ""},
		{"a_1", "^%w+$", false, ""},
		{"a_1", "^[%w_]+$", true, ""},
		{"ff09", "^%x+$", true, ""},
		{"a.b", "^a%.b$", true, ""},
		{"axb", "^a%.b$", false, ""},
		{"!", "^%p$", true, ""},
		{"\x01", "^%c$", true, ""},
		{"é", "^%a", false, ""},
		{"x", "^%g$", true, ""},
		{" ", "^%g$", false, ""},
		{"\x00", "^%z$", true, ""},
		{"gpt-4o:mini/2024", "^[%w%.%-_:/]+$", true, ""},
		{"gpt 4o", "^[%w%.%-_:/]+$", false, ""},
		{"b", "^[a-c]$", true, ""},
		{"d", "^[^a-c]$", true, ""},
		{"]", "^[]]$", true, ""},
		{"-", "^[a-]$", true, ""},
		{"z", "^[z-a]$", false, ""},
		{"aaa", "^a*$", true, ""},
		{"", "^a*$", true, ""},
		{"", "^a+$", false, ""},
		{"ab", "^a?b$", true, ""},
		{"b", "^a?b$", true, ""},
		{"<<a>>", "^<.->>$", true, ""},
		{"a$b", "a$b", true, ""},
		{"a^b", "a^b", true, ""},
		{"x(y)z", "%b()", true, ""},
		{"x(yz", "%b()", false, ""},
		{"THE (quick) fox", "%f[%a]%a+%f[%A]", true, ""},
		{"abab", "^(ab)%1$", true, ""},
		{"abac", "^(ab)%1$", false, ""},
		{"abc", "()b", true, ""},
		{"1,2", "^%d+,%d+$", true, ""},
		// malformed
		{"a", "%", false, "malformed pattern (ends with '%')"},
		{"a", "[a", false, "malformed pattern (missing ']')"},
		{"a", "(a", false, "unfinished capture"},
		{"a", "a)", false, "invalid pattern capture"},
		{"a", "%1", false, "invalid capture index %1"},
		{"a", "%b(", false, "missing arguments to '%b'"},
		{"a", "%fa", false, "missing '[' after '%f' in pattern"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q~%q", tt.s, tt.pat), func(t *testing.T) {
			got, err := luaMatch(tt.s, tt.pat)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLuaMatchTooComplex(t *testing.T) {
	_, err := luaMatch(strings.Repeat("a", 40), strings.Repeat("a-", 20)+"b")
	require.ErrorIs(t, err, errPatternTooComplex)
}

// luaToRegexp translates a Lua pattern without captures, %b, %f or
// back-references into a Go regexp over ASCII, independently of the
// matcher, as the oracle of FuzzLuaPattern. ok is false for patterns it
// does not translate.
func luaToRegexp(pat string) (string, bool) {
	var b strings.Builder
	b.WriteString(`(?s)`)
	p := 0
	if strings.HasPrefix(pat, "^") {
		b.WriteString(`\A`)
		p = 1
	}
	for p < len(pat) {
		c := pat[p]
		if c == '$' && p == len(pat)-1 {
			b.WriteString(`\z`)
			break
		}
		var set [128]bool
		switch c {
		case '(', ')', 0:
			return "", false
		case '.':
			for i := range set {
				set[i] = true
			}
			p++
		case '%':
			if p+1 >= len(pat) {
				return "", false
			}
			cl := pat[p+1]
			if cl == 'b' || cl == 'f' || (cl >= '0' && cl <= '9') {
				return "", false
			}
			for i := range set {
				set[i] = classOracle(byte(i), cl)
			}
			p += 2
		case '[':
			q := p + 1
			neg := false
			if q < len(pat) && pat[q] == '^' {
				neg = true
				q++
			}
			first := true
			closed := false
			for q < len(pat) {
				if pat[q] == ']' && !first {
					closed = true
					break
				}
				first = false
				switch {
				case pat[q] == '%':
					if q+1 >= len(pat) {
						return "", false
					}
					for i := range set {
						set[i] = set[i] || classOracle(byte(i), pat[q+1])
					}
					q += 2
				case q+2 < len(pat) && pat[q+1] == '-' && pat[q+2] != ']':
					for i := int(pat[q]); i <= int(pat[q+2]) && i < 128; i++ {
						set[i] = true
					}
					q += 3
				default:
					if pat[q] < 128 {
						set[pat[q]] = true
					}
					q++
				}
			}
			if !closed {
				return "", false
			}
			if neg {
				for i := range set {
					set[i] = !set[i]
				}
			}
			p = q + 1
		default:
			if c >= 128 {
				return "", false
			}
			set[c] = true
			p++
		}
		b.WriteString(setRegexp(set))
		if p < len(pat) {
			switch pat[p] {
			case '*', '+', '?':
				b.WriteByte(pat[p])
				p++
			case '-':
				b.WriteString("*?")
				p++
			}
		}
	}
	return b.String(), true
}

func classOracle(c, cl byte) bool {
	lower := cl | 0x20
	var r bool
	switch lower {
	case 'a':
		r = strings.IndexByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", c) >= 0
	case 'd':
		r = strings.IndexByte("0123456789", c) >= 0
	case 'l':
		r = strings.IndexByte("abcdefghijklmnopqrstuvwxyz", c) >= 0
	case 'u':
		r = strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZ", c) >= 0
	case 's':
		r = strings.IndexByte(" \t\n\v\f\r", c) >= 0
	case 'w':
		r = classOracle(c, 'a') || classOracle(c, 'd')
	case 'x':
		r = strings.IndexByte("0123456789abcdefABCDEF", c) >= 0
	case 'p':
		r = strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0
	case 'c':
		r = c < 32 || c == 127
	case 'g':
		r = c > 32 && c < 127
	case 'z':
		r = c == 0
	default:
		return c == cl
	}
	if cl >= 'A' && cl <= 'Z' {
		return !r
	}
	return r
}

func setRegexp(set [128]bool) string {
	var b strings.Builder
	b.WriteString("[")
	n := 0
	for i, in := range set {
		if in {
			fmt.Fprintf(&b, `\x{%x}`, i)
			n++
		}
	}
	if n == 0 {
		return `[^\x00-\x{10FFFF}]`
	}
	b.WriteString("]")
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 128 {
			return false
		}
	}
	return true
}

func FuzzLuaPattern(f *testing.F) {
	for _, seed := range [][2]string{
		{"gpt-4o:mini/2024", "^[%w%.%-_:/]+$"},
		{"hello world", "^h.-o w"},
		{"abc", "[^%d]+$"},
		{"(a(b)c)", "%b()"},
		{"THE (quick) fox", "%f[%a]%a+"},
		{"abab", "^(ab)%1$"},
		{"a]b", "[]]"},
		{"x-y", "[a-]"},
		{"1,2", "^%d+,%d+$"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, s, pat string) {
		if len(s) > 64 || len(pat) > 32 {
			return
		}
		got, err := luaMatch(s, pat)
		if err != nil {
			return
		}
		if !isASCII(s) || !isASCII(pat) {
			return
		}
		re, ok := luaToRegexp(pat)
		if !ok {
			return
		}
		want := regexp.MustCompile(re).MatchString(s)
		if got != want {
			t.Fatalf("luaMatch(%q, %q) = %v, regexp %s says %v", s, pat, got, re, want)
		}
	})
}
