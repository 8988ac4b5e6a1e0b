package guard

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveMay is prefilter.may as a plain scan for a long enough run.
func naiveMay(pf *prefilter, text []byte) bool {
	if pf.minLen == 0 {
		return true
	}
	run := 0
	for _, b := range text {
		if pf.alphabet[b] {
			if run++; run >= pf.minLen {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// TestPrefilterSkip holds the skipping scan of may to the plain one.
func TestPrefilterSkip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var alphabet [256]bool
	alphabet['a'], alphabet['b'] = true, true
	for range 20000 {
		pf := prefilter{alphabet: &alphabet, minLen: 1 + r.IntN(6)}
		text := make([]byte, r.IntN(30))
		for i := range text {
			text[i] = "abcx"[r.IntN(4)]
		}
		require.Equal(t, naiveMay(&pf, text), pf.may(text), "minLen %d text %q", pf.minLen, text)
	}
}
