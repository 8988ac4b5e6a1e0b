package llm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

func TestFormatForPath(t *testing.T) {
	tests := []struct {
		path string
		want llm.Format
		ok   bool
	}{
		{"/v1/chat/completions", llm.FormatChat, true},
		{"/openai/deployments/gpt-4o/chat/completions", llm.FormatChat, true},
		{"/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", llm.FormatChat, true},
		{"/openai/deployments/gpt-4o/extensions/chat/completions", llm.FormatChat, true},
		{"/kong/route/v1/chat/completions/", llm.FormatChat, true},
		{"v1/chat/completions", llm.FormatChat, true},
		{"/v1/responses", llm.FormatResponses, true},
		{"/openai/v1/responses", llm.FormatResponses, true},
		{"/v1/completions", llm.FormatCompletions, true},
		{"/openai/deployments/davinci/completions", llm.FormatCompletions, true},
		{"/v1/embeddings", llm.FormatEmbeddings, true},
		{"/openai/deployments/ada/embeddings", llm.FormatEmbeddings, true},
		{"/v1/messages", llm.FormatAnthropic, true},
		{"/anthropic/v1/messages", llm.FormatAnthropic, true},
		{"/v1/threads/thread_1/messages", "", false},
		{"/v1/models", "", false},
		{"/v1/chatcompletions", "", false},
		{"/v1/xcompletions", "", false},
		{"/v1/responses/resp_123", "", false},
		{"", "", false},
		{"/", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := llm.FormatForPath(tt.path)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		body string
		want llm.Format
	}{
		{"chat minimal", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, llm.FormatChat},
		{"chat with max_tokens looks like chat", `{"model":"claude-3","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, llm.FormatChat},
		{"chat system role wins over anthropic member", `{"system":"x","messages":[{"role":"system","content":"hi"}]}`, llm.FormatChat},
		{"anthropic system", `{"system":"be brief","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, llm.FormatAnthropic},
		{"anthropic block", `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]}`, llm.FormatAnthropic},
		{"anthropic tools", `{"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"object"}}]}`, llm.FormatAnthropic},
		{"anthropic top_k", `{"top_k":3,"messages":[{"role":"user","content":"hi"}]}`, llm.FormatAnthropic},
		{"chat image_url", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"u"}}]}]}`, llm.FormatChat},
		{"responses string", `{"model":"gpt-4.1","input":"hi"}`, llm.FormatResponses},
		{"responses items", `{"input":[{"role":"user","content":"hi"}]}`, llm.FormatResponses},
		{"responses instructions", `{"instructions":"x","input":["hi"]}`, llm.FormatResponses},
		{"embeddings model", `{"model":"text-embedding-3-small","input":"hi"}`, llm.FormatEmbeddings},
		{"embeddings dimensions", `{"model":"m","input":"hi","dimensions":8}`, llm.FormatEmbeddings},
		{"embeddings tokens", `{"input":[1,2,3]}`, llm.FormatEmbeddings},
		{"embeddings token lists", `{"input":[[1,2],[3]]}`, llm.FormatEmbeddings},
		{"completions", `{"prompt":"hi"}`, llm.FormatCompletions},
		{"messages wrong type", `{"messages":3}`, llm.FormatChat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := llm.Detect([]byte(tt.body))
			require.True(t, ok)
			require.Equal(t, tt.want, got)
		})
	}
	for _, body := range []string{``, `[]`, `"x"`, `{}`, `{"segassem":[]}`, `{"a":`, `{"messages":1,"messages":2}`} {
		t.Run("unknown "+body, func(t *testing.T) {
			got, ok := llm.Detect([]byte(body))
			require.False(t, ok)
			require.Equal(t, llm.FormatUnknown, got)
		})
	}
}

func TestFormatValid(t *testing.T) {
	for _, f := range []llm.Format{llm.FormatChat, llm.FormatResponses, llm.FormatCompletions, llm.FormatEmbeddings, llm.FormatAnthropic} {
		require.True(t, f.Valid(), f)
	}
	require.False(t, llm.FormatUnknown.Valid())
	require.False(t, llm.Format("gemini").Valid())
}
