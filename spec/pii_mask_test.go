package spec

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

// TestPIIMaskThroughTheEmulator drives decks/40-pii-mask.yaml with the
// official SDK: the provider gets the prompt masked, the streamed answer
// comes back with the e-mail restored (placeholders split across chunks)
// and without the card number, and the model's own PII is redacted.
func TestPIIMaskThroughTheEmulator(t *testing.T) {
	p := startProduct(t, "40-pii-mask.yaml", "tollgate-pii-mask", "tollgate-model-fallback")
	client := p.client("alice-key")
	prompt := "Email jane.doe@example.com about Falcon, card 4111 1111 1111 1111, cc support@example.com"

	// Streamed, in 3-byte pieces so that placeholders arrive split.
	p.llm.Enqueue(fakellm.Behavior{ChunkBytes: 3})
	var found http.Header
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	}, option.WithResponseInto(new(*http.Response)), option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		resp, err := next(r)
		if resp != nil {
			found = resp.Header
		}
		return resp, err
	}))
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	require.NoError(t, stream.Err())
	require.Greater(t, chunks, 20, "the answer streamed in many chunks")
	require.Equal(t, "echo: Email jane.doe@example.com about Falcon, card [CREDIT_CARD], cc support@example.com", acc.Choices[0].Message.Content)

	sent := string(p.llm.Requests()[0].Body)
	require.Contains(t, sent, "<EMAIL_1>")
	require.Contains(t, sent, "<PROJECT_1>")
	require.Contains(t, sent, "[CREDIT_CARD]")
	require.Contains(t, sent, "support@example.com", "allow-listed values are left alone")
	for _, leak := range []string{"jane.doe", "4111", "Falcon"} {
		require.NotContains(t, sent, leak)
	}
	for k := range p.llm.Requests()[0].Header {
		require.False(t, strings.HasPrefix(strings.ToLower(k), "x-tollgate"), "no hand-off reaches the provider: %s", k)
	}
	require.Equal(t, "CREDIT_CARD=1,EMAIL=1,PROJECT=1", found.Get("X-Tollgate-PII-Found"))

	// The model writing PII of its own: redacted in a whole answer.
	p.llm.Enqueue(fakellm.Behavior{Reply: "Reach <EMAIL_1> or leak@evil.example, card 5500 0000 0000 0004."})
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Who is jane.doe@example.com?")},
	})
	require.NoError(t, err)
	require.Equal(t, "Reach jane.doe@example.com or [EMAIL], card [CREDIT_CARD].", resp.Choices[0].Message.Content)

	// A blocked type never reaches the provider, and the error names only
	// the type.
	before := len(p.llm.Requests())
	_, err = client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("my ssn is 123-45-6789")},
	})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	require.Equal(t, "pii_detected", apiErr.Code)
	require.Contains(t, apiErr.Message, "US_SSN")
	require.NotContains(t, apiErr.Message, "6789")
	require.Len(t, p.llm.Requests(), before)

	// Plugins and egress count on the sidecar's one /metrics: types and
	// actions, never a value.
	resp2, err := http.Get(p.admin + "/metrics")
	require.NoError(t, err)
	defer resp2.Body.Close()
	raw, err := io.ReadAll(resp2.Body)
	require.NoError(t, err)
	m := string(raw)
	require.Contains(t, m, `tollgate_pii_entities_total{action="tokenize",type="EMAIL"} 2`)
	require.Contains(t, m, `tollgate_pii_entities_total{action="redact",type="CREDIT_CARD"} 1`)
	require.Contains(t, m, `tollgate_pii_entities_total{action="block",type="US_SSN"} 1`)
	require.Contains(t, m, `tollgate_egress_pii_total{action="restore",type="EMAIL"}`)
	require.Contains(t, m, `tollgate_egress_pii_total{action="redact",type="CREDIT_CARD"} 1`)
	for _, line := range strings.Split(m, "\n") {
		if !strings.HasPrefix(line, "tollgate_") {
			continue // Go runtime series: their numbers are not ours
		}
		labels, _, _ := strings.Cut(line, "} ")
		for _, leak := range []string{"jane", "4111", "5500", "6789", "Falcon", "@"} {
			require.NotContains(t, labels, leak)
		}
	}
}
