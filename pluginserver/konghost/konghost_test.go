package konghost_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Kong/go-pdk"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

// probe is a plugin whose access handler does what the x-probe header says
// and reports what it saw in the X-Probe upstream header.
type probe struct{}

type probeConfig struct{}

func (probe) Access(kong *pdk.PDK) error {
	what, err := kong.Request.GetHeader("x_probe") // "_" stands for "-"
	if err != nil {
		return err
	}
	seen := map[string]any{}
	switch what {
	case "shared":
		for k, v := range map[string]any{"s": "x", "n": 2, "f": false, "t": true, "nil": nil, "table": map[string]any{"a": 1}} {
			if err := kong.Ctx.SetShared(k, v); err != nil {
				return err
			}
		}
		for _, k := range []string{"s", "n", "f", "t", "nil", "table"} {
			v, err := kong.Ctx.GetSharedAny(k)
			if err != nil {
				return err
			}
			seen[k] = v
		}
	case "headers":
		h, err := kong.Request.GetHeaders(-1)
		if err != nil {
			return err
		}
		seen["headers"] = h
	case "body":
		b, err := kong.Request.GetRawBody()
		if err != nil {
			return err
		}
		seen["len"] = len(b)
		seen["prefix"] = string(b[:min(len(b), 5)])
	case "illegal":
		_, err := kong.Response.GetStatus() // not callable in access
		seen["err"] = fmt.Sprint(err)
	case "log":
		kong.Log.Info("a", nil, 3, " ", 1.5, false, true)
	case "exit":
		kong.Response.Exit(451, []byte("gone"), map[string][]string{"X-Why": {"a", "b"}})
		return nil
	case "edit":
		if err := kong.ServiceRequest.SetRawBody("edited"); err != nil {
			return err
		}
		if err := kong.ServiceRequest.SetHeader("X-Empty", ""); err != nil {
			return err
		}
		b, err := kong.Request.GetRawBody()
		if err != nil {
			return err
		}
		seen["after"] = string(b)
	}
	out, _ := json.Marshal(seen)
	return kong.ServiceRequest.SetHeader("X-Probe", string(out))
}

var probeDef = pluginserver.Define(pluginserver.Meta{Name: "tollgate-probe", Version: "1.0", Priority: 1},
	func(*probeConfig) (probe, error) { return probe{}, nil })

func probeSeen(t *testing.T, r *konghost.Request) map[string]any {
	t.Helper()
	var seen map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Headers.Get("X-Probe")), &seen), "X-Probe: %q", r.Headers.Get("X-Probe"))
	return seen
}

func TestValueQuirks(t *testing.T) {
	inst := plugintest.New(t, probeDef).Start(t, map[string]any{})
	r := plugintest.Request("GET", "/", nil, "X-Probe", "shared")
	inst.Access(t, r)
	seen := probeSeen(t, r)
	require.Equal(t, "x", seen["s"])
	require.EqualValues(t, 2, seen["n"], "numbers come back as float64")
	require.Nil(t, seen["f"], "false becomes nil: the key is deleted")
	require.Equal(t, true, seen["t"])
	require.Equal(t, "NULL_VALUE", seen["nil"], "a Go nil is stored as the string NULL_VALUE")
	require.Nil(t, seen["table"], "Kong reads only scalar kinds of a Value")
	require.NotContains(t, r.Shared, "f")
}

func TestHeadersAreLowerCaseAndListsWhenRepeated(t *testing.T) {
	inst := plugintest.New(t, probeDef).Start(t, map[string]any{})
	r := plugintest.Request("GET", "/", nil, "X-Probe", "headers", "X-Multi", "1", "X-Multi", "2")
	inst.Access(t, r)
	h := probeSeen(t, r)["headers"].(map[string]any)
	require.Equal(t, []any{"1", "2"}, h["x-multi"])
	require.Equal(t, []any{"kong.test"}, h["host"])
	for k := range h {
		require.Equal(t, strings.ToLower(k), k)
	}
}

func TestLargeBodyArrivesAsAFile(t *testing.T) {
	inst := plugintest.New(t, probeDef).Start(t, map[string]any{})
	body := []byte(strings.Repeat("abcde", 4000)) // 20 KB > 8 KiB buffer
	r := plugintest.Request("POST", "/", body, "X-Probe", "body")
	r.BodyDir = t.TempDir()
	out, err := inst.TryRun(konghost.PhaseAccess, r)
	require.NoError(t, err)
	require.Equal(t, konghost.Continued, out)
	seen := probeSeen(t, r)
	require.EqualValues(t, len(body), seen["len"], "go-pdk read the spooled file")
	require.Equal(t, "abcde", seen["prefix"])
	entries, _ := os.ReadDir(r.BodyDir)
	require.Empty(t, entries, "Finish removes the spooled body")

	small := plugintest.Request("POST", "/", []byte("hello"), "X-Probe", "body")
	inst.Access(t, small)
	require.EqualValues(t, 5, probeSeen(t, small)["len"])
	require.Empty(t, small.BodyFile())
}

func TestIllegalCallGetsNoReplyAndFailsTheEvent(t *testing.T) {
	h := plugintest.New(t, probeDef)
	inst := h.Start(t, map[string]any{})
	r := plugintest.Request("GET", "/", nil, "X-Probe", "illegal")
	_, err := inst.TryRun(konghost.PhaseAccess, r)
	var ce *konghost.CallError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "kong.response.get_status", ce.Method)
	require.False(t, konghost.IsClosed(err), "Kong answers 500, it does not reset: %v", err)
	// The plugin server survives and serves the next event.
	r2 := plugintest.Request("GET", "/", nil, "X-Probe", "shared")
	inst.Access(t, r2)
	require.NotEmpty(t, r2.Headers.Get("X-Probe"))
}

func TestLogArgumentsJoinLikeTostring(t *testing.T) {
	inst := plugintest.New(t, probeDef).Start(t, map[string]any{})
	r := plugintest.Request("GET", "/", nil, "X-Probe", "log")
	inst.Access(t, r)
	require.Len(t, r.Logs, 1)
	require.Equal(t, konghost.LogLine{Plugin: "tollgate-probe", Phase: konghost.PhaseAccess, Level: "info", Message: "aNULL_VALUE3 1.5true"}, r.Logs[0])
}

func TestExitIsNeverAnsweredAndHeldUntilFinish(t *testing.T) {
	h := plugintest.New(t, probeDef)
	inst := h.Start(t, map[string]any{})
	r := plugintest.Request("GET", "/", nil, "X-Probe", "exit")
	out, err := h.Local.Event(context.Background(), inst.Plugin, inst.ID, konghost.PhaseAccess, r)
	require.NoError(t, err)
	require.Equal(t, konghost.Exited, out)
	require.Equal(t, 451, r.Exit.Status)
	require.Equal(t, "gone", string(r.Exit.Body))
	require.Equal(t, []string{"a", "b"}, r.Exit.Headers.Values("X-Why"), "a list gives one line per value")
	require.Equal(t, "4", r.Exit.Headers.Get("Content-Length"))
	require.Empty(t, r.Exit.Headers.Get("Content-Type"), "Kong adds no Content-Type to a string body")
	r.Finish()
	// After the request ends the plugin server is fine.
	r2 := plugintest.Request("GET", "/", nil, "X-Probe", "shared")
	inst.Access(t, r2)
	require.NotEmpty(t, r2.Headers.Get("X-Probe"))
}

func TestEditsAreSeenByLaterCalls(t *testing.T) {
	inst := plugintest.New(t, probeDef).Start(t, map[string]any{})
	r := plugintest.Request("POST", "/", []byte("original"), "X-Probe", "edit")
	inst.Access(t, r)
	require.Equal(t, "edited", probeSeen(t, r)["after"])
	require.True(t, r.Upstream.BodySet)
	require.Equal(t, "6", r.Headers.Get("Content-Length"))
	require.Equal(t, " ", r.Headers.Get("X-Empty"), `"" is sent as " "`)
}

func TestParseInfoRejectsWhatKongRejects(t *testing.T) {
	for name, dump := range map[string]string{
		"not json":       `nope`,
		"msgpack":        `{"Plugins":[{"Name":"a","Version":"1","Priority":1,"Schema":{}}]}`,
		"no plugins":     `{"Protocol":"ProtoBuf:1","Plugins":[]}`,
		"float priority": `{"Protocol":"ProtoBuf:1","Plugins":[{"Name":"a","Version":"1","Priority":1.5,"Schema":{}}]}`,
		"long version":   `{"Protocol":"ProtoBuf:1","Plugins":[{"Name":"a","Version":"1.2.3.4","Priority":1,"Schema":{}}]}`,
		"no schema":      `{"Protocol":"ProtoBuf:1","Plugins":[{"Name":"a","Version":"1","Priority":1}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := konghost.ParseInfo([]byte(dump))
			require.Error(t, err)
		})
	}
	info, err := konghost.ParseInfo([]byte(`{"Protocol":"ProtoBuf:1","SocketPath":"/ignored","Plugins":[{"Name":"a","Version":"0.1","Priority":5,"Phases":["access"],"Schema":{"name":"a","fields":[]}},{"Name":"b"}]}`))
	require.NoError(t, err)
	require.Equal(t, "a", info.Name, "only the first plugin is used")
	require.Equal(t, 5, info.Priority)
}

// TestDrivesAPlainGoPDKServer shows konghost speaks the protocol go-pdk's
// own embedded server (server.StartServer) implements.
func TestDrivesAPlainGoPDKServer(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gopdk-echo")
	build := exec.Command("go", "build", "-o", bin, "github.com/tollgate-ai/tollgate/spec/testplugins/gopdk-echo")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	out, err := exec.Command(bin, "-dump").Output()
	require.NoError(t, err)
	info, err := konghost.ParseInfo(out)
	require.NoError(t, err)
	require.Equal(t, []string{"access", "log"}, info.Phases)

	prefix := t.TempDir()
	srv := exec.Command(bin, "-kong-prefix", prefix)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	sock := filepath.Join(prefix, "gopdk-echo.socket")
	require.Eventually(t, func() bool {
		c, err := net.Dial("unix", sock) // the file exists a moment before it accepts
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 5*time.Millisecond)

	c := konghost.NewClient(sock)
	defer c.Close()
	ctx := context.Background()
	st, err := c.StartInstance(ctx, "gopdk-echo", []byte(`{"greeting":"hi","__seq__":7,"__plugin_id":"x","__key__":"k","__ws_id":"w"}`))
	require.NoError(t, err)
	require.EqualValues(t, 7, st.ID)

	r := plugintest.Request("POST", "/v1/chat/completions", []byte(`{"a":1}`))
	out2, err := c.HandleEvent(ctx, st.ID, konghost.PhaseAccess, r)
	require.NoError(t, err)
	require.Equal(t, konghost.Continued, out2)
	require.Equal(t, "hi", r.Headers.Get("X-Echo-Greeting"))
	require.Equal(t, "POST /v1/chat/completions", r.Headers.Get("X-Echo-Request"))
	require.Equal(t, "7", r.Headers.Get("X-Echo-Body-Len"))
	require.Equal(t, "hi", r.Shared["echo"])
	require.Equal(t, "access", r.Response.Headers.Get("X-Echo"))

	r.Response.Status = 200
	_, err = c.HandleEvent(ctx, st.ID, konghost.PhaseLog, r)
	require.NoError(t, err)
	require.Contains(t, r.Logs[len(r.Logs)-1].Message, "gopdk-echo log status 200")
	r.Finish()

	ex := plugintest.Request("GET", "/", nil, "X-Echo-Exit", "1")
	out3, err := c.HandleEvent(ctx, st.ID, konghost.PhaseAccess, ex)
	require.NoError(t, err)
	require.Equal(t, konghost.Exited, out3)
	require.Equal(t, 299, ex.Exit.Status)
	require.Equal(t, "echo exit hi", string(ex.Exit.Body))
	ex.Finish()

	_, err = c.HandleEvent(ctx, 12345, konghost.PhaseAccess, plugintest.Request("GET", "/", nil))
	require.True(t, konghost.IsClosed(err), "go-pdk closes on an unknown instance: %v", err)

	// Many sequential events reuse pooled connections with growing sequence numbers.
	for range 20 {
		r := plugintest.Request("GET", "/", nil)
		_, err := c.HandleEvent(ctx, st.ID, konghost.PhaseAccess, r)
		require.NoError(t, err)
		r.Finish()
	}
}
