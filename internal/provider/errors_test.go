package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/provider"
)

type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Code    *string `json:"code"`
		Param   *string `json:"param"`
	} `json:"error"`
}

func TestErrorClassification(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name         string
		kind         provider.Kind
		status       int
		header       http.Header
		body         []byte
		class        provider.Class
		clientStatus int
		retryAfter   time.Duration
		clientType   string
		clientCode   string
		passthrough  bool   // the provider's body reaches the client as is
		message      string // the client message, when not passed through
	}{
		{name: "openai rate limit", kind: provider.KindOpenAI, status: 429,
			header: h("Retry-After-Ms", "1790", "Retry-After", "2", "X-Ratelimit-Remaining-Tokens", "0", "X-Ratelimit-Reset-Tokens", "1.79s"),
			body:   testdata(t, "errors/openai_429_rate_limit.json"), class: provider.ClassRateLimit, clientStatus: 429, retryAfter: 1790 * time.Millisecond,
			clientType: "rate_limit_error", clientCode: "rate_limit_exceeded"},
		{name: "openai rate limit, reset headers only", kind: provider.KindOpenAI, status: 429,
			header: h("X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "6m0s", "X-Ratelimit-Remaining-Tokens", "100", "X-Ratelimit-Reset-Tokens", "20ms"),
			body:   testdata(t, "errors/openai_429_rate_limit.json"), class: provider.ClassRateLimit, clientStatus: 429, retryAfter: 6 * time.Minute,
			clientType: "rate_limit_error", clientCode: "rate_limit_exceeded"},
		{name: "openai insufficient quota", kind: provider.KindOpenAI, status: 429, body: testdata(t, "errors/openai_429_insufficient_quota.json"),
			class: provider.ClassRateLimit, clientStatus: 429, clientType: "insufficient_quota", clientCode: "insufficient_quota"},
		{name: "openai context length", kind: provider.KindOpenAI, status: 400, body: testdata(t, "errors/openai_400_context_length.json"),
			class: provider.ClassContextLength, clientStatus: 400, clientType: "invalid_request_error", clientCode: "context_length_exceeded", passthrough: true},
		{name: "openai bad request (fixture)", kind: provider.KindOpenAI, status: 400, body: fixture(t, "openai/llm-v1-chat/responses/bad_request.json"),
			class: provider.ClassBadRequest, clientStatus: 400, clientType: "invalid_request_error", passthrough: true},
		{name: "openai unauthorized (fixture)", kind: provider.KindOpenAI, status: 401, body: fixture(t, "openai/llm-v1-chat/responses/unauthorized.json"),
			class: provider.ClassAuth, clientStatus: 502, clientType: "server_error", clientCode: "upstream_error", message: "The upstream provider rejected the gateway's credentials."},
		{name: "openai model not found", kind: provider.KindOpenAI, status: 404, body: testdata(t, "errors/openai_404.json"),
			class: provider.ClassNotFound, clientStatus: 404, clientType: "invalid_request_error", clientCode: "model_not_found", passthrough: true},
		{name: "openai 500", kind: provider.KindOpenAI, status: 500, body: testdata(t, "errors/openai_500.json"),
			class: provider.ClassServer, clientStatus: 502, clientType: "server_error", clientCode: "upstream_error", message: "The upstream provider failed to answer."},
		{name: "openai 500 html (fixture)", kind: provider.KindOpenAI, status: 500, body: fixture(t, "openai/llm-v1-chat/responses/internal_server_error.html"),
			class: provider.ClassServer, clientStatus: 502, clientType: "server_error", clientCode: "upstream_error"},
		{name: "openai 503 overloaded", kind: provider.KindOpenAI, status: 503, header: h("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"), body: testdata(t, "errors/openai_503.json"),
			class: provider.ClassServer, clientStatus: 503, clientType: "server_error", clientCode: "upstream_unavailable"},
		{name: "gateway timeout", kind: provider.KindOpenAI, status: 504, body: []byte("upstream request timeout"),
			class: provider.ClassServer, clientStatus: 504, clientType: "server_error", clientCode: "upstream_timeout"},
		{name: "request timeout", kind: provider.KindOpenAI, status: 408, body: []byte("timeout"),
			class: provider.ClassTimeout, clientStatus: 504, clientType: "server_error", clientCode: "upstream_timeout"},
		{name: "azure content filter", kind: provider.KindAzure, status: 400, body: testdata(t, "errors/azure_400_content_filter.json"),
			class: provider.ClassContentFilter, clientStatus: 400, clientCode: "content_filter", passthrough: true},
		{name: "azure rate limit", kind: provider.KindAzure, status: 429, header: h("Retry-After", "6", "Retry-After-Ms", "6000"), body: testdata(t, "errors/azure_429.json"),
			class: provider.ClassRateLimit, clientStatus: 429, retryAfter: 6 * time.Second, clientType: "rate_limit_error", clientCode: "rate_limit_exceeded"},
		{name: "azure deployment not found", kind: provider.KindAzure, status: 404, body: testdata(t, "errors/azure_404_deployment.json"),
			class: provider.ClassNotFound, clientStatus: 404, clientCode: "DeploymentNotFound", passthrough: true},
		{name: "azure unauthorized", kind: provider.KindAzure, status: 401, body: testdata(t, "errors/azure_401.json"),
			class: provider.ClassAuth, clientStatus: 502, clientType: "server_error"},
		{name: "anthropic overloaded", kind: provider.KindAnthropic, status: 529, body: testdata(t, "errors/anthropic_529_overloaded.json"),
			class: provider.ClassServer, clientStatus: 503, clientType: "server_error", clientCode: "upstream_unavailable", message: "The upstream provider is overloaded or unavailable; retry later."},
		{name: "anthropic rate limit", kind: provider.KindAnthropic, status: 429, header: h("Retry-After", "14", "Anthropic-Ratelimit-Input-Tokens-Remaining", "0", "Anthropic-Ratelimit-Input-Tokens-Reset", "2030-01-01T00:00:00Z"),
			body: testdata(t, "errors/anthropic_429_rate_limit.json"), class: provider.ClassRateLimit, clientStatus: 429, retryAfter: 14 * time.Second,
			clientType: "rate_limit_error", clientCode: "rate_limit_exceeded", message: "The upstream provider is rate limiting requests; retry later."},
		{name: "anthropic prompt too long", kind: provider.KindAnthropic, status: 400, body: testdata(t, "errors/anthropic_400_prompt_too_long.json"),
			class: provider.ClassContextLength, clientStatus: 400, clientType: "invalid_request_error", clientCode: "context_length_exceeded",
			message: "prompt is too long: 208923 tokens > 200000 maximum"},
		{name: "anthropic invalid request", kind: provider.KindAnthropic, status: 400, body: testdata(t, "errors/anthropic_400_invalid.json"),
			class: provider.ClassBadRequest, clientStatus: 400, clientType: "invalid_request_error",
			message: "messages.1.content.0.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"},
		{name: "anthropic bad request (fixture)", kind: provider.KindAnthropic, status: 400, body: fixture(t, "anthropic/llm-v1-chat/responses/bad_request.json"),
			class: provider.ClassBadRequest, clientStatus: 400, clientType: "invalid_request_error", message: "Invalid request"},
		{name: "anthropic credit balance", kind: provider.KindAnthropic, status: 400, body: testdata(t, "errors/anthropic_400_credit_balance.json"),
			class: provider.ClassRateLimit, clientStatus: 429, clientType: "insufficient_quota", clientCode: "insufficient_quota"},
		{name: "anthropic unauthorized (fixture)", kind: provider.KindAnthropic, status: 401, body: fixture(t, "anthropic/llm-v1-chat/responses/unauthorized.json"),
			class: provider.ClassAuth, clientStatus: 502, clientType: "server_error"},
		{name: "anthropic not found", kind: provider.KindAnthropic, status: 404, body: testdata(t, "errors/anthropic_404.json"),
			class: provider.ClassNotFound, clientStatus: 404, clientType: "invalid_request_error", clientCode: "model_not_found", message: "model: claude-5-opus"},
		{name: "anthropic 500", kind: provider.KindAnthropic, status: 500, body: testdata(t, "errors/anthropic_500.json"),
			class: provider.ClassServer, clientStatus: 502, clientType: "server_error"},
		{name: "anthropic request too large", kind: provider.KindAnthropic, status: 413, body: testdata(t, "errors/anthropic_413.json"),
			class: provider.ClassBadRequest, clientStatus: 413, clientType: "invalid_request_error"},
		{name: "ollama model not found", kind: provider.KindOpenAICompatible, status: 404, body: testdata(t, "errors/ollama_404.json"),
			class: provider.ClassNotFound, clientStatus: 404, clientType: "invalid_request_error", clientCode: "model_not_found", message: `model "llama3" not found, try pulling it first`},
		{name: "vllm context length", kind: provider.KindOpenAICompatible, status: 400, body: testdata(t, "errors/vllm_400_context_length.json"),
			class: provider.ClassContextLength, clientStatus: 400, clientType: "invalid_request_error", clientCode: "context_length_exceeded"},
		{name: "mistral context length", kind: provider.KindOpenAICompatible, status: 400, body: testdata(t, "errors/mistral_400_context_length.json"),
			class: provider.ClassContextLength, clientStatus: 400, clientType: "invalid_request_error", clientCode: "context_length_exceeded"},
		{name: "payment required", kind: provider.KindOpenAICompatible, status: 402, body: []byte(`{"error":{"message":"Insufficient credits","code":402}}`),
			class: provider.ClassRateLimit, clientStatus: 429},
		{name: "unprocessable", kind: provider.KindOpenAICompatible, status: 422, body: []byte(`{"detail":"field required"}`),
			class: provider.ClassBadRequest, clientStatus: 422, clientType: "invalid_request_error", message: "field required"},
		{name: "empty body", kind: provider.KindOpenAI, status: 502, class: provider.ClassServer, clientStatus: 502, clientType: "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == nil {
				header = http.Header{}
			}
			e := adapter(t, tt.kind).Error(tt.status, header, tt.body)
			require.Equal(t, tt.status, e.UpstreamStatus)
			require.Equal(t, tt.class, e.Class)
			require.Equal(t, tt.clientStatus, e.Status)
			if tt.retryAfter != 0 {
				require.Equal(t, tt.retryAfter, e.RetryAfter)
			}
			if tt.name == "openai 503 overloaded" {
				require.Zero(t, e.RetryAfter, "a date in the past")
			}

			var got errorBody
			require.NoError(t, json.Unmarshal(e.Body, &got), "%s", e.Body)
			require.NotEmpty(t, got.Error.Message)
			if tt.clientType != "" {
				require.Equal(t, tt.clientType, got.Error.Type)
			}
			if tt.clientCode != "" {
				require.NotNil(t, got.Error.Code)
				require.Equal(t, tt.clientCode, *got.Error.Code)
			}
			if tt.passthrough {
				require.JSONEq(t, string(tt.body), string(e.Body))
			}
			if tt.message != "" {
				require.Equal(t, tt.message, got.Error.Message)
			}
			require.NotContains(t, string(e.Body), "\n", "fits one SSE data line")

			// The log message names the provider and the class, never the
			// provider's message.
			require.Contains(t, e.Error(), string(tt.class))
			require.Contains(t, e.Error(), fmt.Sprint(tt.status))
			if pm := got.Error.Message; len(pm) > 20 {
				require.NotContains(t, e.Error(), pm)
			}
			for _, leak := range []string{"org-Qx2wTz8bqkqA9yCzAzFfX", "4f3a8e2c-1d5b-4b7a-9c0e-2f6d8a1b3c5e", "wro****ey"} {
				if !tt.passthrough {
					require.NotContains(t, string(e.Body), leak, "the gateway's account stays private")
				}
				require.NotContains(t, e.Error(), leak)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	all := provider.RetryOnValues()
	tests := []struct {
		class   provider.Class
		retryOn []string
		want    bool
	}{
		{provider.ClassRateLimit, []string{"429"}, true},
		{provider.ClassRateLimit, []string{"5xx"}, false},
		{provider.ClassServer, []string{" 5XX "}, true},
		{provider.ClassTimeout, []string{"timeout"}, true},
		{provider.ClassTimeout, []string{"5xx"}, false},
		{provider.ClassConnection, []string{"connection"}, true},
		{provider.ClassContextLength, []string{"context_length"}, true},
		{provider.ClassContextLength, []string{"429", "5xx"}, false},
		{provider.ClassUnsupported, nil, true},
		{provider.ClassAuth, all, false},
		{provider.ClassBadRequest, all, false},
		{provider.ClassNotFound, all, false},
		{provider.ClassContentFilter, all, false},
		{provider.ClassServer, []string{"bogus"}, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, provider.Retryable(tt.class, tt.retryOn), "%s %v", tt.class, tt.retryOn)
	}
	// An upstream 504 is a 5xx answer; "timeout" is for no answer at all.
	e := adapter(t, provider.KindOpenAI).Error(504, http.Header{}, nil)
	require.True(t, e.Retryable([]string{"5xx"}))
	require.False(t, e.Retryable([]string{"timeout"}))
	require.False(t, e.Retryable([]string{"429"}))
}

func TestTransportError(t *testing.T) {
	urlErr := func(err error) error {
		return fmt.Errorf("do: %w", &url.Error{Op: "Post", URL: "https://x.example/v1/chat?key=SECRET-IN-URL", Err: err})
	}
	tests := []struct {
		name   string
		err    error
		class  provider.Class
		status int
	}{
		{"deadline", context.DeadlineExceeded, provider.ClassTimeout, 504},
		{"net timeout", urlErr(&net.OpError{Op: "dial", Err: timeoutError{}}), provider.ClassTimeout, 504},
		{"refused", urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}), provider.ClassConnection, 502},
		{"canceled", urlErr(context.Canceled), provider.ClassConnection, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := provider.TransportError(tt.err)
			require.Equal(t, tt.class, e.Class)
			require.Equal(t, tt.status, e.Status)
			require.Zero(t, e.UpstreamStatus)
			require.ErrorIs(t, e, tt.err)
			require.NotContains(t, e.Error(), "SECRET-IN-URL")
			require.NotContains(t, string(e.Body), "SECRET-IN-URL")
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestRespond(t *testing.T) {
	e := adapter(t, provider.KindAnthropic).Error(429, http.Header{"Retry-After": {"1.2"}}, testdata(t, "errors/anthropic_429_rate_limit.json"))
	rec := httptest.NewRecorder()
	e.Respond(rec)
	require.Equal(t, 429, rec.Code)
	require.Equal(t, "2", rec.Header().Get("Retry-After"))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.JSONEq(t, string(e.Body), rec.Body.String())

	rec = httptest.NewRecorder()
	(&provider.UpstreamError{}).Respond(rec)
	require.Equal(t, 502, rec.Code)
	require.True(t, strings.HasPrefix(rec.Body.String(), `{"error":`))
}
