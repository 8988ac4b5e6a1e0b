package provider_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

var claude = provider.Target{Provider: provider.KindAnthropic, Model: "claude-sonnet-4-5", APIKey: testKey}

// translate sends an OpenAI chat body to an Anthropic target and returns
// the Anthropic body, checked against the official SDK's param types.
func translate(t *testing.T, target provider.Target, body []byte) []byte {
	t.Helper()
	r, err := adapter(t, provider.KindAnthropic).Request(t.Context(), target, newCall(t, llm.FormatChat, body))
	require.NoError(t, err)
	out := requestBody(t, r)
	var params anthropic.MessageNewParams
	require.NoError(t, json.Unmarshal(out, &params), "%s", out)
	require.NotEmpty(t, params.Model)
	require.Positive(t, params.MaxTokens)
	for _, m := range params.Messages {
		require.Contains(t, []anthropic.MessageParamRole{"user", "assistant"}, m.Role)
	}
	// Anthropic parses the body as llm does.
	_, err = llm.Parse(llm.FormatAnthropic, out)
	require.NoError(t, err, "%s", out)
	return out
}

// member returns one member of a JSON object as JSON text.
func memberJSON(t *testing.T, body []byte, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	if v, ok := m[key]; ok {
		return string(v)
	}
	return ""
}

func TestChatToMessagesKongExpected(t *testing.T) {
	// Kong's recorded request, with what Kong's config adds, gives Kong's
	// expected Anthropic request.
	in := withMembers(t, testdata(t, "kong/unit-llm-v1-chat.json"), map[string]any{"model": "claude-2.1", "max_tokens": 512, "temperature": 0.5})
	out := translate(t, provider.Target{Provider: provider.KindAnthropic}, in)
	require.JSONEq(t, string(testdata(t, "kong/expected-anthropic-llm-v1-chat.json")), string(out))
}

func TestChatToMessagesFixtures(t *testing.T) {
	tests := []struct {
		name   string
		body   []byte
		checks map[string]string // member → JSON
	}{
		{"good", fixture(t, "openai/llm-v1-chat/requests/good.json"), map[string]string{
			"model": `"claude-sonnet-4-5"`, "system": `"You are a helpful assistant."`, "max_tokens": `4096`, "stream": `false`,
			"messages": `[{"role":"user","content":"What is 1 + 1?"}]`,
		}},
		{"good stream", fixture(t, "openai/llm-v1-chat/requests/good-stream.json"), map[string]string{
			"stream": `true`, "messages": `[{"role":"user","content":"What is 1 + 1?"}]`,
		}},
		{"tool_choice auto", testdata(t, "kong/tool_choice_auto.json"), map[string]string{
			"tool_choice": `{"type":"auto"}`,
			"tools":       `[{"name":"get_current_weather","description":"Get the current weather in a given location","input_schema":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}]`,
		}},
		{"tool_choice none without tools", testdata(t, "kong/tool_choice_none.json"), map[string]string{"tool_choice": ``, "tools": ``}},
		{"tool_choice function", testdata(t, "kong/tool_choice_object_function.json"), map[string]string{
			"tool_choice": `{"type":"tool","name":"my_function"}`,
			"tools":       `[{"name":"my_function","input_schema":{"type":"object","properties":{}}}]`,
			"system":      `"You are an AI assistant."`,
		}},
		{"tool_choice required", testdata(t, "kong/tool_choice_required.json"), map[string]string{"tool_choice": `{"type":"any"}`}},
		{"multi-modal", testdata(t, "kong/good_multi_modal.json"), map[string]string{
			"messages": `[{"role":"user","content":[{"type":"text","text":"What's in this image?"},{"type":"image","source":{"type":"url","url":"https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"}}]}]`,
		}},
		{"functions stream", testdata(t, "kong/good-stream-with-functions.json"), map[string]string{
			"temperature": `0.7`, "stream": `true`,
		}},
		{"tool conversation", testdata(t, "kong/tool-conversation.json"), map[string]string{
			"model":  `"claude-sonnet-4-5"`,
			"system": `"You are a helpful lighting system bot. You can turn lights on and off, and you can set the color. Do not perform any other tasks."`,
			"messages": `[
				{"role":"user","content":"Turn on the lights please."},
				{"role":"assistant","content":[{"type":"text","text":"Sure! I will turn them on now."},{"type":"tool_use","id":"tooluse_12j842hSE-_gkri61ab2A","name":"enable_lights","input":{}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"tooluse_12j842hSE-_gkri61ab2A","content":"{\"success\":true}"},{"type":"text","text":"Now set them to orange."}]},
				{"role":"assistant","content":[{"type":"text","text":"Setting to orange."},{"type":"tool_use","id":"tooluse_5wP5DuMwSE-_VgqY61ab3A","name":"set_light_color","input":{"rgb_hex":"FFA500"}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"tooluse_5wP5DuMwSE-_VgqY61ab3A","content":"{\"success\":true}"}]}
			]`,
			"tools": `[{"name":"enable_lights","description":"Turn on the lighting system.","input_schema":{"type":"object","properties":{}}},
				{"name":"set_light_color","description":"Set the light color. Lights must be enabled for this to work.","input_schema":{"type":"object","required":["rgb_hex"],"properties":{"rgb_hex":{"description":"The light color as a 6-digit hex string, e.g. ff0000 for red.","type":"string"}}}},
				{"name":"stop_lights","description":"Turn off the lighting system.","input_schema":{"type":"object","properties":{}}}]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := translate(t, claude, tt.body)
			for k, want := range tt.checks {
				got := memberJSON(t, out, k)
				if want == "" {
					require.Empty(t, got, k)
					continue
				}
				require.JSONEq(t, want, got, k)
			}
		})
	}
}

func TestChatToMessagesMapping(t *testing.T) {
	msgs := func(ms ...string) string {
		return `"messages":[` + strings.Join(ms, ",") + `]`
	}
	user := `{"role":"user","content":"hi"}`
	tests := []struct {
		name   string
		body   string
		checks map[string]string
	}{
		{"image data URL", `{"model":"m",` + msgs(`{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}}]}`) + `}`, map[string]string{
			"messages": `[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]`,
		}},
		{"pdf and text files, cache_control", `{"model":"m",` + msgs(`{"role":"user","content":[
			{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}},
			{"type":"file","file":{"file_data":"data:text/plain;base64,aGVsbG8="}},
			{"type":"text","text":"summarise","cache_control":{"type":"ephemeral"}}]}`) + `}`, map[string]string{
			"messages": `[{"role":"user","content":[
				{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}},
				{"type":"document","source":{"type":"text","media_type":"text/plain","data":"hello"}},
				{"type":"text","text":"summarise","cache_control":{"type":"ephemeral"}}]}]`,
		}},
		{"system and developer messages anywhere", `{"model":"m",` + msgs(`{"role":"system","content":"a"}`, user, `{"role":"developer","content":[{"type":"text","text":"b"}]}`, `{"role":"assistant","content":"ok"}`) + `}`, map[string]string{
			"system":   `[{"type":"text","text":"a"},{"type":"text","text":"b"}]`,
			"messages": `[{"role":"user","content":"hi"},{"role":"assistant","content":"ok"}]`,
		}},
		{"consecutive turns merged, empty texts dropped", `{"model":"m",` + msgs(user, `{"role":"user","content":""}`, `{"role":"user","content":[{"type":"text","text":"again"}]}`, `{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}`, `{"role":"assistant","content":null,"refusal":"no"}`) + `}`, map[string]string{
			"messages": `[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":"again"}]},
				{"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"f","input":{}},{"type":"text","text":"no"}]}]`,
		}},
		{"tool results with parts and parallel results", `{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],` + msgs(user,
			`{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}},{"id":"c2","type":"function","function":{"name":"f","arguments":"{}"}}]}`,
			`{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"one"}]}`,
			`{"role":"tool","tool_call_id":"c2","content":""}`) + `}`, map[string]string{
			"messages": `[{"role":"user","content":"hi"},
				{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},{"type":"tool_use","id":"c2","name":"f","input":{}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":[{"type":"text","text":"one"}]},{"type":"tool_result","tool_use_id":"c2"}]}]`,
		}},
		{"legacy functions", `{"model":"m","functions":[{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}],"function_call":{"name":"lookup"},` + msgs(user,
			`{"role":"assistant","content":null,"function_call":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}`,
			`{"role":"function","name":"lookup","content":"found"}`) + `}`, map[string]string{
			"tools":       `[{"name":"lookup","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}]`,
			"tool_choice": `{"type":"tool","name":"lookup"}`,
			"messages": `[{"role":"user","content":"hi"},
				{"role":"assistant","content":[{"type":"tool_use","id":"toolu_fn_1","name":"lookup","input":{"q":"x"}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_fn_1","content":"found"}]}]`,
		}},
		{"parallel_tool_calls false", `{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false,` + msgs(user) + `}`, map[string]string{
			"tool_choice": `{"type":"auto","disable_parallel_tool_use":true}`,
		}},
		{"required, no parallel calls", `{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","parallel_tool_calls":false,` + msgs(user) + `}`, map[string]string{
			"tool_choice": `{"type":"any","disable_parallel_tool_use":true}`,
		}},
		{"none with tools", `{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none","parallel_tool_calls":false,` + msgs(user) + `}`, map[string]string{
			"tool_choice": `{"type":"none"}`,
		}},
		{"sampling, stop, user, tokens", `{"model":"m","temperature":0.2,"top_p":0.9,"stop":"END","user":"u-42","max_tokens":10,"max_completion_tokens":20,"presence_penalty":1,"seed":7,` + msgs(user) + `}`, map[string]string{
			"temperature": `0.2`, "top_p": `0.9`, "stop_sequences": `["END"]`, "metadata": `{"user_id":"u-42"}`, "max_tokens": `20`,
			"presence_penalty": ``, "seed": ``, "user": ``, "stop": ``,
		}},
		{"stop list, safety identifier, max_tokens", `{"model":"m","stop":["a","b"],"safety_identifier":"hash-1","max_tokens":10,` + msgs(user) + `}`, map[string]string{
			"stop_sequences": `["a","b"]`, "metadata": `{"user_id":"hash-1"}`, "max_tokens": `10`,
		}},
		{"text that looks like HTML", `{"model":"m",` + msgs(`{"role":"user","content":"<b>&</b>"}`) + `}`, map[string]string{
			"messages": `[{"role":"user","content":"<b>&</b>"}]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := translate(t, claude, []byte(tt.body))
			for k, want := range tt.checks {
				got := memberJSON(t, out, k)
				if want == "" {
					require.Empty(t, got, k)
					continue
				}
				require.JSONEq(t, want, got, k)
			}
			if strings.Contains(tt.body, "<b>") {
				require.Contains(t, string(out), "<b>&</b>", "no HTML escaping")
			}
		})
	}
}

func TestChatToMessagesUnsupported(t *testing.T) {
	user := `{"role":"user","content":"PROMPT-TEXT"}`
	tests := map[string]string{
		"n":                        `{"model":"m","n":2,"messages":[` + user + `]}`,
		"logprobs":                 `{"model":"m","logprobs":true,"messages":[` + user + `]}`,
		"json schema":              `{"model":"m","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}},"messages":[` + user + `]}`,
		"audio out":                `{"model":"m","modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"},"messages":[` + user + `]}`,
		"audio in":                 `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
		"file id":                  `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`,
		"system image":             `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},` + user + `]}`,
		"custom tool":              `{"model":"m","tools":[{"type":"custom","custom":{"name":"grammar"}}],"messages":[` + user + `]}`,
		"allowed tools":            `{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}},"messages":[` + user + `]}`,
		"arguments not JSON":       `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`,
		"data URL not base64":      `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,<svg/>"}}]}]}`,
		"ftp image":                `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`,
		"text/plain not base64":    `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/plain;base64,@@@"}}]}]}`,
		"unknown part type":        `{"model":"m","messages":[{"role":"user","content":[{"type":"video_url","video_url":{"url":"https://x"}}]}]}`,
		"response_format json_obj": `{"model":"m","response_format":{"type":"json_object"},"messages":[` + user + `]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := adapter(t, provider.KindAnthropic).Request(t.Context(), claude, newCall(t, llm.FormatChat, []byte(body)))
			ue, ok := errors.AsType[*provider.UpstreamError](err)
			require.True(t, ok, "%T %v", err, err)
			require.Equal(t, provider.ClassUnsupported, ue.Class, ue.Error())
			require.Equal(t, 400, ue.Status)
			require.NotContains(t, ue.Error(), "PROMPT-TEXT")
			require.NotContains(t, string(ue.Body), "PROMPT-TEXT")
			var eb errorBody
			require.NoError(t, json.Unmarshal(ue.Body, &eb))
			require.Contains(t, eb.Error.Message, "not supported by the anthropic provider")
		})
	}
}

func TestMessagesPassthroughRequest(t *testing.T) {
	// An Anthropic client: the body as it is, with the target's model and
	// a max_tokens when it has none.
	body := []byte(`{"model":"claude-3-haiku","messages":[{"role":"user","content":"hi"}], "system":"s"}`)
	r, err := adapter(t, provider.KindAnthropic).Request(t.Context(), provider.Target{Provider: provider.KindAnthropic, Model: "claude-sonnet-4-5"}, newCall(t, llm.FormatAnthropic, body))
	require.NoError(t, err)
	require.JSONEq(t, `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}],"system":"s","max_tokens":4096}`, string(requestBody(t, r)))

	r, err = adapter(t, provider.KindAnthropic).Request(t.Context(), provider.Target{Provider: provider.KindAnthropic}, newCall(t, llm.FormatAnthropic, messagesBody))
	require.NoError(t, err)
	require.Equal(t, string(messagesBody), string(requestBody(t, r)), "unchanged bytes")
}

func TestMessageToChat(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		content *string
		finish  string
		usage   provider.Usage
		tools   []openai.ChatCompletionMessageToolCallUnion
	}{
		{name: "fixture good", body: fixture(t, "anthropic/llm-v1-chat/responses/good.json"), content: ptr("The sum of 1 + 1 is 2."), finish: "stop", usage: provider.Usage{Known: true}},
		{name: "fixture real (stop_sequence)", body: fixture(t, "anthropic/llm-v1-chat/responses/real.json"), content: ptr("You cannot divide by zero because it is not a valid operation in mathematics."), finish: "stop", usage: provider.Usage{Known: true}},
		{name: "fixture without usage", body: testdata(t, "kong/no_usage_response.json"), content: ptr("The sum of 1 + 1 is 2."), finish: "stop"},
		{name: "fixture with malformed usage", body: testdata(t, "kong/malformed_usage_response.json"), content: ptr("The sum of 1 + 1 is 2."), finish: "stop"},
		{name: "max tokens", body: testdata(t, "responses/anthropic_message.json"), content: ptr("Hi! My name is Claude."), finish: "length",
			usage: provider.Usage{PromptTokens: 2095, CompletionTokens: 503, TotalTokens: 2598, Known: true}},
		{name: "tool use, thinking, cache", body: testdata(t, "responses/anthropic_tool_use.json"), content: ptr("I'll check the weather in San Francisco."), finish: "tool_calls",
			usage: provider.Usage{PromptTokens: 592, CompletionTokens: 89, TotalTokens: 681, CachedTokens: 100, CacheWriteTokens: 20, Known: true}},
		{name: "only a tool call", body: []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}`),
			finish: "tool_calls", usage: provider.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3, Known: true}},
		{name: "refusal", body: []byte(`{"type":"message","content":[],"stop_reason":"refusal"}`), content: ptr(""), finish: "content_filter"},
	}
	a := adapter(t, provider.KindAnthropic)
	call := newCall(t, llm.FormatChat, chatBody)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, usage, err := a.Response(call, tt.body)
			require.NoError(t, err)
			require.Equal(t, tt.usage, usage)
			var c openai.ChatCompletion
			require.NoError(t, json.Unmarshal(out, &c), "%s", out)
			require.Equal(t, "chat.completion", string(c.Object))
			require.NotEmpty(t, c.ID)
			require.Positive(t, c.Created)
			require.Len(t, c.Choices, 1)
			ch := c.Choices[0]
			require.Equal(t, "assistant", string(ch.Message.Role))
			require.Equal(t, tt.finish, ch.FinishReason)
			var raw struct {
				Choices []struct {
					Message struct {
						Content *string `json:"content"`
					} `json:"message"`
				} `json:"choices"`
			}
			require.NoError(t, json.Unmarshal(out, &raw))
			require.Equal(t, tt.content, raw.Choices[0].Message.Content)
			if usage.Known {
				require.EqualValues(t, usage.PromptTokens, c.Usage.PromptTokens)
				require.EqualValues(t, usage.CompletionTokens, c.Usage.CompletionTokens)
				require.EqualValues(t, usage.TotalTokens, c.Usage.TotalTokens)
				require.EqualValues(t, usage.CachedTokens, c.Usage.PromptTokensDetails.CachedTokens)
			} else {
				require.NotContains(t, string(out), `"usage"`)
			}
			if tt.finish == "tool_calls" {
				require.NotEmpty(t, ch.Message.ToolCalls)
				tc := ch.Message.ToolCalls[0]
				require.Equal(t, "function", string(tc.Type))
				require.True(t, json.Valid([]byte(tc.Function.Arguments)))
			}
		})
	}
	t.Run("tool call arguments", func(t *testing.T) {
		out, _, err := a.Response(call, testdata(t, "responses/anthropic_tool_use.json"))
		require.NoError(t, err)
		var c openai.ChatCompletion
		require.NoError(t, json.Unmarshal(out, &c))
		tc := c.Choices[0].Message.ToolCalls[0]
		require.Equal(t, "toolu_01A09q90qw90lq917835lq9", tc.ID)
		require.Equal(t, "get_weather", tc.Function.Name)
		require.JSONEq(t, `{"location":"San Francisco, CA","unit":"celsius"}`, tc.Function.Arguments)
		require.Equal(t, "msg_01Aq9w938a90dw8q", c.ID)
		require.Equal(t, "claude-sonnet-4-5-20250929", c.Model)
	})
	t.Run("not a message", func(t *testing.T) {
		for _, body := range [][]byte{testdata(t, "kong/bad_upstream_response.json"), []byte("<html>"), []byte(`{"type":"error","error":{"type":"api_error","message":"x"}}`)} {
			_, _, err := a.Response(call, body)
			ue, ok := errors.AsType[*provider.UpstreamError](err)
			require.True(t, ok)
			require.Equal(t, provider.ClassServer, ue.Class)
		}
	})
}

func ptr(s string) *string { return &s }

func TestMessagesPassthroughResponse(t *testing.T) {
	body := testdata(t, "responses/anthropic_tool_use.json")
	out, usage, err := adapter(t, provider.KindAnthropic).Response(newCall(t, llm.FormatAnthropic, messagesBody), body)
	require.NoError(t, err)
	require.Equal(t, body, out)
	require.Equal(t, provider.Usage{PromptTokens: 592, CompletionTokens: 89, TotalTokens: 681, CachedTokens: 100, CacheWriteTokens: 20, Known: true}, usage)
	var m anthropic.Message
	require.NoError(t, json.Unmarshal(out, &m))
}

// chatStream translates an Anthropic stream for a chat client.
func chatStream(t *testing.T, includeUsage bool, upstream io.Reader) (provider.Stream, []byte) {
	t.Helper()
	body := chatStreamBody
	if includeUsage {
		body = []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`)
	}
	s := adapter(t, provider.KindAnthropic).Stream(newCall(t, llm.FormatChat, body), upstream)
	return s, drain(t, s)
}

func TestChatFromMessagesStreamText(t *testing.T) {
	for _, includeUsage := range []bool{false, true} {
		s, out := chatStream(t, includeUsage, strings.NewReader(string(testdata(t, "streams/anthropic_text.txt"))))
		require.Nil(t, s.Err())
		require.Equal(t, provider.Usage{PromptTokens: 25, CompletionTokens: 15, TotalTokens: 40, Known: true}, s.Usage())
		cs := readChunks(t, out)
		require.True(t, cs.done)
		require.Equal(t, "Hello! \"1 + 1\" is 2.\né", cs.acc.Choices[0].Message.Content)
		require.Equal(t, "assistant", string(cs.acc.Choices[0].Message.Role))
		require.Equal(t, "stop", cs.acc.Choices[0].FinishReason)
		require.Equal(t, "msg_01XFDUDYJgAACzvnptvVoYEL", cs.acc.ID)
		require.Equal(t, "claude-sonnet-4-5-20250929", cs.acc.Model)

		require.Equal(t, "assistant", string(cs.chunks[0].Choices[0].Delta.Role), "role in the first chunk")
		for i, c := range cs.chunks {
			require.Equal(t, "msg_01XFDUDYJgAACzvnptvVoYEL", c.ID)
			require.Equal(t, "chat.completion.chunk", string(c.Object))
			require.Equal(t, cs.chunks[0].Created, c.Created)
			if i > 0 && len(c.Choices) > 0 {
				require.Empty(t, c.Choices[0].Delta.Role)
			}
		}
		last := cs.chunks[len(cs.chunks)-1]
		if includeUsage {
			require.Empty(t, last.Choices)
			require.EqualValues(t, 40, last.Usage.TotalTokens)
			require.EqualValues(t, 40, cs.acc.Usage.TotalTokens)
		} else {
			require.NotEmpty(t, last.Choices)
			require.NotContains(t, string(out), `"usage"`)
		}
		// One ping comes after the answer started; the first does not.
		require.Equal(t, 1, strings.Count(string(out), ": ping\n\n"))
	}
}

func TestChatFromMessagesStreamTools(t *testing.T) {
	s, out := chatStream(t, true, strings.NewReader(string(testdata(t, "streams/anthropic_tools.txt"))))
	require.Nil(t, s.Err())
	require.Equal(t, provider.Usage{PromptTokens: 592, CompletionTokens: 89, TotalTokens: 681, CachedTokens: 100, CacheWriteTokens: 20, Known: true}, s.Usage())
	cs := readChunks(t, out)
	msg := cs.acc.Choices[0].Message
	require.Equal(t, "Okay, let's check the weather for San Francisco, CA:", msg.Content, "thinking is left out")
	require.Len(t, msg.ToolCalls, 2)
	require.Equal(t, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", msg.ToolCalls[0].ID)
	require.Equal(t, "get_weather", msg.ToolCalls[0].Function.Name)
	require.Equal(t, `{"location": "San Francisco, CA", "unit": "fahrenheit"}`, msg.ToolCalls[0].Function.Arguments)
	require.Equal(t, "toolu_02", msg.ToolCalls[1].ID)
	require.Equal(t, `{"tz": "PST"}`, msg.ToolCalls[1].Function.Arguments)
	require.Equal(t, "tool_calls", cs.acc.Choices[0].FinishReason)
	require.EqualValues(t, 100, cs.acc.Usage.PromptTokensDetails.CachedTokens)

	// Tool call deltas carry their index; the start also id, type, name.
	var starts, argDeltas int
	for _, c := range cs.chunks {
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				if tc.ID != "" {
					starts++
					require.Equal(t, "function", tc.Type)
					require.NotEmpty(t, tc.Function.Name)
				} else {
					argDeltas++
					require.NotEmpty(t, tc.Function.Arguments)
				}
			}
		}
	}
	require.Equal(t, 2, starts)
	require.Equal(t, 5, argDeltas, "the empty partial_json is dropped")
	require.NotContains(t, string(out), "thinking")
	require.NotContains(t, string(out), "EqQBCgIYAhIM")
}

func TestChatFromMessagesStreamError(t *testing.T) {
	s, out := chatStream(t, true, strings.NewReader(string(testdata(t, "streams/anthropic_error.txt"))))
	require.NotNil(t, s.Err())
	require.Equal(t, provider.ClassServer, s.Err().Class)
	require.Equal(t, 529, s.Err().UpstreamStatus)
	require.True(t, s.Err().Retryable([]string{"5xx"}))
	cs := readChunks(t, out)
	require.False(t, cs.done, "no [DONE] after an error")
	require.Equal(t, "Partial", cs.acc.Choices[0].Message.Content)
	require.Equal(t, "The upstream provider is overloaded or unavailable; retry later.", cs.errMsg)
	evs := events(t, out)
	require.Contains(t, evs[len(evs)-1].Data, `"type":"server_error"`)
	require.Equal(t, provider.Usage{PromptTokens: 12, CompletionTokens: 1, TotalTokens: 13, Known: true}, s.Usage())
}

func TestChatFromMessagesStreamFailures(t *testing.T) {
	text := string(testdata(t, "streams/anthropic_text.txt"))
	untilDelta := text[:strings.Index(text, "event: content_block_stop")]
	untilMessageDelta := text[:strings.Index(text, "event: message_stop")]
	tests := []struct {
		name     string
		upstream io.Reader
		class    provider.Class // "" for a normal end
		content  string
	}{
		{"connection drops", errReader(untilDelta, io.ErrUnexpectedEOF), provider.ClassConnection, "Hello! \"1 + 1\" is 2.\né"},
		{"stream ends early", strings.NewReader(untilDelta), provider.ClassConnection, "Hello! \"1 + 1\" is 2.\né"},
		{"empty stream", strings.NewReader(""), provider.ClassConnection, ""},
		{"message_stop missing", strings.NewReader(untilMessageDelta), "", "Hello! \"1 + 1\" is 2.\né"},
		{"unreadable event", strings.NewReader("event: message_start\ndata: {not json\n\n"), provider.ClassServer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out := chatStream(t, false, tt.upstream)
			cs := readChunks(t, out)
			if tt.class == "" {
				require.Nil(t, s.Err())
				require.True(t, cs.done)
			} else {
				require.NotNil(t, s.Err())
				require.Equal(t, tt.class, s.Err().Class)
				require.NotEmpty(t, cs.errMsg)
				require.False(t, cs.done)
			}
			if tt.content != "" {
				require.Equal(t, tt.content, cs.acc.Choices[0].Message.Content)
			}
		})
	}
}

func TestMessagesPassthroughStream(t *testing.T) {
	in := string(testdata(t, "streams/anthropic_tools.txt"))
	s := adapter(t, provider.KindAnthropic).Stream(newCall(t, llm.FormatAnthropic, messagesBody), strings.NewReader(in))
	out := drain(t, s)
	require.Equal(t, in, string(out))
	require.Nil(t, s.Err())
	require.Equal(t, provider.Usage{PromptTokens: 592, CompletionTokens: 89, TotalTokens: 681, CachedTokens: 100, CacheWriteTokens: 20, Known: true}, s.Usage())

	// Anthropic's error event goes through as it is.
	in = string(testdata(t, "streams/anthropic_error.txt"))
	s = adapter(t, provider.KindAnthropic).Stream(newCall(t, llm.FormatAnthropic, messagesBody), strings.NewReader(in))
	require.Equal(t, in, string(drain(t, s)))
	require.Equal(t, provider.ClassServer, s.Err().Class)

	// A dropped connection ends with an Anthropic error event.
	cut := in[:strings.Index(in, "event: error")]
	s = adapter(t, provider.KindAnthropic).Stream(newCall(t, llm.FormatAnthropic, messagesBody), errReader(cut, io.ErrUnexpectedEOF))
	out = drain(t, s)
	evs := events(t, out)
	last := evs[len(evs)-1]
	require.Equal(t, "error", last.Event)
	var ev anthropic.MessageStreamEventUnion
	require.NoError(t, json.Unmarshal([]byte(last.Data), &ev))
	require.Equal(t, "error", ev.Type)
	require.JSONEq(t, `{"type":"error","error":{"type":"api_error","message":"The connection to the upstream provider failed."}}`, last.Data)
	require.Equal(t, provider.ClassConnection, s.Err().Class)
}
