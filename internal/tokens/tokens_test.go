package tokens_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/tokens"
)

func TestEncodingFor(t *testing.T) {
	for model, want := range map[string]string{
		"gpt-4o-mini": tokens.O200kBase, "gpt-4.1": tokens.O200kBase, "o3-mini": tokens.O200kBase,
		"gpt-4-turbo": tokens.Cl100kBase, "gpt-3.5-turbo": tokens.Cl100kBase, "openai/gpt-4o": tokens.O200kBase,
		"claude-3-5-haiku-latest": tokens.O200kBase, "": tokens.O200kBase,
	} {
		require.Equal(t, want, tokens.EncodingFor(model), model)
	}
}

func TestCountMatchesTheVocabulary(t *testing.T) {
	// The example of tiktoken's README: "tiktoken is great!" is 6 cl100k tokens.
	require.Equal(t, 0, tokens.Count("gpt-4o", ""))
	require.Equal(t, 2, tokens.Count("gpt-4o", "Hello world"))
	require.Equal(t, 2, tokens.Count("gpt-4", "Hello world"))
	require.Equal(t, 6, tokens.Count("gpt-4", "tiktoken is great!"))
}
