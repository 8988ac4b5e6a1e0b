package fakellm_test

import (
	"net/http"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

func anthropicClient(srv *fakellm.Server, key string) anthropic.Client {
	return anthropic.NewClient(option.WithBaseURL(srv.URL()), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func messageParams(user string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 256,
		System:    []anthropic.TextBlockParam{{Text: "You are terse."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(user))},
	}
}

func TestAnthropicSDKMessage(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := anthropicClient(srv, testKey)
	msg, err := client.Messages.New(t.Context(), messageParams("What is one plus one?"))
	require.NoError(t, err)
	require.Equal(t, "claude-sonnet-4-5", string(msg.Model))
	require.Equal(t, "assistant", string(msg.Role))
	require.Len(t, msg.Content, 1)
	require.Equal(t, "echo: What is one plus one?", msg.Content[0].Text)
	require.Equal(t, anthropic.StopReasonEndTurn, msg.StopReason)
	require.EqualValues(t, 3+5, msg.Usage.InputTokens)
	require.EqualValues(t, 6, msg.Usage.OutputTokens)

	r := srv.Requests()[0]
	require.Equal(t, testKey, r.Header.Get("x-api-key"))
	require.NotEmpty(t, r.Header.Get("anthropic-version"))
	require.Equal(t, fakellm.APIAnthropic, r.API)
}

func TestAnthropicSDKStopReasons(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := anthropicClient(srv, testKey)
	params := messageParams("one two three four")
	params.MaxTokens = 2
	msg, err := client.Messages.New(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "echo: one", msg.Content[0].Text)
	require.Equal(t, anthropic.StopReasonMaxTokens, msg.StopReason)

	params = messageParams("one two three four")
	params.StopSequences = []string{"three"}
	msg, err = client.Messages.New(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "echo: one two ", msg.Content[0].Text)
	require.Equal(t, anthropic.StopReasonStopSequence, msg.StopReason)
	require.Equal(t, "three", msg.StopSequence)
}

func TestAnthropicSDKStream(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := anthropicClient(srv, testKey)
	stream := client.Messages.NewStreaming(t.Context(), messageParams("stream me some words"))
	var (
		msg    anthropic.Message
		events []string
		text   string
	)
	for stream.Next() {
		ev := stream.Current()
		events = append(events, ev.Type)
		require.NoError(t, msg.Accumulate(ev))
		if d, ok := ev.AsAny().(anthropic.ContentBlockDeltaEvent); ok {
			text += d.Delta.Text
		}
	}
	require.NoError(t, stream.Err())
	require.Equal(t, "echo: stream me some words", text)
	require.Equal(t, text, msg.Content[0].Text)
	require.Equal(t, anthropic.StopReasonEndTurn, msg.StopReason)
	require.EqualValues(t, 7, msg.Usage.InputTokens)
	require.EqualValues(t, 5, msg.Usage.OutputTokens)
	// The SDK hides ping; the rest is the documented sequence.
	require.Equal(t, []string{
		"message_start", "content_block_start",
		"content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
		"content_block_stop", "message_delta", "message_stop",
	}, events)
}

func TestAnthropicStreamWire(t *testing.T) {
	srv := start(t, fakellm.Options{})
	got := call(t, srv, http.MethodPost, "/v1/messages", anthropicHeaders(), map[string]any{
		"model": "claude-sonnet-4-5", "max_tokens": 10, "stream": true,
		"messages": []any{map[string]any{"role": "user", "content": "hi"}},
	})
	require.Equal(t, http.StatusOK, got.status)
	var names []string
	for _, ev := range parseSSE(t, got.body) {
		var head struct{ Type string }
		require.NoError(t, decodeInto([]byte(ev.data), &head))
		require.Equal(t, ev.name, head.Type, "event: line and data type agree")
		names = append(names, ev.name)
	}
	require.Equal(t, []string{
		"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
		"content_block_stop", "message_delta", "message_stop",
	}, names)
}

func TestAnthropicSDKErrors(t *testing.T) {
	srv := start(t, fakellm.Options{Models: []string{"claude-sonnet-4-5"}})
	tests := []struct {
		name    string
		key     string
		model   string
		status  int
		errType string
	}{
		{"wrong key", "nope", "claude-sonnet-4-5", http.StatusUnauthorized, "authentication_error"},
		{"unknown model", testKey, "claude-9", http.StatusNotFound, "not_found_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := anthropicClient(srv, tt.key)
			params := messageParams("hi")
			params.Model = anthropic.Model(tt.model)
			_, err := client.Messages.New(t.Context(), params)
			var apiErr *anthropic.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.status, apiErr.StatusCode)
			require.EqualValues(t, tt.errType, apiErr.Type())
		})
	}

	missing := call(t, srv, http.MethodPost, "/v1/messages", map[string]string{"x-api-key": testKey},
		map[string]any{"model": "claude-sonnet-4-5", "max_tokens": 1, "messages": []any{}})
	require.Equal(t, http.StatusBadRequest, missing.status)
	require.JSONEq(t, `{"type":"error","error":{"type":"invalid_request_error","message":"anthropic-version: header is required"}}`, string(missing.body))
}
