package tokens

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// class is the set of pattern character classes a rune belongs to. The
// tables are Go's unicode tables, the same ones the reference regexp engine
// (dlclark/regexp2) uses, so \p{L}, \p{N}, \p{M} and \s agree rune for rune.
type class uint8

const (
	cL     class = 1 << iota // \p{L}
	cN                       // \p{N}
	cS                       // \s, which regexp2 defines as unicode.IsSpace
	cUpper                   // \p{Lu}, \p{Lt}: only in o200k's "upper" class
	cLower                   // \p{Ll}: only in o200k's "lower" class
	cBoth                    // \p{Lm}, \p{Lo}, \p{M}: in both o200k classes
	cNL                      // \r or \n
)

const (
	cUpperSet = cUpper | cBoth // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	cLowerSet = cLower | cBoth // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
)

// isPunct reports [^\s\p{L}\p{N}].
func (c class) isPunct() bool { return c&(cS|cL|cN) == 0 }

// isPrefix reports [^\r\n\p{L}\p{N}].
func (c class) isPrefix() bool { return c&(cL|cN|cNL) == 0 }

var (
	bmpOnce sync.Once
	// bmp caches the classes of the Basic Multilingual Plane (64 KiB), where
	// nearly all text lives; other planes are classified on the fly.
	bmp [0x10000]class
)

func initClasses() {
	bmpOnce.Do(func() {
		for r := range rune(len(bmp)) {
			bmp[r] = classify(r)
		}
	})
}

func classify(r rune) class {
	var c class
	switch {
	case unicode.IsLetter(r):
		c |= cL
		switch {
		case unicode.In(r, unicode.Lu, unicode.Lt):
			c |= cUpper
		case unicode.Is(unicode.Ll, r):
			c |= cLower
		case unicode.In(r, unicode.Lm, unicode.Lo):
			c |= cBoth
		}
	case unicode.Is(unicode.M, r):
		c |= cBoth
	case unicode.Is(unicode.N, r):
		c |= cN
	}
	if unicode.IsSpace(r) {
		c |= cS
	}
	if r == '\r' || r == '\n' {
		c |= cNL
	}
	return c
}

// at returns the class and byte width of the rune at s[i]; s is valid UTF-8.
func at(s string, i int) (class, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return bmp[b], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r < 0x10000 {
		return bmp[r], n
	}
	return classify(r), n
}

// run returns the end of the run of runes in set starting at i.
func run(s string, i int, set class) int {
	for i < len(s) {
		c, n := at(s, i)
		if c&set == 0 {
			break
		}
		i += n
	}
	return i
}
