package reqctx_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Kong/go-pdk"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/reqctx"
	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

// reader is a plugin that loads the request and reports what it saw in an
// upstream header named after it; with upper set it upper-cases the prompt.
type reader struct {
	name  string
	store *reqctx.Store
	upper bool
}

type readerConfig struct{}

func (h *reader) Access(kong *pdk.PDK) error {
	r, err := h.store.Load(kong)
	if err != nil {
		return err
	}
	if r.ParseErr != nil {
		return r.ParseErr
	}
	if h.upper {
		for _, tp := range r.LLM.TextParts() {
			if err := r.LLM.SetText(tp.Path, strings.ToUpper(tp.Text)); err != nil {
				return err
			}
		}
		if err := h.store.SetBody(kong, r, r.LLM.Bytes()); err != nil {
			return err
		}
	}
	seen, _ := json.Marshal(map[string]any{"format": r.Format, "text": r.LLM.Text(), "model": r.LLM.Model})
	return kong.ServiceRequest.SetHeader("X-Seen-"+h.name, string(seen))
}

func define(name string, prio int, h *reader) pluginserver.Definition {
	return pluginserver.Define(pluginserver.Meta{Name: name, Version: "1.0", Priority: prio},
		func(*readerConfig) (*reader, error) { return h, nil })
}

const chat = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}]}`

func seen(t *testing.T, h string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(h), &m), "%q", h)
	return m
}

func TestSidecarModeReadsAndParsesTheBodyOnce(t *testing.T) {
	store := &reqctx.Store{} // one process serves both plugins
	first := define("tollgate-a", 2, &reader{name: "a", store: store, upper: true})
	second := define("tollgate-b", 1, &reader{name: "b", store: store})
	h := plugintest.New(t, first, second)
	a := h.StartPlugin(t, "tollgate-a", map[string]any{})
	b := h.StartPlugin(t, "tollgate-b", map[string]any{})

	r := plugintest.Request("POST", "/v1/chat/completions", []byte(chat))
	a.Access(t, r)
	require.Equal(t, 1, r.CallsTo["kong.request.get_raw_body"])
	b.Access(t, r)
	require.Equal(t, 1, r.CallsTo["kong.request.get_raw_body"], "the second plugin did not read the body again")
	require.Equal(t, 1, r.CallsTo["kong.request.get_path"])

	sa, sb := seen(t, r.Headers.Get("X-Seen-a")), seen(t, r.Headers.Get("X-Seen-b"))
	require.Equal(t, "HELLO THERE", sa["text"], "a reports after its own edit")
	require.Equal(t, "HELLO THERE", sb["text"], "the second plugin sees the first one's edit")
	require.Equal(t, string(llm.FormatChat), sb["format"])
	require.JSONEq(t, strings.Replace(chat, "hello there", "HELLO THERE", 1), string(r.Body), "and so does the upstream")
}

func TestManagedModeFallsBackToReadingTheBody(t *testing.T) {
	// Two processes: two stores. The token in kong.ctx.shared is not found
	// in the second one, which reads the (edited) body itself.
	first := define("tollgate-a", 2, &reader{name: "a", store: &reqctx.Store{}, upper: true})
	second := define("tollgate-b", 1, &reader{name: "b", store: &reqctx.Store{}})
	h := plugintest.New(t, first, second)
	a := h.StartPlugin(t, "tollgate-a", map[string]any{})
	b := h.StartPlugin(t, "tollgate-b", map[string]any{})
	r := plugintest.Request("POST", "/v1/chat/completions", []byte(chat))
	a.Access(t, r)
	b.Access(t, r)
	require.Equal(t, 2, r.CallsTo["kong.request.get_raw_body"])
	require.Equal(t, "HELLO THERE", seen(t, r.Headers.Get("X-Seen-b"))["text"])
}

func TestBadBodyIsAnOpenAIError(t *testing.T) {
	h := plugintest.New(t, define("tollgate-a", 1, &reader{name: "a", store: &reqctx.Store{}}))
	a := h.Start(t, map[string]any{})
	res := a.Access(t, plugintest.Request("POST", "/v1/chat/completions", []byte(`{"messages":"nope"}`)))
	require.True(t, res.Exited())
	require.Equal(t, 400, res.Exit.Status)
	require.Contains(t, string(res.Exit.Body), `"invalid_request_error"`)
	require.NotContains(t, string(res.Exit.Body), "nope", "the body is never echoed")
}

func TestStoreIsBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	store := &reqctx.Store{Max: 3, TTL: time.Second, Now: func() time.Time { return now }}
	h := plugintest.New(t, define("tollgate-a", 1, &reader{name: "a", store: store}))
	a := h.Start(t, map[string]any{})
	for i := range 10 {
		a.Access(t, plugintest.Request("POST", "/v1/chat/completions", []byte(fmt.Sprintf(`{"messages":[{"role":"user","content":"%d"}]}`, i))))
	}
	require.LessOrEqual(t, store.Len(), 3)
	now = now.Add(2 * time.Second)
	a.Access(t, plugintest.Request("POST", "/v1/chat/completions", []byte(chat)))
	require.Equal(t, 1, store.Len(), "expired entries are dropped")
}
