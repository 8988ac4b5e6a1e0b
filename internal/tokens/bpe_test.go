package tokens

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mergeLong must pick the same pairs in the same order as mergeScan, which
// mirrors the reference.
func TestMergeLongMatchesScan(t *testing.T) {
	enc, err := Get(O200kBase)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(7, 7))
	alphabets := []string{"ab", "abc ", "etaoinshrdlu", "=-", "0123456789abcdef", "日本語", "ภาษาไทย", "😀👍"}
	for range 500 {
		a := []rune(alphabets[r.IntN(len(alphabets))])
		var b strings.Builder
		for n := 2 + r.IntN(700); b.Len() < n; {
			b.WriteRune(a[r.IntN(len(a))])
		}
		piece := b.String()
		require.Equal(t, mergeScan(enc.vocab, piece, nil), mergeLong(enc.ranks, piece), "%q", piece)
	}
}
