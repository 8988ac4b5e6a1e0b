// Package plugintest drives a plugin in tests the way Kong does: the real
// runtime serves it on a real Unix socket and a Kong-side client (konghost)
// starts instances and sends events, answering the plugin's PDK calls from a
// konghost.Request that the test builds and then inspects.
//
//	h := plugintest.New(t, promptguard.Definition)
//	inst := h.Start(t, map[string]any{"max_messages": 10})
//	r := plugintest.Request("POST", "/v1/chat/completions", body)
//	res := inst.Access(t, r)
//	require.Equal(t, 400, res.Exit.Status)
package plugintest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver"
	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
)

// Harness serves plugin definitions for one test.
type Harness struct {
	Local *pluginserver.Local
}

// New serves defs on a real socket until the test ends.
func New(t testing.TB, defs ...pluginserver.Definition) *Harness {
	t.Helper()
	l, err := pluginserver.StartLocal(testWriter{t}, defs...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	return &Harness{Local: l}
}

// Instance is one started plugin instance.
type Instance struct {
	h      *Harness
	Plugin string
	ID     int32
}

// Start starts an instance of the harness's only plugin (or the first one)
// with config, which is marshalled to JSON as Kong sends it.
func (h *Harness) Start(t testing.TB, config any) *Instance {
	t.Helper()
	defs := h.Local.Server.Definitions()
	require.NotEmpty(t, defs)
	return h.StartPlugin(t, defs[0].Meta().Name, config)
}

// StartPlugin starts an instance of a named plugin.
func (h *Harness) StartPlugin(t testing.TB, plugin string, config any) *Instance {
	t.Helper()
	id, err := h.TryStart(plugin, config)
	require.NoError(t, err)
	return &Instance{h: h, Plugin: plugin, ID: id}
}

// TryStart starts an instance and returns the error Kong would see.
func (h *Harness) TryStart(plugin string, config any) (int32, error) {
	raw, err := json.Marshal(config)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.Local.StartInstance(ctx, plugin, raw)
}

// Result is the outcome of one event.
type Result struct {
	Outcome konghost.Outcome
	*konghost.Request
}

// Exited reports whether the plugin answered the request itself.
func (r Result) Exited() bool { return r.Outcome == konghost.Exited }

// Access runs the access phase on r.
func (i *Instance) Access(t testing.TB, r *konghost.Request) Result {
	t.Helper()
	return i.Run(t, konghost.PhaseAccess, r)
}

// Run runs one phase on r and fails the test on a protocol error.
func (i *Instance) Run(t testing.TB, phase konghost.Phase, r *konghost.Request) Result {
	t.Helper()
	out, err := i.TryRun(phase, r)
	require.NoError(t, err)
	return Result{Outcome: out, Request: r}
}

// TryRun runs one phase and returns the protocol error, if any.
func (i *Instance) TryRun(phase konghost.Phase, r *konghost.Request) (konghost.Outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := i.h.Local.Event(ctx, i.Plugin, i.ID, phase, r)
	r.Finish()
	return out, err
}

// Request builds a routed client request as Kong holds it in access.
func Request(method, path string, body []byte, headers ...string) *konghost.Request {
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Add(headers[i], headers[i+1])
	}
	if body != nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Host", "kong.test")
	return &konghost.Request{
		Scheme: "http", Host: "kong.test", Port: 8000, Method: method, Path: path,
		HTTPVersion: 1.1, Headers: h, Body: body,
		ClientIP: "127.0.0.1", ClientPort: 50000, ForwardedIP: "127.0.0.1", ForwardedPort: 50000,
		StartTime: time.Now(), NodeID: "00000000-0000-4000-8000-00000000aaaa", RequestID: "plugintest",
		Route:    &pb.Route{Id: "00000000-0000-4000-8000-00000000bbbb", Name: "test-route", Paths: []string{"/"}, Protocols: []string{"http", "https"}},
		Service:  &pb.Service{Id: "00000000-0000-4000-8000-00000000cccc", Name: "test-service", Protocol: "http", Host: "upstream.test", Port: 80},
		Shared:   map[string]any{},
		NginxCtx: map[string]any{},
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}
