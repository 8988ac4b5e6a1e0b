package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm"
)

// openAI is the adapter of OpenAI and of OpenAI-compatible servers: the
// client's OpenAI request goes through unchanged but for the model and the
// usage option.
type openAI struct {
	kind Kind
	name string
}

// openAIPaths are the endpoints under the base URL.
var openAIPaths = map[llm.Format]string{
	llm.FormatChat:        "/v1/chat/completions",
	llm.FormatCompletions: "/v1/completions",
	llm.FormatEmbeddings:  "/v1/embeddings",
	llm.FormatResponses:   "/v1/responses",
}

func (a *openAI) Supports(f llm.Format) bool {
	_, ok := openAIPaths[f]
	return ok
}

func (a *openAI) Request(ctx context.Context, t Target, c *Call) (*http.Request, error) {
	f := c.format()
	if !a.Supports(f) {
		return nil, unsupported(a.name, fmt.Sprintf("the %s API", apiName(f)))
	}
	def := ""
	if a.kind == KindOpenAI {
		def = DefaultOpenAIURL
	}
	base, err := baseURL(t.URL, def)
	if err != nil {
		return nil, err
	}
	req, err := c.request()
	if err != nil {
		return nil, badBody(a.name, err)
	}
	body, err := openAIBody(req, t.Model, true)
	if err != nil {
		return nil, badBody(a.name, err)
	}
	return newRequest(ctx, endpoint(base, openAIPaths[f]), body, c, t, req.Stream, nil, "Authorization", "Bearer "+t.APIKey)
}

func (a *openAI) Response(c *Call, body []byte) ([]byte, Usage, error) {
	return openAIResponse(a.name, c, body)
}

func (a *openAI) Stream(c *Call, upstream io.Reader) Stream {
	return newPassthrough(a.name, c, upstream)
}

func (a *openAI) Error(status int, h http.Header, body []byte) *UpstreamError {
	return openAIError(a.name, status, h, body)
}

// apiName names a client format in messages.
func apiName(f llm.Format) string {
	if f == llm.FormatUnknown {
		return "unknown"
	}
	return string(f)
}

// openAIBody returns the body to send to an OpenAI-shaped API: the
// client's, with the target's model and, for chat and completions streams,
// stream_options.include_usage. Req itself is not edited: a copy is.
func openAIBody(req *llm.Request, model string, includeUsage bool) ([]byte, error) {
	needModel := model != "" && model != req.Model
	needUsage := includeUsage && req.Stream && !req.IncludeUsage &&
		(req.Format == llm.FormatChat || req.Format == llm.FormatCompletions)
	if !needModel && !needUsage {
		return req.Bytes(), nil
	}
	cp, err := llm.Parse(req.Format, req.Bytes())
	if err != nil {
		return nil, err
	}
	if needModel {
		cp.SetModel(model)
	}
	if needUsage {
		if err := cp.SetIncludeUsage(true); err != nil {
			return nil, err
		}
	}
	return cp.Bytes(), nil
}

// badBody is the error for a client body the adapter cannot read (it was
// parsed before, so this is rare): the request's 400.
func badBody(provider string, err error) *UpstreamError {
	ae := apierror.As(err)
	if ae.Status == http.StatusInternalServerError {
		ae = apierror.BadRequest("invalid_request", "The request body cannot be sent to the provider.")
	}
	return &UpstreamError{
		Class: ClassBadRequest, Status: ae.Status, Body: ae.Body(),
		Message: fmt.Sprintf("%s: request body rejected (%s)", provider, identifier(ae.Code)),
	}
}

// wireUsage is the usage object of OpenAI's APIs: chat and completions
// (prompt/completion), Responses (input/output) and embeddings (prompt).
type wireUsage struct {
	PromptTokens        *int `json:"prompt_tokens"`
	CompletionTokens    *int `json:"completion_tokens"`
	TotalTokens         *int `json:"total_tokens"`
	InputTokens         *int `json:"input_tokens"`
	OutputTokens        *int `json:"output_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	InputTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
}

// parseUsage decodes an OpenAI usage object; Known is false for null,
// absent or unreadable usage.
func parseUsage[T text](raw T) Usage {
	if isNull(raw) {
		return Usage{}
	}
	var w wireUsage
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		return Usage{}
	}
	val := func(ps ...*int) (int, bool) {
		for _, p := range ps {
			if p != nil {
				return *p, true
			}
		}
		return 0, false
	}
	var u Usage
	var okP, okC, okT bool
	u.PromptTokens, okP = val(w.PromptTokens, w.InputTokens)
	u.CompletionTokens, okC = val(w.CompletionTokens, w.OutputTokens)
	u.TotalTokens, okT = val(w.TotalTokens)
	if !okT {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	switch {
	case w.PromptTokensDetails != nil:
		u.CachedTokens = w.PromptTokensDetails.CachedTokens
	case w.InputTokensDetails != nil:
		u.CachedTokens = w.InputTokensDetails.CachedTokens
	}
	u.Known = okP || okC || okT
	return u
}

// openAIResponse passes a non-streamed OpenAI-shaped answer through and
// reads its usage.
func openAIResponse(provider string, c *Call, body []byte) ([]byte, Usage, error) {
	var head struct {
		Usage json.RawMessage `json:"usage"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, Usage{}, invalidResponse(provider, "2xx answer is not a JSON object")
	}
	if !isNull(head.Error) {
		return nil, Usage{}, invalidResponse(provider, "2xx answer is an error")
	}
	return body, parseUsage(head.Usage), nil
}

// openAIError classifies an error answer of OpenAI, Azure or an
// OpenAI-compatible server.
func openAIError(provider string, status int, h http.Header, body []byte) *UpstreamError {
	return classify(provider, status, h, body, parseProviderError(body), true, time.Now())
}
