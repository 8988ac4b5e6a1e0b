package apierror_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
)

func TestConstructors(t *testing.T) {
	tests := []struct {
		name       string
		err        *apierror.Error
		status     int
		body       string
		retryAfter string
	}{
		{
			name:   "bad request",
			err:    apierror.BadRequest("invalid_body", "messages: must not be empty"),
			status: 400,
			body:   `{"error":{"message":"messages: must not be empty","type":"invalid_request_error","param":null,"code":"invalid_body"}}`,
		},
		{
			name:   "bad request with param",
			err:    &apierror.Error{Status: 400, Type: apierror.TypeInvalidRequest, Message: "too high", Param: "max_tokens"},
			status: 400,
			body:   `{"error":{"message":"too high","type":"invalid_request_error","param":"max_tokens","code":null}}`,
		},
		{
			name:   "forbidden",
			err:    apierror.Forbidden("policy_denied", "model gpt-4o is not allowed"),
			status: 403,
			body:   `{"error":{"message":"model gpt-4o is not allowed","type":"permission_error","param":null,"code":"policy_denied"}}`,
		},
		{
			name:   "too large",
			err:    apierror.TooLarge("", "body exceeds 1048576 bytes"),
			status: 413,
			body:   `{"error":{"message":"body exceeds 1048576 bytes","type":"invalid_request_error","param":null,"code":null}}`,
		},
		{
			name:       "rate limited rounds up",
			err:        apierror.RateLimited("token limit reached", 1500*time.Millisecond),
			status:     429,
			body:       `{"error":{"message":"token limit reached","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`,
			retryAfter: "2",
		},
		{
			name:       "rate limited exact seconds",
			err:        apierror.RateLimited("x", 3*time.Second),
			status:     429,
			body:       `{"error":{"message":"x","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`,
			retryAfter: "3",
		},
		{
			name:       "rate limited sub-second",
			err:        apierror.RateLimited("x", time.Nanosecond),
			status:     429,
			body:       `{"error":{"message":"x","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`,
			retryAfter: "1",
		},
		{
			name:   "rate limited without retry",
			err:    apierror.RateLimited("x", 0),
			status: 429,
			body:   `{"error":{"message":"x","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`,
		},
		{
			name:       "quota exceeded",
			err:        apierror.QuotaExceeded("monthly budget spent", time.Hour),
			status:     429,
			body:       `{"error":{"message":"monthly budget spent","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`,
			retryAfter: "3600",
		},
		{
			name:   "upstream 502",
			err:    apierror.Upstream(502, "all targets failed"),
			status: 502,
			body:   `{"error":{"message":"all targets failed","type":"server_error","param":null,"code":"upstream_error"}}`,
		},
		{
			name:   "upstream 503",
			err:    apierror.Upstream(503, "no healthy target"),
			status: 503,
			body:   `{"error":{"message":"no healthy target","type":"server_error","param":null,"code":"upstream_unavailable"}}`,
		},
		{
			name:   "upstream 504",
			err:    apierror.Upstream(504, "timeout"),
			status: 504,
			body:   `{"error":{"message":"timeout","type":"server_error","param":null,"code":"upstream_timeout"}}`,
		},
		{
			name:   "upstream other status becomes 502",
			err:    apierror.Upstream(500, "x"),
			status: 502,
			body:   `{"error":{"message":"x","type":"server_error","param":null,"code":"upstream_error"}}`,
		},
		{
			name:   "internal",
			err:    apierror.Internal(errors.New("redis: dial tcp 10.0.0.7:6379: connection refused")),
			status: 500,
			body:   `{"error":{"message":"internal error","type":"server_error","param":null,"code":"internal_error"}}`,
		},
		{
			name:   "empty message falls back to status text",
			err:    &apierror.Error{Status: 403, Type: apierror.TypePermission},
			status: 403,
			body:   `{"error":{"message":"Forbidden","type":"permission_error","param":null,"code":null}}`,
		},
		{
			name:   "non-error status answers 500",
			err:    &apierror.Error{Status: 200, Type: apierror.TypeServer, Message: "x"},
			status: 500,
			body:   `{"error":{"message":"x","type":"server_error","param":null,"code":null}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.JSONEq(t, tt.body, string(tt.err.Body()))

			rec := httptest.NewRecorder()
			apierror.Write(rec, tt.err)
			res := rec.Result()
			require.Equal(t, tt.status, res.StatusCode)
			require.Equal(t, "application/json", res.Header.Get("Content-Type"))
			require.Equal(t, tt.retryAfter, res.Header.Get("Retry-After"))
			b, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.JSONEq(t, tt.body, string(b))
			require.Equal(t, fmt.Sprint(len(b)), res.Header.Get("Content-Length"))

			got, ok := apierror.Parse(b)
			require.True(t, ok)
			require.Equal(t, tt.err.Type, got.Type)
			require.Equal(t, tt.err.Code, got.Code)
			require.Equal(t, tt.err.Param, got.Param)
		})
	}
}

func TestInternalNeverLeaks(t *testing.T) {
	const secret = "sk-live-SECRET-provider-key in dial error"
	cause := fmt.Errorf("call provider: %w", errors.New(secret))
	tests := []struct {
		name string
		err  error
	}{
		{name: "Internal", err: apierror.Internal(cause)},
		{name: "plain error via As", err: cause},
		{name: "wrapped Internal", err: fmt.Errorf("handle: %w", apierror.Internal(cause))},
		{name: "nil", err: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			apierror.Write(rec, tt.err)
			require.Equal(t, http.StatusInternalServerError, rec.Code)
			require.NotContains(t, rec.Body.String(), "SECRET")
			require.NotContains(t, rec.Body.String(), "provider")
			for k, vs := range rec.Header() {
				for _, v := range vs {
					require.NotContains(t, v, "SECRET", k)
				}
			}
			got, ok := apierror.Parse(rec.Body.Bytes())
			require.True(t, ok)
			require.Equal(t, "internal error", got.Message)
		})
	}
	// The cause stays available for logs.
	e := apierror.Internal(cause)
	require.ErrorIs(t, e, cause)
	require.Contains(t, e.Error(), secret)
}

func TestAs(t *testing.T) {
	rl := apierror.RateLimited("slow down", time.Second)
	sentinel := errors.New("cause")
	tests := []struct {
		name       string
		err        error
		wantNil    bool
		wantSame   *apierror.Error
		wantStatus int
	}{
		{name: "nil", err: nil, wantNil: true},
		{name: "direct", err: rl, wantSame: rl, wantStatus: 429},
		{name: "wrapped", err: fmt.Errorf("reserve tokens: %w", rl), wantSame: rl, wantStatus: 429},
		{name: "joined", err: errors.Join(sentinel, rl), wantSame: rl, wantStatus: 429},
		{name: "plain", err: sentinel, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apierror.As(tt.err)
			if tt.wantNil {
				require.Nil(t, got)
				return
			}
			require.Equal(t, tt.wantStatus, got.Status)
			if tt.wantSame != nil {
				require.Same(t, tt.wantSame, got)
			} else {
				require.ErrorIs(t, got, tt.err)
			}
		})
	}
}

func TestWriteHeaders(t *testing.T) {
	e := apierror.RateLimited("x", 10*time.Second)
	e.Headers.Set("X-RateLimit-Remaining-Tokens", "0")
	rec := httptest.NewRecorder()
	rec.Header().Set("Retry-After", "999")
	rec.Header().Set("Content-Type", "text/plain")
	apierror.Write(rec, fmt.Errorf("wrapped: %w", e))
	require.Equal(t, 429, rec.Code)
	require.Equal(t, []string{"10"}, rec.Header().Values("Retry-After"), "error's header replaces, not appends")
	require.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining-Tokens"))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
}

func TestErrorString(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		name string
		err  *apierror.Error
		want string
	}{
		{name: "with code", err: apierror.BadRequest("bad_json", "body is not JSON"), want: "400 invalid_request_error (bad_json): body is not JSON"},
		{name: "without code", err: apierror.TooLarge("", "too big"), want: "413 invalid_request_error: too big"},
		{name: "with cause", err: apierror.Internal(cause), want: "500 server_error (internal_error): internal error: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *apierror.Error
	}{
		{
			name: "openai rate limit",
			body: `{"error":{"message":"Rate limit reached for gpt-4o","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
			want: &apierror.Error{Message: "Rate limit reached for gpt-4o", Type: "tokens", Code: "rate_limit_exceeded"},
		},
		{
			name: "openai invalid param",
			body: `{"error":{"message":"Invalid value","type":"invalid_request_error","param":"messages[0].role","code":null}}`,
			want: &apierror.Error{Message: "Invalid value", Type: "invalid_request_error", Param: "messages[0].role"},
		},
		{
			name: "anthropic",
			body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			want: &apierror.Error{Message: "Overloaded", Type: "overloaded_error"},
		},
		{
			name: "numeric code",
			body: `{"error":{"message":"Too many","type":"","code":429}}`,
			want: &apierror.Error{Message: "Too many", Code: "429"},
		},
		{
			name: "string error",
			body: `{"error":"model \"llama3\" not found"}`,
			want: &apierror.Error{Message: `model "llama3" not found`},
		},
		{name: "not json", body: `upstream connect error`},
		{name: "no error key", body: `{"id":"chatcmpl-1","choices":[]}`},
		{name: "null error", body: `{"error":null}`},
		{name: "empty error object", body: `{"error":{}}`},
		{name: "empty string error", body: `{"error":""}`},
		{name: "array", body: `[{"error":{"message":"x"}}]`},
		{name: "wrong field types", body: `{"error":{"message":1,"type":2}}`},
		{name: "empty", body: ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := apierror.Parse([]byte(tt.body))
			if tt.want == nil {
				require.False(t, ok)
				require.Nil(t, got)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestBodyIsValidJSONForAnyMessage(t *testing.T) {
	for _, msg := range []string{"", `quote " and \ backslash`, "<script>", "\x00\xff invalid utf-8", "line\nbreak"} {
		var v map[string]any
		require.NoError(t, json.Unmarshal(apierror.BadRequest("c", msg).Body(), &v), "%q", msg)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"m","type":"t","param":null,"code":"c"}}`))
	f.Add([]byte(`{"error":"m"}`))
	f.Add([]byte(`{"error":{"message":"m","code":1.5e3,"param":["x"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := apierror.Parse(b)
		if !ok {
			require.Nil(t, e)
			return
		}
		// Whatever was parsed renders back to a body that parses again.
		e.Status = 400
		again, ok := apierror.Parse(e.Body())
		require.True(t, ok)
		require.Equal(t, e.Type, again.Type)
	})
}
