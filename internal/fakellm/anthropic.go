package fakellm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

func anthropicError(kind ErrorKind, msg, model string) (int, []byte) {
	var (
		status int
		typ    string
		text   string
	)
	switch kind {
	case ErrorContextLength:
		status, typ, text = http.StatusBadRequest, "invalid_request_error", "prompt is too long: 200001 tokens > 200000 maximum"
	case ErrorUnauthorized:
		status, typ, text = http.StatusUnauthorized, "authentication_error", "invalid x-api-key"
	case ErrorPermission:
		status, typ, text = http.StatusForbidden, "permission_error", "Your API key does not have permission to use the specified resource."
	case ErrorNotFound:
		status, typ, text = http.StatusNotFound, "not_found_error", "model: "+model
	case ErrorRateLimit:
		status, typ, text = http.StatusTooManyRequests, "rate_limit_error",
			"This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later."
	case ErrorServer:
		status, typ, text = http.StatusInternalServerError, "api_error", "Internal server error"
	case ErrorUnavailable:
		status, typ, text = http.StatusServiceUnavailable, "api_error", "Service unavailable"
	case ErrorOverloaded:
		status, typ, text = 529, "overloaded_error", "Overloaded"
	default:
		status, typ, text = http.StatusBadRequest, "invalid_request_error", "Invalid request"
	}
	if msg != "" {
		text = msg
	}
	return status, mustJSON(anthropicErrorObject(typ, text))
}

func anthropicErrorObject(typ, msg string) object {
	return object{{"type", "error"}, {"error", object{{"type", typ}, {"message", msg}}}}
}

// anthropicFail answers a validation error in Anthropic's shape.
func (ex *exchange) anthropicFail(status int, typ, msg string) {
	ex.setHeaders()
	ex.w.Header().Set("Content-Type", "application/json")
	ex.w.Header().Set("x-should-retry", "false")
	ex.writeBody(status, mustJSON(anthropicErrorObject(typ, msg)))
}

type anthropicRequest struct {
	Model         string          `json:"model"`
	MaxTokens     *int            `json:"max_tokens"`
	Messages      *[]chatMessage  `json:"messages"`
	System        json.RawMessage `json:"system"`
	Stream        bool            `json:"stream"`
	StopSequences []string        `json:"stop_sequences"`
}

func (ex *exchange) serveAnthropic() {
	if want := ex.s.keyFor(APIAnthropic); want != "" {
		switch got := ex.r.Header.Get("x-api-key"); {
		case got == "":
			ex.anthropicFail(http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
			return
		case got != want:
			ex.anthropicFail(http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
			return
		}
	}
	if ex.r.Header.Get("anthropic-version") == "" {
		ex.anthropicFail(http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if ex.route.endpoint == "models" {
		ex.listAnthropicModels()
		return
	}
	var req anthropicRequest
	if err := json.Unmarshal(ex.body, &req); err != nil {
		ex.anthropicFail(http.StatusBadRequest, "invalid_request_error", "There was an error parsing the body of your request. Please check that it is valid JSON.")
		return
	}
	switch {
	case req.Model == "":
		ex.anthropicFail(http.StatusBadRequest, "invalid_request_error", "model: Field required")
		return
	case req.MaxTokens == nil:
		ex.anthropicFail(http.StatusBadRequest, "invalid_request_error", "max_tokens: Field required")
		return
	case req.Messages == nil:
		ex.anthropicFail(http.StatusBadRequest, "invalid_request_error", "messages: Field required")
		return
	case !ex.s.knownModel(req.Model):
		ex.fail(ErrorNotFound, "")
		return
	}
	p := Prompt{API: APIAnthropic, Endpoint: "messages", Model: req.Model}
	if sys := contentText(req.System); sys != "" {
		p.Texts = append(p.Texts, sys)
	}
	for i, m := range *req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			ex.anthropicFail(http.StatusBadRequest, "invalid_request_error", fmt.Sprintf(
				"messages.%d.role: Input should be 'user' or 'assistant'", i))
			return
		}
		t := contentText(m.Content)
		p.Texts = append(p.Texts, t)
		if m.Role == "user" {
			p.LastUser = t
		}
	}
	reply := ex.reply(p)
	stopReason, stopSeq := "end_turn", any(null)
	// The earliest stop sequence ends the reply before it, as the API does.
	cutAt := len(reply)
	for _, seq := range req.StopSequences {
		if i := strings.Index(reply, seq); seq != "" && i >= 0 && i < cutAt {
			cutAt, stopReason, stopSeq = i, "stop_sequence", seq
		}
	}
	pieces := splitTokens(reply[:cutAt])
	if p, cut := truncateTokens(pieces, *req.MaxTokens); cut {
		pieces, stopReason, stopSeq = p, "max_tokens", null
	}
	text := strings.Join(pieces, "")
	in, out := promptTokens(p), len(pieces)
	id := ex.s.nextID("msg_")
	usage := func(output int) object {
		return object{
			{"input_tokens", in}, {"cache_creation_input_tokens", 0}, {"cache_read_input_tokens", 0},
			{"cache_creation", object{{"ephemeral_5m_input_tokens", 0}, {"ephemeral_1h_input_tokens", 0}}},
			{"output_tokens", output}, {"service_tier", "standard"},
		}
	}
	message := func(content []any, stopReason, stopSeq any, u object) object {
		return object{
			{"id", id}, {"type", "message"}, {"role", "assistant"}, {"model", req.Model},
			{"content", content}, {"stop_reason", stopReason}, {"stop_sequence", stopSeq}, {"usage", u},
		}
	}
	textBlock := func(t string) object { return object{{"type", "text"}, {"text", t}} }

	if !req.Stream {
		ex.writeJSON(http.StatusOK, message([]any{textBlock(text)}, stopReason, stopSeq, usage(out)))
		return
	}
	send := func(typ string, fields ...field) error {
		return ex.event(typ, mustJSON(append(object{{"type", typ}}, fields...)))
	}
	ex.startStream()
	steps := []func() error{
		func() error {
			return send("message_start", field{"message", message([]any{}, null, null, usage(1))})
		},
		func() error {
			return send("content_block_start", field{"index", 0}, field{"content_block", textBlock("")})
		},
		func() error { return send("ping") },
	}
	for _, piece := range ex.streamPieces(pieces) {
		steps = append(steps, func() error {
			return send("content_block_delta", field{"index", 0},
				field{"delta", object{{"type", "text_delta"}, {"text", piece}}})
		})
	}
	steps = append(steps,
		func() error { return send("content_block_stop", field{"index", 0}) },
		func() error {
			return send("message_delta",
				field{"delta", object{{"stop_reason", stopReason}, {"stop_sequence", stopSeq}}},
				field{"usage", object{{"output_tokens", out}}})
		},
		func() error { return send("message_stop") },
	)
	for _, step := range steps {
		if step() != nil {
			return
		}
	}
}

func (ex *exchange) listAnthropicModels() {
	models := ex.s.opts.Models
	if len(models) == 0 {
		models = []string{"claude-sonnet-4-5", "claude-haiku-4-5"}
	}
	data := make([]any, len(models))
	for i, m := range models {
		data[i] = object{{"type", "model"}, {"id", m}, {"display_name", m}, {"created_at", "2025-01-01T00:00:00Z"}}
	}
	ex.writeJSON(http.StatusOK, object{
		{"data", data}, {"has_more", false}, {"first_id", models[0]}, {"last_id", models[len(models)-1]},
	})
}
