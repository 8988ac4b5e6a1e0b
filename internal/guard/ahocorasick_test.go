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
