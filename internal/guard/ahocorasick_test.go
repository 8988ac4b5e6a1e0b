package guard

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func naiveHits(pats []string, text string) map[acHit]bool {
	out := map[acHit]bool{}
	for id, p := range pats {
		if p == "" {
			continue
		}
		for i := 0; i+len(p) <= len(text); i++ {
			if text[i:i+len(p)] == p {
				out[acHit{int32(id), i + len(p)}] = true
			}
		}
	}
	return out
}

func TestACMatcher(t *testing.T) {
	tests := []struct {
		name string
		pats []string
		text string
	}{
		{"classic", []string{"he", "she", "his", "hers"}, "ushers"},
		{"overlap", []string{"a", "aa", "aaa"}, "aaaa"},
		{"duplicates", []string{"ab", "ab", ""}, "abab"},
		{"none", []string{"xyz"}, "abc"},
		{"empty text", []string{"a"}, ""},
		{"utf8", []string{"忽略", "指令", "игнор"}, "请忽略之前的指令 игнорируй"},
		{"every byte", everyByte(), string(everyByte()[7]) + "\x00\xff\x80" + everyByte()[255]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newACMatcher(tt.pats)
			got := map[acHit]bool{}
			for _, h := range m.appendHits(nil, []byte(tt.text)) {
				require.False(t, got[h], "duplicate hit %v", h)
				got[h] = true
			}
			require.Equal(t, naiveHits(tt.pats, tt.text), got)
		})
	}
}

func TestACMatcherRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte("abc"[r.IntN(3)])
		}
		return b.String()
	}
	for range 200 {
		pats := make([]string, 1+r.IntN(8))
		for i := range pats {
			pats[i] = word(1 + r.IntN(4))
		}
		text := word(r.IntN(40))
		got := map[acHit]bool{}
		for _, h := range newACMatcher(pats).appendHits(nil, []byte(text)) {
			got[h] = true
		}
		require.Equal(t, naiveHits(pats, text), got, "pats %q text %q", pats, text)
	}
}

// TestACMatcherAnchored checks anchored patterns against the naive hits
// that start the text or follow a space, mixed with free ones.
func TestACMatcherAnchored(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	word := func(n int, alphabet string) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 2000 {
		pats := make([]string, 1+r.IntN(8))
		anchored := make([]bool, len(pats))
		for i := range pats {
			if anchored[i] = r.IntN(3) > 0; anchored[i] {
				pats[i] = word(1+r.IntN(4), "ab ")
			} else {
				pats[i] = "a" + word(r.IntN(3), "ab ")
			}
		}
		text := word(r.IntN(40), "ab ")
		want := map[acHit]bool{}
		for h := range naiveHits(pats, text) {
			if start := h.end - len(pats[h.id]); !anchored[h.id] || start == 0 || text[start-1] == ' ' {
				want[h] = true
			}
		}
		got := map[acHit]bool{}
		prev := 0
		for _, h := range newAnchoredACMatcher(pats, anchored).appendHits(nil, []byte(text)) {
			require.False(t, got[h], "duplicate hit %v", h)
			require.GreaterOrEqual(t, h.end, prev, "hits out of order")
			got[h], prev = true, h.end
		}
		require.Equal(t, want, got, "pats %q anchored %v text %q", pats, anchored, text)
	}
}

// TestACMatcherSparse checks an automaton too large for full rows in
// every state, so that the packed edges and failure links are used.
func TestACMatcherSparse(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		return b.String()
	}
	pats := make([]string, 8000)
	for i := range pats {
		pats[i] = word(1 + r.IntN(6))
	}
	m := newACMatcher(pats)
	require.Less(t, int(m.nDense), len(m.report), "every state has a full row")
	for range 50 {
		text := word(r.IntN(200))
		got := map[acHit]bool{}
		for _, h := range m.appendHits(nil, []byte(text)) {
			got[h] = true
		}
		require.Equal(t, naiveHits(pats, text), got, "text %q", text)
	}
}

// everyByte is 256 patterns that use every byte value, so that no byte
// class is left for bytes outside the patterns.
func everyByte() []string {
	pats := make([]string, 256)
	for b := range pats {
		pats[b] = string([]byte{byte(b), byte(255 - b)})
	}
	return pats
}
