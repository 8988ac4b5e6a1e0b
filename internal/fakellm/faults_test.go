package fakellm_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

var chatBody = map[string]any{
	"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": "hello there world"}},
}

var messagesBody = map[string]any{
	"model": "claude-sonnet-4-5", "max_tokens": 100,
	"messages": []any{map[string]any{"role": "user", "content": "hello there world"}},
}

func TestErrorsInEachDialect(t *testing.T) {
	srv := start(t, fakellm.Options{})
	azure := map[string]string{"api-key": testKey}
	tests := []struct {
		name     string
		behavior fakellm.Behavior
		path     string
		header   map[string]string
		body     any
		status   int
		// want is a JSON path → value the error body must hold.
		want map[string]any
	}{
		{"openai 429", fakellm.RateLimited(1500 * time.Millisecond), "/v1/chat/completions", openAIHeaders(), chatBody, 429,
			map[string]any{"error.code": "rate_limit_exceeded", "error.type": "requests"}},
		{"openai context length", fakellm.ContextLengthExceeded(), "/v1/chat/completions", openAIHeaders(), chatBody, 400,
			map[string]any{"error.code": "context_length_exceeded", "error.param": "messages", "error.type": "invalid_request_error"}},
		{"openai 500", fakellm.ServerError(), "/v1/chat/completions", openAIHeaders(), chatBody, 500,
			map[string]any{"error.type": "server_error", "error.code": nil}},
		{"openai 503", fakellm.Unavailable(), "/v1/embeddings", openAIHeaders(), chatBody, 503,
			map[string]any{"error.type": "server_error"}},
		{"openai status only", fakellm.Behavior{Status: 502}, "/v1/chat/completions", openAIHeaders(), chatBody, 500,
			map[string]any{"error.type": "server_error"}},
		{"azure 429", fakellm.RateLimited(2 * time.Second), AzurePath("d", "chat/completions"), azure, chatBody, 429,
			map[string]any{"error.code": "429"}},
		{"azure context length", fakellm.ContextLengthExceeded(), AzurePath("d", "chat/completions"), azure, chatBody, 400,
			map[string]any{"error.code": "context_length_exceeded"}},
		{"anthropic 429", fakellm.RateLimited(2 * time.Second), "/v1/messages", anthropicHeaders(), messagesBody, 429,
			map[string]any{"type": "error", "error.type": "rate_limit_error"}},
		{"anthropic overloaded", fakellm.Behavior{Error: fakellm.ErrorOverloaded}, "/v1/messages", anthropicHeaders(), messagesBody, 529,
			map[string]any{"type": "error", "error.type": "overloaded_error", "error.message": "Overloaded"}},
		{"anthropic context length", fakellm.Behavior{Error: fakellm.ErrorContextLength, Message: "prompt is too long"}, "/v1/messages", anthropicHeaders(), messagesBody, 400,
			map[string]any{"error.type": "invalid_request_error", "error.message": "prompt is too long"}},
		{"custom headers", fakellm.Behavior{Error: fakellm.ErrorServer, Header: http.Header{"X-Custom": {"1"}}}, "/v1/chat/completions", openAIHeaders(), chatBody, 500,
			map[string]any{"error.type": "server_error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Enqueue(tt.behavior)
			got := call(t, srv, http.MethodPost, tt.path, tt.header, tt.body)
			require.Equal(t, tt.status, got.status, "%s", got.body)
			require.Equal(t, "application/json", got.header.Get("Content-Type"))
			if tt.behavior.RetryAfter > 0 {
				require.Equal(t, "2", got.header.Get("Retry-After"))
			}
			if tt.behavior.Header != nil {
				require.Equal(t, "1", got.header.Get("X-Custom"))
			}
			v := decode(t, got.body)
			for path, want := range tt.want {
				cur := v
				for _, k := range strings.Split(path, ".") {
					cur = cur.(map[string]any)[k]
				}
				require.Equal(t, want, cur, path)
			}
		})
	}
	require.Zero(t, srv.Pending())
}

func TestSDKSeesRetryableErrors(t *testing.T) {
	srv := start(t, fakellm.Options{})
	srv.Enqueue(fakellm.RateLimited(0))
	client := openAIClient(srv, option.WithMaxRetries(1))
	resp, err := client.Chat.Completions.New(t.Context(), chatParams("retry me"))
	require.NoError(t, err, "the SDK retries the 429 and gets the answer")
	require.Equal(t, "echo: retry me", resp.Choices[0].Message.Content)
	reqs, err := srv.WaitRequests(t.Context(), 2)
	require.NoError(t, err)
	require.Len(t, reqs, 2)

	srv.Enqueue(fakellm.ContextLengthExceeded())
	_, err = client.Chat.Completions.New(t.Context(), chatParams("too long"))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	require.Equal(t, "context_length_exceeded", apiErr.Code)
	require.Len(t, srv.Requests(), 3, "a 400 is not retried")
}

func TestMatchAndAlways(t *testing.T) {
	srv := start(t, fakellm.Options{})
	srv.Always(fakellm.Behavior{
		Match: func(r fakellm.Request) bool { return r.Model == "gpt-4o" },
		Error: fakellm.ErrorUnavailable,
	})
	srv.Enqueue(fakellm.Behavior{Match: func(r fakellm.Request) bool { return r.Model == "gpt-4o-mini" }, Reply: "scripted"})
	client := openAIClient(srv)

	params := chatParams("hi")
	params.Model = "gpt-4o"
	for range 2 {
		_, err := client.Chat.Completions.New(t.Context(), params)
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	}
	require.Equal(t, 1, srv.Pending(), "the queued behaviour waits for its model")
	resp, err := client.Chat.Completions.New(t.Context(), chatParams("hi"))
	require.NoError(t, err)
	require.Equal(t, "scripted", resp.Choices[0].Message.Content)
	resp, err = client.Chat.Completions.New(t.Context(), chatParams("hi"))
	require.NoError(t, err)
	require.Equal(t, "echo: hi", resp.Choices[0].Message.Content)
}

func TestReplyOption(t *testing.T) {
	srv := start(t, fakellm.Options{Reply: func(p fakellm.Prompt) string {
		return p.Model + " says " + strings.ToUpper(p.LastUser)
	}})
	client := anthropicClient(srv, testKey)
	msg, err := client.Messages.New(t.Context(), messageParams("hi"))
	require.NoError(t, err)
	require.Equal(t, "claude-sonnet-4-5 says HI", msg.Content[0].Text)
}

func TestHeaderDelayAndHang(t *testing.T) {
	tests := []struct {
		name     string
		behavior fakellm.Behavior
	}{
		{"header delay", fakellm.Behavior{HeaderDelay: time.Hour}},
		{"hang", fakellm.Behavior{Hang: true}},
		{"hang mid-stream", fakellm.Behavior{Interrupt: fakellm.InterruptHang, InterruptAfter: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, fakellm.Options{})
			srv.Enqueue(tt.behavior)
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			client := openAIClient(srv)
			stream := client.Chat.Completions.NewStreaming(ctx, chatParams("hi"))
			for stream.Next() {
			}
			require.ErrorIs(t, stream.Err(), context.DeadlineExceeded)
			// Close returns although the handler was waiting.
			srv.Close()
		})
	}
}

func TestInterruptedStreams(t *testing.T) {
	t.Run("openai close", func(t *testing.T) {
		srv := start(t, fakellm.Options{})
		srv.Enqueue(fakellm.Behavior{Interrupt: fakellm.InterruptClose, InterruptAfter: 3})
		client := openAIClient(srv)
		stream := client.Chat.Completions.NewStreaming(t.Context(), chatParams("one two three four"))
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		require.Error(t, stream.Err())
		require.Equal(t, "echo: one", acc.Choices[0].Message.Content, "role chunk and two words arrived")
		require.Empty(t, acc.Choices[0].FinishReason)
	})
	t.Run("anthropic close", func(t *testing.T) {
		srv := start(t, fakellm.Options{})
		srv.Enqueue(fakellm.Behavior{Interrupt: fakellm.InterruptClose, InterruptAfter: 4})
		client := anthropicClient(srv, testKey)
		stream := client.Messages.NewStreaming(t.Context(), messageParams("one two three"))
		var msg anthropic.Message
		for stream.Next() {
			require.NoError(t, msg.Accumulate(stream.Current()))
		}
		require.Error(t, stream.Err())
		require.Equal(t, "echo:", msg.Content[0].Text)
	})
	t.Run("anthropic error event", func(t *testing.T) {
		srv := start(t, fakellm.Options{})
		srv.Enqueue(fakellm.Behavior{Interrupt: fakellm.InterruptError, InterruptAfter: 3})
		client := anthropicClient(srv, testKey)
		stream := client.Messages.NewStreaming(t.Context(), messageParams("one two three"))
		for stream.Next() {
		}
		var apiErr *anthropic.Error
		require.ErrorAs(t, stream.Err(), &apiErr)
		require.EqualValues(t, "overloaded_error", apiErr.Type())
	})
	t.Run("openai error event", func(t *testing.T) {
		srv := start(t, fakellm.Options{})
		srv.Enqueue(fakellm.Behavior{Interrupt: fakellm.InterruptError, InterruptAfter: 2, Error: fakellm.ErrorServer})
		client := openAIClient(srv)
		stream := client.Chat.Completions.NewStreaming(t.Context(), chatParams("one two three"))
		for stream.Next() {
		}
		var apiErr *openai.Error
		require.ErrorAs(t, stream.Err(), &apiErr)
		require.Equal(t, "server_error", apiErr.Type)
		require.Contains(t, apiErr.Message, "server had an error")
	})
	t.Run("non-stream close", func(t *testing.T) {
		srv := start(t, fakellm.Options{})
		srv.Enqueue(fakellm.Behavior{Interrupt: fakellm.InterruptClose})
		client := openAIClient(srv)
		_, err := client.Chat.Completions.New(t.Context(), chatParams("hi"))
		require.Error(t, err)
	})
}

// A test decides when each chunk leaves, so time to first token can be
// asserted without sleeping.
func TestReleaseGatesEveryEvent(t *testing.T) {
	srv := start(t, fakellm.Options{})
	release := make(chan struct{})
	srv.Enqueue(fakellm.Behavior{Release: release})
	body, err := json.Marshal(map[string]any{
		"model": "gpt-4o-mini", "stream": true,
		"messages": []any{map[string]any{"role": "user", "content": "a b"}},
	})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.OpenAIBaseURL()+"/chat/completions", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "headers arrive before any event is released")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	events := make(chan string)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
	}()
	// role, "echo:", " a", " b", finish, [DONE]
	for i := range 6 {
		select {
		case ev := <-events:
			t.Fatalf("event %d arrived before its release: %s", i, ev)
		default:
		}
		release <- struct{}{}
		ev, ok := <-events
		require.True(t, ok)
		if i == 1 {
			require.Contains(t, ev, `"content":"echo:"`)
		}
	}
	_, ok := <-events
	require.False(t, ok, "stream ends after [DONE]")
}

func TestRecording(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := openAIClient(srv, option.WithHeader("X-Tollgate-Seal", "sealed"))
	go func() {
		_, _ = client.Chat.Completions.New(context.Background(), chatParams("first"))
	}()
	reqs, err := srv.WaitRequests(t.Context(), 1)
	require.NoError(t, err)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/v1/chat/completions", r.Path)
	require.Equal(t, "sealed", r.Header.Get("X-Tollgate-Seal"))
	var body struct {
		Messages []struct{ Content string }
	}
	require.NoError(t, r.Decode(&body))
	require.Equal(t, "first", body.Messages[1].Content)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = srv.WaitRequests(ctx, 5)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	srv.Reset()
	require.Empty(t, srv.Requests())
}

func TestUnknownRoutes(t *testing.T) {
	srv := start(t, fakellm.Options{})
	got := call(t, srv, http.MethodGet, "/v1/chat/completions", openAIHeaders(), nil)
	require.Equal(t, http.StatusNotFound, got.status)
	require.JSONEq(t, `{"error":{"message":"Invalid URL (GET /v1/chat/completions)","type":"invalid_request_error","param":null,"code":null}}`, string(got.body))

	got = call(t, srv, http.MethodGet, "/v1/models", anthropicHeaders(), nil)
	require.Equal(t, http.StatusOK, got.status)
	var list struct {
		Data []struct{ Type, ID string }
	}
	require.NoError(t, decodeInto(got.body, &list))
	require.Equal(t, "model", list.Data[0].Type)
}

func TestChunkBytes(t *testing.T) {
	srv := start(t, fakellm.Options{})
	srv.Always(fakellm.Behavior{Reply: "héllo wörld", ChunkBytes: 3})
	a := call(t, srv, http.MethodPost, "/v1/chat/completions", openAIHeaders(),
		[]byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	require.Equal(t, http.StatusOK, a.status)
	var pieces []string
	for _, ev := range parseSSE(t, a.body) {
		var c struct {
			Choices []struct {
				Delta struct {
					Content *string `json:"content"`
					Role    string  `json:"role"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if ev.data == "[DONE]" {
			continue
		}
		require.NoError(t, json.Unmarshal([]byte(ev.data), &c))
		if len(c.Choices) == 1 && c.Choices[0].Delta.Content != nil && c.Choices[0].Delta.Role == "" {
			pieces = append(pieces, *c.Choices[0].Delta.Content)
		}
	}
	require.Equal(t, []string{"hé", "llo", " wö", "rld"}, pieces)
}
