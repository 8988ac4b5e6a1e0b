package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
	"github.com/tollgate-ai/tollgate/spec/kongemu/pluginservers"
	"github.com/tollgate-ai/tollgate/spec/kongemu/proxy"
)

// bins are the real binaries the suite runs, built once by TestMain.
var bins struct {
	dir                          string
	tollgate, tollgatetest, echo string
}

func TestMain(m *testing.M) {
	code, err := buildAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spec:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "tgbin")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bins.dir = dir
	for _, b := range []struct {
		out *string
		pkg string
	}{
		{&bins.tollgate, "./cmd/tollgate"},
		{&bins.tollgatetest, "./spec/testplugins/tollgatetest"},
		{&bins.echo, "./spec/testplugins/gopdk-echo"},
	} {
		*b.out = filepath.Join(dir, filepath.Base(b.pkg))
		cmd := exec.Command("go", "build", "-o", *b.out, b.pkg)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return m.Run(), nil
}

// kong is one emulated Kong in front of real plugin servers.
type kong struct {
	prefix  string
	servers *pluginservers.Manager
	gw      *proxy.Gateway
	srv     *httptest.Server
	URL     string
}

// kongSetup says how the plugin servers run.
type kongSetup struct {
	// managed lists binaries and plugin names Kong starts (start_cmd), each
	// through the binary's own `kong-conf --mode managed` lines.
	managed map[string][]string
	// sidecar binaries are started here with `serve`, and Kong only queries them.
	sidecar map[string][]string
	// serveArgs are extra flags for the sidecars' serve command.
	serveArgs []string
	// echo adds the plain go-pdk plugin, with go-pdk's own flags.
	echo bool
	// extra kong.conf lines.
	extra string
}

// startKong writes kong.conf as an operator would (from kong-conf), starts
// the emulator with deck and returns its proxy URL.
func startKong(t testing.TB, setup kongSetup, deck string) *kong {
	t.Helper()
	sink := newLogSink(t)
	prefix, err := os.MkdirTemp("", "kg") // short: Unix socket paths are limited to 108 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(prefix) })

	var conf strings.Builder
	var plugins, names []string
	add := func(bin, mode string, list []string) {
		args := []string{"kong-conf", "--mode", mode, "--binary", bin, "--kong-prefix", prefix, "--socket-dir", prefix}
		out, err := exec.Command(bin, args...).Output()
		require.NoError(t, err)
		for _, line := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			switch {
			case k == "plugins" || k == "pluginserver_names":
				continue // merged below
			case strings.HasPrefix(k, "pluginserver_"):
				if keep(k, list) {
					conf.WriteString(line + "\n")
				}
			case k == "nginx_http_client_body_buffer_size":
				conf.WriteString(k + " = " + strings.TrimSpace(v) + "\n")
			}
		}
		plugins = append(plugins, list...)
		names = append(names, list...)
	}
	for bin, list := range setup.managed {
		add(bin, "managed", list)
	}
	for bin, list := range setup.sidecar {
		add(bin, "sidecar", list)
		startSidecar(t, sink, bin, prefix, list, setup.serveArgs...)
	}
	if setup.echo {
		plugins, names = append(plugins, "gopdk-echo"), append(names, "gopdk-echo")
		fmt.Fprintf(&conf, "pluginserver_gopdk_echo_socket = %s/gopdk-echo.socket\n", prefix)
		fmt.Fprintf(&conf, "pluginserver_gopdk_echo_query_cmd = %s -dump\n", bins.echo)
		fmt.Fprintf(&conf, "pluginserver_gopdk_echo_start_cmd = %s -kong-prefix %s\n", bins.echo, prefix)
	}
	fmt.Fprintf(&conf, "prefix = %s\nplugins = bundled,%s\npluginserver_names = %s\n%s", prefix,
		strings.Join(plugins, ","), strings.Join(names, ","), setup.extra)
	c, err := pluginservers.ParseConf([]byte(conf.String()))
	require.NoError(t, err, "kong.conf:\n%s", conf.String())

	log := slog.New(slog.NewTextHandler(sink, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	servers, err := pluginservers.Start(ctx, c, log)
	require.NoError(t, err)
	t.Cleanup(servers.Stop)
	require.NoError(t, servers.WaitSockets(ctx))

	gw, err := proxy.New(proxy.Options{Servers: servers, Log: log}, []byte(deck))
	require.NoError(t, err)
	srv := httptest.NewServer(gw)
	t.Cleanup(func() { srv.Close(); gw.Close() })
	return &kong{prefix: prefix, servers: servers, gw: gw, srv: srv, URL: srv.URL}
}

func keep(key string, plugins []string) bool {
	for _, p := range plugins {
		if strings.HasPrefix(key, "pluginserver_"+strings.ReplaceAll(p, "-", "_")+"_") {
			return true
		}
	}
	return false
}

// startSidecar runs `<bin> serve` as the sidecar container would.
func startSidecar(t testing.TB, logs io.Writer, bin, prefix string, plugins []string, extra ...string) {
	t.Helper()
	args := append([]string{"serve", "--kong-prefix", prefix, "--plugins", strings.Join(plugins, ",")}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
}

// upstream is an echo service that records what Kong sent it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         []byte
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Clone(), body})
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "echo")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "body_len": len(body)})
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last(t *testing.T) seenRequest {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	require.NotEmpty(t, u.seen, "the upstream was not called")
	return u.seen[len(u.seen)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// do sends a request through Kong.
func do(t *testing.T, method, url string, body []byte, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// logSink collects a test's logs and prints them only if the test failed;
// writes after the test ended (late plugin server output) are dropped.
type logSink struct {
	t    testing.TB
	mu   sync.Mutex
	buf  bytes.Buffer
	done bool
}

func newLogSink(t testing.TB) *logSink {
	s := &logSink{t: t}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if t.Failed() {
			t.Log(s.buf.String())
		}
		s.done = true
	})
	return s
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.buf.Write(p)
	}
	return len(p), nil
}

// product is a deck from decks/ served by the real tollgate binary as a
// sidecar (the plugin sockets and egress), with every provider URL of the
// deck pointed at one fake provider.
type product struct {
	*kong
	llm *fakellm.Server
	// admin is the sidecar's admin base URL (/metrics, /status, /healthz).
	admin string
}

// startProduct serves decks/<deck> with the named plugins. Provider keys
// come from Kong's env vault, set here to the fake's key.
func startProduct(t *testing.T, deck string, plugins ...string) *product {
	t.Helper()
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake"})
	t.Cleanup(llm.Close)
	t.Setenv("OPENAI_API_KEY", "sk-fake")
	t.Setenv("ANTHROPIC_API_KEY", "sk-fake")
	raw, err := os.ReadFile("../decks/" + deck)
	require.NoError(t, err)
	port, adminPort := freePort(t), freePort(t)
	d := strings.NewReplacer(
		"https://api.openai.com", llm.URL(),
		"https://api.anthropic.com", llm.URL(),
		"port: 8765", fmt.Sprintf("port: %d", port),
	).Replace(string(raw))
	k := startKong(t, kongSetup{
		sidecar:   map[string][]string{bins.tollgate: plugins},
		serveArgs: []string{"--egress-listen", fmt.Sprintf("127.0.0.1:%d", port), "--admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort)},
	}, d)
	waitPort(t, port)
	waitPort(t, adminPort)
	return &product{kong: k, llm: llm, admin: fmt.Sprintf("http://127.0.0.1:%d", adminPort)}
}

// client is the official OpenAI SDK through Kong as the consumer with key.
func (p *product) client(key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(p.URL+"/v1"), option.WithAPIKey("client-key-not-for-providers"),
		option.WithHeader("apikey", key), option.WithMaxRetries(0))
}
