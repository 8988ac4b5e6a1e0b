package llm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

func TestArgumentParts(t *testing.T) {
	tests := []struct {
		name   string
		format llm.Format
		body   string
		want   []llm.TextPart
	}{
		{
			name:   "chat tool calls and legacy function call",
			format: llm.FormatChat,
			body: `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[` +
				`{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"to\":\"a@b.co\"}"}},` +
				`{"id":"c2","type":"function","function":{"name":"g"}}],"function_call":{"name":"h","arguments":"{}"}}]}`,
			want: []llm.TextPart{
				{Path: "messages[1].tool_calls[0].function.arguments", Message: 1, Part: 0, Role: llm.RoleAssistant, Kind: llm.PartToolCall, Text: `{"to":"a@b.co"}`},
				{Path: "messages[1].function_call.arguments", Message: 1, Part: 2, Role: llm.RoleAssistant, Kind: llm.PartToolCall, Text: `{}`},
			},
		},
		{
			name:   "responses function call",
			format: llm.FormatResponses,
			body:   `{"input":[{"role":"user","content":"hi"},{"type":"function_call","call_id":"c","name":"f","arguments":"{\"n\":1}"}]}`,
			want: []llm.TextPart{
				{Path: "input[1].arguments", Message: 1, Part: 0, Role: llm.RoleAssistant, Kind: llm.PartToolCall, Text: `{"n":1}`},
			},
		},
		{
			name:   "anthropic tool use",
			format: llm.FormatAnthropic,
			body:   `{"max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"text","text":"x"},{"type":"tool_use","id":"t","name":"f","input":{"to": "a@b.co"}}]}]}`,
			want: []llm.TextPart{
				{Path: "messages[0].content[1].input", Message: 0, Part: 1, Role: llm.RoleAssistant, Kind: llm.PartToolCall, Text: `{"to": "a@b.co"}`},
			},
		},
		{
			name:   "none",
			format: llm.FormatChat,
			body:   `{"messages":[{"role":"user","content":"hi"}]}`,
			want:   []llm.TextPart{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.format, tt.body)
			require.Equal(t, tt.want, r.ArgumentParts())
		})
	}
}

func TestSetArguments(t *testing.T) {
	tests := []struct {
		name   string
		format llm.Format
		body   string
		path   string
		args   string
		want   string
	}{
		{
			name:   "chat arguments string",
			format: llm.FormatChat,
			body:   `{"messages":[{"role":"assistant", "tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"to\":\"a@b.co\"}","x":1}}]}],"tools":[ ]}`,
			path:   "messages[0].tool_calls[0].function.arguments",
			args:   `{"to":"<EMAIL_1>"}`,
			want:   `{"messages":[{"role":"assistant", "tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"to\":\"<EMAIL_1>\"}","x":1}}]}],"tools":[ ]}`,
		},
		{
			name:   "chat legacy function call",
			format: llm.FormatChat,
			body:   `{"messages":[{"role":"assistant","function_call":{"name":"f","arguments":"{\"a\":\"b\"}"}}]}`,
			path:   "messages[0].function_call.arguments",
			args:   `{"a":"[EMAIL]"}`,
			want:   `{"messages":[{"role":"assistant","function_call":{"name":"f","arguments":"{\"a\":\"[EMAIL]\"}"}}]}`,
		},
		{
			name:   "responses function call",
			format: llm.FormatResponses,
			body:   `{"input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"n\":\"555-0100\"}","status":"completed"}]}`,
			path:   "input[0].arguments",
			args:   `{"n":"***-0100"}`,
			want:   `{"input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"n\":\"***-0100\"}","status":"completed"}]}`,
		},
		{
			name:   "anthropic tool use input object",
			format: llm.FormatAnthropic,
			body:   "{\"max_tokens\":5,\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{\"to\": \"a@b.co\"},\"cache_control\":{\"type\":\"ephemeral\"}}]}]}",
			path:   "messages[0].content[0].input",
			args:   `{"to": "<EMAIL_1>"}`,
			want:   "{\"max_tokens\":5,\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{\"to\": \"<EMAIL_1>\"},\"cache_control\":{\"type\":\"ephemeral\"}}]}]}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.format, tt.body)
			require.NoError(t, r.SetArguments(tt.path, tt.args))
			require.True(t, r.Changed())
			require.Equal(t, tt.want, string(r.Bytes()))
			require.Equal(t, tt.args, r.ArgumentParts()[0].Text)
			again := mustParse(t, tt.format, tt.want)
			require.Equal(t, llm.Model(again), llm.Model(r))
		})
	}
}

func TestSetArgumentsErrors(t *testing.T) {
	r := mustParse(t, llm.FormatAnthropic, `{"max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}]}`)
	for _, args := range []string{`not json`, `[1]`, `"s"`, `{"a":`, ``} {
		require.Error(t, r.SetArguments("messages[0].content[0].input", args), args)
	}
	for _, path := range []string{"", "messages[0].content[0]", "messages[0].content[0].id", "messages[1].content[0].input"} {
		require.Error(t, r.SetArguments(path, `{}`), path)
	}
	require.False(t, r.Changed())
	require.NoError(t, r.SetArguments("messages[0].content[0].input", `{}`))
	require.False(t, r.Changed(), "same arguments are no edit")
}
