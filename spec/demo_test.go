package spec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

// TestDemoDeck drives decks/demo.yaml (what `make demo` serves) with the
// official OpenAI SDK, plain and streaming, through the emulator.
func TestDemoDeck(t *testing.T) {
	llm := fakellm.New(fakellm.Options{APIKey: "sk-demo"})
	t.Cleanup(llm.Close)
	deck, err := os.ReadFile("../decks/demo.yaml")
	require.NoError(t, err)
	d := strings.ReplaceAll(string(deck), "http://127.0.0.1:8099", llm.URL())
	k := startKong(t, kongSetup{sidecar: map[string][]string{bins.tollgatetest: {"tollgate-test"}}}, d)

	client := openai.NewClient(option.WithBaseURL(k.URL+"/v1"), option.WithAPIKey("sk-demo"),
		option.WithHeader("apikey", "alice-demo-key"), option.WithMaxRetries(0))
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello Tollgate")},
	}
	res, err := client.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	require.Contains(t, res.Choices[0].Message.Content, "Hello Tollgate")

	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	require.NoError(t, stream.Err())
	require.Contains(t, acc.Choices[0].Message.Content, "Hello Tollgate")

	// Without the consumer's key, key-auth answers before any Go plugin.
	bad := openai.NewClient(option.WithBaseURL(k.URL+"/v1"), option.WithAPIKey("sk-demo"), option.WithMaxRetries(0))
	_, err = bad.Chat.Completions.New(ctx, params)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 401, apiErr.StatusCode)
}

// TestEveryDeckIsLoadedByATest keeps decks/ honest: each file is an e2e
// fixture some test in spec/ loads.
func TestEveryDeckIsLoadedByATest(t *testing.T) {
	decks, err := filepath.Glob("../decks/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, decks)
	tests, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	var all strings.Builder
	for _, f := range tests {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all.Write(b)
	}
	for _, d := range decks {
		require.True(t, strings.Contains(all.String(), "decks/"+filepath.Base(d)), "no test in spec/ loads %s", d)
	}
}
