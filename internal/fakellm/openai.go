package fakellm

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

const systemFingerprint = "fp_fakellm"

// openAIErrorObject is OpenAI's error body; param and code may be nil.
func openAIErrorObject(msg, typ string, param, code any) object {
	return object{{"error", object{
		{"message", msg}, {"type", typ}, {"param", nullable(param)}, {"code", nullable(code)},
	}}}
}

func nullable(v any) any {
	if v == nil {
		return null
	}
	return v
}

func openAIError(kind ErrorKind, msg, model string) (int, []byte) {
	pick := func(d string) string {
		if msg != "" {
			return msg
		}
		return d
	}
	var (
		status      int
		typ         = "invalid_request_error"
		param, code any
		text        string
	)
	switch kind {
	case ErrorContextLength:
		status, param, code = http.StatusBadRequest, "messages", "context_length_exceeded"
		text = pick("This model's maximum context length is 128000 tokens. However, your messages resulted in 128001 tokens. Please reduce the length of the messages.")
	case ErrorUnauthorized:
		status, code = http.StatusUnauthorized, "invalid_api_key"
		text = pick("Incorrect API key provided: sk-****ng. You can find your API key at https://platform.openai.com/account/api-keys.")
	case ErrorPermission:
		status = http.StatusForbidden
		text = pick(fmt.Sprintf("You are not allowed to sample from this model: %s", model))
	case ErrorNotFound:
		status, code = http.StatusNotFound, "model_not_found"
		text = pick(fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model))
	case ErrorRateLimit:
		status, typ, code = http.StatusTooManyRequests, "requests", "rate_limit_exceeded"
		text = pick(fmt.Sprintf("Rate limit reached for %s in organization org-fakellm on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.", model))
	case ErrorServer:
		status, typ = http.StatusInternalServerError, "server_error"
		text = pick("The server had an error while processing your request. Sorry about that!")
	case ErrorUnavailable, ErrorOverloaded:
		status, typ = http.StatusServiceUnavailable, "server_error"
		text = pick("The engine is currently overloaded, please try again later")
	default:
		status = http.StatusBadRequest
		text = pick("Invalid request")
	}
	return status, mustJSON(openAIErrorObject(text, typ, param, code))
}

// maskKey masks a key the way OpenAI's 401 does ("wro****ey").
func maskKey(k string) string {
	if len(k) <= 5 {
		return strings.Repeat("*", len(k))
	}
	return k[:3] + "****" + k[len(k)-2:]
}

// authOpenAI checks the Bearer key and answers 401 when it is wrong.
func (ex *exchange) authOpenAI() bool {
	want := ex.s.keyFor(APIOpenAI)
	if want == "" {
		return true
	}
	got, ok := strings.CutPrefix(ex.r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(got) == "" {
		ex.writeJSON(http.StatusUnauthorized, openAIErrorObject(
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (i.e. username: YOUR_KEY) when using HTTP Basic auth. You can obtain an API key from https://platform.openai.com/account/api-keys.",
			"invalid_request_error", nil, nil))
		return false
	}
	if got != want {
		ex.writeJSON(http.StatusUnauthorized, openAIErrorObject(
			fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", maskKey(got)),
			"invalid_request_error", nil, "invalid_api_key"))
		return false
	}
	return true
}

func (ex *exchange) serveOpenAI() {
	if !ex.authOpenAI() {
		return
	}
	if ex.route.endpoint == "models" {
		ex.listOpenAIModels()
		return
	}
	ex.serveOpenAIEndpoint(ex.req.Model)
}

// badRequest answers 400 in the OpenAI shape.
func (ex *exchange) badRequest(msg string, param any) {
	ex.writeJSON(http.StatusBadRequest, openAIErrorObject(msg, "invalid_request_error", param, nil))
}

// serveOpenAIEndpoint serves the OpenAI body format for OpenAI and Azure.
func (ex *exchange) serveOpenAIEndpoint(model string) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(ex.body, &probe); err != nil {
		ex.badRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)", nil)
		return
	}
	if model == "" {
		ex.badRequest("you must provide a model parameter", nil)
		return
	}
	if ex.route.api == APIOpenAI && !ex.s.knownModel(model) {
		ex.fail(ErrorNotFound, "")
		return
	}
	switch ex.route.endpoint {
	case "chat/completions":
		ex.chat(model)
	case "completions":
		ex.completions(model)
	case "embeddings":
		ex.embeddings(model)
	case "responses":
		ex.responses(model)
	}
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type chatRequest struct {
	Messages            *[]chatMessage `json:"messages"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options"`
	MaxTokens           int            `json:"max_tokens"`
	MaxCompletionTokens int            `json:"max_completion_tokens"`
}

func (ex *exchange) usageWanted() bool {
	return !ex.s.opts.OmitUsage && !ex.behavior.OmitUsage
}

func openAIUsage(prompt, completion int) object {
	return object{
		{"prompt_tokens", prompt},
		{"completion_tokens", completion},
		{"total_tokens", prompt + completion},
		{"prompt_tokens_details", object{{"cached_tokens", 0}, {"audio_tokens", 0}}},
		{"completion_tokens_details", object{
			{"reasoning_tokens", 0}, {"audio_tokens", 0},
			{"accepted_prediction_tokens", 0}, {"rejected_prediction_tokens", 0},
		}},
	}
}

func (ex *exchange) chat(model string) {
	var req chatRequest
	if err := json.Unmarshal(ex.body, &req); err != nil {
		ex.badRequest(fmt.Sprintf("Invalid request body: %v", err), nil)
		return
	}
	if req.Messages == nil {
		ex.badRequest("'messages' is a required property", nil)
		return
	}
	if len(*req.Messages) == 0 {
		ex.badRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages")
		return
	}
	if req.StreamOptions != nil && !req.Stream {
		ex.badRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
		return
	}
	p := Prompt{API: ex.route.api, Endpoint: "chat/completions", Model: model}
	for _, m := range *req.Messages {
		t := contentText(m.Content)
		p.Texts = append(p.Texts, t)
		if m.Role == "user" {
			p.LastUser = t
		}
	}
	maxTokens := req.MaxCompletionTokens
	if maxTokens == 0 {
		maxTokens = req.MaxTokens
	}
	pieces, cut := truncateTokens(splitTokens(ex.reply(p)), maxTokens)
	finish := "stop"
	if cut {
		finish = "length"
	}
	text := strings.Join(pieces, "")
	in, out := promptTokens(p), len(pieces)
	id := ex.s.nextID("chatcmpl-")
	created := ex.s.opts.Now().Unix()
	azure := ex.route.api == APIAzure

	if !req.Stream {
		message := object{{"role", "assistant"}, {"content", text}, {"refusal", null}, {"annotations", []any{}}}
		choice := object{{"index", 0}, {"message", message}, {"logprobs", null}, {"finish_reason", finish}}
		if azure {
			choice = append(choice, field{"content_filter_results", azureContentFilter()})
		}
		resp := object{
			{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", model},
			{"choices", []any{choice}},
		}
		if ex.usageWanted() {
			resp = append(resp, field{"usage", openAIUsage(in, out)})
		}
		if azure {
			resp = append(resp, field{"prompt_filter_results", azurePromptFilter()})
		} else {
			resp = append(resp, field{"service_tier", "default"})
		}
		resp = append(resp, field{"system_fingerprint", systemFingerprint})
		ex.writeJSON(http.StatusOK, resp)
		return
	}

	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage && ex.usageWanted()
	chunk := func(choices []any, usage any) []byte {
		c := object{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model}}
		if !azure {
			c = append(c, field{"service_tier", "default"})
		}
		c = append(c, field{"system_fingerprint", systemFingerprint}, field{"choices", choices})
		if includeUsage {
			c = append(c, field{"usage", usage})
		}
		return mustJSON(c)
	}
	delta := func(d object, finish any) []any {
		return []any{object{{"index", 0}, {"delta", d}, {"logprobs", null}, {"finish_reason", finish}}}
	}
	ex.startStream()
	if azure {
		first := object{{"choices", []any{}}, {"created", 0}, {"id", ""}, {"model", ""}, {"object", ""},
			{"prompt_filter_results", azurePromptFilter()}}
		if ex.event("", mustJSON(first)) != nil {
			return
		}
	}
	if ex.event("", chunk(delta(object{{"role", "assistant"}, {"content", ""}, {"refusal", null}}, null), null)) != nil {
		return
	}
	for _, piece := range ex.streamPieces(pieces) {
		if ex.event("", chunk(delta(object{{"content", piece}}, null), null)) != nil {
			return
		}
	}
	if ex.event("", chunk(delta(object{}, finish), null)) != nil {
		return
	}
	if includeUsage {
		if ex.event("", chunk([]any{}, openAIUsage(in, out))) != nil {
			return
		}
	}
	_ = ex.event("", []byte("[DONE]"))
}

type completionRequest struct {
	Prompt        json.RawMessage `json:"prompt"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	MaxTokens     *int            `json:"max_tokens"`
}

func (ex *exchange) completions(model string) {
	var req completionRequest
	if err := json.Unmarshal(ex.body, &req); err != nil {
		ex.badRequest(fmt.Sprintf("Invalid request body: %v", err), nil)
		return
	}
	if len(req.Prompt) == 0 || string(req.Prompt) == "null" {
		ex.badRequest("you must provide a 'prompt' parameter", nil)
		return
	}
	if req.StreamOptions != nil && !req.Stream {
		ex.badRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
		return
	}
	prompt := contentText(req.Prompt)
	if prompt == "" {
		var many []string
		if json.Unmarshal(req.Prompt, &many) == nil {
			prompt = strings.Join(many, "\n")
		}
	}
	p := Prompt{API: ex.route.api, Endpoint: "completions", Model: model, Texts: []string{prompt}, LastUser: prompt}
	// The legacy endpoint defaults max_tokens to 16.
	maxTokens := 16
	if req.MaxTokens != nil {
		maxTokens = *req.MaxTokens
	}
	pieces, cut := truncateTokens(splitTokens(ex.reply(p)), maxTokens)
	finish := "stop"
	if cut {
		finish = "length"
	}
	in, out := promptTokens(p), len(pieces)
	id := ex.s.nextID("cmpl-")
	created := ex.s.opts.Now().Unix()
	choice := func(text string, finish any) object {
		return object{{"text", text}, {"index", 0}, {"logprobs", null}, {"finish_reason", finish}}
	}
	if !req.Stream {
		resp := object{
			{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
			{"choices", []any{choice(strings.Join(pieces, ""), finish)}},
		}
		if ex.usageWanted() {
			resp = append(resp, field{"usage", object{{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}}})
		}
		ex.writeJSON(http.StatusOK, resp)
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage && ex.usageWanted()
	chunk := func(choices []any, usage any) []byte {
		c := object{{"id", id}, {"object", "text_completion"}, {"created", created}, {"choices", choices}, {"model", model},
			{"system_fingerprint", systemFingerprint}}
		if includeUsage {
			c = append(c, field{"usage", usage})
		}
		return mustJSON(c)
	}
	ex.startStream()
	for _, piece := range ex.streamPieces(pieces) {
		if ex.event("", chunk([]any{choice(piece, null)}, null)) != nil {
			return
		}
	}
	if ex.event("", chunk([]any{choice("", finish)}, null)) != nil {
		return
	}
	if includeUsage {
		usage := object{{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}}
		if ex.event("", chunk([]any{}, usage)) != nil {
			return
		}
	}
	_ = ex.event("", []byte("[DONE]"))
}

type embeddingRequest struct {
	Input          json.RawMessage `json:"input"`
	Dimensions     int             `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

// embeddingInputs decodes the four input forms: a string, strings, a token
// array or token arrays (tokens are embedded as their decimal text).
func embeddingInputs(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, one != ""
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, s := range many {
			if s == "" {
				return nil, false
			}
		}
		return many, len(many) > 0
	}
	ints := func(ts []int) string {
		parts := make([]string, len(ts))
		for i, t := range ts {
			parts[i] = strconv.Itoa(t)
		}
		return strings.Join(parts, " ")
	}
	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil {
		return []string{ints(tokens)}, len(tokens) > 0
	}
	var batches [][]int
	if json.Unmarshal(raw, &batches) == nil {
		out := make([]string, len(batches))
		for i, b := range batches {
			if len(b) == 0 {
				return nil, false
			}
			out[i] = ints(b)
		}
		return out, len(out) > 0
	}
	return nil, false
}

func (ex *exchange) embeddings(model string) {
	var req embeddingRequest
	if err := json.Unmarshal(ex.body, &req); err != nil {
		ex.badRequest(fmt.Sprintf("Invalid request body: %v", err), nil)
		return
	}
	inputs, ok := embeddingInputs(req.Input)
	if !ok {
		ex.badRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", nil)
		return
	}
	dim := ex.s.opts.EmbeddingDimensions
	if req.Dimensions > 0 {
		dim = req.Dimensions
	}
	data := make([]any, len(inputs))
	tokens := 0
	for i, in := range inputs {
		tokens += CountTokens(in)
		vec := Embed(in, dim)
		var emb any = vec
		if req.EncodingFormat == "base64" {
			buf := make([]byte, 4*len(vec))
			for j, f := range vec {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(float32(f)))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		} else {
			f32 := make([]float32, len(vec))
			for j, f := range vec {
				f32[j] = float32(f)
			}
			emb = f32
		}
		data[i] = object{{"object", "embedding"}, {"index", i}, {"embedding", emb}}
	}
	resp := object{{"object", "list"}, {"data", data}, {"model", model}}
	if ex.usageWanted() {
		resp = append(resp, field{"usage", object{{"prompt_tokens", tokens}, {"total_tokens", tokens}}})
	}
	ex.writeJSON(http.StatusOK, resp)
}

func (ex *exchange) listOpenAIModels() {
	models := ex.s.opts.Models
	if len(models) == 0 {
		models = []string{"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"}
	}
	data := make([]any, len(models))
	for i, m := range models {
		data[i] = object{{"id", m}, {"object", "model"}, {"created", 1715367049}, {"owned_by", "system"}}
	}
	ex.writeJSON(http.StatusOK, object{{"object", "list"}, {"data", data}})
}
