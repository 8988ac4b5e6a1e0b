package llm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm"
)

func ptr[T any](v T) *T { return &v }

func mustParse(t *testing.T, f llm.Format, body string) *llm.Request {
	t.Helper()
	r, err := llm.Parse(f, []byte(body))
	require.NoError(t, err)
	return r
}

func TestParseFields(t *testing.T) {
	tests := []struct {
		name   string
		format llm.Format
		body   string
		check  func(t *testing.T, r *llm.Request)
	}{
		{
			name:   "chat sampling",
			format: llm.FormatChat,
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,
				"stream_options":{"include_usage":true},"max_tokens":10,"temperature":0.5,"top_p":1,
				"n":2,"stop":"END","presence_penalty":-1,"frequency_penalty":1.5,"seed":-9007199254740993,"user":"u1"}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, "gpt-4o", r.Model)
				require.True(t, r.Stream)
				require.True(t, r.IncludeUsage)
				require.Equal(t, ptr(10), r.MaxTokens)
				require.Equal(t, ptr(0.5), r.Temperature)
				require.Equal(t, ptr(1.0), r.TopP)
				require.Equal(t, ptr(2), r.N)
				require.Equal(t, []string{"END"}, r.Stop)
				require.Equal(t, ptr(-1.0), r.PresencePenalty)
				require.Equal(t, ptr(1.5), r.FrequencyPenalty)
				require.Equal(t, ptr(int64(-9007199254740993)), r.Seed)
				require.Equal(t, "u1", r.User)
				require.Nil(t, r.TopK)
			},
		},
		{
			name:   "chat max_completion_tokens wins",
			format: llm.FormatChat,
			body:   `{"messages":[{"role":"user","content":"hi"}],"max_tokens":10,"max_completion_tokens":20}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, ptr(20), r.MaxTokens)
				require.Empty(t, r.Model)
			},
		},
		{
			name:   "chat nulls read as absent",
			format: llm.FormatChat,
			body: `{"model":null,"messages":[{"role":"assistant","content":null,"tool_calls":null}],"stream":null,
				"stream_options":null,"max_tokens":null,"temperature":null,"stop":null,"user":null,"tools":null,"tool_choice":null}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, llm.Request{Format: llm.FormatChat, Messages: []llm.Message{{Role: llm.RoleAssistant}}}, llm.Model(r))
			},
		},
		{
			name:   "chat tools and tool calls",
			format: llm.FormatChat,
			body: `{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
				{"id":"c2","type":"custom","custom":{"name":"g","input":"raw text"}}]},{"role":"tool","tool_call_id":"c1","content":"42"}],
				"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}},{"type":"custom","custom":{"name":"g"}}],
				"tool_choice":{"type":"function","function":{"name":"f"}}}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, []llm.Tool{
					{Type: "function", Name: "f", Description: "d", Parameters: json.RawMessage(`{"type":"object"}`)},
					{Type: "custom", Name: "g"},
				}, r.Tools)
				require.JSONEq(t, `{"type":"function","function":{"name":"f"}}`, string(r.ToolChoice))
				require.Equal(t, []llm.Part{
					{Kind: llm.PartToolCall, Type: "function", ID: "c1", Name: "f", Arguments: `{"a":1}`},
					{Kind: llm.PartToolCall, Type: "custom", ID: "c2", Name: "g", Arguments: "raw text"},
				}, r.Messages[0].Parts)
				require.Equal(t, llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{{Kind: llm.PartText, Text: "42"}}}, r.Messages[1])
				require.Equal(t, "42", r.Text())
			},
		},
		{
			name:   "chat assistant refusal member",
			format: llm.FormatChat,
			body:   `{"messages":[{"role":"assistant","content":"no","refusal":"I can't"}]}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, []llm.Part{{Kind: llm.PartText, Text: "no"}, {Kind: llm.PartRefusal, Type: "refusal", Text: "I can't"}}, r.Messages[0].Parts)
				require.Equal(t, "messages[0].refusal", r.TextParts()[1].Path)
			},
		},
		{
			name:   "chat escaped keys and text",
			format: llm.FormatChat,
			body:   `{"mod\u0065l":"m","messages":[{"role":"user","\u0063ontent":"caf\u00e9 \"quoted\" \ud83d\ude00"}]}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, "m", r.Model)
				require.Equal(t, "café \"quoted\" 😀", r.Text())
			},
		},
		{
			name:   "responses",
			format: llm.FormatResponses,
			body: `{"model":"gpt-4.1","instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]},
				{"type":"function_call_output","call_id":"c","output":"done"}],"max_output_tokens":5,"stream":true,"user":"u"}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, ptr(5), r.MaxTokens)
				require.True(t, r.Stream)
				require.Equal(t, "u", r.User)
				require.Equal(t, []llm.Message{
					{Role: llm.RoleSystem, Parts: []llm.Part{{Kind: llm.PartText, Text: "be brief"}}},
					{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Type: "input_text", Text: "hi"}}},
					{Role: llm.RoleTool, Type: "function_call_output", ToolCallID: "c", Parts: []llm.Part{{Kind: llm.PartToolResult, ID: "c", Text: "done"}}},
				}, r.Messages)
				require.Equal(t, "be brief\nhi\ndone", r.Text())
			},
		},
		{
			name:   "responses without input",
			format: llm.FormatResponses,
			body:   `{"model":"gpt-4.1","previous_response_id":"resp_1"}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Empty(t, r.Messages)
				require.Empty(t, r.TextParts())
			},
		},
		{
			name:   "completions tokens",
			format: llm.FormatCompletions,
			body:   `{"prompt":[1,2,3],"max_tokens":0}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartTokens, Tokens: []int{1, 2, 3}}}}}, r.Messages)
				require.Equal(t, ptr(0), r.MaxTokens)
				require.Empty(t, r.TextParts())
			},
		},
		{
			name:   "completions empty prompt list",
			format: llm.FormatCompletions,
			body:   `{"prompt":[]}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{}}}, r.Messages)
			},
		},
		{
			name:   "embeddings",
			format: llm.FormatEmbeddings,
			body:   `{"model":"e","input":["a","b"],"dimensions":3,"encoding_format":"float","user":"x"}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, ptr(3), r.Dimensions)
				require.Equal(t, "float", r.EncodingFormat)
				require.Equal(t, "x", r.User)
				require.Equal(t, "a\nb", r.Text())
				require.Equal(t, []string{"input[0]", "input[1]"}, paths(r))
			},
		},
		{
			name:   "anthropic",
			format: llm.FormatAnthropic,
			body: `{"model":"claude-sonnet-4-5","system":"sys","max_tokens":100,"stop_sequences":["a","b"],"top_k":5,
				"metadata":{"user_id":"u-9"},"messages":[{"role":"user","content":"hi"}]}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, ptr(100), r.MaxTokens)
				require.Equal(t, []string{"a", "b"}, r.Stop)
				require.Equal(t, ptr(5), r.TopK)
				require.Equal(t, "u-9", r.User)
				require.Equal(t, []string{"system", "messages[0].content"}, paths(r))
				require.Equal(t, llm.RoleSystem, r.Messages[0].Role)
			},
		},
		{
			name:   "anthropic without max_tokens is tolerated",
			format: llm.FormatAnthropic,
			body:   `{"messages":[{"role":"user","content":"hi"}]}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Nil(t, r.MaxTokens)
			},
		},
		{
			name:   "unknown part types are kept as other",
			format: llm.FormatAnthropic,
			body:   `{"messages":[{"role":"user","content":[{"type":"search_result","content":[{"type":"text","text":"hidden"}]},{"type":"container_upload","file_id":"f"}]}]}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, []llm.Part{{Kind: llm.PartOther, Type: "search_result"}, {Kind: llm.PartOther, Type: "container_upload"}}, r.Messages[0].Parts)
				require.Empty(t, r.Text())
			},
		},
		{
			name:   "format detected",
			format: llm.FormatUnknown,
			body:   `{"prompt":"hi"}`,
			check: func(t *testing.T, r *llm.Request) {
				require.Equal(t, llm.FormatCompletions, r.Format)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, tt.format, tt.body))
		})
	}
}

func paths(r *llm.Request) []string {
	var out []string
	for _, tp := range r.TextParts() {
		out = append(out, tp.Path)
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		format llm.Format
		body   string
		msg    string // the whole error text
		code   string
	}{
		{"empty", llm.FormatChat, ``, "request body is empty", llm.CodeInvalidJSON},
		{"blank", llm.FormatChat, " \n\t", "request body is empty", llm.CodeInvalidJSON},
		{"invalid json", llm.FormatChat, `{"messages":[}`, "request body is not valid JSON: syntax error at byte 14", llm.CodeInvalidJSON},
		{"truncated", llm.FormatChat, `{"messages":`, "request body is not valid JSON: syntax error at byte 12", llm.CodeInvalidJSON},
		{"trailing garbage", llm.FormatChat, `{} {}`, "request body is not valid JSON: syntax error at byte 4", llm.CodeInvalidJSON},
		{"array", llm.FormatChat, `[{"role":"user"}]`, "request body must be a JSON object, not an array", llm.CodeInvalidType},
		{"string", llm.FormatAnthropic, `"hi"`, "request body must be a JSON object, not a string", llm.CodeInvalidType},
		{"null", llm.FormatChat, `null`, "request body must be a JSON object, not null", llm.CodeInvalidType},
		{"too deep", llm.FormatChat, `{"x":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, "request body nests deeper than 64 levels", llm.CodeInvalidValue},
		{"undetectable", llm.FormatUnknown, `{"segassem":[]}`, "request body has none of messages, input and prompt", llm.CodeUnknownFormat},
		{"unsupported format", llm.Format("gemini"), `{}`, `unsupported request format "gemini"`, llm.CodeUnknownFormat},
		{"undetectable duplicate", llm.FormatUnknown, `{"messages":[],"messages":[]}`, "messages: is given more than once", llm.CodeInvalidValue},
		{"duplicate key", llm.FormatChat, `{"messages":[{"role":"user","content":"a","content":"b"}]}`, "messages[0].content: is given more than once", llm.CodeInvalidValue},
		{"duplicate unknown key", llm.FormatChat, `{"messages":[{"role":"user","content":"a","x":1,"x":2}]}`, "messages[0]: has a member given more than once", llm.CodeInvalidValue},
		{"duplicate key in a wide object", llm.FormatChat, `{"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0,"j":0,"k":0,"l":0,"m":0,"n":0,"o":0,"p":0,"q":0,"r":0,"stream":true,"stream":false}`, "stream: is given more than once", llm.CodeInvalidValue},
		{"duplicate escaped key", llm.FormatChat, `{"model":"a","mod\u0065l":"b","messages":[]}`, "model: is given more than once", llm.CodeInvalidValue},
		{"missing messages", llm.FormatChat, `{"model":"gpt-4o"}`, "messages: is required", llm.CodeMissing},
		{"messages null", llm.FormatChat, `{"messages":null}`, "messages: is required", llm.CodeMissing},
		{"messages object", llm.FormatChat, `{"messages":{}}`, "messages: must be an array, not an object", llm.CodeInvalidType},
		{"messages empty", llm.FormatChat, `{"messages":[]}`, "messages: must not be empty", llm.CodeInvalidValue},
		{"message not object", llm.FormatChat, `{"messages":["hi"]}`, "messages[0]: must be an object, not a string", llm.CodeInvalidType},
		{"missing role", llm.FormatChat, `{"messages":[{"content":"hi"}]}`, "messages[0].role: is required", llm.CodeMissing},
		{"unknown role", llm.FormatChat, `{"messages":[{"role":"root","content":"hi"}]}`, `messages[0].role: must be one of "system", "developer", "user", "assistant", "tool", "function"`, llm.CodeInvalidValue},
		{"role number", llm.FormatChat, `{"messages":[{"role":1,"content":"hi"}]}`, "messages[0].role: must be a string, not a number", llm.CodeInvalidType},
		{"content number", llm.FormatChat, `{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":3}]}`, "messages[2].content: must be a string or an array of content parts, not a number", llm.CodeInvalidType},
		{"user content missing", llm.FormatChat, `{"messages":[{"role":"user"}]}`, "messages[0].content: is required", llm.CodeMissing},
		{"part without type", llm.FormatChat, `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`, "messages[0].content[0].type: is required", llm.CodeMissing},
		{"text part without text", llm.FormatChat, `{"messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text: is required", llm.CodeMissing},
		{"text part text number", llm.FormatChat, `{"messages":[{"role":"user","content":[{"type":"text","text":5}]}]}`, "messages[0].content[0].text: must be a string, not a number", llm.CodeInvalidType},
		{"part string", llm.FormatChat, `{"messages":[{"role":"user","content":["hi"]}]}`, "messages[0].content[0]: must be an object, not a string", llm.CodeInvalidType},
		{"model number", llm.FormatChat, `{"model":4,"messages":[{"role":"user","content":"hi"}]}`, "model: must be a string, not a number", llm.CodeInvalidType},
		{"stream string", llm.FormatChat, `{"stream":"yes","messages":[{"role":"user","content":"hi"}]}`, "stream: must be a boolean, not a string", llm.CodeInvalidType},
		{"stream_options array", llm.FormatChat, `{"stream_options":[],"messages":[{"role":"user","content":"hi"}]}`, "stream_options: must be an object, not an array", llm.CodeInvalidType},
		{"include_usage string", llm.FormatChat, `{"stream_options":{"include_usage":"true"},"messages":[{"role":"user","content":"hi"}]}`, "stream_options.include_usage: must be a boolean, not a string", llm.CodeInvalidType},
		{"max_tokens float", llm.FormatChat, `{"max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens: must be an integer, not a number", llm.CodeInvalidType},
		{"max_tokens huge", llm.FormatChat, `{"max_tokens":1e400,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens: must be an integer, not a number", llm.CodeInvalidType},
		{"max_tokens negative", llm.FormatChat, `{"max_tokens":-1,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens: must not be negative", llm.CodeInvalidValue},
		{"temperature string", llm.FormatChat, `{"temperature":"hot","messages":[{"role":"user","content":"hi"}]}`, "temperature: must be a number, not a string", llm.CodeInvalidType},
		{"stop number", llm.FormatChat, `{"stop":1,"messages":[{"role":"user","content":"hi"}]}`, "stop: must be a string or an array of strings, not a number", llm.CodeInvalidType},
		{"stop element", llm.FormatChat, `{"stop":["a",1],"messages":[{"role":"user","content":"hi"}]}`, "stop[1]: must be a string, not a number", llm.CodeInvalidType},
		{"tool_choice number", llm.FormatChat, `{"tool_choice":1,"messages":[{"role":"user","content":"hi"}]}`, "tool_choice: must be a string or an object, not a number", llm.CodeInvalidType},
		{"tool parameters", llm.FormatChat, `{"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}],"messages":[{"role":"user","content":"hi"}]}`, "tools[0].function.parameters: must be an object, not a string", llm.CodeInvalidType},
		{"tool call not object", llm.FormatChat, `{"messages":[{"role":"assistant","tool_calls":[1]}]}`, "messages[0].tool_calls[0]: must be an object, not a number", llm.CodeInvalidType},
		{"tool call arguments object", llm.FormatChat, `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}]}`, "messages[0].tool_calls[0].function.arguments: must be a string, not an object", llm.CodeInvalidType},
		{"responses input number", llm.FormatResponses, `{"input":1}`, "input: must be a string or an array of input items, not a number", llm.CodeInvalidType},
		{"responses item type missing", llm.FormatResponses, `{"input":[{"content":"x"}]}`, "input[0].type: is required", llm.CodeMissing},
		{"responses role", llm.FormatResponses, `{"input":[{"role":"tool","content":"x"}]}`, `input[0].role: must be one of "system", "developer", "user", "assistant"`, llm.CodeInvalidValue},
		{"responses content missing", llm.FormatResponses, `{"input":[{"type":"message","role":"user"}]}`, "input[0].content: is required", llm.CodeMissing},
		{"responses output missing", llm.FormatResponses, `{"input":[{"type":"function_call_output","call_id":"c"}]}`, "input[0].output: is required", llm.CodeMissing},
		{"responses instructions", llm.FormatResponses, `{"instructions":["x"],"input":"hi"}`, "instructions: must be a string, not an array", llm.CodeInvalidType},
		{"responses tool type", llm.FormatResponses, `{"tools":[{"name":"f"}],"input":"hi"}`, "tools[0].type: is required", llm.CodeMissing},
		{"completions prompt missing", llm.FormatCompletions, `{"tpmorp":"bad prompt?"}`, "prompt: is required", llm.CodeMissing},
		{"completions prompt template", llm.FormatCompletions, `{"prompt":{"name":"python-chat"}}`, "prompt: must be a string, an array of strings or an array of token arrays, not an object", llm.CodeInvalidType},
		{"completions mixed", llm.FormatCompletions, `{"prompt":["a",1]}`, "prompt[1]: must be a string or an array of tokens, not a number", llm.CodeInvalidType},
		{"completions bad token", llm.FormatCompletions, `{"prompt":[1,"a"]}`, "prompt[1]: must be a token id (an integer), not a string", llm.CodeInvalidType},
		{"completions negative token", llm.FormatCompletions, `{"prompt":[[1,-2]]}`, "prompt[0][1]: must not be negative", llm.CodeInvalidValue},
		{"completions suffix", llm.FormatCompletions, `{"prompt":"a","suffix":1}`, "suffix: must be a string, not a number", llm.CodeInvalidType},
		{"embeddings input missing", llm.FormatEmbeddings, `{"model":"e"}`, "input: is required", llm.CodeMissing},
		{"embeddings dimensions", llm.FormatEmbeddings, `{"input":"a","dimensions":"8"}`, "dimensions: must be an integer, not a string", llm.CodeInvalidType},
		{"anthropic system role", llm.FormatAnthropic, `{"messages":[{"role":"system","content":"hi"}]}`, `messages[0].role: must be "user" or "assistant"`, llm.CodeInvalidValue},
		{"anthropic system number", llm.FormatAnthropic, `{"system":1,"messages":[{"role":"user","content":"hi"}]}`, "system: must be a string or an array of text blocks, not a number", llm.CodeInvalidType},
		{"anthropic system block", llm.FormatAnthropic, `{"system":[{"type":"text"}],"messages":[{"role":"user","content":"hi"}]}`, "system[0].text: is required", llm.CodeMissing},
		{"anthropic content null", llm.FormatAnthropic, `{"messages":[{"role":"assistant","content":null}]}`, "messages[0].content: is required", llm.CodeMissing},
		{"anthropic tool_result content", llm.FormatAnthropic, `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":3}]}]}`, "messages[0].content[0].content: must be a string or an array of content blocks, not a number", llm.CodeInvalidType},
		{"anthropic tool_result block", llm.FormatAnthropic, `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":null}]}]}]}`, "messages[0].content[0].content[0].text: is required", llm.CodeMissing},
		{"anthropic tool_use input", llm.FormatAnthropic, `{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"x"}]}]}`, "messages[0].content[0].input: must be an object, not a string", llm.CodeInvalidType},
		{"anthropic stop_sequences string", llm.FormatAnthropic, `{"stop_sequences":"x","messages":[{"role":"user","content":"hi"}]}`, "stop_sequences: must be an array of strings, not a string", llm.CodeInvalidType},
		{"anthropic metadata", llm.FormatAnthropic, `{"metadata":{"user_id":7},"messages":[{"role":"user","content":"hi"}]}`, "metadata.user_id: must be a string, not a number", llm.CodeInvalidType},
		{"anthropic tool_choice string", llm.FormatAnthropic, `{"tool_choice":"auto","messages":[{"role":"user","content":"hi"}]}`, "tool_choice: must be an object, not a string", llm.CodeInvalidType},
		{"anthropic document source", llm.FormatAnthropic, `{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","data":1}}]}]}`, "messages[0].content[0].source.data: must be a string, not a number", llm.CodeInvalidType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := llm.Parse(tt.format, []byte(tt.body))
			require.Error(t, err)
			require.Nil(t, r)
			require.Equal(t, tt.msg, err.Error())
			re, ok := errors.AsType[*llm.RequestError](err)
			require.True(t, ok)
			require.Equal(t, tt.code, re.Code)

			// Wrapped or not, it answers as a 400 in the OpenAI shape.
			ae := apierror.As(fmt.Errorf("prompt guard: %w", err))
			require.Equal(t, http.StatusBadRequest, ae.Status)
			require.Equal(t, apierror.TypeInvalidRequest, ae.Type)
			require.Equal(t, tt.code, ae.Code)
			require.Equal(t, tt.msg, ae.Message)
			require.Equal(t, re.Path, ae.Param)
			require.True(t, strings.HasPrefix(tt.msg, re.Path), "the message starts with the path")
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	body := make([]byte, llm.MaxBodyBytes+1)
	_, err := llm.Parse(llm.FormatChat, body)
	require.EqualError(t, err, fmt.Sprintf("request body is larger than %d bytes", llm.MaxBodyBytes))
	ae := apierror.As(err)
	require.Equal(t, http.StatusRequestEntityTooLarge, ae.Status)
	require.Equal(t, llm.CodeTooLarge, ae.Code)
	require.JSONEq(t, fmt.Sprintf(`{"error":{"message":"request body is larger than %d bytes","type":"invalid_request_error","param":null,"code":"request_too_large"}}`, llm.MaxBodyBytes), string(ae.Body()))
}

func TestParseErrorBody(t *testing.T) {
	_, err := llm.Parse(llm.FormatChat, []byte(`{"messages":[{"role":"user","content":3}]}`))
	require.JSONEq(t, `{"error":{
		"message":"messages[0].content: must be a string or an array of content parts, not a number",
		"type":"invalid_request_error","param":"messages[0].content","code":"invalid_type"}}`, string(apierror.As(err).Body()))
}

// An error never quotes the body's content, which may be a prompt or PII.
func TestParseErrorsDoNotQuoteContent(t *testing.T) {
	const secret = "4111111111111111"
	for _, body := range []string{
		`{"messages":[{"role":"` + secret + `","content":"x"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":` + secret + `}]}]}`,
		`{"messages":[{"role":"user","content":"` + secret + `"}],"stream":"` + secret + `"}`,
		`{"messages":[{"role":"user","content":"` + secret + `"}]`,
		`{"` + secret + `":1,"` + secret + `":2,"messages":[]}`,
	} {
		_, err := llm.Parse(llm.FormatChat, []byte(body))
		require.Error(t, err)
		require.NotContains(t, err.Error(), secret)
	}
}

func TestParseDepthLimit(t *testing.T) {
	nest := func(n int) string {
		return `{"messages":[{"role":"user","content":"hi","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}]}`
	}
	// Root, messages and the message take three levels.
	_, err := llm.Parse(llm.FormatChat, []byte(nest(llm.MaxDepth-3)))
	require.NoError(t, err)
	_, err = llm.Parse(llm.FormatChat, []byte(nest(llm.MaxDepth-2)))
	require.Error(t, err)
}

// Parse keeps the text of strings with invalid UTF-8 as encoding/json does
// and still returns the body as it was.
func TestParseInvalidUTF8(t *testing.T) {
	body := []byte("{\"messages\":[{\"role\":\"user\",\"content\":\"a\xffb\"}]}")
	r, err := llm.Parse(llm.FormatChat, body)
	require.NoError(t, err)
	require.Equal(t, "a\uFFFDb", r.Text())
	require.Equal(t, body, r.Bytes())
}
