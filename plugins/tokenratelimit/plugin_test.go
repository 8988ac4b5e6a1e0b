package tokenratelimit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/redistest"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/plugins/tokenratelimit"
	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

type rig struct {
	kr   *seal.Keyring
	mem  *state.Memory
	inst *plugintest.Instance
}

func newRig(t *testing.T, cfg map[string]any) *rig {
	t.Helper()
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	mem := state.NewMemory()
	def := tokenratelimit.New(tokenratelimit.Deps{
		Keyring: func() (*seal.Keyring, error) { return kr, nil },
		Memory:  func() (state.Counters, error) { return mem, nil },
	})
	h := plugintest.New(t, def)
	return &rig{kr: kr, mem: mem, inst: h.Start(t, cfg)}
}

// body is a chat request whose prompt is about n tokens and that asks for
// maxTokens of completion.
func body(words, maxTokens int) []byte {
	return []byte(fmt.Sprintf(`{"model":"gpt-4o-mini","max_tokens":%d,"messages":[{"role":"user","content":%q}]}`, maxTokens, strings.Repeat("hello ", words)))
}

func TestReservesAndReportsPerWindow(t *testing.T) {
	r := newRig(t, map[string]any{"windows": []any{map[string]any{"size": 60, "limit": 1000}, map[string]any{"size": 3600, "limit": 5000}}})
	req := plugintest.Request("POST", "/v1/chat/completions", body(10, 90))
	res := r.inst.Access(t, req)
	require.False(t, res.Exited())
	h := req.Response.Headers
	require.Equal(t, "1000", h.Get("X-AI-RateLimit-Limit-Minute"))
	require.Equal(t, "5000", h.Get("X-AI-RateLimit-Limit-Hour"))
	remaining := h.Get("X-AI-RateLimit-Remaining-Minute")
	require.NotEmpty(t, remaining)
	require.Contains(t, h.Get("RateLimit-Policy"), `"minute";q=1000;w=60`)
	require.NotEmpty(t, h.Get("RateLimit"))

	id := req.Shared["tollgate.request_id"].(string)
	require.Empty(t, req.Headers.Get(egress.HeaderReservation), "nothing goes upstream unless the route goes through egress")
	b, err := r.kr.Open(egress.PurposeReservation, id, handOff(t, req))
	require.NoError(t, err, "egress can open the reservation")
	var all []egress.Reservation
	require.NoError(t, json.Unmarshal(b, &all))
	require.Len(t, all, 1, "tokens only: no budgets configured")
	res2 := all[0]
	require.Equal(t, "memory", res2.Policy)
	require.Len(t, res2.Windows, 2)
	require.Greater(t, res2.Reserved, int64(90), "prompt tokens plus max_tokens")
	require.True(t, strings.HasPrefix(res2.Subject, "ip:"), "no consumer: Kong's fallback to the client IP")
	require.Equal(t, fmt.Sprint(1000-res2.Reserved), remaining)
}

func TestRefusesWhenAWindowIsFull(t *testing.T) {
	r := newRig(t, map[string]any{"windows": []any{map[string]any{"size": 60, "limit": 300}}})
	require.False(t, r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(10, 200))).Exited())
	res := r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(10, 200)))
	require.True(t, res.Exited())
	require.Equal(t, http.StatusTooManyRequests, res.Exit.Status)
	require.NotEmpty(t, res.Exit.Headers.Get("Retry-After"))
	require.Equal(t, "300", res.Exit.Headers.Get("X-AI-RateLimit-Limit-Minute"))
	e, ok := apierror.Parse(res.Exit.Body)
	require.True(t, ok)
	require.Equal(t, "Token rate limit exceeded", e.Message)
	require.Nil(t, res.Shared["tollgate.handoff"], "a refused request reserves nothing")
}

func TestARequestLargerThanTheLimitIs413(t *testing.T) {
	r := newRig(t, map[string]any{"windows": []any{map[string]any{"size": 60, "limit": 100}}})
	res := r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(10, 500)))
	require.Equal(t, http.StatusRequestEntityTooLarge, res.Exit.Status)
}

func TestShadowReportsButNeverRefuses(t *testing.T) {
	r := newRig(t, map[string]any{"shadow": true, "windows": []any{map[string]any{"size": 60, "limit": 300}}})
	for range 3 {
		req := plugintest.Request("POST", "/v1/chat/completions", body(10, 200))
		require.False(t, r.inst.Access(t, req).Exited())
		require.NotEmpty(t, req.Response.Headers.Get("X-AI-RateLimit-Remaining-Minute"))
	}
}

func TestLimitByHeader(t *testing.T) {
	r := newRig(t, map[string]any{"limit_by": "header", "header_name": "x-team", "windows": []any{map[string]any{"size": 60, "limit": 300}}})
	for _, team := range []string{"a", "b"} { // separate budgets
		req := plugintest.Request("POST", "/v1/chat/completions", body(10, 200), "X-Team", team)
		require.False(t, r.inst.Access(t, req).Exited(), team)
	}
	res := r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(10, 200), "X-Team", "a"))
	require.True(t, res.Exited())
}

func TestBadConfigs(t *testing.T) {
	def := tokenratelimit.New(tokenratelimit.Deps{})
	for name, c := range map[string]string{
		"no windows":        `{"windows":[]}`,
		"header without it": `{"limit_by":"header","windows":[{"size":60,"limit":10}]}`,
		"redis without it":  `{"policy":"redis","windows":[{"size":60,"limit":10}]}`,
		"same window twice": `{"windows":[{"size":60,"limit":10},{"size":60,"limit":20}]}`,
		"zero limit":        `{"windows":[{"size":60,"limit":0}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := def.Start([]byte(c))
			require.Error(t, err)
		})
	}
}

// TestConcurrentClientsNeverExceedTheLimit: 64 clients against one subject
// admit at most the limit, for both backends.
func TestConcurrentClientsNeverExceedTheLimit(t *testing.T) {
	rs := redistest.Start(t)
	host, port, _ := strings.Cut(rs.Addr(), ":")
	for name, cfg := range map[string]map[string]any{
		"memory": {"windows": []any{map[string]any{"size": 3600, "limit": 5000}}},
		"redis":  {"policy": "redis", "redis": map[string]any{"host": host, "port": atoi(port)}, "windows": []any{map[string]any{"size": 3600, "limit": 5000}}},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, cfg)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 4 {
						req := plugintest.Request("POST", "/v1/chat/completions", body(10, 90))
						out, err := r.inst.TryRun("access", req)
						require.NoError(t, err)
						if req.Exit == nil {
							var res []egress.Reservation
							id := req.Shared["tollgate.request_id"].(string)
							b, err := r.kr.Open(egress.PurposeReservation, id, handOff(t, req))
							require.NoError(t, err)
							require.NoError(t, json.Unmarshal(b, &res))
							admitted.Add(res[0].Reserved)
						}
						_ = out
					}
				}()
			}
			wg.Wait()
			require.LessOrEqual(t, admitted.Load(), int64(5000))
			require.Greater(t, admitted.Load(), int64(4000), "the limit is used, not wasted")
		})
	}
}

func TestRedisOutage(t *testing.T) {
	rs := redistest.Start(t)
	host, port, _ := strings.Cut(rs.Addr(), ":")
	for _, tolerant := range []bool{true, false} {
		t.Run(fmt.Sprintf("fault_tolerant=%v", tolerant), func(t *testing.T) {
			r := newRig(t, map[string]any{"policy": "redis", "fault_tolerant": tolerant,
				"redis":   map[string]any{"host": host, "port": atoi(port), "timeout": 200},
				"windows": []any{map[string]any{"size": 60, "limit": 5000}}})
			rs.Stop()
			req := plugintest.Request("POST", "/v1/chat/completions", body(10, 90))
			res := r.inst.Access(t, req)
			if tolerant {
				require.False(t, res.Exited())
				require.Equal(t, "true", req.Response.Headers.Get(tokenratelimit.HeaderDegraded))
				require.NotEmpty(t, req.Response.Headers.Get("X-AI-RateLimit-Remaining-Minute"), "counted locally meanwhile")
			} else {
				require.Equal(t, http.StatusServiceUnavailable, res.Exit.Status)
			}
			rs.Restart()
			require.Eventually(t, func() bool {
				req := plugintest.Request("POST", "/v1/chat/completions", body(10, 90))
				res := r.inst.Access(t, req)
				return !res.Exited() && req.Response.Headers.Get(tokenratelimit.HeaderDegraded) == ""
			}, 10*time.Second, 10*time.Millisecond, "recovers by itself")
		})
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

// handOff is the sealed reservation the plugin left for egress.
func handOff(t *testing.T, req *konghost.Request) string {
	t.Helper()
	s, _ := req.Shared["tollgate.handoff"].(string)
	v, ok := strings.CutPrefix(s, egress.HeaderReservation+":")
	require.True(t, ok, "hand-off %q", s)
	return v
}

func TestPerModelWindowsHaveTheirOwnCounters(t *testing.T) {
	r := newRig(t, map[string]any{
		"windows": []any{map[string]any{"size": 60, "limit": 10000}},
		"models":  []any{map[string]any{"model": "gpt-4o*", "windows": []any{map[string]any{"size": 60, "limit": 300}}}},
	})
	ask := func(model string) plugintest.Result {
		b := []byte(fmt.Sprintf(`{"model":%q,"max_tokens":200,"messages":[{"role":"user","content":"hi"}]}`, model))
		return r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", b))
	}
	res := ask("gpt-4o-mini")
	require.False(t, res.Exited())
	require.Equal(t, "300", res.Response.Headers.Get("X-AI-RateLimit-Limit-Minute"), "the model's windows")
	require.True(t, ask("gpt-4o").Exited(), "gpt-4o* share one 300-token minute")
	other := ask("o3-mini")
	require.False(t, other.Exited(), "other models use the default windows")
	require.Equal(t, "10000", other.Response.Headers.Get("X-AI-RateLimit-Limit-Minute"))
}

func TestSpendBudgetsInDollars(t *testing.T) {
	// $1 per million prompt tokens and $4 per million completion tokens: a
	// request reserving ~10 prompt and 200 completion tokens costs ~$0.00081.
	r := newRig(t, map[string]any{
		"windows": []any{map[string]any{"size": 60, "limit": 100000}},
		"budgets": []any{map[string]any{"size": 86400, "limit": 0.002}},
		"prices":  []any{map[string]any{"model": "gpt-4o*", "input": 1.0, "output": 4.0}},
	})
	req := plugintest.Request("POST", "/v1/chat/completions", body(5, 200))
	require.False(t, r.inst.Access(t, req).Exited())
	b, err := r.kr.Open(egress.PurposeReservation, req.Shared["tollgate.request_id"].(string), handOff(t, req))
	require.NoError(t, err)
	var all []egress.Reservation
	require.NoError(t, json.Unmarshal(b, &all))
	require.Len(t, all, 2, "tokens and money")
	require.Equal(t, "0.002", req.Response.Headers.Get("X-AI-Budget-Limit-Day"))
	require.NotEmpty(t, req.Response.Headers.Get("X-AI-Budget-Remaining-Day"))
	require.NotNil(t, all[1].Price)
	require.Equal(t, 4.0, all[1].Price.Output)
	require.InDelta(t, 800+all[0].Reserved-200, all[1].Reserved, 1, "micro-dollars: prompt × 1 + 200 × 4")

	require.False(t, r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(5, 200))).Exited())
	res := r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", body(5, 200)))
	require.True(t, res.Exited(), "the third request would pass $0.002")
	require.Equal(t, http.StatusTooManyRequests, res.Exit.Status)
	e, ok := apierror.Parse(res.Exit.Body)
	require.True(t, ok)
	require.Equal(t, "insufficient_quota", e.Code)
	require.NotEmpty(t, res.Exit.Headers.Get("Retry-After"))

	// Models without a price are not charged to the budget.
	other := r.inst.Access(t, plugintest.Request("POST", "/v1/chat/completions", []byte(`{"model":"llama3","max_tokens":200,"messages":[{"role":"user","content":"hi"}]}`)))
	require.False(t, other.Exited())
}

func TestEnforceDuringStreamHandsEgressACeiling(t *testing.T) {
	r := newRig(t, map[string]any{"enforce_during_stream": true, "windows": []any{map[string]any{"size": 60, "limit": 1000}}})
	req := plugintest.Request("POST", "/v1/chat/completions", body(5, 100))
	require.False(t, r.inst.Access(t, req).Exited())
	b, err := r.kr.Open(egress.PurposeReservation, req.Shared["tollgate.request_id"].(string), handOff(t, req))
	require.NoError(t, err)
	var all []egress.Reservation
	require.NoError(t, json.Unmarshal(b, &all))
	require.Equal(t, int64(1000), all[0].Ceiling, "its own reservation plus what the window still had")
}
