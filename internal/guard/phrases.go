package guard

import (
	"unicode"
	"unicode/utf8"
)

// phraseSet matches literal phrases on the folded view, at word
// boundaries: a phrase must not start or end inside a word, except where
// its edge is a Han, Hiragana or Katakana character (those scripts do not
// put spaces between words).
type phraseSet struct {
	ac *acMatcher
	// owner of each phrase: an index the caller gives meaning to.
	owner []int32
	// free edges: whether the phrase's first (last) rune needs no boundary.
	freeStart, freeEnd []bool
}

// foldPhrase returns the folded form of a literal phrase.
func foldPhrase(n *Normalizer, p string) string {
	return string(n.AppendFold(nil, n.Normalize(p)))
}

func newPhraseSet(folded []string, owner []int32) *phraseSet {
	ps := &phraseSet{owner: owner,
		freeStart: make([]bool, len(folded)), freeEnd: make([]bool, len(folded))}
	anchored := make([]bool, len(folded))
	for i, p := range folded {
		first, _ := utf8.DecodeRuneInString(p)
		last, _ := utf8.DecodeLastRuneInString(p)
		ps.freeStart[i], ps.freeEnd[i] = unspaced(first), unspaced(last)
		// The automaton checks the start boundary itself, which keeps it
		// at its root inside words no phrase starts with.
		anchored[i] = !ps.freeStart[i] && p != "" && p[0] != ' '
	}
	ps.ac = newAnchoredACMatcher(folded, anchored)
	return ps
}

func unspaced(r rune) bool {
	return r >= 0x2e80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || r == 'ー')
}

// matches appends to hits the hits of text (a folded view) that sit at
// word boundaries.
func (ps *phraseSet) matches(hits []acHit, text []byte) []acHit {
	n := len(hits)
	hits = ps.ac.appendHits(hits, text)
	kept := hits[:n]
	for _, h := range hits[n:] {
		start := h.end - ps.ac.lens[h.id]
		if (ps.freeStart[h.id] || start == 0 || text[start-1] == ' ') &&
			(ps.freeEnd[h.id] || h.end == len(text) || text[h.end] == ' ') {
			kept = append(kept, h)
		}
	}
	return kept
}
