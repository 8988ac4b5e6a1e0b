package provider

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name   string
		status int
		h      http.Header
		want   time.Duration
	}{
		{"none", 429, h(), 0},
		{"retry-after-ms wins", 429, h("retry-after-ms", "250.5", "Retry-After", "9"), 250500 * time.Microsecond},
		{"seconds", 429, h("Retry-After", "20"), 20 * time.Second},
		{"fractional seconds", 503, h("Retry-After", "0.5"), 500 * time.Millisecond},
		{"HTTP date", 503, h("Retry-After", "Mon, 10 Mar 2025 12:00:30 GMT"), 30 * time.Second},
		{"HTTP date in the past", 429, h("Retry-After", "Mon, 10 Mar 2025 11:00:00 GMT"), 0},
		{"garbage", 429, h("Retry-After", "soon", "retry-after-ms", "-5"), 0},
		{"huge", 429, h("Retry-After", "1e300"), 0},
		{"openai exhausted tokens", 429, h("x-ratelimit-remaining-requests", "10", "x-ratelimit-reset-requests", "1s",
			"x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "6m0s"), 6 * time.Minute},
		{"openai exhausted requests", 429, h("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "20ms",
			"x-ratelimit-remaining-tokens", "5", "x-ratelimit-reset-tokens", "6m0s"), 20 * time.Millisecond},
		{"openai none exhausted: the longest", 429, h("x-ratelimit-reset-requests", "2s", "x-ratelimit-reset-tokens", "1m30s"), 90 * time.Second},
		{"reset in seconds", 429, h("x-ratelimit-reset-requests", "3"), 3 * time.Second},
		{"reset headers ignored unless 429", 503, h("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "1s"), 0},
		{"anthropic exhausted output tokens", 429, h("anthropic-ratelimit-requests-remaining", "40", "anthropic-ratelimit-requests-reset", "2025-03-10T12:00:05Z",
			"anthropic-ratelimit-output-tokens-remaining", "0", "anthropic-ratelimit-output-tokens-reset", "2025-03-10T12:00:42Z"), 42 * time.Second},
		{"anthropic reset in the past", 429, h("anthropic-ratelimit-tokens-remaining", "0", "anthropic-ratelimit-tokens-reset", "2025-03-10T11:00:00Z"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, retryAfter(tt.h, tt.status, now))
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"https://api.openai.com", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions"},
		{"https://api.openai.com/", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions"},
		{"http://localhost:11434/v1", "/v1/embeddings", "http://localhost:11434/v1/embeddings"},
		{"https://gw.example/team%2Fa/v1/", "/v1/messages", "https://gw.example/team%2Fa/v1/messages"},
		{"https://x.openai.azure.com/openai", "/openai/deployments/a%2Fb/chat/completions", "https://x.openai.azure.com/openai/deployments/a%2Fb/chat/completions"},
		{"https://x.example/v10", "/v1/messages", "https://x.example/v10/v1/messages"},
	}
	for _, tt := range tests {
		base, err := baseURL(tt.base, "")
		require.NoError(t, err)
		require.Equal(t, tt.want, endpoint(base, tt.path).String())
	}
}

func TestJSONScanner(t *testing.T) {
	obj := `{ "id" : "x\"y" , "choices":[{"a":[1,{"b":"}"}]}], "usage" :null,"n":-1.5e3,"t":true,"o":{}}`
	var keys []string
	require.True(t, members(obj, func(k, v string) bool {
		keys = append(keys, k+"="+v)
		return true
	}))
	require.Equal(t, []string{`id="x\"y"`, `choices=[{"a":[1,{"b":"}"}]}]`, `usage=null`, `n=-1.5e3`, `t=true`, `o={}`}, keys)
	require.Equal(t, `null`, member(obj, "usage"))
	require.Empty(t, member(obj, "missing"))
	s, ok := stringValue(member(obj, "id"))
	require.True(t, ok)
	require.Equal(t, `x"y`, s)
	require.True(t, isEmptyArray("[ ]"))
	require.False(t, isEmptyArray("[0]"))

	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":"\u12"}`, `{"a":[}`, `{"a":1} x`, "{\"a\":\"\xff\"}"} {
		require.False(t, members(bad, func(k, v string) bool { return true }), "%q", bad)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "ctl\x00\x1f\t\r\n", "é 世界 😀", "\u2028\u2029", "<&>"} {
		var back string
		enc := appendString(nil, s)
		require.NoError(t, json.Unmarshal(enc, &back), "%q", enc)
		require.Equal(t, s, back)
	}
	require.Equal(t, `"\ufffd"`, string(appendString(nil, "\xff")))
}
