package fakellm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

type responsesRequest struct {
	Input           json.RawMessage `json:"input"`
	Instructions    *string         `json:"instructions"`
	Stream          bool            `json:"stream"`
	MaxOutputTokens *int            `json:"max_output_tokens"`
}

// responses serves a text-only subset of POST /v1/responses: input as a
// string or as message items, optional instructions, stream or not.
func (ex *exchange) responses(model string) {
	var req responsesRequest
	if err := json.Unmarshal(ex.body, &req); err != nil {
		ex.badRequest(fmt.Sprintf("Invalid request body: %v", err), nil)
		return
	}
	p := Prompt{API: ex.route.api, Endpoint: "responses", Model: model}
	if req.Instructions != nil {
		p.Texts = append(p.Texts, *req.Instructions)
	}
	var s string
	if json.Unmarshal(req.Input, &s) == nil {
		p.Texts = append(p.Texts, s)
		p.LastUser = s
	} else {
		var items []chatMessage
		if err := json.Unmarshal(req.Input, &items); err != nil || len(items) == 0 {
			ex.badRequest("Missing required parameter: 'input'.", "input")
			return
		}
		for _, it := range items {
			t := contentText(it.Content)
			p.Texts = append(p.Texts, t)
			if it.Role == "user" || it.Role == "" {
				p.LastUser = t
			}
		}
	}
	maxTokens := 0
	if req.MaxOutputTokens != nil {
		maxTokens = *req.MaxOutputTokens
	}
	pieces, cut := truncateTokens(splitTokens(ex.reply(p)), maxTokens)
	text := strings.Join(pieces, "")
	in, out := promptTokens(p), len(pieces)
	id := ex.s.nextID("resp_")
	msgID := ex.s.nextID("msg_")
	created := ex.s.opts.Now().Unix()

	part := func(text string) object {
		return object{{"type", "output_text"}, {"annotations", []any{}}, {"logprobs", []any{}}, {"text", text}}
	}
	item := func(status string, content []any) object {
		return object{{"id", msgID}, {"type", "message"}, {"status", status}, {"content", content}, {"role", "assistant"}}
	}
	status := "completed"
	var incomplete any = null
	if cut {
		status = "incomplete"
		incomplete = object{{"reason", "max_output_tokens"}}
	}
	response := func(status string, output []any, usage any, incomplete any) object {
		var instructions any = null
		if req.Instructions != nil {
			instructions = *req.Instructions
		}
		var maxOut any = null
		if req.MaxOutputTokens != nil {
			maxOut = *req.MaxOutputTokens
		}
		return object{
			{"id", id}, {"object", "response"}, {"created_at", created}, {"status", status},
			{"background", false}, {"error", null}, {"incomplete_details", incomplete},
			{"instructions", instructions}, {"max_output_tokens", maxOut}, {"model", model},
			{"output", output}, {"parallel_tool_calls", true}, {"previous_response_id", null},
			{"reasoning", object{{"effort", null}, {"summary", null}}}, {"service_tier", "default"},
			{"store", true}, {"temperature", 1.0}, {"text", object{{"format", object{{"type", "text"}}}}},
			{"tool_choice", "auto"}, {"tools", []any{}}, {"top_p", 1.0}, {"truncation", "disabled"},
			{"usage", usage}, {"user", null}, {"metadata", object{}},
		}
	}
	var usage any = null
	if ex.usageWanted() {
		usage = object{
			{"input_tokens", in}, {"input_tokens_details", object{{"cached_tokens", 0}}},
			{"output_tokens", out}, {"output_tokens_details", object{{"reasoning_tokens", 0}}},
			{"total_tokens", in + out},
		}
	}
	final := response(status, []any{item("completed", []any{part(text)})}, usage, incomplete)
	if !req.Stream {
		ex.writeJSON(http.StatusOK, final)
		return
	}

	seq := 0
	send := func(typ string, fields ...field) error {
		ev := append(object{{"type", typ}, {"sequence_number", seq}}, fields...)
		seq++
		return ex.event(typ, mustJSON(ev))
	}
	inProgress := response("in_progress", []any{}, null, null)
	loc := []field{{"item_id", msgID}, {"output_index", 0}, {"content_index", 0}}
	ex.startStream()
	steps := []func() error{
		func() error { return send("response.created", field{"response", inProgress}) },
		func() error { return send("response.in_progress", field{"response", inProgress}) },
		func() error {
			return send("response.output_item.added", field{"output_index", 0}, field{"item", item("in_progress", []any{})})
		},
		func() error { return send("response.content_part.added", append(loc, field{"part", part("")})...) },
	}
	for _, piece := range ex.streamPieces(pieces) {
		steps = append(steps, func() error {
			return send("response.output_text.delta", append(loc, field{"delta", piece}, field{"logprobs", []any{}})...)
		})
	}
	steps = append(steps,
		func() error {
			return send("response.output_text.done", append(loc, field{"text", text}, field{"logprobs", []any{}})...)
		},
		func() error { return send("response.content_part.done", append(loc, field{"part", part(text)})...) },
		func() error {
			return send("response.output_item.done", field{"output_index", 0}, field{"item", item("completed", []any{part(text)})})
		},
		func() error {
			typ := "response.completed"
			if cut {
				typ = "response.incomplete"
			}
			return send(typ, field{"response", final})
		},
	)
	for _, step := range steps {
		if step() != nil {
			return
		}
	}
}
