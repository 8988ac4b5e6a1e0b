package egress_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/fakellm"
	"github.com/tollgate-ai/tollgate/internal/redistest"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
)

type rig struct {
	kr    *seal.Keyring
	llm   *fakellm.Server
	srv   *httptest.Server
	usage *usageLog
	reg   *prometheus.Registry
}

type usageLog struct {
	mu  sync.Mutex
	got []egress.Usage
}

func (u *usageLog) add(ev egress.Usage) { u.mu.Lock(); u.got = append(u.got, ev); u.mu.Unlock() }

func (u *usageLog) wait(t *testing.T, n int) []egress.Usage {
	t.Helper()
	require.Eventually(t, func() bool { u.mu.Lock(); defer u.mu.Unlock(); return len(u.got) >= n }, 5*time.Second, time.Millisecond)
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]egress.Usage(nil), u.got...)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake"})
	t.Cleanup(llm.Close)
	bus := &egress.Bus{}
	ul := &usageLog{}
	bus.Subscribe(ul.add)
	reg := prometheus.NewRegistry()
	e, err := egress.New(egress.Options{Keyring: kr, Breakers: state.NewMemory(), Usage: bus, Registerer: reg})
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &rig{kr: kr, llm: llm, srv: srv, usage: ul, reg: reg}
}

func (r *rig) target(name, provider, model string) egress.PlanTarget {
	return egress.PlanTarget{Name: name, Provider: provider, URL: r.llm.URL(), Model: model, APIKey: "sk-fake", TimeoutMS: 5000}
}

func (r *rig) plan(targets ...egress.PlanTarget) *egress.Plan {
	for i := range targets {
		targets[i].Tier = i
	}
	return &egress.Plan{Targets: targets, RetryOn: []string{"429", "5xx", "timeout", "connection"}, MaxAttempts: 3,
		Breaker: egress.BreakerConfig{Enabled: true, FailureThreshold: 2, CoolDownSeconds: 60, HalfOpenProbes: 1}, Consumer: "alice", Route: "chat"}
}

// post sends body to egress as Kong would after the plugins: the sealed
// plan and request id, plus whatever the client sent.
func (r *rig) post(t *testing.T, p *egress.Plan, id, body string, extra ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", r.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if p != nil {
		v, err := egress.SealPlan(r.kr, id, p, time.Minute)
		require.NoError(t, err)
		req.Header.Set(egress.HeaderRequestID, id)
		req.Header.Set(egress.HeaderPlan, v)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const chat = `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello egress"}]}`
const chatStream = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello egress"}]}`

func readJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), "%s", b)
}

func TestRefusesRequestsWithoutAValidPlan(t *testing.T) {
	r := newRig(t)
	p := r.plan(r.target("a", "openai", "gpt-4o-mini"))
	require.Equal(t, http.StatusForbidden, r.post(t, nil, "", chat).StatusCode, "no plan")

	other, _ := seal.NewKeyring(seal.NewRandomKey())
	v, _ := egress.SealPlan(other, "id-1", p, time.Minute)
	resp := r.post(t, nil, "", chat, egress.HeaderRequestID, "id-1", egress.HeaderPlan, v)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "sealed with another key")

	v, _ = egress.SealPlan(r.kr, "id-2", p, time.Minute)
	resp = r.post(t, nil, "", chat, egress.HeaderRequestID, "id-3", egress.HeaderPlan, v)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "bound to another request")

	require.Equal(t, http.StatusOK, r.post(t, p, "id-4", chat).StatusCode)
	require.Equal(t, http.StatusForbidden, r.post(t, p, "id-4", chat).StatusCode, "replayed")
	require.Len(t, r.llm.Requests(), 1, "only the valid request reached the provider")
}

func TestStripsHandOffAndClientCredentials(t *testing.T) {
	r := newRig(t)
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", chat,
		"Authorization", "Bearer client-secret", "apikey", "kong-key", "X-Tollgate-Other", "x", "X-Consumer-Username", "alice")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := r.llm.Requests()[0]
	require.Equal(t, "Bearer sk-fake", got.Header.Get("Authorization"))
	for k := range got.Header {
		lk := strings.ToLower(k)
		require.False(t, strings.HasPrefix(lk, "x-tollgate-") || lk == "apikey" || strings.HasPrefix(lk, "x-consumer-"), "%s reached the provider", k)
	}
	require.Equal(t, "gpt-4o-mini", got.Model)
}

func TestFallsBackAndSaysWhoAnswered(t *testing.T) {
	r := newRig(t)
	r.llm.Enqueue(fakellm.Behavior{Error: fakellm.ErrorServer})
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini"), r.target("b", "anthropic", "claude-3-5-haiku-latest")), "id-1", chat)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "anthropic", resp.Header.Get(egress.HeaderProvider))
	require.Equal(t, "b", resp.Header.Get(egress.HeaderTarget))
	require.Equal(t, "2", resp.Header.Get(egress.HeaderAttempts))
	var out struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	readJSON(t, resp, &out)
	require.Equal(t, "chat.completion", out.Object, "the client gets the OpenAI shape from Anthropic")
	require.Contains(t, out.Choices[0].Message.Content, "Hello egress")
	ev := r.usage.wait(t, 1)[0]
	require.Equal(t, "b", ev.Target)
	require.Equal(t, "alice", ev.Consumer)
	require.False(t, ev.Estimated)
	require.Equal(t, out.Usage.PromptTokens, ev.PromptTokens)
	require.Positive(t, ev.CompletionTokens)
}

func TestLastErrorClassAndRetryAfterReachTheClient(t *testing.T) {
	r := newRig(t)
	r.llm.Always(fakellm.Behavior{Error: fakellm.ErrorRateLimit, RetryAfter: 9 * time.Second})
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", chat)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "9", resp.Header.Get("Retry-After"))
	require.Equal(t, "1", resp.Header.Get(egress.HeaderAttempts), "Retry-After keeps egress from hammering the same target")
	var e struct {
		Error struct{ Message, Type string } `json:"error"`
	}
	readJSON(t, resp, &e)
	require.NotEmpty(t, e.Error.Message)
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	r := newRig(t)
	r.llm.Enqueue(fakellm.Behavior{Error: fakellm.ErrorBadRequest})
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini"), r.target("b", "openai", "gpt-4o")), "id-1", chat)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, r.llm.Requests(), 1)
}

func TestAttemptTimeoutMovesOn(t *testing.T) {
	r := newRig(t)
	r.llm.Enqueue(fakellm.Behavior{Hang: true})
	slow := r.target("slow", "openai", "gpt-4o-mini")
	slow.TimeoutMS = 100
	resp := r.post(t, r.plan(slow, r.target("fast", "openai", "gpt-4o")), "id-1", chat)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "fast", resp.Header.Get(egress.HeaderTarget))
}

func TestBreakerSkipsAFailingTarget(t *testing.T) {
	r := newRig(t)
	r.llm.Always(fakellm.Behavior{Match: func(q fakellm.Request) bool { return q.Model == "gpt-4o-mini" }, Error: fakellm.ErrorUnavailable})
	p := r.plan(r.target("a", "openai", "gpt-4o-mini"), r.target("b", "openai", "gpt-4o"))
	for i := range 2 { // failure_threshold 2
		resp := r.post(t, p, "id-"+string(rune('a'+i)), chat)
		require.Equal(t, "b", resp.Header.Get(egress.HeaderTarget))
	}
	r.llm.Reset()
	resp := r.post(t, p, "id-z", chat)
	require.Equal(t, "1", resp.Header.Get(egress.HeaderAttempts))
	require.Equal(t, "b", resp.Header.Get(egress.HeaderTarget))
	require.Len(t, r.llm.Requests(), 1, "the open breaker kept egress off target a")
}

func TestStreamsWithoutLeakingTheUsageChunk(t *testing.T) {
	r := newRig(t)
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", chatStream)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "data: [DONE]")
	require.NotContains(t, string(body), `"usage":{`, "the client did not ask for usage")
	var sent struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	require.NoError(t, r.llm.Requests()[0].Decode(&sent))
	require.True(t, sent.StreamOptions.IncludeUsage, "egress asked the provider for usage")
	ev := r.usage.wait(t, 1)[0]
	require.False(t, ev.Estimated)
	require.Positive(t, ev.CompletionTokens)
	require.True(t, ev.Stream)
}

func TestStreamEventsArriveAsTheyAreSent(t *testing.T) {
	r := newRig(t)
	release := make(chan struct{})
	r.llm.Enqueue(fakellm.Behavior{Release: release})
	go func() { release <- struct{}{} }() // only the first event leaves the fake
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", chatStream)
	rd := bufio.NewReader(resp.Body)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	line := make(chan string, 1)
	go func() { l, _ := rd.ReadString('\n'); line <- l }()
	select {
	case l := <-line:
		require.True(t, strings.HasPrefix(l, "data: {"), "first event %q before the rest was released", l)
	case <-ctx.Done():
		t.Fatal("the first event was held back")
	}
	close(release)
	_, _ = io.ReadAll(rd)
}

func TestMidStreamDropEndsWithAnSSEError(t *testing.T) {
	r := newRig(t)
	r.llm.Enqueue(fakellm.Behavior{Interrupt: fakellm.InterruptClose, InterruptAfter: 2})
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini"), r.target("b", "openai", "gpt-4o")), "id-1", chatStream)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), `data: {"error"`)
	require.Len(t, r.llm.Requests(), 1, "no fallback once the first byte was sent")
}

func TestClientDisconnectCancelsTheProviderCall(t *testing.T) {
	r := newRig(t)
	r.llm.Enqueue(fakellm.Behavior{Hang: true})
	p := r.plan(r.target("a", "openai", "gpt-4o-mini"), r.target("b", "openai", "gpt-4o"))
	v, err := egress.SealPlan(r.kr, "id-1", p, time.Minute)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", r.srv.URL+"/v1/chat/completions", strings.NewReader(chat))
	req.Header.Set(egress.HeaderRequestID, "id-1")
	req.Header.Set(egress.HeaderPlan, v)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	_, err = r.llm.WaitRequests(context.Background(), 1)
	require.NoError(t, err)
	cancel() // the client goes away while the provider is still thinking
	<-done
	require.Eventually(t, func() bool { return counter(t, r, "tollgate_egress_requests_total", "outcome", "client_gone") == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Len(t, r.llm.Requests(), 1, "no fallback for a client that left")
}

// counter reads one series of a counter from the rig's registry.
func counter(t *testing.T, r *rig, name, label, value string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	require.NoError(t, err)
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// TestBreakersInRedisAreSharedByEveryNode runs two egress nodes on one
// Redis: failures seen by one open the breaker for both.
func TestBreakersInRedisAreSharedByEveryNode(t *testing.T) {
	rs := redistest.Start(t)
	host, port, _ := strings.Cut(rs.Addr(), ":")
	p, _ := strconv.Atoi(port)
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake"})
	t.Cleanup(llm.Close)
	node := func() *httptest.Server {
		st, err := state.NewRedis(state.RedisConfig{Host: host, Port: p})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		e, err := egress.New(egress.Options{Keyring: kr, Breakers: st, Usage: &egress.Bus{}})
		require.NoError(t, err)
		srv := httptest.NewServer(e)
		t.Cleanup(srv.Close)
		return srv
	}
	a, b := node(), node()
	r := &rig{kr: kr, llm: llm}
	plan := r.plan(r.target("primary", "openai", "gpt-4o-mini"), r.target("backup", "openai", "gpt-4o"))
	llm.Always(fakellm.Behavior{Match: func(q fakellm.Request) bool { return q.Model == "gpt-4o-mini" }, Error: fakellm.ErrorServer})
	for i := range 2 { // threshold 2, both failures seen by node a
		r.srv = a
		require.Equal(t, "backup", r.post(t, plan, fmt.Sprintf("a-%d", i), chat).Header.Get(egress.HeaderTarget))
	}
	llm.Reset()
	r.srv = b
	resp := r.post(t, plan, "b-1", chat)
	require.Equal(t, "1", resp.Header.Get(egress.HeaderAttempts), "node b skipped the primary too")
	require.Equal(t, "backup", resp.Header.Get(egress.HeaderTarget))
}

func TestDeadlineBoundsTheWholeFallbackLoop(t *testing.T) {
	r := newRig(t)
	r.llm.Always(fakellm.Behavior{Hang: true})
	a, b := r.target("a", "openai", "gpt-4o-mini"), r.target("b", "openai", "gpt-4o")
	a.TimeoutMS, b.TimeoutMS = 60000, 60000 // alone, each would wait a minute
	p := r.plan(a, b)
	p.DeadlineMS = 300
	start := time.Now()
	resp := r.post(t, p, "id-1", chat)
	require.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	require.Less(t, time.Since(start), 30*time.Second, "the deadline, not the attempts' timeouts, ended it")
	require.Len(t, r.llm.Requests(), 1, "no time was left for the second target")
}

func TestUsageIsCountedWhenTheProviderReportsNone(t *testing.T) {
	kr, _ := seal.NewKeyring(seal.NewRandomKey())
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake", OmitUsage: true})
	t.Cleanup(llm.Close)
	bus, ul := &egress.Bus{}, &usageLog{}
	bus.Subscribe(ul.add)
	e, err := egress.New(egress.Options{Keyring: kr, Usage: bus, CountTokens: func(_, text string) int { return len(strings.Fields(text)) }})
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	r := &rig{kr: kr, llm: llm, srv: srv}
	for i, body := range []string{chat, chatStream} {
		resp := r.post(t, r.plan(r.target("ollama", "openai_compatible", "llama3")), fmt.Sprintf("id-%d", i), body)
		_, _ = io.ReadAll(resp.Body)
		ev := ul.wait(t, i+1)[i]
		require.True(t, ev.Estimated)
		require.Equal(t, 3, ev.CompletionTokens, `"echo: Hello egress" is three words`)
		require.Positive(t, ev.PromptTokens)
	}
}

func TestCompressedClientsStillGetAReadableAnswer(t *testing.T) {
	// A provider that compresses whenever it is asked to, as real ones do.
	gz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(req.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = zw.Write([]byte(body))
			_ = zw.Close()
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(gz.Close)
	r := newRig(t)
	target := r.target("a", "openai", "m")
	target.URL = gz.URL
	resp := r.post(t, r.plan(target), "id-1", chat, "Accept-Encoding", "gzip")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct{ Object string }
	readJSON(t, resp, &out)
	require.Equal(t, "chat.completion", out.Object, "egress read (and counted) the answer")
	ev := r.usage.wait(t, 1)[0]
	require.False(t, ev.Estimated)
	require.Equal(t, 1, ev.CompletionTokens)
}

func TestMetricsPassPromlint(t *testing.T) {
	r := newRig(t)
	r.llm.Enqueue(fakellm.Behavior{Error: fakellm.ErrorServer})
	r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini"), r.target("b", "openai", "gpt-4o")), "id-1", chat)
	mfs, err := r.reg.Gather()
	require.NoError(t, err)
	require.NotEmpty(t, mfs)
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	require.NoError(t, err)
	require.Empty(t, problems)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				require.NotContains(t, l.GetValue(), "Hello egress", "no prompt text in a label")
				require.NotEqual(t, "alice", l.GetValue(), "no consumer in a label")
			}
		}
	}
}

// TestReservationsAreSettledWithRealUsage: egress debits or refunds the
// difference between what the rate limiter reserved and what was used, and
// releases everything when no provider answered.
func TestReservationsAreSettledWithRealUsage(t *testing.T) {
	kr, _ := seal.NewKeyring(seal.NewRandomKey())
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake"})
	t.Cleanup(llm.Close)
	mem := state.NewMemory()
	bus, ul := &egress.Bus{}, &usageLog{}
	bus.Subscribe(ul.add)
	e, err := egress.New(egress.Options{Keyring: kr, Usage: bus, Counters: mem})
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	r := &rig{kr: kr, llm: llm, srv: srv}
	windows := []state.Window{{Name: "hour", Size: time.Hour, Limit: 100000}}
	used := func(subject string) int64 {
		d, err := mem.Reserve(context.Background(), subject, windows, 0)
		require.NoError(t, err)
		return d.Windows()[0].Used
	}
	reserve := func(subject string, n int64, id string) string {
		d, err := mem.Reserve(context.Background(), subject, windows, n)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		v, err := egress.SealReservation(kr, id, []*egress.Reservation{{Policy: "memory", Subject: subject, Reserved: n, AtMS: time.Now().UnixMilli(),
			Windows: []egress.ReservedWindow{{Name: "hour", SizeMS: time.Hour.Milliseconds(), Limit: 100000}}}}, time.Minute)
		require.NoError(t, err)
		return v
	}
	for i, body := range []string{chat, chatStream} {
		subject := fmt.Sprintf("consumer:%d", i)
		id := fmt.Sprintf("id-%d", i)
		v := reserve(subject, 5000, id)
		resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), id, body, egress.HeaderReservation, v)
		_, _ = io.ReadAll(resp.Body)
		ev := ul.wait(t, i+1)[i]
		require.Eventually(t, func() bool { return used(subject) == int64(ev.PromptTokens+ev.CompletionTokens) }, 5*time.Second, time.Millisecond,
			"the 5000 reserved became the %d used", ev.PromptTokens+ev.CompletionTokens)
	}
	// Money: what was used is priced per token (micro-dollars).
	{
		price := &egress.Price{Input: 1, Output: 4}
		d, err := mem.Reserve(context.Background(), "consumer:usd", windows, 9000)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		v, err := egress.SealReservation(kr, "id-usd", []*egress.Reservation{{Policy: "memory", Subject: "consumer:usd", Reserved: 9000, AtMS: time.Now().UnixMilli(), Price: price,
			Windows: []egress.ReservedWindow{{Name: "hour", SizeMS: time.Hour.Milliseconds(), Limit: 100000}}}}, time.Minute)
		require.NoError(t, err)
		resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-usd", chat, egress.HeaderReservation, v)
		_, _ = io.ReadAll(resp.Body)
		ev := ul.wait(t, 3)[2]
		want := int64(ev.PromptTokens*1 + ev.CompletionTokens*4)
		require.Eventually(t, func() bool { return used("consumer:usd") == want }, 5*time.Second, time.Millisecond)
	}

	// Nobody answers: the whole reservation is given back.
	llm.Always(fakellm.Behavior{Error: fakellm.ErrorServer})
	v := reserve("consumer:failed", 5000, "id-f")
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-f", chat, egress.HeaderReservation, v)
	require.GreaterOrEqual(t, resp.StatusCode, 500)
	require.Equal(t, int64(0), used("consumer:failed"))
}

func TestAzureTargetsUseDeploymentsAndTheirKey(t *testing.T) {
	r := newRig(t)
	az := r.target("azure", "azure", "")
	az.Deployment, az.APIVersion = "gpt4o-prod", "2024-10-21"
	for i, body := range []string{chat, chatStream} {
		resp := r.post(t, r.plan(az), fmt.Sprintf("id-%d", i), body)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "azure", resp.Header.Get(egress.HeaderProvider))
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Contains(t, string(out), "egress")
		require.Equal(t, "gpt4o-prod", resp.Header.Get(egress.HeaderModel))
	}
	for _, got := range r.llm.Requests() {
		require.Equal(t, fakellm.APIAzure, got.API)
		require.Equal(t, "/openai/deployments/gpt4o-prod/chat/completions", got.Path)
		require.Contains(t, got.Query, "api-version=2024-10-21")
		require.Equal(t, "sk-fake", got.Header.Get("Api-Key"))
		require.Empty(t, got.Header.Get("Authorization"))
	}
}

func TestStreamsEndWhenTheBudgetRunsOut(t *testing.T) {
	kr, _ := seal.NewKeyring(seal.NewRandomKey())
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake", Reply: func(fakellm.Prompt) string { return strings.Repeat("word ", 500) }})
	t.Cleanup(llm.Close)
	mem := state.NewMemory()
	e, err := egress.New(egress.Options{Keyring: kr, Counters: mem, CountTokens: func(_, s string) int { return len(strings.Fields(s)) }})
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	r := &rig{kr: kr, llm: llm, srv: srv}
	v, err := egress.SealReservation(kr, "id-1", []*egress.Reservation{{Policy: "memory", Subject: "s", Reserved: 50, Ceiling: 60, AtMS: time.Now().UnixMilli(),
		Windows: []egress.ReservedWindow{{Name: "minute", SizeMS: 60000, Limit: 1000}}}}, time.Minute)
	require.NoError(t, err)
	resp := r.post(t, r.plan(r.target("a", "openai", "gpt-4o-mini")), "id-1", chatStream, egress.HeaderReservation, v)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(b), `"code":"rate_limit_exceeded"`, "the stream ends with an OpenAI-shaped error")
	require.NotContains(t, string(b), "[DONE]")
	require.Less(t, strings.Count(string(b), "word"), 100, "it stopped near the ceiling, not after 500 words")
}
