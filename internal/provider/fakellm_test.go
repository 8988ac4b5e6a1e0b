package provider_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

// These tests send requests built by the adapters to the provider fakes
// through http.DefaultClient, and translate what comes back.

func startFake(t *testing.T, opts fakellm.Options) *fakellm.Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	srv := fakellm.New(opts)
	t.Cleanup(srv.Close)
	return srv
}

// outcome is one call through an adapter.
type outcome struct {
	err    *provider.UpstreamError // an error answer
	body   []byte                  // the translated answer (or stream bytes)
	usage  provider.Usage
	stream provider.Stream
}

// roundTrip runs one call the way egress does.
func roundTrip(t *testing.T, target provider.Target, c *provider.Call) outcome {
	t.Helper()
	a := adapter(t, target.Provider)
	req, err := a.Request(t.Context(), target, c)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return outcome{err: a.Error(resp.StatusCode, resp.Header, body)}
	}
	if c.Req.Stream {
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"))
		s := a.Stream(c, resp.Body)
		out := drain(t, s)
		return outcome{body: out, usage: s.Usage(), stream: s}
	}
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out, usage, err := a.Response(c, body)
	require.NoError(t, err)
	return outcome{body: out, usage: usage}
}

func chatRequest(stream, includeUsage bool, extra string) []byte {
	s := `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"one two three four"}]`
	if stream {
		s += `,"stream":true`
	}
	if includeUsage {
		s += `,"stream_options":{"include_usage":true}`
	}
	return []byte(s + extra + "}")
}

// The fake counts a token per word: "Be brief." is 2, "one two three
// four" 4, and the reply "echo: one two three four" 5.
var fakeUsage = provider.Usage{PromptTokens: 6, CompletionTokens: 5, TotalTokens: 11, Known: true}

func TestFakeOpenAI(t *testing.T) {
	srv := startFake(t, fakellm.Options{})
	target := provider.Target{Provider: provider.KindOpenAI, URL: srv.URL(), APIKey: testKey, Model: "gpt-4o-mini"}

	o := roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(false, false, "")))
	require.Nil(t, o.err)
	var cc openai.ChatCompletion
	require.NoError(t, json.Unmarshal(o.body, &cc))
	require.Equal(t, "echo: one two three four", cc.Choices[0].Message.Content)
	require.Equal(t, "gpt-4o-mini", cc.Model, "the target's model")
	require.Equal(t, fakeUsage, o.usage)

	for _, includeUsage := range []bool{false, true} {
		o = roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(true, includeUsage, "")))
		require.Nil(t, o.stream.Err())
		require.Equal(t, fakeUsage, o.usage, "usage known either way")
		cs := readChunks(t, o.body)
		require.True(t, cs.done)
		require.Equal(t, "echo: one two three four", cs.acc.Choices[0].Message.Content)
		last := cs.chunks[len(cs.chunks)-1]
		require.Equal(t, includeUsage, len(last.Choices) == 0, "usage chunk only when asked")
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		require.Equal(t, "/v1/chat/completions", r.Path)
		require.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
		require.Equal(t, "gpt-4o-mini", r.Model)
	}
	var sent struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	require.NoError(t, reqs[1].Decode(&sent))
	require.True(t, sent.StreamOptions.IncludeUsage, "asked for the usage the client did not")

	// Completions and embeddings pass through too.
	o = roundTrip(t, target, newCall(t, llm.FormatCompletions, []byte(`{"model":"gpt-3.5-turbo-instruct","prompt":"say hi","stream":true}`)))
	require.True(t, o.usage.Known)
	require.NotContains(t, string(o.body), `"choices":[]`)
	o = roundTrip(t, target, newCall(t, llm.FormatEmbeddings, []byte(`{"model":"text-embedding-3-small","input":["a b","c"]}`)))
	require.Equal(t, provider.Usage{PromptTokens: 3, TotalTokens: 3, Known: true}, o.usage)
}

func TestFakeOpenAICompatibleWithoutUsage(t *testing.T) {
	srv := startFake(t, fakellm.Options{OmitUsage: true})
	target := provider.Target{Provider: provider.KindOpenAICompatible, URL: srv.OpenAIBaseURL(), APIKey: testKey}
	o := roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(true, true, "")))
	require.False(t, o.usage.Known)
	require.True(t, readChunks(t, o.body).done)
	o = roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(false, false, "")))
	require.False(t, o.usage.Known)
}

func TestFakeAzure(t *testing.T) {
	srv := startFake(t, fakellm.Options{})
	target := provider.Target{Provider: provider.KindAzure, URL: srv.URL(), Deployment: "gpt-4o-prod", APIKey: testKey}
	o := roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(true, false, "")))
	require.Nil(t, o.stream.Err())
	require.Equal(t, fakeUsage, o.usage)
	evs := events(t, o.body)
	require.Contains(t, evs[0].Data, "prompt_filter_results", "Azure's prompt filter chunk passes")
	cs := readChunks(t, o.body)
	require.True(t, cs.done)
	require.Equal(t, "echo: one two three four", cs.acc.Choices[0].Message.Content)
	for _, c := range cs.chunks {
		if c.ID != "" { // not the prompt filter chunk
			require.NotEmpty(t, c.Choices, "no usage chunk: the client did not ask")
		}
	}
	r := srv.Requests()[0]
	require.Equal(t, "/openai/deployments/gpt-4o-prod/chat/completions", r.Path)
	require.Equal(t, "api-version="+provider.DefaultAzureAPIVersion, r.Query)
	require.Equal(t, testKey, r.Header.Get("api-key"))
	require.Empty(t, r.Header.Get("Authorization"))

	o = roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(false, false, "")))
	require.Equal(t, fakeUsage, o.usage)

	// A wrong key is the gateway's problem, not the client's.
	bad := target
	bad.APIKey = "wrong"
	o = roundTrip(t, bad, newCall(t, llm.FormatChat, chatRequest(false, false, "")))
	require.Equal(t, provider.ClassAuth, o.err.Class)
	require.Equal(t, http.StatusBadGateway, o.err.Status)
}

func TestFakeAnthropicTranslation(t *testing.T) {
	srv := startFake(t, fakellm.Options{})
	target := provider.Target{Provider: provider.KindAnthropic, URL: srv.URL(), APIKey: testKey, Model: "claude-sonnet-4-5"}

	o := roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(false, false, `,"max_tokens":3`)))
	require.Nil(t, o.err)
	var cc openai.ChatCompletion
	require.NoError(t, json.Unmarshal(o.body, &cc))
	require.Equal(t, "echo: one two", cc.Choices[0].Message.Content)
	require.Equal(t, "length", cc.Choices[0].FinishReason)
	require.Equal(t, "claude-sonnet-4-5", cc.Model)
	require.Equal(t, provider.Usage{PromptTokens: 6, CompletionTokens: 3, TotalTokens: 9, Known: true}, o.usage)

	o = roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(false, false, `,"stop":["three"]`)))
	require.NoError(t, json.Unmarshal(o.body, &cc))
	require.Equal(t, "echo: one two ", cc.Choices[0].Message.Content)
	require.Equal(t, "stop", cc.Choices[0].FinishReason)

	for _, includeUsage := range []bool{false, true} {
		o = roundTrip(t, target, newCall(t, llm.FormatChat, chatRequest(true, includeUsage, "")))
		require.Nil(t, o.stream.Err())
		require.Equal(t, fakeUsage, o.usage)
		cs := readChunks(t, o.body)
		require.True(t, cs.done)
		require.Equal(t, "echo: one two three four", cs.acc.Choices[0].Message.Content)
		require.Equal(t, "stop", cs.acc.Choices[0].FinishReason)
		require.Equal(t, includeUsage, cs.acc.Usage.TotalTokens == 11)
	}

	var sent struct {
		System    string `json:"system"`
		MaxTokens int    `json:"max_tokens"`
		Messages  []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	r := srv.Requests()[0]
	require.NoError(t, r.Decode(&sent))
	require.Equal(t, "Be brief.", sent.System)
	require.Equal(t, 3, sent.MaxTokens)
	require.Len(t, sent.Messages, 1)
	require.Equal(t, provider.DefaultAnthropicVersion, r.Header.Get("anthropic-version"))
	require.Equal(t, testKey, r.Header.Get("x-api-key"))
}

func TestFakeAnthropicPassthrough(t *testing.T) {
	srv := startFake(t, fakellm.Options{})
	target := provider.Target{Provider: provider.KindAnthropic, URL: srv.URL(), APIKey: testKey}
	body := []byte(`{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"a b c"}],"stream":true}`)
	o := roundTrip(t, target, newCall(t, llm.FormatAnthropic, body))
	require.Nil(t, o.stream.Err())
	require.Equal(t, provider.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, Known: true}, o.usage)
	evs := events(t, o.body)
	require.Equal(t, "message_start", evs[0].Event)
	require.Equal(t, "message_stop", evs[len(evs)-1].Event)

	o = roundTrip(t, target, newCall(t, llm.FormatAnthropic, []byte(`{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"a b c"}]}`)))
	require.Equal(t, provider.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, Known: true}, o.usage)
	require.Contains(t, string(o.body), `"type":"message"`)
}

func TestFakeErrors(t *testing.T) {
	srv := startFake(t, fakellm.Options{})
	openAITarget := provider.Target{Provider: provider.KindOpenAI, URL: srv.URL(), APIKey: testKey}
	azureTarget := provider.Target{Provider: provider.KindAzure, URL: srv.URL(), Deployment: "d", APIKey: testKey}
	anthropicTarget := provider.Target{Provider: provider.KindAnthropic, URL: srv.URL(), APIKey: testKey, Model: "claude-sonnet-4-5"}
	tests := []struct {
		name       string
		target     provider.Target
		behavior   fakellm.Behavior
		class      provider.Class
		status     int
		retryAfter time.Duration
	}{
		{"openai rate limit", openAITarget, fakellm.RateLimited(2 * time.Second), provider.ClassRateLimit, 429, 2 * time.Second},
		{"openai context length", openAITarget, fakellm.ContextLengthExceeded(), provider.ClassContextLength, 400, 0},
		{"openai server error", openAITarget, fakellm.ServerError(), provider.ClassServer, 500, 0},
		{"openai unavailable", openAITarget, fakellm.Unavailable(), provider.ClassServer, 503, 0},
		{"openai not found", openAITarget, fakellm.Behavior{Error: fakellm.ErrorNotFound}, provider.ClassNotFound, 404, 0},
		{"azure rate limit", azureTarget, fakellm.RateLimited(1500 * time.Millisecond), provider.ClassRateLimit, 429, 2 * time.Second},
		{"azure context length", azureTarget, fakellm.ContextLengthExceeded(), provider.ClassContextLength, 400, 0},
		{"azure permission", azureTarget, fakellm.Behavior{Error: fakellm.ErrorPermission}, provider.ClassAuth, 403, 0},
		{"anthropic overloaded", anthropicTarget, fakellm.Behavior{Error: fakellm.ErrorOverloaded}, provider.ClassServer, 529, 0},
		{"anthropic rate limit", anthropicTarget, fakellm.RateLimited(3 * time.Second), provider.ClassRateLimit, 429, 3 * time.Second},
		{"anthropic prompt too long", anthropicTarget, fakellm.ContextLengthExceeded(), provider.ClassContextLength, 400, 0},
		{"anthropic unauthorized", anthropicTarget, fakellm.Behavior{Error: fakellm.ErrorUnauthorized}, provider.ClassAuth, 401, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Enqueue(tt.behavior)
			o := roundTrip(t, tt.target, newCall(t, llm.FormatChat, chatRequest(false, false, "")))
			require.NotNil(t, o.err)
			require.Equal(t, tt.class, o.err.Class)
			require.Equal(t, tt.status, o.err.UpstreamStatus)
			require.Equal(t, tt.retryAfter, o.err.RetryAfter)
			var eb errorBody
			require.NoError(t, json.Unmarshal(o.err.Body, &eb))
			require.NotEmpty(t, eb.Error.Message)
			require.NotContains(t, o.err.Error(), testKey)
			require.NotContains(t, string(o.err.Body), "org-fakellm")
		})
	}
}

func TestFakeMidStreamFailures(t *testing.T) {
	srv := startFake(t, fakellm.Options{})
	tests := []struct {
		name     string
		target   provider.Target
		behavior fakellm.Behavior
		class    provider.Class
	}{
		{"openai connection drop", provider.Target{Provider: provider.KindOpenAI, URL: srv.URL(), APIKey: testKey},
			fakellm.Behavior{Interrupt: fakellm.InterruptClose, InterruptAfter: 2}, provider.ClassConnection},
		{"openai error event", provider.Target{Provider: provider.KindOpenAI, URL: srv.URL(), APIKey: testKey},
			fakellm.Behavior{Interrupt: fakellm.InterruptError, InterruptAfter: 2}, provider.ClassServer},
		{"azure connection drop", provider.Target{Provider: provider.KindAzure, URL: srv.URL(), Deployment: "d", APIKey: testKey},
			fakellm.Behavior{Interrupt: fakellm.InterruptClose, InterruptAfter: 3}, provider.ClassConnection},
		{"anthropic connection drop", provider.Target{Provider: provider.KindAnthropic, URL: srv.URL(), APIKey: testKey, Model: "claude-sonnet-4-5"},
			fakellm.Behavior{Interrupt: fakellm.InterruptClose, InterruptAfter: 4}, provider.ClassConnection},
		{"anthropic overloaded event", provider.Target{Provider: provider.KindAnthropic, URL: srv.URL(), APIKey: testKey, Model: "claude-sonnet-4-5"},
			fakellm.Behavior{Interrupt: fakellm.InterruptError, InterruptAfter: 4}, provider.ClassServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Enqueue(tt.behavior)
			o := roundTrip(t, tt.target, newCall(t, llm.FormatChat, chatRequest(true, false, "")))
			require.NotNil(t, o.stream.Err())
			require.Equal(t, tt.class, o.stream.Err().Class)
			cs := readChunks(t, o.body)
			require.False(t, cs.done)
			require.NotEmpty(t, cs.errMsg, "the stream ends with an error event")
			require.NotEmpty(t, cs.chunks, "what came before was forwarded")
		})
	}
}

// miniEgress serves OpenAI chat requests through one adapter and target,
// as the egress does, so the official SDK can be the client.
func miniEgress(t *testing.T, target provider.Target) *httptest.Server {
	t.Helper()
	a := adapter(t, target.Provider)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := llm.Parse(llm.FormatChat, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c := &provider.Call{Format: llm.FormatChat, Body: body, Req: req, Header: http.Header{"User-Agent": r.Header.Values("User-Agent")}}
		up, err := a.Request(r.Context(), target, c)
		if err != nil {
			ue, _ := errors.AsType[*provider.UpstreamError](err)
			ue.Respond(w)
			return
		}
		resp, err := http.DefaultClient.Do(up)
		if err != nil {
			provider.TransportError(err).Respond(w)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			b, _ := io.ReadAll(resp.Body)
			a.Error(resp.StatusCode, resp.Header, b).Respond(w)
			return
		}
		if !req.Stream {
			b, _ := io.ReadAll(resp.Body)
			out, _, err := a.Response(c, b)
			if err != nil {
				ue, _ := errors.AsType[*provider.UpstreamError](err)
				ue.Respond(w)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		s := a.Stream(c, resp.Body)
		for {
			b, err := s.Next()
			if err != nil {
				return
			}
			_, _ = w.Write(b)
			_ = http.NewResponseController(w).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenAISDKThroughAnthropic(t *testing.T) {
	fake := startFake(t, fakellm.Options{})
	egress := miniEgress(t, provider.Target{Provider: provider.KindAnthropic, URL: fake.URL(), APIKey: testKey, Model: "claude-sonnet-4-5"})
	client := openai.NewClient(option.WithBaseURL(egress.URL+"/v1"), option.WithAPIKey("client-key"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model: "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."),
			openai.UserMessage("what is one plus one"),
		},
	}

	cc, err := client.Chat.Completions.New(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "echo: what is one plus one", cc.Choices[0].Message.Content)
	require.Equal(t, "stop", cc.Choices[0].FinishReason)
	require.EqualValues(t, 2+5, cc.Usage.PromptTokens)

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(t.Context(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		require.True(t, acc.AddChunk(stream.Current()))
	}
	require.NoError(t, stream.Err())
	require.Equal(t, "echo: what is one plus one", acc.Choices[0].Message.Content)
	require.EqualValues(t, 7+6, acc.Usage.TotalTokens)

	// A failure mid-stream reaches the SDK as an error.
	fake.Enqueue(fakellm.Behavior{Interrupt: fakellm.InterruptError, InterruptAfter: 5})
	stream = client.Chat.Completions.NewStreaming(t.Context(), params)
	var text string
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text += c.Choices[0].Delta.Content
		}
	}
	require.Error(t, stream.Err())
	require.Contains(t, stream.Err().Error(), "overloaded")
	require.NotEmpty(t, text)

	// An upstream error before the answer is the SDK's typed error.
	fake.Enqueue(fakellm.RateLimited(4 * time.Second))
	_, err = client.Chat.Completions.New(t.Context(), params)
	apiErr, ok := errors.AsType[*openai.Error](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 429, apiErr.StatusCode)
	require.Equal(t, "4", apiErr.Response.Header.Get("Retry-After"))
	require.Equal(t, "rate_limit_exceeded", apiErr.Code)
}
