package provider

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

// Anthropic request defaults.
const (
	// DefaultAnthropicVersion is the anthropic-version header sent unless
	// the target's headers (or, for Anthropic clients, the client's) set
	// one. The translation from OpenAI chat writes bodies of this version.
	DefaultAnthropicVersion = "2023-06-01"
	// DefaultMaxTokens is the max_tokens sent to Anthropic, which requires
	// it, when the client set no output cap.
	DefaultMaxTokens = 4096
)

// anthropic is the adapter of Anthropic's Messages API: OpenAI chat
// clients are translated (openai_anthropic.go), Anthropic clients passed
// through.
type anthropic struct {
	now func() time.Time
}

func (a *anthropic) Supports(f llm.Format) bool {
	return f == llm.FormatChat || f == llm.FormatAnthropic
}

func (a *anthropic) Request(ctx context.Context, t Target, c *Call) (*http.Request, error) {
	f := c.format()
	if !a.Supports(f) {
		return nil, unsupported("anthropic", fmt.Sprintf("the %s API", apiName(f)))
	}
	base, err := baseURL(t.URL, DefaultAnthropicURL)
	if err != nil {
		return nil, err
	}
	req, err := c.request()
	if err != nil {
		return nil, badBody("anthropic", err)
	}
	defaults := map[string]string{"Anthropic-Version": DefaultAnthropicVersion}
	var body []byte
	var drop []string
	if f == llm.FormatChat {
		body, err = chatToMessages(t, req)
		// OpenAI's own headers mean nothing to Anthropic.
		drop = []string{"Openai-Organization", "Openai-Project", "Openai-Beta", "Anthropic-Version"}
	} else {
		body, err = messagesBody(t, req)
		if c.Header.Get("Anthropic-Version") != "" {
			defaults = nil // the client knows which version its body is
		}
	}
	if err != nil {
		return nil, err
	}
	return newRequest(ctx, endpoint(base, "/v1/messages"), body, c, t, req.Stream, defaults, "X-Api-Key", t.APIKey, drop...)
}

// messagesBody is an Anthropic client's body with the target's model, and
// DefaultMaxTokens when it has no max_tokens.
func messagesBody(t Target, req *llm.Request) ([]byte, error) {
	needModel := t.Model != "" && t.Model != req.Model
	if !needModel && req.MaxTokens != nil {
		return req.Bytes(), nil
	}
	cp, err := llm.Parse(req.Format, req.Bytes())
	if err != nil {
		return nil, badBody("anthropic", err)
	}
	if needModel {
		cp.SetModel(t.Model)
	}
	if cp.MaxTokens == nil {
		if err := cp.SetMaxTokens(DefaultMaxTokens); err != nil {
			return nil, badBody("anthropic", err)
		}
	}
	return cp.Bytes(), nil
}

func (a *anthropic) Response(c *Call, body []byte) ([]byte, Usage, error) {
	if c.format() == llm.FormatChat {
		return a.messageToChat(body)
	}
	var m struct {
		Type  string          `json:"type"`
		Usage *anthropicUsage `json:"usage"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Type == "error" {
		return nil, Usage{}, invalidResponse("anthropic", "2xx answer is not a message")
	}
	return body, m.Usage.usage(), nil
}

func (a *anthropic) Stream(c *Call, upstream io.Reader) Stream {
	if c.format() == llm.FormatChat {
		return newChatFromMessagesStream(c, upstream, a.now)
	}
	return &anthropicPassthrough{r: sse.NewReader(upstream)}
}

func (a *anthropic) Error(status int, h http.Header, body []byte) *UpstreamError {
	// Anthropic's body is never the OpenAI shape the client gets.
	return classify("anthropic", status, h, body, parseProviderError(body), false, time.Now())
}

// anthropicUsage is Anthropic's usage object. Counts are pointers so that
// message_delta's cumulative counts replace only those it carries.
type anthropicUsage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// merge takes the counts o has.
func (u *anthropicUsage) merge(o *anthropicUsage) {
	if o == nil {
		return
	}
	for _, p := range []struct {
		dst **int
		src *int
	}{
		{&u.InputTokens, o.InputTokens}, {&u.OutputTokens, o.OutputTokens},
		{&u.CacheCreationInputTokens, o.CacheCreationInputTokens}, {&u.CacheReadInputTokens, o.CacheReadInputTokens},
	} {
		if p.src != nil {
			v := *p.src
			*p.dst = &v
		}
	}
}

// usage converts to Usage: OpenAI's prompt tokens include cached ones,
// Anthropic's input tokens do not.
func (u *anthropicUsage) usage() Usage {
	if u == nil || (u.InputTokens == nil && u.OutputTokens == nil) {
		return Usage{}
	}
	v := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	out := Usage{
		CachedTokens:     v(u.CacheReadInputTokens),
		CacheWriteTokens: v(u.CacheCreationInputTokens),
		CompletionTokens: v(u.OutputTokens),
		Known:            true,
	}
	out.PromptTokens = v(u.InputTokens) + out.CachedTokens + out.CacheWriteTokens
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	return out
}

// anthropicErrorStatus is the HTTP status each Anthropic error type stands
// for, to classify error events inside streams.
var anthropicErrorStatus = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"billing_error":         http.StatusPaymentRequired,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// anthropicStreamError classifies Anthropic's error event. Its Status is
// the one the error type stands for (the stream itself answered 200).
func anthropicStreamError(data string) *UpstreamError {
	pe := parseProviderError([]byte(data))
	status, ok := anthropicErrorStatus[pe.Type]
	if !ok {
		status = http.StatusInternalServerError
	}
	e := classify("anthropic", status, nil, []byte(data), pe, false, time.Now())
	e.Message = fmt.Sprintf("anthropic: error event in stream (%s, %s)", e.Class, identifier(pe.Type))
	return e
}

// anthropicErrorEvent renders e as Anthropic's error event, for Anthropic
// clients. The error object also carries OpenAI's members.
func anthropicErrorEvent(e *UpstreamError) []byte {
	typ := "api_error"
	switch e.Class {
	case ClassRateLimit:
		typ = "rate_limit_error"
	case ClassTimeout:
		typ = "timeout_error"
	case ClassServer:
		if e.UpstreamStatus == http.StatusServiceUnavailable || e.UpstreamStatus == 529 {
			typ = "overloaded_error"
		}
	case ClassContextLength, ClassBadRequest, ClassContentFilter:
		typ = "invalid_request_error"
	case ClassNotFound:
		typ = "not_found_error"
	}
	msg := msgServer
	var client struct {
		Error struct {
			Message string  `json:"message"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(e.Body, &client) == nil && client.Error.Message != "" {
		msg = client.Error.Message
	}
	b := []byte(`{"type":"error","error":{"type":`)
	b = appendString(b, typ)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, '}', '}')
	ev, _ := sse.AppendEvent(nil, sse.Event{Event: "error", Data: string(b)})
	return ev
}

// anthropicPassthrough forwards an Anthropic stream to an Anthropic client
// event by event, reading the usage from message_start and message_delta.
type anthropicPassthrough struct {
	r        *sse.Reader
	counts   anthropicUsage
	finished bool // message_delta seen
	done     bool
	err      *UpstreamError
}

func (s *anthropicPassthrough) Usage() Usage        { return s.counts.usage() }
func (s *anthropicPassthrough) Err() *UpstreamError { return s.err }

func (s *anthropicPassthrough) Next() ([]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	ev, err := s.r.Next()
	if err != nil {
		s.done = true
		switch {
		case !errors.Is(err, io.EOF):
			s.err = streamError("anthropic", err)
		case !s.finished:
			s.err = truncated("anthropic")
		default:
			return nil, io.EOF
		}
		return anthropicErrorEvent(s.err), nil
	}
	switch eventType(ev) {
	case "message_start":
		var m struct {
			Message struct {
				Usage *anthropicUsage `json:"usage"`
			} `json:"message"`
		}
		if json.Unmarshal([]byte(ev.Data), &m) == nil {
			s.counts.merge(m.Message.Usage)
		}
	case "message_delta":
		var m struct {
			Usage *anthropicUsage `json:"usage"`
		}
		if json.Unmarshal([]byte(ev.Data), &m) == nil {
			s.counts.merge(m.Usage)
		}
		s.finished = true
	case "message_stop":
		s.done = true
	case "error":
		s.err = anthropicStreamError(ev.Data)
		s.done = true
	}
	return ev.Raw, nil
}

// eventType is an Anthropic event's type: its data's "type", else the SSE
// event name.
func eventType(ev sse.Event) string {
	if t, ok := stringValue(member(ev.Data, "type")); ok {
		return t
	}
	return ev.Event
}

// newID returns an id for an answer whose provider gave none.
func newID() string { return "chatcmpl-" + rand.Text() }
