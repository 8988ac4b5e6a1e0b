package spec

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

// TestTokenRateLimitThroughTheEmulator drives decks/20-token-rate-limit.yaml:
// the budget is charged with the provider's real usage, and the official
// SDK sees a proper 429 with Retry-After once it is spent.
func TestTokenRateLimitThroughTheEmulator(t *testing.T) {
	p := startProduct(t, "20-token-rate-limit.yaml", "tollgate-token-rate-limit", "tollgate-model-fallback")
	llm := p.llm
	client := p.client
	params := openai.ChatCompletionNewParams{
		Model:     "gpt-4o",
		MaxTokens: openai.Int(1000),
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello budget")},
	}
	ctx := context.Background()
	alice := client("alice-key")

	var resp *http.Response
	res, err := alice.Chat.Completions.New(ctx, params, option.WithResponseInto(&resp))
	require.NoError(t, err)
	reservedLeft, _ := strconv.Atoi(resp.Header.Get("X-AI-RateLimit-Remaining-Minute"))
	require.Less(t, reservedLeft, 3000-1000, "prompt + max_tokens were reserved")

	// Egress settled the reservation with the real usage: the next request
	// sees the 1000-token reservation replaced by the few tokens used.
	used := int(res.Usage.TotalTokens)
	_, err = alice.Chat.Completions.New(ctx, params, option.WithResponseInto(&resp))
	require.NoError(t, err)
	left, _ := strconv.Atoi(resp.Header.Get("X-AI-RateLimit-Remaining-Minute"))
	require.Equal(t, 3000-used-(3000-reservedLeft), left, "first request charged %d tokens, not its reservation", used)

	// Long answers spend the minute: the SDK gets a 429 with Retry-After,
	// and bob's budget is his own.
	llm.Always(fakellm.Behavior{Reply: strings.Repeat("token ", 900)})
	params.MaxTokens = openai.Int(1200)
	var apiErr *openai.Error
	for i := 0; i < 6 && apiErr == nil; i++ {
		var r2 *http.Response
		res, err := alice.Chat.Completions.New(ctx, params, option.WithResponseInto(&r2))
		if err == nil {
			t.Logf("remaining %s, usage %d", r2.Header.Get("X-AI-RateLimit-Remaining-Minute"), res.Usage.TotalTokens)
		}
		if err != nil {
			require.ErrorAs(t, err, &apiErr)
		}
	}
	require.NotNil(t, apiErr, "the minute's budget ran out")
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	require.NotEmpty(t, apiErr.Response.Header.Get("Retry-After"))
	require.Equal(t, "rate_limit_exceeded", apiErr.Code)

	bob := client("bob-key")
	_, err = bob.Chat.Completions.New(ctx, params)
	require.NoError(t, err, "budgets are per consumer")

	// Streams are charged with their usage too (egress asks the provider
	// for it even when the client did not).
	var sresp *http.Response
	s := bob.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&sresp))
	for s.Next() {
	}
	require.NoError(t, s.Err())
	before, _ := strconv.Atoi(sresp.Header.Get("X-AI-RateLimit-Remaining-Minute")) // after reserving ~1210
	small := params
	small.MaxTokens = openai.Int(100)
	_, err = bob.Chat.Completions.New(ctx, small, option.WithResponseInto(&resp))
	require.NoError(t, err)
	after, _ := strconv.Atoi(resp.Header.Get("X-AI-RateLimit-Remaining-Minute"))
	// Charged: ~300 of the stream's reservation came back, ~110 went to this
	// request. Refunded in full it would be ~1100 more.
	require.Less(t, after, before+600, "the streamed answer's ~900 tokens were charged")
	require.Greater(t, after, before, "and its unused reservation was given back")
}
