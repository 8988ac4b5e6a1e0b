package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// Kind is a provider API.
type Kind string

// The provider kinds.
const (
	KindOpenAI    Kind = "openai"
	KindAzure     Kind = "azure"
	KindAnthropic Kind = "anthropic"
	// KindOpenAICompatible is a server that speaks OpenAI's API (Ollama,
	// vLLM, LM Studio, llama.cpp, Mistral, OpenRouter, …), which may omit
	// usage.
	KindOpenAICompatible Kind = "openai_compatible"
)

// Kinds lists every Kind, for config validation.
func Kinds() []Kind {
	return []Kind{KindOpenAI, KindAzure, KindAnthropic, KindOpenAICompatible}
}

// ErrUnknownKind is wrapped by [For] for a kind it has no adapter for.
var ErrUnknownKind = errors.New("unknown provider kind")

// Default base URLs, used when Target.URL is empty. Azure and
// OpenAI-compatible targets have none.
const (
	DefaultOpenAIURL    = "https://api.openai.com"
	DefaultAnthropicURL = "https://api.anthropic.com"
)

// Target is one upstream a request can go to.
type Target struct {
	Provider Kind
	// URL is the base URL: https://api.openai.com,
	// https://x.openai.azure.com, https://api.anthropic.com,
	// http://localhost:11434. A path in it is kept (a base path ending in
	// /v1 is not doubled, nor one ending in /openai for Azure), and so is a
	// query.
	URL string
	// Model is the model to ask for, replacing the client's; "" keeps the
	// client's.
	Model string
	// Deployment and APIVersion address an Azure deployment. Deployment
	// defaults to Model, then to the client's model; APIVersion to
	// [DefaultAzureAPIVersion].
	Deployment, APIVersion string
	// APIKey is the provider key, sent as "Authorization: Bearer" (OpenAI,
	// OpenAI-compatible), "api-key" (Azure) or "x-api-key" (Anthropic);
	// when empty no auth header is added (Headers may carry one). It never
	// appears in errors or logs.
	APIKey string
	// Headers are added to the upstream request, replacing client headers
	// and the adapter's defaults (anthropic-version) of the same name; the
	// APIKey header is set after them.
	Headers map[string]string
}

// Call is one client request as the egress hands it over. An adapter
// treats Req as read-only: each [Adapter.Request] edits a private copy, so
// the same Call can go to several targets in turn. A Call is not safe for
// concurrent use.
type Call struct {
	// Format is the client's API; FormatUnknown means Req.Format.
	Format llm.Format
	// Body is the client's body as it arrived. It only decides whether the
	// client asked for stream_options.include_usage when Req was edited
	// since it was parsed (egress may set include_usage on Req itself).
	Body []byte
	// Req is the parsed body, edits included: what goes upstream. When nil,
	// the adapter parses Body.
	Req *llm.Request
	// Header holds the client headers to forward, already cleaned of
	// X-Tollgate-*, Authorization and apikey. Adapters drop hop-by-hop and
	// credential headers anyway and add the target's auth.
	Header http.Header

	wantUsage, wantUsageSet bool
}

// format returns the client's format.
func (c *Call) format() llm.Format {
	if c.Format == llm.FormatUnknown && c.Req != nil {
		return c.Req.Format
	}
	return c.Format
}

// request returns Req, parsing Body when there is none.
func (c *Call) request() (*llm.Request, error) {
	if c.Req != nil {
		return c.Req, nil
	}
	r, err := llm.Parse(c.Format, c.Body)
	if err != nil {
		return nil, err
	}
	c.Req = r
	return r, nil
}

// clientIncludeUsage reports whether the client itself asked for
// stream_options.include_usage: Req says so unless it was edited, in which
// case Body does.
func (c *Call) clientIncludeUsage() bool {
	if c.wantUsageSet {
		return c.wantUsage
	}
	c.wantUsageSet = true
	switch {
	case c.Req != nil && (!c.Req.Changed() || len(c.Body) == 0):
		c.wantUsage = c.Req.IncludeUsage
	default:
		var b struct {
			StreamOptions *struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		if json.Unmarshal(c.Body, &b) == nil && b.StreamOptions != nil {
			c.wantUsage = b.StreamOptions.IncludeUsage
		}
	}
	return c.wantUsage
}

// Usage is the token usage of one call, as the provider reported it.
type Usage struct {
	// PromptTokens counts every input token, cached ones included
	// (Anthropic's input, cache read and cache write tokens).
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// CachedTokens are the prompt tokens read from the provider's prompt
	// cache (OpenAI cached_tokens, Anthropic cache_read_input_tokens);
	// CacheWriteTokens those written to it (Anthropic
	// cache_creation_input_tokens). Both are part of PromptTokens.
	CachedTokens     int
	CacheWriteTokens int
	// Known reports whether the provider reported usage at all.
	// OpenAI-compatible servers may not. After a stream that failed
	// ([Stream.Err]), CompletionTokens may fall short of what was sent.
	Known bool
}

// Adapter speaks one provider's API for the client formats it supports.
// Adapters are stateless and safe for concurrent use.
type Adapter interface {
	// Supports reports whether this adapter can serve the client format
	// (egress skips a target that cannot).
	Supports(f llm.Format) bool
	// Request builds the upstream HTTP request: the URL for the client's
	// API under the target URL, the auth header, and the body translated
	// to the provider's shape with the target's model. For OpenAI-shaped
	// streams it sets stream_options.include_usage so usage is always
	// reported. Errors are [*UpstreamError]s of class unsupported (this
	// target cannot serve the request; another may) or bad_request.
	Request(ctx context.Context, t Target, c *Call) (*http.Request, error)
	// Response translates a complete 2xx non-streaming body into the
	// client's shape and returns the usage. A body that is not the
	// provider's answer gives an [*UpstreamError] of class server.
	Response(c *Call, body []byte) ([]byte, Usage, error)
	// Stream translates the upstream SSE body into the client's SSE, event
	// by event, without buffering more than one event.
	Stream(c *Call, upstream io.Reader) Stream
	// Error classifies an upstream error response.
	Error(status int, h http.Header, body []byte) *UpstreamError
}

// Stream is one translated answer stream.
//
// When the upstream fails mid-stream (a read error such as a dropped
// connection, an event over the size limit, a stream that ends before it
// is complete, or the provider's own error event), Next returns, once, an
// error event in the client's dialect, then io.EOF; the caller writes it
// like any other bytes. For OpenAI-shaped clients it is
// "data: {"error":{…}}" (which the OpenAI SDKs raise as an error); for
// Anthropic clients Anthropic's "event: error". Err is set by the time Next
// returns those bytes, so a caller that has written nothing yet may drop
// them and try another target instead.
type Stream interface {
	// Next returns the next client-shaped SSE bytes to write (one or more
	// complete events), io.EOF at the end. The bytes are valid until the
	// next call.
	Next() ([]byte, error)
	// Usage is the usage seen so far (final after io.EOF).
	Usage() Usage
	// Err is the upstream failure that ended the stream, nil while it runs
	// and when it ended normally.
	Err() *UpstreamError
}

var adapters = map[Kind]Adapter{
	KindOpenAI:           &openAI{kind: KindOpenAI, name: "openai"},
	KindOpenAICompatible: &openAI{kind: KindOpenAICompatible, name: "openai_compatible"},
	KindAzure:            &azure{},
	KindAnthropic:        &anthropic{now: time.Now},
}

// For returns the adapter of a provider kind.
func For(k Kind) (Adapter, error) {
	if a, ok := adapters[k]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("provider %q: %w", string(k), ErrUnknownKind)
}

// baseURL parses a target URL. The error never quotes it: it may hold
// credentials.
func baseURL(raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	if raw == "" {
		return nil, configError("target url is required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, configError("target url must be an absolute http or https URL")
	}
	return u, nil
}

// endpoint returns base with path (escaped) appended to its path. A base
// path that already ends with the first segment of path ("/v1",
// "/openai") is not doubled.
func endpoint(base *url.URL, path string) *url.URL {
	u := *base
	p := strings.TrimSuffix(base.EscapedPath(), "/")
	if first, _, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/"); ok {
		if strings.HasSuffix(p, "/"+first) {
			path = strings.TrimPrefix(path, "/"+first)
		}
	}
	raw := p + path
	u.Path, u.RawPath = raw, ""
	if unescaped, err := url.PathUnescape(raw); err == nil {
		u.Path, u.RawPath = unescaped, raw
	}
	return &u
}

// newRequest builds a POST with the forwarded client headers, the
// adapter's defaults, the target's headers and the auth header, in that
// order of precedence (last wins).
func newRequest(ctx context.Context, u *url.URL, body []byte, c *Call, t Target, stream bool, defaults map[string]string, authHeader, authValue string, drop ...string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, configError("target url is not usable")
	}
	forwardHeaders(req.Header, c.Header, drop)
	req.Header.Set("Content-Type", "application/json")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	for k, v := range defaults {
		req.Header.Set(k, v)
	}
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	if t.APIKey != "" {
		req.Header.Set(authHeader, authValue)
	}
	return req, nil
}

// hopHeaders are never forwarded: hop-by-hop headers, headers the HTTP
// client sets itself (Accept-Encoding must stay unset for Go to decompress
// transparently), and credentials of any provider.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Host", "Content-Length", "Content-Type", "Content-Encoding", "Accept", "Accept-Encoding", "Expect",
	"Authorization", "Proxy-Authorization", "Api-Key", "X-Api-Key", "Apikey", "Cookie",
}

func forwardHeaders(dst, src http.Header, drop []string) {
	for k, vs := range src {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Tollgate-") {
			continue
		}
		dst[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	for _, v := range src.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			dst.Del(strings.TrimSpace(name))
		}
	}
	for _, k := range hopHeaders {
		dst.Del(k)
	}
	for _, k := range drop {
		dst.Del(k)
	}
}
