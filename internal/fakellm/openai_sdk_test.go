package fakellm_test

import (
	"errors"
	"math"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

func openAIClient(srv *fakellm.Server, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(srv.OpenAIBaseURL()), option.WithAPIKey(testKey), option.WithMaxRetries(0),
	}, opts...)...)
}

func chatParams(user string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are terse."),
			openai.UserMessage(user),
		},
	}
}

func TestOpenAISDKChat(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := openAIClient(srv)
	resp, err := client.Chat.Completions.New(t.Context(), chatParams("What is one plus one?"))
	require.NoError(t, err)
	require.Equal(t, "chat.completion", string(resp.Object))
	require.Equal(t, "gpt-4o-mini", resp.Model)
	require.Len(t, resp.Choices, 1)
	require.Equal(t, "echo: What is one plus one?", resp.Choices[0].Message.Content)
	require.Equal(t, "stop", resp.Choices[0].FinishReason)
	require.EqualValues(t, 3+5, resp.Usage.PromptTokens) // "You are terse." + the question
	require.EqualValues(t, 6, resp.Usage.CompletionTokens)
	require.EqualValues(t, 14, resp.Usage.TotalTokens)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
	require.Equal(t, "gpt-4o-mini", reqs[0].Model)
	require.False(t, reqs[0].Stream)
}

func TestOpenAISDKChatMaxTokens(t *testing.T) {
	srv := start(t, fakellm.Options{})
	params := chatParams("one two three four five")
	params.MaxCompletionTokens = openai.Int(2)
	client := openAIClient(srv)
	resp, err := client.Chat.Completions.New(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "echo: one", resp.Choices[0].Message.Content)
	require.Equal(t, "length", resp.Choices[0].FinishReason)
	require.EqualValues(t, 2, resp.Usage.CompletionTokens)
}

func TestOpenAISDKChatStream(t *testing.T) {
	tests := []struct {
		name         string
		opts         fakellm.Options
		includeUsage bool
		wantUsage    bool
	}{
		{"with include_usage", fakellm.Options{}, true, true},
		{"without include_usage", fakellm.Options{}, false, false},
		{"openai-compatible without usage", fakellm.Options{OmitUsage: true}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, tt.opts)
			params := chatParams("stream me some words")
			if tt.includeUsage {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			client := openAIClient(srv)
			stream := client.Chat.Completions.NewStreaming(t.Context(), params)
			var (
				acc      openai.ChatCompletionAccumulator
				chunks   int
				finished bool
				sawUsage bool
			)
			for stream.Next() {
				chunk := stream.Current()
				require.Equal(t, "chat.completion.chunk", string(chunk.Object))
				require.True(t, acc.AddChunk(chunk))
				if _, ok := acc.JustFinishedContent(); ok {
					finished = true
				}
				if len(chunk.Choices) == 0 {
					sawUsage = true
					require.EqualValues(t, 7, chunk.Usage.PromptTokens)
					require.EqualValues(t, 5, chunk.Usage.CompletionTokens)
				}
				chunks++
			}
			require.NoError(t, stream.Err())
			require.NoError(t, stream.Close())
			require.True(t, finished)
			require.Equal(t, "echo: stream me some words", acc.Choices[0].Message.Content)
			require.Equal(t, "stop", acc.Choices[0].FinishReason)
			require.Equal(t, tt.wantUsage, sawUsage)
			// role chunk + one chunk per word + finish chunk (+ usage chunk)
			want := 1 + 5 + 1
			if tt.wantUsage {
				want++
				require.EqualValues(t, 12, acc.Usage.TotalTokens)
			} else {
				require.Zero(t, acc.Usage.TotalTokens)
			}
			require.Equal(t, want, chunks)
			require.True(t, srv.Requests()[0].Stream)
		})
	}
}

func TestOpenAISDKCompletions(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := openAIClient(srv)
	resp, err := client.Completions.New(t.Context(), openai.CompletionNewParams{
		Model:  "gpt-3.5-turbo-instruct",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")},
	})
	require.NoError(t, err)
	require.Equal(t, "echo: Say hi", resp.Choices[0].Text)
	require.EqualValues(t, 2, resp.Usage.PromptTokens)
	require.EqualValues(t, 3, resp.Usage.CompletionTokens)
}

func cosine(a, b []float64) float64 {
	var dot float64
	for i := range a {
		dot += a[i] * b[i]
	}
	return dot
}

func TestOpenAISDKEmbeddings(t *testing.T) {
	srv := start(t, fakellm.Options{EmbeddingDimensions: 256})
	client := openAIClient(srv)
	resp, err := client.Embeddings.New(t.Context(), openai.EmbeddingNewParams{
		Model: openai.EmbeddingModelTextEmbedding3Small,
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{
			"How do I reset my password?",
			"how do I reset my password",
			"How can I reset the password of my account?",
			"Best pizza dough recipe with sourdough starter",
		}},
	})
	require.NoError(t, err)
	require.Len(t, resp.Data, 4)
	require.EqualValues(t, 6+6+9+7, resp.Usage.PromptTokens)
	for i, d := range resp.Data {
		require.EqualValues(t, i, d.Index)
		require.Len(t, d.Embedding, 256)
		var norm float64
		for _, f := range d.Embedding {
			norm += f * f
		}
		require.InDelta(t, 1, math.Sqrt(norm), 1e-6)
	}
	same := cosine(resp.Data[0].Embedding, resp.Data[1].Embedding)
	similar := cosine(resp.Data[0].Embedding, resp.Data[2].Embedding)
	unrelated := cosine(resp.Data[0].Embedding, resp.Data[3].Embedding)
	require.InDelta(t, 1, same, 1e-6, "case and punctuation are ignored")
	require.Greater(t, similar, 0.4)
	require.Less(t, math.Abs(unrelated), 0.3)
	require.Greater(t, similar, unrelated)

	resp, err = client.Embeddings.New(t.Context(), openai.EmbeddingNewParams{
		Model:      openai.EmbeddingModelTextEmbedding3Small,
		Input:      openai.EmbeddingNewParamsInputUnion{OfString: openai.String("How do I reset my password?")},
		Dimensions: openai.Int(64),
	})
	require.NoError(t, err)
	require.Len(t, resp.Data[0].Embedding, 64)
}

func TestOpenAISDKResponses(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := openAIClient(srv)
	params := responses.ResponseNewParams{
		Model:        "gpt-4o-mini",
		Instructions: openai.String("Be brief."),
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("Hello responses API")},
	}
	resp, err := client.Responses.New(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "echo: Hello responses API", resp.OutputText())
	require.Equal(t, responses.ResponseStatusCompleted, resp.Status)
	require.EqualValues(t, 5, resp.Usage.InputTokens)
	require.EqualValues(t, 4, resp.Usage.OutputTokens)

	stream := client.Responses.NewStreaming(t.Context(), params)
	var (
		text      string
		completed responses.Response
	)
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			text += ev.Delta
		case "response.completed":
			completed = ev.Response
		}
	}
	require.NoError(t, stream.Err())
	require.Equal(t, "echo: Hello responses API", text)
	require.Equal(t, text, completed.OutputText())
	require.EqualValues(t, 4, completed.Usage.OutputTokens)
}

func TestOpenAISDKModels(t *testing.T) {
	srv := start(t, fakellm.Options{Models: []string{"gpt-4o-mini", "gpt-4o"}})
	client := openAIClient(srv)
	page, err := client.Models.List(t.Context())
	require.NoError(t, err)
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	require.Equal(t, []string{"gpt-4o-mini", "gpt-4o"}, ids)

	params := chatParams("hi")
	params.Model = "gpt-9"
	_, err = client.Chat.Completions.New(t.Context(), params)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	require.Equal(t, "model_not_found", apiErr.Code)
}

func TestOpenAISDKUnauthorized(t *testing.T) {
	srv := start(t, fakellm.Options{})
	client := openAIClient(srv, option.WithAPIKey("sk-wrong-key"))
	_, err := client.Chat.Completions.New(t.Context(), chatParams("hi"))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	require.Equal(t, "invalid_api_key", apiErr.Code)
	require.Equal(t, "invalid_request_error", apiErr.Type)
	require.Contains(t, apiErr.Message, "sk-****ey")
}

func TestAzureSDK(t *testing.T) {
	srv := start(t, fakellm.Options{AzureAPIKey: "azure-key", Models: []string{"my-gpt4o"}})
	// The SDK's azure package needs azcore, which go.mod does not require;
	// this is what it sends: the deployment in the path, api-version in the
	// query, the key in api-key.
	azureClient := func(deployment string) openai.Client {
		return openai.NewClient(
			option.WithBaseURL(srv.URL()+"/openai/deployments/"+deployment),
			option.WithQuery("api-version", "2024-10-21"),
			option.WithAPIKey("unused"),
			option.WithHeaderDel("Authorization"),
			option.WithHeader("api-key", "azure-key"),
			option.WithMaxRetries(0),
		)
	}
	client := azureClient("my-gpt4o")
	params := chatParams("Hello Azure")
	params.Model = "gpt-4o"
	resp, err := client.Chat.Completions.New(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "echo: Hello Azure", resp.Choices[0].Message.Content)
	require.EqualValues(t, 5, resp.Usage.PromptTokens)

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(t.Context(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	require.NoError(t, stream.Err())
	require.Equal(t, "echo: Hello Azure", acc.Choices[0].Message.Content)
	require.EqualValues(t, 3, acc.Usage.CompletionTokens)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "/openai/deployments/my-gpt4o/chat/completions", reqs[0].Path)
	require.Equal(t, "api-version=2024-10-21", reqs[0].Query)
	require.Equal(t, "azure-key", reqs[0].Header.Get("api-key"))
	require.Equal(t, fakellm.APIAzure, reqs[0].API)

	require.Empty(t, reqs[0].Header.Get("Authorization"))

	// Unknown deployments get Azure's DeploymentNotFound.
	other := azureClient("nope")
	_, err = other.Chat.Completions.New(t.Context(), params)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	require.Equal(t, "DeploymentNotFound", apiErr.Code)
}

// The same client with plain option.WithBaseURL and headers, as a proxy
// that rewrites requests would send them.
func TestAzureHandRolled(t *testing.T) {
	srv := start(t, fakellm.Options{})
	body := map[string]any{"messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	tests := []struct {
		name   string
		path   string
		key    string
		status int
		code   string
	}{
		{"ok", AzurePath("dep", "chat/completions"), testKey, http.StatusOK, ""},
		{"no api-version", "/openai/deployments/dep/chat/completions", testKey, http.StatusNotFound, "404"},
		{"unknown api-version", fakellm.AzureDeploymentPath("dep", "chat/completions", "v9"), testKey, http.StatusBadRequest, "BadRequest"},
		{"wrong key", AzurePath("dep", "chat/completions"), "nope", http.StatusUnauthorized, "401"},
		{"unknown endpoint", AzurePath("dep", "images/generations"), testKey, http.StatusNotFound, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, srv, http.MethodPost, tt.path, map[string]string{"api-key": tt.key}, body)
			require.Equal(t, tt.status, got.status, "%s", got.body)
			if tt.code != "" {
				var e struct {
					Error struct{ Code, Message string }
				}
				require.NoError(t, decodeInto(got.body, &e))
				require.Equal(t, tt.code, e.Error.Code)
				require.NotEmpty(t, e.Error.Message)
			}
		})
	}
}

var errEmpty = errors.New("empty body")

func decodeInto(b []byte, v any) error {
	if len(b) == 0 {
		return errEmpty
	}
	return fakellm.Request{Body: b}.Decode(v)
}
