package provider_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

// FuzzAnthropicStream translates any upstream bytes as an Anthropic stream
// for an OpenAI chat client. Invariants: Next never panics and ends; the
// output is valid SSE whose data events are chat.completion.chunk objects
// with one id (the first with the role), a final [DONE] when the stream
// succeeded, or an OpenAI error event when it failed (and then Err is set);
// nothing follows either.
func FuzzAnthropicStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, upstream []byte, includeUsage bool) {
		body := chatStreamBody
		if includeUsage {
			body = []byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`)
		}
		s := adapter(t, provider.KindAnthropic).Stream(newCall(t, llm.FormatChat, body), bytes.NewReader(upstream))
		var out []byte
		for n := 0; ; n++ {
			require.Less(t, n, len(upstream)+3, "Next ends")
			b, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			require.NotEmpty(t, b)
			out = append(out, b...)
		}
		r := sse.NewReader(bytes.NewReader(out))
		var id string
		var done, failed bool
		chunks := 0
		for {
			ev, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "valid SSE")
			require.False(t, done || failed, "nothing after the end: %q", out)
			require.Empty(t, ev.Event)
			if ev.Data == "[DONE]" {
				done = true
				continue
			}
			var probe struct {
				Error *struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &probe), "%q", ev.Data)
			if probe.Error != nil {
				require.NotEmpty(t, probe.Error.Message)
				require.NotEmpty(t, probe.Error.Type)
				failed = true
				continue
			}
			var c openai.ChatCompletionChunk
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &c), "%q", ev.Data)
			require.Equal(t, "chat.completion.chunk", string(c.Object))
			if chunks == 0 {
				id = c.ID
				require.NotEmpty(t, id)
				require.Equal(t, "assistant", string(c.Choices[0].Delta.Role))
			} else {
				require.Equal(t, id, c.ID)
				for _, ch := range c.Choices {
					require.Empty(t, ch.Delta.Role)
				}
			}
			chunks++
		}
		require.True(t, done != failed, "ends with [DONE] or an error event: %q", out)
		require.Equal(t, failed, s.Err() != nil)
	})
}

// FuzzChatToMessages translates any chat body llm accepts for an Anthropic
// target. Invariants: no panic; either an *UpstreamError of class
// unsupported or bad_request whose body is an OpenAI error, or a body that
// Anthropic's SDK types and llm's Anthropic parser read, with the target's
// model, a max_tokens and only user and assistant turns.
func FuzzChatToMessages(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := llm.Parse(llm.FormatChat, body)
		if err != nil {
			return
		}
		c := &provider.Call{Format: llm.FormatChat, Body: body, Req: req}
		r, err := adapter(t, provider.KindAnthropic).Request(t.Context(), claude, c)
		if err != nil {
			ue, ok := errors.AsType[*provider.UpstreamError](err)
			require.True(t, ok, "%T", err)
			require.Contains(t, []provider.Class{provider.ClassUnsupported, provider.ClassBadRequest}, ue.Class)
			var eb errorBody
			require.NoError(t, json.Unmarshal(ue.Body, &eb))
			require.NotEmpty(t, eb.Error.Message)
			return
		}
		out, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		var params anthropic.MessageNewParams
		require.NoError(t, json.Unmarshal(out, &params), "%s", out)
		require.Equal(t, "claude-sonnet-4-5", string(params.Model))
		var shape struct {
			MaxTokens *int `json:"max_tokens"`
			Messages  []struct {
				Role string `json:"role"`
			} `json:"messages"`
		}
		require.NoError(t, json.Unmarshal(out, &shape))
		require.NotNil(t, shape.MaxTokens)
		for _, m := range shape.Messages {
			require.Contains(t, []string{"user", "assistant"}, m.Role)
		}
		if len(shape.Messages) > 0 {
			_, err := llm.Parse(llm.FormatAnthropic, out)
			require.NoError(t, err, "%s", out)
		}
		require.False(t, req.Changed(), "the call's request is not edited")
	})
}

// FuzzError classifies any error answer. Invariants: no panic; a known
// class; a client status of 4xx or 5xx; a body in the OpenAI error shape
// on one line; a log message that quotes nothing from the body.
func FuzzError(f *testing.F) {
	kinds := provider.Kinds()
	f.Fuzz(func(t *testing.T, kind uint8, status int, retryAfter string, body []byte) {
		a := adapter(t, kinds[int(kind)%len(kinds)])
		e := a.Error(status, http.Header{"Retry-After": {retryAfter}, "Retry-After-Ms": {retryAfter}}, body)
		require.NotNil(t, e)
		require.GreaterOrEqual(t, e.RetryAfter, time.Duration(0))
		require.GreaterOrEqual(t, e.Status, 400)
		require.Less(t, e.Status, 600)
		var eb errorBody
		require.NoError(t, json.Unmarshal(e.Body, &eb), "%q", e.Body)
		require.NotEmpty(t, eb.Error.Message)
		require.NotContains(t, string(e.Body), "\n")
		require.True(t, strings.HasPrefix(e.Error(), "anthropic:") || strings.HasPrefix(e.Error(), "openai") || strings.HasPrefix(e.Error(), "azure:"))
		var pm struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &pm) == nil && len(pm.Error.Message) >= 8 && strings.Contains(pm.Error.Message, " ") {
			require.NotContains(t, e.Error(), pm.Error.Message)
		}
	})
}
