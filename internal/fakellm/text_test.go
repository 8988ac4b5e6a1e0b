package fakellm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitTokens(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"one word", "hi", []string{"hi"}},
		{"words keep leading space", "echo: hello world", []string{"echo:", " hello", " world"}},
		{"newlines", "a\n\nb", []string{"a", "\n\nb"}},
		{"trailing space joins the last word", "a b  ", []string{"a", " b  "}},
		{"leading space", "  a b", []string{"  a", " b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitTokens(tt.in)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, strings.Join(got, ""))
		})
	}
}

func FuzzSplitTokens(f *testing.F) {
	for _, s := range []string{"", "echo: hello world", " \t\n", "a\u00a0b c", "日本語 テキスト"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pieces := splitTokens(s)
		require.Equal(t, s, strings.Join(pieces, ""))
		if CountTokens(s) > 0 {
			require.Len(t, pieces, CountTokens(s), "one piece per token")
		}
	})
}

func TestEmbed(t *testing.T) {
	a := Embed("The quick brown fox", 128)
	require.Equal(t, a, Embed("the QUICK brown fox!", 128))
	require.Equal(t, make([]float64, 8), Embed("", 8))
	var norm float64
	for _, f := range a {
		norm += f * f
	}
	require.InDelta(t, 1, norm, 1e-9)
}
