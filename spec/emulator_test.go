package spec

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/spec/kongemu/proxy"
	"github.com/tollgate-ai/tollgate/spec/testplugins/testplugin"
)

// testDeck is a route behind key-auth with the test plugin, in front of url.
func testDeck(url string, extraPlugins string) string {
	return fmt.Sprintf(`_format_version: "3.0"
services:
  - name: echo
    url: %s
    routes:
      - name: llm
        paths: [/v1]
        strip_path: false
    plugins:
      - name: key-auth
        config:
          key_names: [apikey]
      - name: tollgate-test
        config:
          tag: e2e
          extra:
            X-Extra: added
%s
consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-key
`, url, extraPlugins)
}

func managedTest() kongSetup {
	return kongSetup{managed: map[string][]string{bins.tollgatetest: {"tollgate-test", "tollgate-noop"}}}
}

func TestEmulatorRunsEveryPDKCallThroughTheRealBinary(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))

	resp, body := do(t, "POST", k.URL+"/v1/chat/completions?q=hello", []byte(`{"model":"m"}`),
		"apikey", "alice-key", "Content-Type", "application/json", "X-Test-Remove", "gone")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, "e2e", resp.Header.Get("X-Test-Plugin"), "kong.response.set_header in access")
	require.Equal(t, "echo", resp.Header.Get("X-Upstream"))
	require.Contains(t, resp.Header.Get("Via"), "kong/")
	require.NotEmpty(t, resp.Header.Get("X-Kong-Request-Id"))

	seen := up.last(t)
	require.Equal(t, "/v1/chat/completions", seen.Path)
	require.Equal(t, "q=hello", seen.RawQuery)
	require.Equal(t, "added", seen.Header.Get("X-Extra"))
	require.Empty(t, seen.Header.Get("X-Test-Remove"), "clear_header reached the upstream request")
	require.Equal(t, "alice", seen.Header.Get("X-Consumer-Username"), "key-auth's upstream headers")

	var s testplugin.Seen
	require.NoError(t, json.Unmarshal([]byte(seen.Header.Get("X-Test-Seen")), &s))
	require.Equal(t, "POST", s.Method)
	require.Equal(t, "/v1/chat/completions", s.Path)
	require.Equal(t, "hello", s.QueryArg)
	require.Equal(t, "/v1/chat/completions?q=hello", s.PathWithQuery)
	require.Equal(t, "alice", s.Consumer, "the consumer key-auth set, seen by a Go plugin")
	require.NotEmpty(t, s.CredentialID)
	require.Equal(t, "llm", s.Route)
	require.Equal(t, "echo", s.Service)
	require.Equal(t, "127.0.0.1", s.ClientIP)
	require.Equal(t, 13, s.BodyLen)
	require.Equal(t, "set-in-access", s.Shared)
	require.Equal(t, "/v1/chat/completions?q=hello", s.Var, "nginx request_uri")
	require.Equal(t, 1048576, s.MaxBody, "the schema default reached the plugin")
	require.NotEmpty(t, s.NodeID)

	// log runs after the response, asynchronously; wait for it.
	k.gw.WaitLogs()
	requireLog(t, k.gw, "tollgate-test", "tollgate-test log status=200 shared=set-in-access method=POST")
	requireLog(t, k.gw, "tollgate-test", "tollgate-test access POST /v1/chat/completions body_len=13")
}

func requireLog(t *testing.T, gw *proxy.Gateway, plugin, msg string) {
	t.Helper()
	for _, l := range gw.PDKLogs() {
		if l.Plugin == plugin && l.Message == msg {
			return
		}
	}
	t.Fatalf("no log %q from %s in %+v", msg, plugin, gw.PDKLogs())
}

func TestEmulatorPanicIsA500AndTheServerKeepsServing(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))
	resp, body := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key", "X-Test-Action", "panic")
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	e, ok := apierror.Parse(body)
	require.True(t, ok, "OpenAI error shape: %s", body)
	require.NotContains(t, e.Message, "nil map")
	require.Zero(t, up.count(), "nothing reached the upstream")

	for range 3 {
		resp, body = do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	}
}

func TestEmulatorHandlerErrorKeepsItsStatusAndHeaders(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))
	resp, body := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key", "X-Test-Action", "error")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "7", resp.Header.Get("Retry-After"))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, "kong/"+proxy.KongVersion, resp.Header.Get("Server"))
	e, ok := apierror.Parse(body)
	require.True(t, ok, "%s", body)
	require.Equal(t, "test limit reached", e.Message)
}

func TestEmulatorExitSkipsLowerPriorityAccessButRunsTheirLog(t *testing.T) {
	up := newUpstream(t)
	setup := managedTest()
	setup.echo = true // gopdk-echo: priority 700, below tollgate-test's 790
	k := startKong(t, setup, testDeck(up.URL, `      - name: gopdk-echo
        config:
          greeting: hi`))

	resp, body := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key", "X-Test-Action", "exit")
	require.Equal(t, 418, resp.StatusCode, "the default exit_status from the schema")
	require.JSONEq(t, `{"exited":true}`, string(body))
	require.Equal(t, "yes", resp.Header.Get("X-Test-Exit"))
	require.Empty(t, resp.Header.Get("X-Echo"), "gopdk-echo's access handler did not run")
	require.Zero(t, up.count())
	k.gw.WaitLogs()
	requireLog(t, k.gw, "gopdk-echo", "gopdk-echo log status 418")

	// Without the exit both run, the go-pdk plugin after ours.
	resp, body = do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, "access", resp.Header.Get("X-Echo"))
	require.Equal(t, "hi", up.last(t).Header.Get("X-Echo-Greeting"))
}

func TestEmulatorKeyAuthAnswersLikeKong(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))
	resp, body := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, string(body), "No API key found in request")
	require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))

	resp, _ = do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "wrong")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Zero(t, up.count())

	resp, body = do(t, "GET", k.URL+"/nowhere", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, string(body), "no Route matched with those values")
}

func TestEmulatorLargeBodiesArriveAsAFile(t *testing.T) {
	up := newUpstream(t)
	for name, tc := range map[string]struct {
		setup   kongSetup
		spooled int64
	}{
		// Kong's default 8 KiB buffer: the body is a file in client_body_temp.
		"managed": {managedTest(), 1},
		// The sidecar lines raise the buffer (4m), so the body stays in memory.
		"sidecar": {kongSetup{sidecar: map[string][]string{bins.tollgatetest: {"tollgate-test"}}}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			setup := tc.setup
			k := startKong(t, setup, testDeck(up.URL, ""))
			big := []byte(`{"pad":"` + strings.Repeat("x", 20000) + `"}`)
			resp, body := do(t, "POST", k.URL+"/v1/chat/completions", big, "apikey", "alice-key")
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
			var s testplugin.Seen
			require.NoError(t, json.Unmarshal([]byte(up.last(t).Header.Get("X-Test-Seen")), &s))
			require.Equal(t, len(big), s.BodyLen)
			require.Equal(t, len(big), len(up.last(t).Body))
			k.gw.WaitLogs() // the request is finished, file and all
			require.Equal(t, tc.spooled, k.gw.SpooledBodies())
		})
	}
}

func TestEmulatorSidecarServesEveryPluginFromOneProcess(t *testing.T) {
	up := newUpstream(t)
	setup := kongSetup{sidecar: map[string][]string{bins.tollgatetest: {"tollgate-test", "tollgate-noop"}}}
	k := startKong(t, setup, testDeck(up.URL, `      - name: tollgate-noop`))
	require.Empty(t, k.servers.Conf.Servers[0].StartCmd, "Kong only queries in sidecar mode")
	for range 5 {
		resp, body := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	}
}

func TestEmulatorRecoversWhenAPluginServerDies(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))
	resp, _ := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, k.servers.Signal("tollgate-test", syscall.SIGKILL))
	// Kong respawns the server; requests fail (500) until it listens, then
	// the instance is started again on the new process.
	require.Eventually(t, func() bool {
		resp, _ := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key")
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond)
}

func TestEmulatorReloadRestartsInstancesWithTheNewConfig(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))
	resp, _ := do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key")
	require.Equal(t, "e2e", resp.Header.Get("X-Test-Plugin"))

	require.NoError(t, k.gw.Load([]byte(strings.Replace(testDeck(up.URL, ""), "tag: e2e", "tag: reloaded", 1))))
	for range 4 { // every simulated worker picks up the new instance
		resp, _ = do(t, "POST", k.URL+"/v1/chat/completions", []byte(`{}`), "apikey", "alice-key")
		require.Equal(t, "reloaded", resp.Header.Get("X-Test-Plugin"))
	}
}

func TestEmulatorRejectsAConfigTheDumpedSchemaRejects(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))
	err := k.gw.Load([]byte(strings.Replace(testDeck(up.URL, ""), "tag: e2e", "tag: e2e\n          exit_status: 700", 1)))
	require.ErrorContains(t, err, "config.exit_status")
	err = k.gw.Load([]byte(strings.Replace(testDeck(up.URL, ""), "tag: e2e", "mode: lenient", 1)))
	require.ErrorContains(t, err, "config.tag")
	require.ErrorContains(t, err, "config.mode")
	err = k.gw.Load([]byte(strings.Replace(testDeck(up.URL, ""), "tollgate-test", "tollgate-nope", 1)))
	require.ErrorContains(t, err, "tollgate-nope")

	// Referenceable fields take Kong's env vault references.
	withRef := strings.Replace(testDeck(up.URL, ""), "tag: e2e", "tag: e2e\n          secret: \"{vault://env/tg-spec-secret}\"", 1)
	require.ErrorContains(t, k.gw.Load([]byte(withRef)), "TG_SPEC_SECRET is not set")
	t.Setenv("TG_SPEC_SECRET", "s3cr3t")
	require.NoError(t, k.gw.Load([]byte(withRef)))
}

// TestEmulatorStreamsWithoutBuffering shows an SSE answer reaches the client
// event by event: the upstream holds its second event until the client has
// read the first one through Kong.
func TestEmulatorStreamsWithoutBuffering(t *testing.T) {
	release := make(chan struct{})
	sse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "data: {\"n\":1}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "data: {\"n\":2}\n\ndata: [DONE]\n\n")
	}))
	defer sse.Close()
	k := startKong(t, managedTest(), testDeck(sse.URL, ""))

	req, _ := http.NewRequest("POST", k.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true}`))
	req.Header.Set("apikey", "alice-key")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "data: {\"n\":1}\n", line, "the first event arrived while the upstream still holds the rest")
	close(release)
	rest, err := readAll(rd)
	require.NoError(t, err)
	require.Contains(t, rest, `data: {"n":2}`)
	require.Contains(t, rest, "data: [DONE]")
}

func readAll(rd *bufio.Reader) (string, error) {
	var b strings.Builder
	_, err := rd.WriteTo(&b)
	return b.String(), err
}

func TestEmulatorSocketsAreRemovedOnShutdown(t *testing.T) {
	up := newUpstream(t)
	k := startKong(t, managedTest(), testDeck(up.URL, ""))
	sock := k.servers.Plugins["tollgate-test"].Server.Socket
	_, err := os.Stat(sock)
	require.NoError(t, err)
	k.servers.Stop() // SIGTERM, as Kong sends on shutdown
	_, err = os.Stat(sock)
	require.True(t, os.IsNotExist(err), "the plugin server removed its socket")
}
