package guard

import (
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// prefilter holds cheap necessary conditions for a pattern to match, so
// that most texts skip the regexp. Go's regexp only scans quickly for a
// literal prefix; a leading \b, a class or an alternation makes it try
// every position.
type prefilter struct {
	// lit is a literal every match contains, or nil.
	lit []byte
	// Every match is a run of at least minLen bytes from alphabet; off
	// when minLen is 0.
	alphabet *[256]bool
	minLen   int
}

func newPrefilter(src string) prefilter {
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return prefilter{}
	}
	var pf prefilter
	if l := requiredLiteral(tree); len(l) > 1 {
		pf.lit = []byte(l)
	}
	a := new([256]bool)
	if alphabet(tree, a) {
		n := 0
		for _, in := range a {
			if in {
				n++
			}
		}
		// A near-full alphabet rules nothing out.
		if m := minLen(tree); m >= 2 && n < 192 {
			pf.alphabet, pf.minLen = a, m
		}
	}
	return pf
}

// may reports whether text may match.
// The literal is checked by the caller (one Aho–Corasick pass for all
// patterns).
func (pf *prefilter) may(text []byte) bool {
	m := pf.minLen
	if m == 0 {
		return true
	}
	// A run of m bytes starting at i or later covers i+m-1; when that
	// byte is outside the alphabet, the search moves past it at once,
	// so most of the text is looked at one byte in m.
	for i := 0; i+m <= len(text); {
		j := i + m - 1
		if !pf.alphabet[text[j]] {
			i = j + 1
			continue
		}
		k := j - 1
		for k >= i && pf.alphabet[text[k]] {
			k--
		}
		if k < i {
			return true
		}
		i = k + 1
	}
	return false
}

// alphabet adds to a every byte a match of re can contain; false means
// any byte can (., \C, …).
func alphabet(re *syntax.Regexp, a *[256]bool) bool {
	addRune := func(r rune) {
		if r < utf8.RuneSelf {
			a[r] = true
			return
		}
		for b := 0x80; b < 0x100; b++ {
			a[b] = true
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			addRune(r)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					addRune(f)
				}
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				a[r] = true
			}
			if hi >= utf8.RuneSelf {
				addRune(utf8.RuneSelf)
			}
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return false
	default:
		for _, sub := range re.Sub {
			if !alphabet(sub, a) {
				return false
			}
		}
	}
	return true
}

// minLen is the length in bytes of the shortest match of re.
func minLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += minLen(sub)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, sub := range re.Sub {
			if m := minLen(sub); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}

// requiredLiteral returns the longest literal found in every match of
// re, or "".
func requiredLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best, run := "", ""
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 {
				run += string(sub.Rune)
				continue
			}
			if len(run) > len(best) {
				best = run
			}
			run = ""
			if l := requiredLiteral(sub); len(l) > len(best) {
				best = l
			}
		}
		if len(run) > len(best) {
			best = run
		}
		return best
	}
	return ""
}
