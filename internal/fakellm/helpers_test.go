package fakellm_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

const testKey = "sk-test-key"

// start runs a fake for one test.
func start(t *testing.T, opts fakellm.Options) *fakellm.Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	srv := fakellm.New(opts)
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// call sends body (a value to encode, or []byte) with headers to the fake.
func call(t *testing.T, srv *fakellm.Server, method, path string, header map[string]string, body any) answer {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: got}
}

func openAIHeaders() map[string]string {
	return map[string]string{"Authorization": "Bearer " + testKey}
}

func anthropicHeaders() map[string]string {
	return map[string]string{"x-api-key": testKey, "anthropic-version": "2023-06-01"}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	name string
	data string
}

// parseSSE splits an event stream into events.
func parseSSE(t *testing.T, body []byte) []sseEvent {
	t.Helper()
	var (
		out []sseEvent
		cur sseEvent
	)
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" || cur.name != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	require.NoError(t, sc.Err())
	require.Empty(t, cur.data, "stream must end with a blank line")
	return out
}

// fixture reads a recorded payload from spec/fixtures.
func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "spec", "fixtures", filepath.FromSlash(rel)))
	require.NoError(t, err)
	return b
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	return v
}

// requireShape checks that every member of want (a recorded payload) is in
// got with the same JSON type, recursively; null matches any type and an
// array's first element stands for all of them.
func requireShape(t *testing.T, want, got any, path string) {
	t.Helper()
	if want == nil || got == nil {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want object, got %T", path, got)
		for k, wv := range w {
			gv, ok := g[k]
			require.True(t, ok, "%s.%s: missing", path, k)
			requireShape(t, wv, gv, path+"."+k)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want array, got %T", path, got)
		if len(w) > 0 && len(g) > 0 {
			requireShape(t, w[0], g[0], path+"[0]")
		}
	default:
		require.IsType(t, want, got, "%s", path)
	}
}
