package spec

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

// BenchmarkAccessEvent is the baseline cost of Kong's socket protocol: one
// access event, as the emulator sends it, to the real tollgatetest binary
// running as a sidecar. noop makes no PDK call; test makes the ~30 calls of
// the test plugin. Later plugins are measured against these figures
// (docs/benchmarks.md).
func BenchmarkAccessEvent(b *testing.B) {
	prefix, err := os.MkdirTemp("", "kgb")
	require.NoError(b, err)
	defer os.RemoveAll(prefix)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := startServe(b, ctx, prefix)
	defer srv()

	for _, tc := range []struct {
		plugin string
		config map[string]any
	}{
		{"tollgate-noop", map[string]any{}},
		{"tollgate-test", map[string]any{"tag": "bench"}},
	} {
		b.Run(strings.TrimPrefix(tc.plugin, "tollgate-"), func(b *testing.B) {
			c := konghost.NewClient(pluginserver.SocketPath(prefix, tc.plugin))
			defer c.Close()
			raw, _ := json.Marshal(tc.config)
			st, err := c.StartInstance(context.Background(), tc.plugin, raw)
			require.NoError(b, err)
			body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}`)
			lat := make([]time.Duration, 0, b.N)
			calls := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r := plugintest.Request("POST", "/v1/chat/completions", body, "apikey", "k")
				start := time.Now()
				if _, err := c.HandleEvent(context.Background(), st.ID, konghost.PhaseAccess, r); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				calls += r.Calls
				r.Finish()
			}
			reportLatency(b, lat, calls)
		})
	}
}

// BenchmarkGatewayRequest is one whole request through the emulator
// (routing, instances, the access events, proxying to a loopback upstream,
// scheduling log), with no plugin, the no-op plugin and the test plugin.
func BenchmarkGatewayRequest(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer up.Close()
	deck := func(plugins string) string {
		return `_format_version: "3.0"
services:
  - name: up
    url: ` + up.URL + `
    routes:
      - name: r
        paths: [/v1]
        strip_path: false
    plugins:
` + plugins
	}
	for _, tc := range []struct{ name, plugins string }{
		{"none", "      []\n"},
		{"noop", "      - name: tollgate-noop\n"},
		{"test", "      - name: tollgate-test\n        config: {tag: bench}\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			setup := kongSetup{sidecar: map[string][]string{bins.tollgatetest: {"tollgate-test", "tollgate-noop"}}}
			k := startKong(b, setup, deck(tc.plugins))
			body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}`
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
				rec := httptest.NewRecorder()
				start := time.Now()
				k.gw.ServeHTTP(rec, req)
				lat = append(lat, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.StopTimer()
			k.gw.WaitLogs()
			reportLatency(b, lat, -1)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration, calls int) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	us := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(us(0.50), "p50-µs")
	b.ReportMetric(us(0.99), "p99-µs")
	if calls >= 0 {
		b.ReportMetric(float64(calls)/float64(len(lat)), "pdk-calls/op")
	}
}

// startServe runs `tollgatetest serve` in prefix until stop is called.
func startServe(b *testing.B, ctx context.Context, prefix string) (stop func()) {
	cmd := exec.CommandContext(ctx, bins.tollgatetest, "serve", "--kong-prefix", prefix)
	require.NoError(b, cmd.Start())
	for _, p := range []string{"tollgate-noop", "tollgate-test"} {
		require.Eventually(b, func() bool {
			c, err := net.Dial("unix", pluginserver.SocketPath(prefix, p))
			if err == nil {
				c.Close()
			}
			return err == nil
		}, 10*time.Second, 5*time.Millisecond)
	}
	return func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
}
