package provider_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

func TestFor(t *testing.T) {
	for _, k := range provider.Kinds() {
		a, err := provider.For(k)
		require.NoError(t, err, k)
		require.NotNil(t, a)
	}
	_, err := provider.For("bedrock")
	require.ErrorIs(t, err, provider.ErrUnknownKind)
	require.EqualError(t, err, `provider "bedrock": unknown provider kind`)
}

func TestSupports(t *testing.T) {
	formats := []llm.Format{llm.FormatChat, llm.FormatCompletions, llm.FormatEmbeddings, llm.FormatResponses, llm.FormatAnthropic}
	want := map[provider.Kind][]bool{
		provider.KindOpenAI:           {true, true, true, true, false},
		provider.KindOpenAICompatible: {true, true, true, true, false},
		provider.KindAzure:            {true, true, true, false, false},
		provider.KindAnthropic:        {true, false, false, false, true},
	}
	for k, ws := range want {
		a := adapter(t, k)
		for i, f := range formats {
			require.Equal(t, ws[i], a.Supports(f), "%s %s", k, f)
		}
		require.False(t, a.Supports(llm.FormatUnknown))
	}
}

var (
	chatBody        = []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	chatStreamBody  = []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}`)
	completionsBody = []byte(`{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","stream":true}`)
	embeddingsBody  = []byte(`{"model":"text-embedding-3-small","input":"hello"}`)
	responsesBody   = []byte(`{"model":"gpt-4.1","input":"hi","stream":true}`)
	messagesBody    = []byte(`{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`)
)

func TestRequestURLAndAuth(t *testing.T) {
	tests := []struct {
		name       string
		target     provider.Target
		format     llm.Format
		body       []byte
		url        string
		authHeader string
		authValue  string
	}{
		{"openai default URL", provider.Target{Provider: provider.KindOpenAI, APIKey: testKey}, llm.FormatChat, chatBody,
			"https://api.openai.com/v1/chat/completions", "Authorization", "Bearer " + testKey},
		{"openai completions", provider.Target{Provider: provider.KindOpenAI, URL: "https://api.openai.com/", APIKey: testKey}, llm.FormatCompletions, completionsBody,
			"https://api.openai.com/v1/completions", "Authorization", "Bearer " + testKey},
		{"openai embeddings", provider.Target{Provider: provider.KindOpenAI, URL: "https://api.openai.com", APIKey: testKey}, llm.FormatEmbeddings, embeddingsBody,
			"https://api.openai.com/v1/embeddings", "Authorization", "Bearer " + testKey},
		{"openai responses", provider.Target{Provider: provider.KindOpenAI, URL: "https://api.openai.com", APIKey: testKey}, llm.FormatResponses, responsesBody,
			"https://api.openai.com/v1/responses", "Authorization", "Bearer " + testKey},
		{"ollama without key", provider.Target{Provider: provider.KindOpenAICompatible, URL: "http://localhost:11434"}, llm.FormatChat, chatBody,
			"http://localhost:11434/v1/chat/completions", "Authorization", ""},
		{"base URL ending in /v1 is not doubled", provider.Target{Provider: provider.KindOpenAICompatible, URL: "https://openrouter.ai/api/v1/", APIKey: testKey}, llm.FormatChat, chatBody,
			"https://openrouter.ai/api/v1/chat/completions", "Authorization", "Bearer " + testKey},
		{"base path and query kept", provider.Target{Provider: provider.KindOpenAICompatible, URL: "http://vllm:8000/tenant-a?x=1"}, llm.FormatChat, chatBody,
			"http://vllm:8000/tenant-a/v1/chat/completions?x=1", "Authorization", ""},
		{"azure deployment", provider.Target{Provider: provider.KindAzure, URL: "https://x.openai.azure.com", Deployment: "gpt-4o-prod", APIKey: testKey}, llm.FormatChat, chatBody,
			"https://x.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=" + provider.DefaultAzureAPIVersion, "Api-Key", testKey},
		{"azure deployment from the model, api version", provider.Target{Provider: provider.KindAzure, URL: "https://x.openai.azure.com/openai", Model: "gpt 4o", APIVersion: "2025-01-01-preview", APIKey: testKey}, llm.FormatEmbeddings, embeddingsBody,
			"https://x.openai.azure.com/openai/deployments/gpt%204o/embeddings?api-version=2025-01-01-preview", "Api-Key", testKey},
		{"azure deployment from the client", provider.Target{Provider: provider.KindAzure, URL: "https://x.openai.azure.com"}, llm.FormatCompletions, completionsBody,
			"https://x.openai.azure.com/openai/deployments/gpt-3.5-turbo-instruct/completions?api-version=" + provider.DefaultAzureAPIVersion, "Api-Key", ""},
		{"anthropic translation", provider.Target{Provider: provider.KindAnthropic, Model: "claude-sonnet-4-5", APIKey: testKey}, llm.FormatChat, chatBody,
			"https://api.anthropic.com/v1/messages", "X-Api-Key", testKey},
		{"anthropic passthrough", provider.Target{Provider: provider.KindAnthropic, URL: "http://127.0.0.1:9/v1", APIKey: testKey}, llm.FormatAnthropic, messagesBody,
			"http://127.0.0.1:9/v1/messages", "X-Api-Key", testKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCall(t, tt.format, tt.body)
			r, err := adapter(t, tt.target.Provider).Request(t.Context(), tt.target, c)
			require.NoError(t, err)
			require.Equal(t, http.MethodPost, r.Method)
			require.Equal(t, tt.url, r.URL.String())
			require.Equal(t, tt.authValue, r.Header.Get(tt.authHeader))
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			body := requestBody(t, r)
			require.True(t, json.Valid(body))
			require.EqualValues(t, len(body), r.ContentLength)
			require.NotNil(t, r.GetBody, "the body can be sent again")
			if tt.target.Provider == provider.KindAnthropic {
				require.Equal(t, provider.DefaultAnthropicVersion, r.Header.Get("Anthropic-Version"))
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	c := newCall(t, llm.FormatChat, chatStreamBody)
	c.Header = http.Header{
		"User-Agent":          {"OpenAI/Go 3.0"},
		"X-Stainless-Lang":    {"go"},
		"Openai-Organization": {"org-client"},
		"Accept-Encoding":     {"gzip"},
		"Connection":          {"keep-alive, X-Hop"},
		"X-Hop":               {"1"},
		"Transfer-Encoding":   {"chunked"},
		"Content-Length":      {"12"},
		"Api-Key":             {"client-key"},
		"X-Api-Key":           {"client-key"},
		"Authorization":       {"Bearer client-key"},
		"Cookie":              {"session=1"},
		"X-Tollgate-Seal":     {"sealed"},
	}
	target := provider.Target{Provider: provider.KindOpenAI, APIKey: testKey, Headers: map[string]string{"OpenAI-Project": "proj_1", "User-Agent": "tollgate"}}
	r, err := adapter(t, provider.KindOpenAI).Request(t.Context(), target, c)
	require.NoError(t, err)
	require.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	require.Equal(t, "tollgate", r.Header.Get("User-Agent"), "target headers win")
	require.Equal(t, "proj_1", r.Header.Get("Openai-Project"))
	require.Equal(t, "go", r.Header.Get("X-Stainless-Lang"))
	require.Equal(t, "org-client", r.Header.Get("Openai-Organization"))
	require.Equal(t, "text/event-stream", r.Header.Get("Accept"))
	for _, k := range []string{"Accept-Encoding", "Connection", "X-Hop", "Transfer-Encoding", "Content-Length", "Api-Key", "X-Api-Key", "Cookie", "X-Tollgate-Seal"} {
		require.Empty(t, r.Header.Values(k), k)
	}
	require.Equal(t, http.Header{"User-Agent": {"OpenAI/Go 3.0"}}.Get("User-Agent"), c.Header.Get("User-Agent"), "the call's headers are not edited")

	// Chat to Anthropic: OpenAI's headers stay behind, the target may set
	// anthropic-version.
	target = provider.Target{Provider: provider.KindAnthropic, Model: "claude-sonnet-4-5", APIKey: testKey,
		Headers: map[string]string{"anthropic-version": "2099-01-01", "anthropic-beta": "prompt-caching-2024-07-31"}}
	r, err = adapter(t, provider.KindAnthropic).Request(t.Context(), target, c)
	require.NoError(t, err)
	require.Equal(t, testKey, r.Header.Get("X-Api-Key"))
	require.Empty(t, r.Header.Get("Authorization"))
	require.Empty(t, r.Header.Get("Openai-Organization"))
	require.Equal(t, "2099-01-01", r.Header.Get("Anthropic-Version"))
	require.Equal(t, "prompt-caching-2024-07-31", r.Header.Get("Anthropic-Beta"))

	// Anthropic clients keep their anthropic-version and beta headers.
	ac := newCall(t, llm.FormatAnthropic, messagesBody)
	ac.Header = http.Header{"Anthropic-Version": {"2023-01-01"}, "Anthropic-Beta": {"files-api-2025-04-14"}}
	r, err = adapter(t, provider.KindAnthropic).Request(t.Context(), provider.Target{Provider: provider.KindAnthropic, APIKey: testKey}, ac)
	require.NoError(t, err)
	require.Equal(t, "2023-01-01", r.Header.Get("Anthropic-Version"))
	require.Equal(t, "files-api-2025-04-14", r.Header.Get("Anthropic-Beta"))
}

func TestRequestModelAndUsage(t *testing.T) {
	type want struct {
		model        string
		includeUsage *bool
	}
	yes := true
	tests := []struct {
		name   string
		target provider.Target
		format llm.Format
		body   []byte
		want   want
	}{
		{"stream asks for usage", provider.Target{Provider: provider.KindOpenAI}, llm.FormatChat, chatStreamBody, want{"gpt-4o", &yes}},
		{"target model", provider.Target{Provider: provider.KindOpenAI, Model: "gpt-4.1-mini"}, llm.FormatChat, chatBody, want{"gpt-4.1-mini", nil}},
		{"client's include_usage kept", provider.Target{Provider: provider.KindOpenAI}, llm.FormatChat,
			[]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`), want{"m", &yes}},
		{"completions stream", provider.Target{Provider: provider.KindOpenAICompatible, URL: "http://localhost:8000"}, llm.FormatCompletions, completionsBody, want{"gpt-3.5-turbo-instruct", &yes}},
		{"responses have no stream_options", provider.Target{Provider: provider.KindOpenAI}, llm.FormatResponses, responsesBody, want{"gpt-4.1", nil}},
		{"azure", provider.Target{Provider: provider.KindAzure, URL: "https://x.openai.azure.com", Deployment: "d"}, llm.FormatChat, chatStreamBody, want{"gpt-4o", &yes}},
		{"azure before 2024-09-01 rejects stream_options", provider.Target{Provider: provider.KindAzure, URL: "https://x.openai.azure.com", Deployment: "d", APIVersion: "2024-06-01"}, llm.FormatChat, chatStreamBody, want{"gpt-4o", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCall(t, tt.format, tt.body)
			before := string(c.Req.Bytes())
			r, err := adapter(t, tt.target.Provider).Request(t.Context(), tt.target, c)
			require.NoError(t, err)
			var got struct {
				Model         string `json:"model"`
				StreamOptions *struct {
					IncludeUsage *bool `json:"include_usage"`
				} `json:"stream_options"`
			}
			require.NoError(t, json.Unmarshal(requestBody(t, r), &got))
			require.Equal(t, tt.want.model, got.Model)
			if tt.want.includeUsage == nil {
				require.Nil(t, got.StreamOptions)
			} else {
				require.Equal(t, *tt.want.includeUsage, *got.StreamOptions.IncludeUsage)
			}
			require.Equal(t, before, string(c.Req.Bytes()), "Call.Req is not edited")
			require.False(t, c.Req.Changed())
		})
	}
}

func TestRequestSameCallToSeveralTargets(t *testing.T) {
	c := newCall(t, llm.FormatChat, chatStreamBody)
	models := func(targets ...provider.Target) []string {
		var out []string
		for _, tg := range targets {
			r, err := adapter(t, tg.Provider).Request(t.Context(), tg, c)
			require.NoError(t, err)
			var b struct {
				Model string `json:"model"`
			}
			require.NoError(t, json.Unmarshal(requestBody(t, r), &b))
			out = append(out, b.Model)
		}
		return out
	}
	got := models(
		provider.Target{Provider: provider.KindOpenAI, Model: "gpt-4.1"},
		provider.Target{Provider: provider.KindAnthropic, Model: "claude-haiku-4-5"},
		provider.Target{Provider: provider.KindOpenAICompatible, URL: "http://localhost:11434"},
	)
	require.Equal(t, []string{"gpt-4.1", "claude-haiku-4-5", "gpt-4o"}, got)
}

func TestRequestCallWithoutReq(t *testing.T) {
	c := &provider.Call{Format: llm.FormatChat, Body: chatBody}
	r, err := adapter(t, provider.KindOpenAI).Request(t.Context(), provider.Target{Provider: provider.KindOpenAI}, c)
	require.NoError(t, err)
	require.JSONEq(t, string(chatBody), string(requestBody(t, r)))

	c = &provider.Call{Format: llm.FormatChat, Body: []byte(`{"messages":"no"}`)}
	_, err = adapter(t, provider.KindOpenAI).Request(t.Context(), provider.Target{Provider: provider.KindOpenAI}, c)
	ue, ok := errors.AsType[*provider.UpstreamError](err)
	require.True(t, ok)
	require.Equal(t, provider.ClassBadRequest, ue.Class)
	require.Equal(t, http.StatusBadRequest, ue.Status)
}

func TestRequestErrors(t *testing.T) {
	secretURL := "https://user:hunter2@x.example/?key=SECRET-IN-URL"
	tests := []struct {
		name   string
		target provider.Target
		format llm.Format
		body   []byte
		class  provider.Class
	}{
		{"format the provider does not speak", provider.Target{Provider: provider.KindAzure, URL: "https://x.openai.azure.com"}, llm.FormatResponses, responsesBody, provider.ClassUnsupported},
		{"anthropic client to openai", provider.Target{Provider: provider.KindOpenAI}, llm.FormatAnthropic, messagesBody, provider.ClassUnsupported},
		{"embeddings to anthropic", provider.Target{Provider: provider.KindAnthropic}, llm.FormatEmbeddings, embeddingsBody, provider.ClassUnsupported},
		{"compatible without URL", provider.Target{Provider: provider.KindOpenAICompatible}, llm.FormatChat, chatBody, provider.ClassUnsupported},
		{"relative URL", provider.Target{Provider: provider.KindOpenAI, URL: "api.openai.com"}, llm.FormatChat, chatBody, provider.ClassUnsupported},
		{"unparsable URL with a secret", provider.Target{Provider: provider.KindOpenAI, URL: "https://x.example/%zz?key=SECRET-IN-URL"}, llm.FormatChat, chatBody, provider.ClassUnsupported},
		{"ftp URL with a secret", provider.Target{Provider: provider.KindOpenAI, URL: "ftp" + strings.TrimPrefix(secretURL, "https")}, llm.FormatChat, chatBody, provider.ClassUnsupported},
		{"azure without deployment", provider.Target{Provider: provider.KindAzure, URL: "https://x.openai.azure.com"}, llm.FormatChat,
			[]byte(`{"messages":[{"role":"user","content":"hi"}]}`), provider.ClassUnsupported},
		{"anthropic without model", provider.Target{Provider: provider.KindAnthropic}, llm.FormatChat,
			[]byte(`{"messages":[{"role":"user","content":"hi"}]}`), provider.ClassUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.target.APIKey = testKey
			_, err := adapter(t, tt.target.Provider).Request(t.Context(), tt.target, newCall(t, tt.format, tt.body))
			ue, ok := errors.AsType[*provider.UpstreamError](err)
			require.True(t, ok, "%T %v", err, err)
			require.Equal(t, tt.class, ue.Class)
			require.True(t, provider.Retryable(ue.Class, nil), "another target may serve it")
			for _, secret := range []string{testKey, "SECRET-IN-URL", "hunter2"} {
				require.NotContains(t, ue.Error(), secret)
				require.NotContains(t, string(ue.Body), secret)
			}
			var body struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal(ue.Body, &body))
			require.NotEmpty(t, body.Error.Message)
			require.NotEmpty(t, body.Error.Type)
		})
	}
}
