package spec

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

// fallbackKong is decks/10-model-fallback.yaml served by the real tollgate
// binary as a sidecar (plugin socket + egress) behind the emulator, with
// both providers played by one fake.
type fallbackKong struct {
	*kong
	llm    *fakellm.Server
	admin  string
	egress string
	client openai.Client
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startFallback(t *testing.T, edit func(string) string) *fallbackKong {
	return startFallbackMode(t, edit, false)
}

// startFallbackMode with managed true runs the plugin the way Kong manages
// it (one `tollgate plugin` process started by Kong) and egress as its own
// `tollgate egress` process, the two sharing TOLLGATE_SECRET.
func startFallbackMode(t *testing.T, edit func(string) string, managed bool) *fallbackKong {
	t.Helper()
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake"})
	t.Cleanup(llm.Close)
	t.Setenv("OPENAI_API_KEY", "sk-fake")
	t.Setenv("ANTHROPIC_API_KEY", "sk-fake")
	deck, err := os.ReadFile("../decks/10-model-fallback.yaml")
	require.NoError(t, err)
	egressPort, adminPort := freePort(t), freePort(t)
	d := strings.NewReplacer(
		"https://api.openai.com", llm.URL(),
		"https://api.anthropic.com", llm.URL(),
		"port: 8765", fmt.Sprintf("port: %d", egressPort),
	).Replace(string(deck))
	if edit != nil {
		d = edit(d)
	}
	listen := []string{"--admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort)}
	setup := kongSetup{
		sidecar:   map[string][]string{bins.tollgate: {"tollgate-model-fallback"}},
		serveArgs: append([]string{"--egress-listen", fmt.Sprintf("127.0.0.1:%d", egressPort)}, listen...),
	}
	if managed {
		t.Setenv("TOLLGATE_SECRET", "a-shared-secret-for-the-managed-mode-test-0123")
		setup = kongSetup{managed: map[string][]string{bins.tollgate: {"tollgate-model-fallback"}}}
		eg := exec.Command(bins.tollgate, append([]string{"egress", "--listen", fmt.Sprintf("127.0.0.1:%d", egressPort)}, listen...)...)
		require.NoError(t, eg.Start())
		t.Cleanup(func() { _ = eg.Process.Signal(os.Interrupt); _ = eg.Wait() })
	}
	k := startKong(t, setup, d)
	f := &fallbackKong{kong: k, llm: llm, admin: fmt.Sprintf("http://127.0.0.1:%d", adminPort), egress: fmt.Sprintf("http://127.0.0.1:%d", egressPort)}
	require.Eventually(t, func() bool {
		resp, err := http.Get(f.admin + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond)
	f.client = openai.NewClient(option.WithBaseURL(k.URL+"/v1"), option.WithAPIKey("client-key-not-for-providers"),
		option.WithHeader("apikey", "alice-key"), option.WithMaxRetries(0))
	return f
}

var chatParams = openai.ChatCompletionNewParams{
	Model:    "gpt-4o",
	Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Hello fallback")},
}

func onAPI(api fakellm.API) func(fakellm.Request) bool {
	return func(r fakellm.Request) bool { return r.API == api }
}

func TestModelFallbackPrimaryAnswers(t *testing.T) {
	f := startFallback(t, nil)
	var resp *http.Response
	res, err := f.client.Chat.Completions.New(context.Background(), chatParams, option.WithResponseInto(&resp))
	require.NoError(t, err)
	require.Contains(t, res.Choices[0].Message.Content, "Hello fallback")
	require.Equal(t, "openai", resp.Header.Get("X-Tollgate-Provider"))
	require.Equal(t, "openai-primary", resp.Header.Get("X-Tollgate-Target"))
	require.Equal(t, "1", resp.Header.Get("X-Tollgate-Attempts"))
	require.Equal(t, "gpt-4o-mini", resp.Header.Get("X-Tollgate-Model"), "the target's model answered")

	reqs := f.llm.Requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, fakellm.APIOpenAI, got.API)
	require.Equal(t, "gpt-4o-mini", got.Model)
	require.Equal(t, "Bearer sk-fake", got.Header.Get("Authorization"), "the target's key, from Kong's env vault")
	for k := range got.Header {
		require.False(t, strings.HasPrefix(strings.ToLower(k), "x-tollgate-"), "hand-off header %s reached the provider", k)
		require.NotEqual(t, "apikey", strings.ToLower(k), "the Kong credential reached the provider")
	}
}

func TestModelFallbackOn429ReachesAnthropic(t *testing.T) {
	f := startFallback(t, nil)
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			f.llm.Reset()
			f.llm.Enqueue(fakellm.Behavior{Match: onAPI(fakellm.APIOpenAI), Error: fakellm.ErrorRateLimit, RetryAfter: 20 * time.Second})
			var resp *http.Response
			var content string
			if stream {
				s := f.client.Chat.Completions.NewStreaming(context.Background(), chatParams, option.WithResponseInto(&resp))
				var acc openai.ChatCompletionAccumulator
				for s.Next() {
					acc.AddChunk(s.Current())
				}
				require.NoError(t, s.Err())
				content = acc.Choices[0].Message.Content
			} else {
				res, err := f.client.Chat.Completions.New(context.Background(), chatParams, option.WithResponseInto(&resp))
				require.NoError(t, err)
				content = res.Choices[0].Message.Content
				require.Equal(t, "stop", res.Choices[0].FinishReason)
			}
			require.Contains(t, content, "Hello fallback", "a valid OpenAI answer from the Anthropic target")
			require.Equal(t, "anthropic", resp.Header.Get("X-Tollgate-Provider"))
			require.Equal(t, "2", resp.Header.Get("X-Tollgate-Attempts"))
			reqs := f.llm.Requests()
			require.Len(t, reqs, 2)
			require.Equal(t, fakellm.APIAnthropic, reqs[1].API)
			require.Equal(t, "sk-fake", reqs[1].Header.Get("X-Api-Key"))
			var body struct {
				System any `json:"system"`
			}
			require.NoError(t, reqs[1].Decode(&body))
			require.NotNil(t, body.System, "the system message became Anthropic's system prompt")
		})
	}
}

func TestModelFallbackAllFailedKeepsTheLastErrorClass(t *testing.T) {
	f := startFallback(t, nil)
	f.llm.Always(fakellm.Behavior{Error: fakellm.ErrorRateLimit, RetryAfter: 7 * time.Second})
	_, err := f.client.Chat.Completions.New(context.Background(), chatParams)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode, "a 429 stays a 429")
	require.Equal(t, "7", apiErr.Response.Header.Get("Retry-After"))
}

func TestModelFallbackCircuitOpensAndRecovers(t *testing.T) {
	f := startFallback(t, func(d string) string { return strings.Replace(d, "cool_down: 30", "cool_down: 1", 1) })
	f.llm.Always(fakellm.Behavior{Match: onAPI(fakellm.APIOpenAI), Error: fakellm.ErrorServer})
	for range 3 { // failure_threshold: 3
		_, err := f.client.Chat.Completions.New(context.Background(), chatParams)
		require.NoError(t, err, "answered by the backup")
	}
	f.llm.Reset()
	var resp *http.Response
	_, err := f.client.Chat.Completions.New(context.Background(), chatParams, option.WithResponseInto(&resp))
	require.NoError(t, err)
	require.Equal(t, "1", resp.Header.Get("X-Tollgate-Attempts"), "the open breaker skipped the primary")
	require.Equal(t, "anthropic", resp.Header.Get("X-Tollgate-Provider"))
	for _, r := range f.llm.Requests() {
		require.Equal(t, fakellm.APIAnthropic, r.API)
	}
	status := adminStatus(t, f)
	require.Equal(t, "open", status["openai-primary"].State)

	// The primary is healthy again: after the cool-down a probe closes it.
	f.llm.Reset()
	require.Eventually(t, func() bool {
		var resp *http.Response
		_, err := f.client.Chat.Completions.New(context.Background(), chatParams, option.WithResponseInto(&resp))
		return err == nil && resp.Header.Get("X-Tollgate-Provider") == "openai"
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, "closed", adminStatus(t, f)["openai-primary"].State)
}

type breakerStatus struct {
	State string `json:"state"`
}

func adminStatus(t *testing.T, f *fallbackKong) map[string]breakerStatus {
	t.Helper()
	resp, err := http.Get(f.admin + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Breakers map[string]breakerStatus `json:"breakers"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Breakers
}

func TestModelFallbackMidStreamFailureIsAnSSEError(t *testing.T) {
	f := startFallback(t, nil)
	f.llm.Enqueue(fakellm.Behavior{Match: onAPI(fakellm.APIOpenAI), Interrupt: fakellm.InterruptClose, InterruptAfter: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := f.client.Chat.Completions.NewStreaming(ctx, chatParams)
	n := 0
	for s.Next() {
		n++
	}
	require.Error(t, s.Err(), "the client learns the stream failed")
	require.NoError(t, ctx.Err(), "and does not hang")
	require.Positive(t, n, "the events before the failure arrived")
	require.Len(t, f.llm.Requests(), 1, "no fallback after the first byte")
}

func TestEgressRefusesRequestsThatBypassThePlugins(t *testing.T) {
	f := startFallback(t, nil)
	resp, err := http.Post(f.egress+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"x","messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, string(body), "missing_sealed_context")
	require.Empty(t, f.llm.Requests())

	_, err = f.client.Chat.Completions.New(context.Background(), chatParams)
	require.NoError(t, err)
	m, err := http.Get(f.admin + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(m.Body)
	m.Body.Close()
	for _, name := range []string{"tollgate_egress_requests_total", "tollgate_egress_tokens_total", "tollgate_egress_attempts_total", "tollgate_egress_upstream_latency_seconds"} {
		require.Contains(t, string(metrics), name)
	}
	require.NotContains(t, string(metrics), "Hello fallback", "no prompt text in metrics")
}

func TestModelFallbackKongManagedPluginAndSeparateEgress(t *testing.T) {
	f := startFallbackMode(t, nil, true)
	require.NotEmpty(t, f.servers.Conf.Servers[0].StartCmd, "Kong starts the plugin process")
	f.llm.Enqueue(fakellm.Behavior{Match: onAPI(fakellm.APIOpenAI), Error: fakellm.ErrorUnavailable})
	var resp *http.Response
	res, err := f.client.Chat.Completions.New(context.Background(), chatParams, option.WithResponseInto(&resp))
	require.NoError(t, err, "egress opened the plan the separate plugin process sealed")
	require.Contains(t, res.Choices[0].Message.Content, "Hello fallback")
	require.Equal(t, "anthropic", resp.Header.Get("X-Tollgate-Provider"))
}
