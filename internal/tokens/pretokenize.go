package tokens

// The pre-tokenizers below split text exactly as tiktoken's patterns do
// under a backtracking engine (leftmost alternative first, greedy
// quantifiers), without running one. Each returns the end of the piece that
// starts at i (i < len(s)); pieces are never empty. Every rune is a letter,
// a number, white space or "punctuation" ([^\s\p{L}\p{N}]), so some
// alternative always matches.

// nextCl100k implements
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func nextCl100k(s string, i int) int {
	if s[i] == '\'' {
		if e := contraction(s, i); e > 0 {
			return e
		}
	}
	c, n := at(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c.isPrefix() && i+n < len(s) {
		if c2, n2 := at(s, i+n); c2&cL != 0 {
			return run(s, i+n+n2, cL)
		}
	}
	if c&cL != 0 {
		return run(s, i+n, cL)
	}
	// \p{N}{1,3}
	if c&cN != 0 {
		return digits(s, i+n)
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	if s[i] == ' ' && i+1 < len(s) {
		if c2, n2 := at(s, i+1); c2.isPunct() {
			return trailing(s, punct(s, i+1+n2), false)
		}
	}
	if c.isPunct() {
		return trailing(s, punct(s, i+n), false)
	}
	return whitespace(s, i)
}

// nextO200k implements the o200k_base pattern:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	\p{N}{1,3}
//	 ?[^\s\p{L}\p{N}]+[\r\n/]*
//	\s*[\r\n]+
//	\s+(?!\S)
//	\s+
func nextO200k(s string, i int) int {
	c, n := at(s, i)
	prefix := c.isPrefix() && i+n < len(s)
	// First alternative: with the optional prefix, then without it.
	if prefix {
		if e := lowerWord(s, i+n); e > 0 {
			return e
		}
	}
	if c&(cUpperSet|cLowerSet) != 0 {
		if e := lowerWord(s, i); e > 0 {
			return e
		}
	}
	// Second alternative.
	if prefix {
		if e := upperWord(s, i+n); e > 0 {
			return e
		}
	}
	if c&cUpperSet != 0 {
		if e := upperWord(s, i); e > 0 {
			return e
		}
	}
	if c&cN != 0 {
		return digits(s, i+n)
	}
	if s[i] == ' ' && i+1 < len(s) {
		if c2, n2 := at(s, i+1); c2.isPunct() {
			return trailing(s, punct(s, i+1+n2), true)
		}
	}
	if c.isPunct() {
		return trailing(s, punct(s, i+n), true)
	}
	return whitespace(s, i)
}

// lowerWord matches U*W+(contraction)? at i, where U and W are o200k's upper
// and lower classes, or returns -1. The greedy U* gives back runes until W+
// can match, so W+ starts at the end of the U run if a \p{Ll} is there, else
// at the last U rune that is also in W.
func lowerWord(s string, i int) int {
	j, last := i, -1
	for j < len(s) {
		c, n := at(s, j)
		if c&cUpperSet == 0 {
			break
		}
		if c&cBoth != 0 {
			last = j
		}
		j += n
	}
	w := last
	if j < len(s) {
		if c, _ := at(s, j); c&cLower != 0 {
			w = j
		}
	}
	if w < 0 {
		return -1
	}
	return optContraction(s, run(s, w, cLowerSet))
}

// upperWord matches U+W*(contraction)? at i or returns -1.
func upperWord(s string, i int) int {
	j := run(s, i, cUpperSet)
	if j == i {
		return -1
	}
	return optContraction(s, run(s, j, cLowerSet))
}

func optContraction(s string, i int) int {
	if i < len(s) && s[i] == '\'' {
		if e := contraction(s, i); e > 0 {
			return e
		}
	}
	return i
}

// contraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d) at i, where s[i] is an apostrophe, or
// returns -1. regexp2 folds case with unicode.ToLower, and no rune outside
// ASCII lowers to one of these letters, so ASCII folding is exact.
func contraction(s string, i int) int {
	if i+1 >= len(s) {
		return -1
	}
	switch s[i+1] | 0x20 {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		if i+2 < len(s) && s[i+2]|0x20 == 'e' {
			return i + 3
		}
	case 'l':
		if i+2 < len(s) && s[i+2]|0x20 == 'l' {
			return i + 3
		}
	}
	return -1
}

// digits ends \p{N}{1,3} whose first rune ends at i.
func digits(s string, i int) int {
	for k := 1; k < 3 && i < len(s); k++ {
		c, n := at(s, i)
		if c&cN == 0 {
			break
		}
		i += n
	}
	return i
}

// punct ends the run of [^\s\p{L}\p{N}] from i.
func punct(s string, i int) int {
	for i < len(s) {
		c, n := at(s, i)
		if !c.isPunct() {
			break
		}
		i += n
	}
	return i
}

// trailing ends [\r\n]* (or [\r\n/]* with slash) from i.
func trailing(s string, i int, slash bool) int {
	for i < len(s) && (s[i] == '\r' || s[i] == '\n' || slash && s[i] == '/') {
		i++
	}
	return i
}

// whitespace implements \s*[\r\n]+|\s+(?!\S)|\s+ at i, where s[i] is white
// space. \s*[\r\n]+ backtracks to the last line break of the run;
// \s+(?!\S) leaves the run's last rune for the next piece when a non-space
// follows, so " x" stays a word with its space.
func whitespace(s string, i int) int {
	j, lastNL, lastStart, count := i, -1, i, 0
	for j < len(s) {
		c, n := at(s, j)
		if c&cS == 0 {
			break
		}
		if c&cNL != 0 {
			lastNL = j + n
		}
		lastStart = j
		j += n
		count++
	}
	switch {
	case lastNL > 0:
		return lastNL
	case j == len(s) || count == 1:
		return j
	default:
		return lastStart
	}
}
