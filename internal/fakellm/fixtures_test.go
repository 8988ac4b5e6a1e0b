package fakellm_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

// withModel adds a model to one of Kong's recorded requests, which leave it
// to Kong's config.
func withModel(t *testing.T, raw []byte, model string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	m["model"] = model
	return m
}

func TestAnswersMatchRecordedPayloads(t *testing.T) {
	srv := start(t, fakellm.Options{})
	chat := withModel(t, fixture(t, "openai/llm-v1-chat/requests/good.json"), "gpt-4o-mini")
	completion := withModel(t, fixture(t, "openai/llm-v1-completions/requests/good.json"), "gpt-3.5-turbo-instruct")
	messages := map[string]any{
		"model": "claude-sonnet-4-5", "max_tokens": 64, "system": "You are a helpful assistant.",
		"messages": []any{map[string]any{"role": "user", "content": "What is 1 + 1?"}},
	}
	azureChat := AzurePath("gpt-4o", "chat/completions")
	azureCompletion := AzurePath("gpt-35-instruct", "completions")
	wrongBearer := map[string]string{"Authorization": "Bearer wrong-key"}

	tests := []struct {
		name     string
		fixtures []string
		method   string
		path     string
		header   map[string]string
		body     any
		status   int
	}{
		{"openai chat", []string{"openai/llm-v1-chat/responses/good.json", "openai/llm-v1-chat/responses/real.json", "mistral/llm-v1-chat/responses/good.json"},
			http.MethodPost, "/v1/chat/completions", openAIHeaders(), chat, http.StatusOK},
		{"openai chat unauthorized", []string{"openai/llm-v1-chat/responses/unauthorized.json"},
			http.MethodPost, "/v1/chat/completions", wrongBearer, chat, http.StatusUnauthorized},
		{"openai chat bad request", []string{"openai/llm-v1-chat/responses/bad_request.json"},
			http.MethodPost, "/v1/chat/completions", openAIHeaders(), map[string]any{"model": "gpt-4o-mini"}, http.StatusBadRequest},
		{"openai completions", []string{"openai/llm-v1-completions/responses/good.json", "openai/llm-v1-completions/responses/real.json"},
			http.MethodPost, "/v1/completions", openAIHeaders(), completion, http.StatusOK},
		{"openai completions unauthorized", []string{"openai/llm-v1-completions/responses/unauthorized.json"},
			http.MethodPost, "/v1/completions", wrongBearer, completion, http.StatusUnauthorized},
		{"openai completions bad request", []string{"openai/llm-v1-completions/responses/bad_request.json"},
			http.MethodPost, "/v1/completions", openAIHeaders(), map[string]any{"model": "gpt-3.5-turbo-instruct"}, http.StatusBadRequest},
		{"openai embeddings", []string{"openai/llm-v1-embeddings/responses/good.json"},
			http.MethodPost, "/v1/embeddings", openAIHeaders(), map[string]any{"model": "text-embedding-3-large", "input": "What is 1 + 1?"}, http.StatusOK},
		{"azure chat", []string{"azure/llm-v1-chat/responses/real.json"},
			http.MethodPost, azureChat, map[string]string{"api-key": testKey}, chat, http.StatusOK},
		{"azure completions", []string{"azure/llm-v1-completions/responses/real.json"},
			http.MethodPost, azureCompletion, map[string]string{"api-key": testKey}, completion, http.StatusOK},
		{"anthropic messages", []string{"anthropic/llm-v1-chat/responses/good.json", "anthropic/llm-v1-chat/responses/real.json"},
			http.MethodPost, "/v1/messages", anthropicHeaders(), messages, http.StatusOK},
		{"anthropic unauthorized", []string{"anthropic/llm-v1-chat/responses/unauthorized.json"},
			http.MethodPost, "/v1/messages", map[string]string{"x-api-key": "wrong", "anthropic-version": "2023-06-01"}, messages, http.StatusUnauthorized},
		{"anthropic bad request", []string{"anthropic/llm-v1-chat/responses/bad_request.json"},
			http.MethodPost, "/v1/messages", anthropicHeaders(), map[string]any{"model": "claude-sonnet-4-5", "messages": []any{}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, srv, tt.method, tt.path, tt.header, tt.body)
			require.Equal(t, tt.status, got.status, "%s", got.body)
			require.Equal(t, "application/json", got.header.Get("Content-Type"))
			for _, f := range tt.fixtures {
				requireShape(t, decode(t, fixture(t, f)), decode(t, got.body), f)
			}
		})
	}
}

// The recorded error messages are reproduced word for word.
func TestErrorMessagesMatchRecordedPayloads(t *testing.T) {
	srv := start(t, fakellm.Options{})
	tests := []struct {
		name, path, fixture string
		body                any
		header              map[string]string
	}{
		{"chat without messages", "/v1/chat/completions", "openai/llm-v1-chat/responses/bad_request.json", map[string]any{"model": "m"}, openAIHeaders()},
		{"completion without prompt", "/v1/completions", "openai/llm-v1-completions/responses/bad_request.json", map[string]any{"model": "m"}, openAIHeaders()},
		{"wrong key", "/v1/completions", "openai/llm-v1-completions/responses/unauthorized.json", map[string]any{"model": "m", "prompt": "x"}, map[string]string{"Authorization": "Bearer wrong-key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, srv, http.MethodPost, tt.path, tt.header, tt.body)
			require.JSONEq(t, string(fixture(t, tt.fixture)), string(got.body))
		})
	}
}

func TestStreamChunksMatchRecordedFrames(t *testing.T) {
	srv := start(t, fakellm.Options{})
	tests := []struct {
		name, path, fixture string
		// first and last content chunks: chat has a role chunk before and
		// a finish chunk (empty delta) after them.
		first, fromEnd int
		body           map[string]any
	}{
		{"chat", "/v1/chat/completions", "openai/llm-v1-chat/responses/real-stream-frame.txt", 1, 2, map[string]any{
			"model": "gpt-4", "stream": true, "messages": []any{map[string]any{"role": "user", "content": "say the answer"}},
		}},
		{"completions", "/v1/completions", "openai/llm-v1-completions/responses/real-stream-frame.txt", 0, 1, map[string]any{
			"model": "gpt-3.5-turbo-instruct", "stream": true, "prompt": "say the answer",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := strings.TrimPrefix(strings.TrimSpace(string(fixture(t, tt.fixture))), "data: ")
			got := call(t, srv, http.MethodPost, tt.path, openAIHeaders(), tt.body)
			require.Equal(t, http.StatusOK, got.status, "%s", got.body)
			require.Equal(t, "text/event-stream; charset=utf-8", got.header.Get("Content-Type"))
			events := parseSSE(t, got.body)
			require.Greater(t, len(events), 3)
			require.Equal(t, "[DONE]", events[len(events)-1].data)
			for _, ev := range events {
				require.Empty(t, ev.name, "OpenAI streams carry no event names")
			}
			for _, ev := range events[tt.first : len(events)-tt.fromEnd] {
				requireShape(t, decode(t, []byte(frame)), decode(t, []byte(ev.data)), tt.fixture)
			}
		})
	}
}

func TestRawFaultBodyFromFixture(t *testing.T) {
	srv := start(t, fakellm.Options{})
	html := fixture(t, "openai/llm-v1-chat/responses/internal_server_error.html")
	srv.Enqueue(fakellm.Behavior{Status: http.StatusInternalServerError, Body: html})
	got := call(t, srv, http.MethodPost, "/v1/chat/completions", openAIHeaders(), map[string]any{})
	require.Equal(t, http.StatusInternalServerError, got.status)
	require.Equal(t, html, got.body)
	require.Contains(t, got.header.Get("Content-Type"), "text/html")
}

// AzurePath is the deployment URL path with a current api-version.
func AzurePath(deployment, endpoint string) string {
	return fakellm.AzureDeploymentPath(deployment, endpoint, "2024-10-21")
}
