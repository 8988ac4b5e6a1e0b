package pluginserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/spec/testplugins/testplugin"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	p := &pluginserver.Program{Name: "tollgatetest", Plugins: testplugin.All(), Stdout: &out, Stderr: &errb}
	code := p.Run(context.Background(), append([]string{"/usr/local/bin/tollgatetest"}, args...))
	return code, out.String(), errb.String()
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"plugin", "--help"}, {"dump", "--help"},
		{"try", "--help"}, {"kong-conf", "--help"}, {"plugins", "--help"}, {"version", "--help"},
		{"plugin", "tollgate-test", "-help"},
	} {
		code, _, stderr := run(t, args...)
		require.Equal(t, 0, code, "%v", args)
		require.Contains(t, stderr, "Usage", "%v", args)
	}
}

func TestUnknownCommandAndPlugin(t *testing.T) {
	code, _, stderr := run(t, "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `unknown command "frobnicate"`)
	code, _, stderr = run(t, "dump", "tollgate-nope")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `unknown plugin "tollgate-nope"`)
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "tollgatetest "), out)
}

func TestDumpCommandsAgree(t *testing.T) {
	_, viaDump, _ := run(t, "dump", "tollgate-test", "--kong-prefix", "/kong")
	_, viaPlugin, _ := run(t, "plugin", "tollgate-test", "-kong-prefix", "/kong", "-dump")
	require.Equal(t, viaDump, viaPlugin)
	want, err := pluginserver.DumpJSON(testplugin.Test, "/kong")
	require.NoError(t, err)
	require.JSONEq(t, string(want), viaDump)

	// Invoked under the plugin's own name (a symlink), it acts as a go-pdk binary.
	var out bytes.Buffer
	p := &pluginserver.Program{Name: "tollgatetest", Plugins: testplugin.All(), Stdout: &out, Stderr: &out}
	require.Equal(t, 0, p.Run(context.Background(), []string{"/usr/local/bin/tollgate-test", "-dump", "-kong-prefix", "/kong"}))
	require.JSONEq(t, string(want), out.String())
}

func TestKongConf(t *testing.T) {
	code, out, _ := run(t, "kong-conf", "--mode", "managed", "--binary", "/opt/tg")
	require.Equal(t, 0, code)
	require.Contains(t, out, "plugins = bundled,tollgate-test,tollgate-noop\n")
	require.Contains(t, out, "pluginserver_tollgate_test_start_cmd = /opt/tg plugin tollgate-test -kong-prefix /usr/local/kong\n")
	require.Contains(t, out, "pluginserver_tollgate_noop_query_cmd = /opt/tg dump tollgate-noop --kong-prefix /usr/local/kong\n")

	code, out, _ = run(t, "kong-conf", "--mode", "sidecar", "--socket-dir", "/run/tg")
	require.Equal(t, 0, code)
	require.Contains(t, out, "pluginserver_tollgate_test_socket = /run/tg/tollgate-test.socket\n")
	require.NotContains(t, out, "start_cmd")

	code, _, stderr := run(t, "kong-conf", "--mode", "weird")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "unknown mode")
}

func TestTry(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	cfg := write("cfg.json", `{"tag":"try-me","extra":{"X-Extra":"1"}}`)
	deck := write("deck.yaml", `_format_version: "3.0"
services:
- name: s
  url: http://upstream:80
  routes:
  - name: r
    paths: [/v1]
    plugins:
    - name: tollgate-test
      config:
        tag: from-deck
        exit_status: 451
`)
	body := write("req.json", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	httpReq := write("req.http", "POST /v1/chat/completions?q=1 HTTP/1.1\nHost: api.local\nx-test-action: exit\n\n{\"a\":1}")

	t.Run("proxy outcome from a JSON config", func(t *testing.T) {
		code, out, stderr := run(t, "try", "tollgate-test", "--config", cfg, "--request", body, "--header", "x-test-action: body")
		require.Equal(t, 0, code, stderr)
		var res pluginserver.TryResult
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		require.Equal(t, "proxy", res.Outcome)
		require.True(t, res.Proxy.BodyChanged)
		require.Contains(t, string(res.Proxy.Body), `"GPT-4O"`)
		require.Equal(t, "1", res.Proxy.Headers.Get("X-Extra"))
		require.Equal(t, "try-me", res.Headers.Get("X-Test-Plugin"))
	})
	t.Run("exit outcome from a deck and an HTTP request file", func(t *testing.T) {
		code, out, stderr := run(t, "try", "tollgate-test", "--config", deck, "--request", httpReq)
		require.Equal(t, 0, code, stderr)
		var res pluginserver.TryResult
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		require.Equal(t, "exit", res.Outcome)
		require.Equal(t, 451, res.Exit.Status)
		require.JSONEq(t, `{"exited":true}`, string(res.Exit.Body))
	})
	t.Run("bad config is explained", func(t *testing.T) {
		bad := write("bad.json", `{"exit_status": 1000}`)
		code, _, stderr := run(t, "try", "tollgate-test", "--config", bad, "--request", body)
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "tag")
		require.Contains(t, stderr, "exit_status")
	})
	t.Run("deck without the plugin", func(t *testing.T) {
		code, _, stderr := run(t, "try", "tollgate-noop", "--config", deck, "--request", body)
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "has no tollgate-noop plugin")
	})
}
