package provider_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

const testKey = "sk-test-0123456789abcdef"

// fixture reads a recorded payload under spec/fixtures.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "spec", "fixtures", filepath.FromSlash(name)))
	require.NoError(t, err)
	return b
}

// testdata reads a file under testdata.
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	require.NoError(t, err)
	return b
}

func adapter(t testing.TB, k provider.Kind) provider.Adapter {
	t.Helper()
	a, err := provider.For(k)
	require.NoError(t, err)
	return a
}

// newCall parses body as the client's request.
func newCall(t testing.TB, f llm.Format, body []byte) *provider.Call {
	t.Helper()
	req, err := llm.Parse(f, body)
	require.NoError(t, err)
	return &provider.Call{Format: f, Body: body, Req: req, Header: http.Header{}}
}

// withMembers returns body (a JSON object) with members set.
func withMembers(t testing.TB, body []byte, kv map[string]any) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	for k, v := range kv {
		m[k] = v
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// requestBody reads an upstream request's body.
func requestBody(t testing.TB, r *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return b
}

// drain reads a stream to its end and returns everything it produced.
func drain(t testing.TB, s provider.Stream) []byte {
	t.Helper()
	var out []byte
	for range 100000 {
		b, err := s.Next()
		if errors.Is(err, io.EOF) {
			_, again := s.Next()
			require.ErrorIs(t, again, io.EOF, "EOF is final")
			return out
		}
		require.NoError(t, err)
		require.NotEmpty(t, b, "Next returns bytes or an error")
		out = append(out, b...)
	}
	t.Fatal("stream does not end")
	return nil
}

// events parses SSE bytes.
func events(t testing.TB, b []byte) []sse.Event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(b))
	var out []sse.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, ev)
	}
}

// chunkStream is what an OpenAI client makes of translated stream bytes.
type chunkStream struct {
	chunks []openai.ChatCompletionChunk
	acc    openai.ChatCompletionAccumulator
	done   bool   // data: [DONE] seen
	errMsg string // an error event's message
}

// readChunks parses OpenAI chat stream bytes with the official types, as
// the SDK does: every data event is [DONE], an error or a chunk.
func readChunks(t testing.TB, b []byte) chunkStream {
	t.Helper()
	var cs chunkStream
	for _, ev := range events(t, b) {
		require.False(t, cs.done, "nothing after [DONE]")
		require.Empty(t, cs.errMsg, "nothing after an error event")
		if ev.Data == "[DONE]" {
			cs.done = true
			continue
		}
		var probe struct {
			Error *struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &probe), "%s", ev.Data)
		if probe.Error != nil {
			require.NotEmpty(t, probe.Error.Message)
			require.NotEmpty(t, probe.Error.Type)
			cs.errMsg = probe.Error.Message
			continue
		}
		var c openai.ChatCompletionChunk
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &c), "%s", ev.Data)
		cs.chunks = append(cs.chunks, c)
		if c.ID != "" { // Azure's filter annotations have none
			require.True(t, cs.acc.AddChunk(c), "accumulator rejects chunk %s", ev.Data)
		}
	}
	return cs
}

// errReader returns data, then err.
func errReader(data string, err error) io.Reader {
	return io.MultiReader(strings.NewReader(data), &failing{err})
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
