package egress_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/fakellm"
	"github.com/tollgate-ai/tollgate/internal/pii"
	"github.com/tollgate-ai/tollgate/internal/unmask"
)

func (r *rig) piiHandOff(t *testing.T, id string, h *unmask.HandOff) string {
	t.Helper()
	v, err := unmask.Seal(r.kr, id, h, time.Minute)
	require.NoError(t, err)
	return v
}

var maskedPrompt = `{"model":"gpt-4o","stream":%s,"messages":[{"role":"user","content":"Write to <EMAIL_1> about card [CREDIT_CARD]"}]}`

const modelAnswer = "I wrote to <EMAIL_1> and, unprompted, to leak@evil.example with card 4111 1111 1111 1111."

func handOff() *unmask.HandOff {
	return &unmask.HandOff{Restore: map[string]string{"<EMAIL_1>": "jane.doe@example.com"}, Redact: &unmask.Redact{Types: []pii.Type{pii.Email, pii.CreditCard}}}
}

func streamedContent(t *testing.T, body []byte) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok || d == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Error *struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(d), &c), d)
		require.Nil(t, c.Error, d)
		for _, ch := range c.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String()
}

const wantAnswer = "I wrote to jane.doe@example.com and, unprompted, to [EMAIL] with card [CREDIT_CARD]."

func TestPIIIsRestoredAndRedactedInStreams(t *testing.T) {
	for _, n := range []int{1, 3, 7} {
		r := newRig(t)
		r.llm.Always(fakellm.Behavior{Reply: modelAnswer, ChunkBytes: n})
		resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", strings.Replace(maskedPrompt, "%s", "true", 1),
			unmask.Header, r.piiHandOff(t, "id-1", handOff()))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, wantAnswer, streamedContent(t, body), "pieces of %d bytes", n)
		require.NotContains(t, string(body), "4111")
		require.True(t, strings.HasSuffix(string(body), "data: [DONE]\n\n"))
		// The provider saw neither the hand-off nor the value.
		sent := r.llm.Requests()[0]
		require.Empty(t, sent.Header.Get(unmask.Header))
		require.NotContains(t, string(sent.Body), "jane.doe")
		require.Equal(t, 1.0, counter(t, r, "tollgate_egress_pii_total", "action", "restore"))
		require.Equal(t, 2.0, counter(t, r, "tollgate_egress_pii_total", "action", "redact"))
	}
}

func TestPIIIsRestoredInWholeAnswers(t *testing.T) {
	r := newRig(t)
	r.llm.Always(fakellm.Behavior{Reply: modelAnswer})
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", strings.Replace(maskedPrompt, "%s", "false", 1),
		unmask.Header, r.piiHandOff(t, "id-1", handOff()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var a struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	readJSON(t, resp, &a)
	require.Equal(t, wantAnswer, a.Choices[0].Message.Content)
}

func TestPIIAnthropicStream(t *testing.T) {
	r := newRig(t)
	r.llm.Always(fakellm.Behavior{Reply: modelAnswer, ChunkBytes: 4})
	body := `{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Write to <EMAIL_1>"}]}`
	req, err := http.NewRequest("POST", r.srv.URL+"/v1/messages", strings.NewReader(body))
	require.NoError(t, err)
	p := r.plan(r.target("a", "anthropic", "claude-sonnet-4-5"))
	v, err := egressSeal(r, p, "id-a")
	require.NoError(t, err)
	for k, val := range v {
		req.Header.Set(k, val)
	}
	req.Header.Set(unmask.Header, r.piiHandOff(t, "id-a", handOff()))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var text strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			var ev struct {
				Type  string `json:"type"`
				Delta struct {
					Text string `json:"text"`
				} `json:"delta"`
			}
			require.NoError(t, json.Unmarshal([]byte(d), &ev))
			text.WriteString(ev.Delta.Text)
		}
	}
	require.Equal(t, wantAnswer, text.String())
}

func TestPIIHandOffThatDoesNotOpenIsRefused(t *testing.T) {
	r := newRig(t)
	other := r.piiHandOff(t, "another-request", handOff())
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", strings.Replace(maskedPrompt, "%s", "false", 1),
		unmask.Header, other)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	readJSON(t, resp, &e)
	require.Contains(t, e.Error.Message, "personal data")
	require.Empty(t, r.llm.Requests(), "no provider was called")
}

func TestPIIUnreadableAnswerFailsClosed(t *testing.T) {
	r := newRig(t)
	// A provider answer that is not JSON cannot be checked.
	r.llm.Always(fakellm.Behavior{Status: 200, Body: []byte("<html>leak@evil.example</html>")})
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", strings.Replace(maskedPrompt, "%s", "false", 1),
		unmask.Header, r.piiHandOff(t, "id-1", handOff()))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.GreaterOrEqual(t, resp.StatusCode, 500)
	require.NotContains(t, string(body), "leak@evil.example")
}

// egressSeal returns the request id and plan headers for a request.
func egressSeal(r *rig, p *egress.Plan, id string) (map[string]string, error) {
	v, err := egress.SealPlan(r.kr, id, p, time.Minute)
	if err != nil {
		return nil, err
	}
	return map[string]string{egress.HeaderRequestID: id, egress.HeaderPlan: v}, nil
}

func TestPIIUnreadableStreamEventEndsTheStream(t *testing.T) {
	r := newRig(t)
	stream := "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello <EMAIL_1> and more words\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"choices\":[{\"delta\":{\"content\":\"leak@evil.example <\"}}\n\n" +
		"data: [DONE]\n\n"
	r.llm.Always(fakellm.Behavior{Status: 200, Body: []byte(stream), Header: http.Header{"Content-Type": {"text/event-stream"}}})
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", strings.Replace(maskedPrompt, "%s", "true", 1),
		unmask.Header, r.piiHandOff(t, "id-1", handOff()))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "jane.doe@example.com", "the first event was checked and sent")
	require.Contains(t, string(body), `"code":"pii_unreadable"`)
	require.NotContains(t, string(body), "leak@evil.example")
	require.NotContains(t, string(body), "[DONE]", "the stream ends at the error")
}
