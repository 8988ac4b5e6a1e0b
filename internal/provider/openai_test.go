package provider_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

func TestOpenAIResponseFixtures(t *testing.T) {
	tests := []struct {
		kind    provider.Kind
		format  llm.Format
		fixture string
		usage   provider.Usage
	}{
		{provider.KindOpenAI, llm.FormatChat, "openai/llm-v1-chat/responses/good.json", provider.Usage{PromptTokens: 25, CompletionTokens: 12, TotalTokens: 37, Known: true}},
		{provider.KindOpenAI, llm.FormatChat, "openai/llm-v1-chat/responses/real.json", provider.Usage{PromptTokens: 130, CompletionTokens: 139, TotalTokens: 269, Known: true}},
		{provider.KindOpenAI, llm.FormatCompletions, "openai/llm-v1-completions/responses/good.json", provider.Usage{PromptTokens: 4, CompletionTokens: 16, TotalTokens: 20, Known: true}},
		{provider.KindOpenAI, llm.FormatCompletions, "openai/llm-v1-completions/responses/real.json", provider.Usage{PromptTokens: 10, CompletionTokens: 225, TotalTokens: 235, Known: true}},
		{provider.KindOpenAI, llm.FormatEmbeddings, "openai/llm-v1-embeddings/responses/good.json", provider.Usage{PromptTokens: 4, TotalTokens: 4, Known: true}},
		{provider.KindAzure, llm.FormatChat, "azure/llm-v1-chat/responses/real.json", provider.Usage{PromptTokens: 130, CompletionTokens: 139, TotalTokens: 269, Known: true}},
		{provider.KindAzure, llm.FormatCompletions, "azure/llm-v1-completions/responses/real.json", provider.Usage{PromptTokens: 10, CompletionTokens: 225, TotalTokens: 235, Known: true}},
		{provider.KindOpenAICompatible, llm.FormatChat, "mistral/llm-v1-chat/responses/good.json", provider.Usage{PromptTokens: 25, CompletionTokens: 12, TotalTokens: 37, Known: true}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			body := fixture(t, tt.fixture)
			out, usage, err := adapter(t, tt.kind).Response(&provider.Call{Format: tt.format}, body)
			require.NoError(t, err)
			require.Equal(t, body, out, "passed through")
			require.Equal(t, tt.usage, usage)
			switch tt.format {
			case llm.FormatChat:
				var c openai.ChatCompletion
				require.NoError(t, json.Unmarshal(out, &c))
				require.NotEmpty(t, c.Choices[0].Message.Content)
			case llm.FormatCompletions:
				var c openai.Completion
				require.NoError(t, json.Unmarshal(out, &c))
				require.NotEmpty(t, c.Choices[0].Text)
			case llm.FormatEmbeddings:
				var e openai.CreateEmbeddingResponse
				require.NoError(t, json.Unmarshal(out, &e))
				require.NotEmpty(t, e.Data[0].Embedding)
			}
		})
	}
}

func TestOpenAIResponseUsageShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want provider.Usage
	}{
		{"no usage (an OpenAI-compatible server)", `{"id":"x","choices":[]}`, provider.Usage{}},
		{"null usage", `{"id":"x","choices":[],"usage":null}`, provider.Usage{}},
		{"cached tokens", `{"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920}}}`,
			provider.Usage{PromptTokens: 2006, CompletionTokens: 300, TotalTokens: 2306, CachedTokens: 1920, Known: true}},
		{"responses", `{"object":"response","usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":4},"output_tokens":87,"total_tokens":123}}`,
			provider.Usage{PromptTokens: 36, CompletionTokens: 87, TotalTokens: 123, CachedTokens: 4, Known: true}},
		{"no total", `{"usage":{"prompt_tokens":3,"completion_tokens":4}}`, provider.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, Known: true}},
		{"unreadable usage", `{"usage":{"prompt_tokens":"many"}}`, provider.Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, u, err := adapter(t, provider.KindOpenAICompatible).Response(&provider.Call{Format: llm.FormatChat}, []byte(tt.body))
			require.NoError(t, err)
			require.Equal(t, tt.want, u)
		})
	}
}

func TestOpenAIResponseInvalid(t *testing.T) {
	for _, body := range [][]byte{
		fixture(t, "openai/llm-v1-chat/responses/internal_server_error.html"),
		[]byte(`{"error":{"message":"late failure","type":"server_error"}}`),
		[]byte(``),
		[]byte(`[1,2]`),
	} {
		_, _, err := adapter(t, provider.KindOpenAI).Response(&provider.Call{Format: llm.FormatChat}, body)
		ue, ok := errors.AsType[*provider.UpstreamError](err)
		require.True(t, ok, "%q", body)
		require.Equal(t, provider.ClassServer, ue.Class)
		require.Equal(t, http.StatusBadGateway, ue.Status)
	}
}

// streamCase is one upstream stream through a passthrough adapter.
type streamCase struct {
	name         string
	kind         provider.Kind
	stream       string // testdata file
	clientUsage  bool   // the client asked for include_usage
	wantDropped  int    // events not forwarded
	wantUsage    provider.Usage
	wantContent  string
	wantToolArgs string
	wantFinish   string
}

func TestOpenAIStreamPassthrough(t *testing.T) {
	chatUsage := provider.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29, Known: true}
	tests := []streamCase{
		{name: "usage chunk dropped", kind: provider.KindOpenAI, stream: "streams/openai_chat_usage.txt", wantDropped: 1,
			wantUsage: chatUsage, wantContent: "Hello! How can I help?", wantFinish: "stop"},
		{name: "usage chunk kept when asked", kind: provider.KindOpenAI, stream: "streams/openai_chat_usage.txt", clientUsage: true,
			wantUsage: chatUsage, wantContent: "Hello! How can I help?", wantFinish: "stop"},
		{name: "tool calls", kind: provider.KindOpenAI, stream: "streams/openai_chat_tools.txt", wantDropped: 1,
			wantUsage:    provider.Usage{PromptTokens: 81, CompletionTokens: 17, TotalTokens: 98, CachedTokens: 64, Known: true},
			wantToolArgs: `{"location":"Boston, MA"}`, wantFinish: "tool_calls"},
		{name: "azure prompt filter and content filter chunks", kind: provider.KindAzure, stream: "streams/azure_chat_usage.txt", wantDropped: 1,
			wantUsage: provider.Usage{PromptTokens: 14, CompletionTokens: 1, TotalTokens: 15, Known: true}, wantContent: "Two", wantFinish: "stop"},
		{name: "azure usage kept when asked", kind: provider.KindAzure, stream: "streams/azure_chat_usage.txt", clientUsage: true,
			wantUsage: provider.Usage{PromptTokens: 14, CompletionTokens: 1, TotalTokens: 15, Known: true}, wantContent: "Two", wantFinish: "stop"},
		{name: "ollama sends no usage", kind: provider.KindOpenAICompatible, stream: "streams/ollama_chat.txt",
			wantContent: "Two.", wantFinish: "stop"},
		{name: "recorded OpenAI stream (no blank line after [DONE])", kind: provider.KindOpenAI, stream: "kong/openai-text-event-stream.txt",
			wantContent: "2", wantFinish: "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testdata(t, tt.stream)
			body := chatStreamBody
			if tt.clientUsage {
				body = []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`)
			}
			c := newCall(t, llm.FormatChat, body)
			s := adapter(t, tt.kind).Stream(c, strings.NewReader(string(in)))
			out := drain(t, s)
			require.Nil(t, s.Err())
			require.Equal(t, tt.wantUsage, s.Usage())

			var want [][]byte
			for _, ev := range events(t, in) {
				usageOnly := strings.Contains(ev.Data, `"choices":[]`) && strings.Contains(ev.Data, `"usage":{`)
				if !usageOnly || tt.clientUsage {
					want = append(want, ev.Raw)
				}
			}
			got := events(t, out)
			require.Len(t, got, len(want))
			require.Equal(t, len(events(t, in))-tt.wantDropped, len(got))
			for i, ev := range got {
				require.Equal(t, string(want[i]), string(ev.Raw), "event %d forwarded as written", i)
			}
			cs := readChunks(t, out)
			if tt.kind != provider.KindAzure {
				require.Equal(t, tt.wantContent, cs.acc.Choices[0].Message.Content)
			} else {
				// Azure's filter chunks have other ids; the content is all
				// in the chunks with the answer's id.
				var text string
				for _, c := range cs.chunks {
					for _, ch := range c.Choices {
						text += ch.Delta.Content
					}
				}
				require.Equal(t, tt.wantContent, text)
			}
			if tt.wantToolArgs != "" {
				require.Equal(t, tt.wantToolArgs, cs.acc.Choices[0].Message.ToolCalls[0].Function.Arguments)
			}
			var finish string
			var usageChunk bool
			for _, c := range cs.chunks {
				for _, ch := range c.Choices {
					if ch.FinishReason != "" {
						finish = ch.FinishReason
					}
				}
				if len(c.Choices) == 0 && c.Usage.TotalTokens > 0 {
					usageChunk = true
				}
			}
			require.Equal(t, tt.wantFinish, finish)
			require.Equal(t, tt.clientUsage, usageChunk, "the client sees the usage chunk only if it asked")
		})
	}
}

func TestOpenAIStreamReadError(t *testing.T) {
	in := string(testdata(t, "streams/openai_chat_usage.txt"))
	cut := strings.Index(in, "\n\n") + 2 // after the first event
	s := adapter(t, provider.KindOpenAI).Stream(newCall(t, llm.FormatChat, chatStreamBody), errReader(in[:cut+20], io.ErrUnexpectedEOF))
	first, err := s.Next()
	require.NoError(t, err)
	require.Equal(t, in[:cut], string(first))
	require.Nil(t, s.Err())
	errEvent, err := s.Next()
	require.NoError(t, err)
	require.NotNil(t, s.Err())
	require.Equal(t, provider.ClassConnection, s.Err().Class)
	require.ErrorIs(t, s.Err(), io.ErrUnexpectedEOF)
	cs := readChunks(t, errEvent)
	require.Equal(t, "The connection to the upstream provider failed.", cs.errMsg)
	_, err = s.Next()
	require.ErrorIs(t, err, io.EOF)

	// A timeout while reading.
	s = adapter(t, provider.KindOpenAI).Stream(newCall(t, llm.FormatChat, chatStreamBody), errReader("", os.ErrDeadlineExceeded))
	_, err = s.Next()
	require.NoError(t, err)
	require.Equal(t, provider.ClassTimeout, s.Err().Class)
}

func TestOpenAIStreamErrorEvent(t *testing.T) {
	in := "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
	s := adapter(t, provider.KindOpenAI).Stream(newCall(t, llm.FormatChat, chatStreamBody), strings.NewReader(in+"data: [DONE]\n\n"))
	out := drain(t, s)
	require.Equal(t, in, string(out), "the error event is forwarded, then the stream ends")
	require.Equal(t, provider.ClassServer, s.Err().Class)
}

func TestOpenAIStreamResponses(t *testing.T) {
	in := testdata(t, "streams/openai_responses.txt")
	s := adapter(t, provider.KindOpenAI).Stream(newCall(t, llm.FormatResponses, responsesBody), strings.NewReader(string(in)))
	out := drain(t, s)
	require.Equal(t, string(in), string(out))
	require.Nil(t, s.Err())
	require.Equal(t, provider.Usage{PromptTokens: 37, CompletionTokens: 11, TotalTokens: 48, Known: true}, s.Usage())

	errStream := "event: error\ndata: {\"type\":\"error\",\"code\":\"ERR_SOMETHING\",\"message\":\"Something went wrong\",\"param\":null,\"sequence_number\":1}\n\n"
	s = adapter(t, provider.KindOpenAI).Stream(newCall(t, llm.FormatResponses, responsesBody), strings.NewReader(errStream))
	require.Equal(t, errStream, string(drain(t, s)))
	require.NotNil(t, s.Err())
}

func TestOpenAIStreamRealFrame(t *testing.T) {
	// One recorded frame, as OpenAI and Azure send it.
	frame := fixture(t, "openai/llm-v1-chat/responses/real-stream-frame.txt")
	s := adapter(t, provider.KindOpenAI).Stream(newCall(t, llm.FormatChat, chatStreamBody), strings.NewReader(string(frame)+"\ndata: [DONE]\n\n"))
	cs := readChunks(t, drain(t, s))
	require.True(t, cs.done)
	require.Equal(t, "the answer", cs.acc.Choices[0].Message.Content)
	require.False(t, s.Usage().Known)
}
