package pluginserver_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
	"github.com/tollgate-ai/tollgate/spec/testplugins/testplugin"
)

var validConfig = map[string]any{"tag": "t1", "__seq__": 41, "__plugin_id": "p1", "__key__": "plugins:tollgate-test::::ws", "__ws_id": "ws"}

func TestAccessExercisesPDK(t *testing.T) {
	h := plugintest.New(t, testplugin.Test)
	inst := h.Start(t, validConfig)
	require.EqualValues(t, 41, inst.ID, "the instance id is Kong's __seq__")

	r := plugintest.Request("POST", "/v1/chat/completions", []byte(`{"model":"m"}`), "X-Test-Remove", "x")
	r.RawQuery = "q=hello"
	res := inst.Access(t, r)
	require.False(t, res.Exited())

	var seen testplugin.Seen
	require.NoError(t, json.Unmarshal([]byte(r.Headers.Get("X-Test-Seen")), &seen))
	require.Equal(t, "POST", seen.Method)
	require.Equal(t, "/v1/chat/completions", seen.Path)
	require.Equal(t, "hello", seen.QueryArg)
	require.Equal(t, 13, seen.BodyLen)
	require.Equal(t, "set-in-access", seen.Shared)
	require.Equal(t, "test-route", seen.Route)
	require.Equal(t, 1048576, seen.MaxBody, "nested record default applied")
	require.Empty(t, r.Headers.Get("X-Test-Remove"), "clear_header edits the request")
	require.Equal(t, "t1", r.Response.Headers.Get("X-Test-Plugin"))
}

func TestHandlerErrorBecomesOpenAIError(t *testing.T) {
	h := plugintest.New(t, testplugin.Test)
	inst := h.Start(t, validConfig)
	res := inst.Access(t, plugintest.Request("POST", "/", []byte(`{}`), "x-test-action", "error"))
	require.True(t, res.Exited())
	require.Equal(t, http.StatusTooManyRequests, res.Exit.Status)
	require.Equal(t, "7", res.Exit.Headers.Get("Retry-After"))
	require.Equal(t, "application/json", res.Exit.Headers.Get("Content-Type"))
	e, ok := apierror.Parse(res.Exit.Body)
	require.True(t, ok, "body %s", res.Exit.Body)
	require.Equal(t, "test limit reached", e.Message)
}

func TestPanicIsRecoveredAndServerKeepsServing(t *testing.T) {
	h := plugintest.New(t, testplugin.Test)
	inst := h.Start(t, validConfig)
	res := inst.Access(t, plugintest.Request("POST", "/", []byte(`{}`), "x-test-action", "panic"))
	require.True(t, res.Exited())
	require.Equal(t, http.StatusInternalServerError, res.Exit.Status)
	e, ok := apierror.Parse(res.Exit.Body)
	require.True(t, ok, "body %s", res.Exit.Body)
	require.NotContains(t, e.Message, "nil map", "the panic value is not shown to clients")
	require.EqualValues(t, 1, h.Local.Server.Stats.Panics.Load())

	for range 3 {
		res = inst.Access(t, plugintest.Request("POST", "/", []byte(`{}`)))
		require.False(t, res.Exited())
		require.NotEmpty(t, res.Headers.Get("X-Test-Seen"))
	}
}

func TestBadConfigIsRejectedAtStart(t *testing.T) {
	h := plugintest.New(t, testplugin.Test)
	for name, cfg := range map[string]map[string]any{
		"missing required":   {"mode": "observe"},
		"out of range":       {"tag": "a", "exit_status": 99},
		"not one of":         {"tag": "a", "mode": "lenient"},
		"unknown field":      {"tag": "a", "nope": 1},
		"validate method":    {"tag": "invalid"},
		"nested record rule": {"tag": "a", "limits": map[string]any{"max_body": 0}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.TryStart("tollgate-test", cfg)
			require.Error(t, err)
			require.True(t, konghost.IsClosed(err), "Kong sees a closed connection: %v", err)

			raw, _ := json.Marshal(cfg)
			_, err = testplugin.Test.Start(raw)
			var ce *pluginserver.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Contains(t, err.Error(), "config")
		})
	}
	// The server still serves good configs afterwards.
	h.Start(t, validConfig)
}

func TestConfigErrorsNamePaths(t *testing.T) {
	_, err := testplugin.Test.Start([]byte(`{"exit_status": 700, "limits": {"max_body": -1}}`))
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{"tag", "exit_status", "limits.max_body"} {
		require.Contains(t, msg, want)
	}
}

func TestUnknownInstanceLooksClosedToKong(t *testing.T) {
	h := plugintest.New(t, testplugin.Test)
	_, err := h.Local.Event(context.Background(), "tollgate-test", 999, konghost.PhaseAccess, plugintest.Request("GET", "/", nil))
	require.Error(t, err)
	require.True(t, konghost.IsClosed(err), "%v", err)
}

func TestInstancesAreSharedAcrossWorkersAndRefCounted(t *testing.T) {
	h := plugintest.New(t, testplugin.Test)
	raw, _ := json.Marshal(validConfig)
	ctx := context.Background()
	// Two Kong workers start the same plugin entity (same __seq__).
	w1 := konghost.NewClient(pluginserver.SocketPath(h.Local.Dir(), "tollgate-test"))
	w2 := konghost.NewClient(pluginserver.SocketPath(h.Local.Dir(), "tollgate-test"))
	defer w1.Close()
	defer w2.Close()
	s1, err := w1.StartInstance(ctx, "tollgate-test", raw)
	require.NoError(t, err)
	s2, err := w2.StartInstance(ctx, "tollgate-test", raw)
	require.NoError(t, err)
	require.Equal(t, s1.ID, s2.ID)
	require.EqualValues(t, 1, h.Local.Server.Stats.Instances.Load())

	// Worker 1 rebuilds and closes its reference; worker 2 keeps serving.
	require.NoError(t, w1.CloseInstance(ctx, s1.ID))
	r := plugintest.Request("GET", "/", nil)
	_, err = w2.HandleEvent(ctx, s2.ID, konghost.PhaseAccess, r)
	require.NoError(t, err)
	require.NoError(t, w2.CloseInstance(ctx, s2.ID))
	require.EqualValues(t, 0, h.Local.Server.Stats.Instances.Load())
	_, err = w2.HandleEvent(ctx, s2.ID, konghost.PhaseAccess, plugintest.Request("GET", "/", nil))
	require.True(t, konghost.IsClosed(err))
}

func TestConcurrentEvents(t *testing.T) {
	h := plugintest.New(t, testplugin.Test)
	inst := h.Start(t, validConfig)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			action := ""
			if i%4 == 0 {
				action = "panic"
			}
			r := plugintest.Request("POST", "/", []byte(`{}`), "x-test-action", action)
			out, err := inst.TryRun(konghost.PhaseAccess, r)
			require.NoError(t, err)
			require.Equal(t, action == "panic", out == konghost.Exited)
		}()
	}
	wg.Wait()
	require.EqualValues(t, 4, h.Local.Server.Stats.Panics.Load())
}

func TestShutdownFinishesInFlightEventsAndRemovesSockets(t *testing.T) {
	dir := t.TempDir()
	srv := &pluginserver.Server{DrainTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, dir, testplugin.Test, testplugin.Noop) }()
	sock := pluginserver.SocketPath(dir, "tollgate-test")
	require.Eventually(t, func() bool { return accepts(sock) }, 5*time.Second, 5*time.Millisecond)

	c := konghost.NewClient(sock)
	defer c.Close()
	raw, _ := json.Marshal(validConfig)
	st, err := c.StartInstance(context.Background(), "tollgate-test", raw)
	require.NoError(t, err)

	// An event that takes a while is in flight when shutdown begins.
	inflight := make(chan error, 1)
	r := plugintest.Request("POST", "/", []byte(`{}`), "x-test-action", "sleep")
	go func() {
		_, err := c.HandleEvent(context.Background(), st.ID, konghost.PhaseAccess, r)
		inflight <- err
	}()
	require.Eventually(t, func() bool { return srv.Stats.Events.Load() == 1 }, 5*time.Second, time.Millisecond)
	cancel()

	require.NoError(t, <-inflight, "the in-flight event finishes")
	require.NotEmpty(t, r.Headers.Get("X-Test-Seen"))
	require.NoError(t, <-done)
	for _, name := range []string{"tollgate-test", "tollgate-noop"} {
		_, err := os.Stat(pluginserver.SocketPath(dir, name))
		require.True(t, os.IsNotExist(err), "socket %s removed", name)
	}
	_, err = net.Dial("unix", sock)
	require.Error(t, err, "no longer accepting")
	require.EqualValues(t, 0, srv.Stats.Instances.Load(), "instances closed")
}

func TestDumpIsWhatKongReads(t *testing.T) {
	out, err := pluginserver.DumpJSON(testplugin.Test, "/usr/local/kong")
	require.NoError(t, err)
	info, err := konghost.ParseInfo(out)
	require.NoError(t, err)
	require.Equal(t, "tollgate-test", info.Name)
	require.Equal(t, 790, info.Priority)
	require.Equal(t, []string{"access", "log"}, info.Phases)
	require.Equal(t, "0.1.0", info.Version)

	var raw struct {
		Protocol, SocketPath string
		Plugins              []map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(out, &raw))
	require.Equal(t, "ProtoBuf:1", raw.Protocol)
	require.Equal(t, "/usr/local/kong/tollgate-test.socket", raw.SocketPath)
	schema := string(raw.Plugins[0]["Schema"])
	for _, want := range []string{`"default":418`, `"required":true`, `"referenceable":true`, `"encrypted":true`, `"one_of":["observe","strict"]`, `"between":[100,599]`} {
		require.True(t, strings.Contains(schema, want), "schema lacks %s: %s", want, schema)
	}
}

// accepts reports whether a Unix socket accepts connections (its file
// exists a moment before it does).
func accepts(sock string) bool {
	c, err := net.Dial("unix", sock)
	if err == nil {
		c.Close()
	}
	return err == nil
}
