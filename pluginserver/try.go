package pluginserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
)

// TryResult is what `tollgate try` prints: either the answer the plugin gave
// in Kong's place, or the request as it would go upstream.
type TryResult struct {
	Plugin  string      `json:"plugin"`
	Outcome string      `json:"outcome"` // "exit" or "proxy"
	Exit    *TryExit    `json:"exit,omitempty"`
	Proxy   *TryProxy   `json:"upstream,omitempty"`
	Headers http.Header `json:"response_headers,omitempty"`
	Logs    []string    `json:"logs,omitempty"`
}

// TryExit is the response a plugin answered with.
type TryExit struct {
	Status  int             `json:"status"`
	Headers http.Header     `json:"headers,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
	Text    string          `json:"body_text,omitempty"`
}

// TryProxy is the upstream request after the plugin's edits.
type TryProxy struct {
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	Query       string          `json:"query,omitempty"`
	Target      string          `json:"target,omitempty"`
	Headers     http.Header     `json:"headers"`
	BodyChanged bool            `json:"body_changed"`
	Body        json.RawMessage `json:"body,omitempty"`
	Text        string          `json:"body_text,omitempty"`
}

// TryInput is one offline run: a plugin, its config and a client request.
type TryInput struct {
	Config  []byte // JSON object
	Request *http.Request
	Body    []byte
	// Consumer, when set, is the authenticated consumer's username.
	Consumer string
}

// Try runs d's access phase on in through a real socket, as Kong would.
func Try(ctx context.Context, d Definition, in TryInput) (*TryResult, error) {
	// Validate first in process so a bad config gets its full error here;
	// over the socket Kong only sees a closed connection.
	inst, err := d.Start(in.Config)
	if err != nil {
		return nil, err
	}
	_ = inst.Close()

	local, err := StartLocal(nil, d)
	if err != nil {
		return nil, err
	}
	defer local.Close()
	name := d.Meta().Name
	id, err := local.StartInstance(ctx, name, in.Config)
	if err != nil {
		return nil, err
	}
	r := tryRequest(in)
	out, err := local.Event(ctx, name, id, konghost.PhaseAccess, r)
	r.Finish()
	if err != nil {
		return nil, fmt.Errorf("access phase: %w", err)
	}
	res := &TryResult{Plugin: name, Outcome: "proxy"}
	for _, l := range r.Logs {
		res.Logs = append(res.Logs, l.Level+": "+l.Message)
	}
	if len(r.Response.Headers) > 0 {
		res.Headers = r.Response.Headers
	}
	if out == konghost.Exited && r.Exit != nil {
		res.Outcome = "exit"
		res.Exit = &TryExit{Status: r.Exit.Status, Headers: r.Exit.Headers}
		res.Exit.Body, res.Exit.Text = bodyField(r.Exit.Body)
		return res, nil
	}
	p := &TryProxy{Method: r.Method, Path: r.Path, Query: r.RawQuery, Headers: r.Headers}
	if r.Upstream.Method != "" {
		p.Method = r.Upstream.Method
	}
	if r.Upstream.Path != "" {
		p.Path = r.Upstream.Path
	}
	if r.Upstream.RawQuery != "" {
		p.Query = r.Upstream.RawQuery
	}
	if r.Upstream.TargetSet {
		p.Target = fmt.Sprintf("%s:%d", r.Upstream.Host, r.Upstream.Port)
	}
	body := r.Body
	if r.Upstream.BodySet {
		body, p.BodyChanged = r.Upstream.Body, !bytes.Equal(r.Upstream.Body, in.Body)
	}
	p.Body, p.Text = bodyField(body)
	res.Proxy = p
	return res, nil
}

func bodyField(b []byte) (json.RawMessage, string) {
	if len(b) == 0 {
		return nil, ""
	}
	if json.Valid(b) {
		return json.RawMessage(b), ""
	}
	return nil, string(b)
}

func tryRequest(in TryInput) *konghost.Request {
	hr := in.Request
	headers := hr.Header.Clone()
	headers.Set("Host", hr.Host)
	r := &konghost.Request{
		Scheme:         "http",
		Host:           hr.Host,
		Port:           8000,
		Method:         hr.Method,
		Path:           hr.URL.Path,
		RawQuery:       hr.URL.RawQuery,
		HTTPVersion:    1.1,
		Headers:        headers,
		Body:           in.Body,
		BodyBufferSize: len(in.Body) + 1, // offline: the body is always in memory
		ClientIP:       "127.0.0.1",
		ClientPort:     40000,
		ForwardedIP:    "127.0.0.1",
		ForwardedPort:  40000,
		StartTime:      time.Now(),
		NodeID:         "00000000-0000-4000-8000-000000000000",
		RequestID:      "tollgate-try",
		Route:          &pb.Route{Id: "00000000-0000-4000-8000-000000000001", Name: "try", Paths: []string{"/"}, Protocols: []string{"http", "https"}},
		Service:        &pb.Service{Id: "00000000-0000-4000-8000-000000000002", Name: "try", Protocol: "http", Host: "upstream.invalid", Port: 80},
		Shared:         map[string]any{},
		NginxCtx:       map[string]any{},
	}
	if in.Consumer != "" {
		r.Consumer = &pb.Consumer{Id: "00000000-0000-4000-8000-000000000003", Username: in.Consumer}
	}
	return r
}

// ReadTryConfig reads a plugin config from a JSON object file, or takes the
// first entity of plugin from a decK file (YAML or JSON with _format_version).
func ReadTryConfig(data []byte, plugin string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse config file: %w", err)
	}
	if _, ok := doc["_format_version"]; !ok {
		return json.Marshal(jsonable(doc))
	}
	if cfg, ok := findPlugin(doc, plugin); ok {
		return json.Marshal(jsonable(cfg))
	}
	return nil, fmt.Errorf("the decK file has no %s plugin", plugin)
}

// findPlugin walks a decK document for the first plugins[] entry named plugin.
func findPlugin(node any, plugin string) (map[string]any, bool) {
	switch v := node.(type) {
	case map[string]any:
		if list, ok := v["plugins"].([]any); ok {
			for _, p := range list {
				if pm, ok := p.(map[string]any); ok && pm["name"] == plugin {
					cfg, _ := pm["config"].(map[string]any)
					if cfg == nil {
						cfg = map[string]any{}
					}
					return cfg, true
				}
			}
		}
		for _, k := range []string{"services", "routes", "consumers", "consumer_groups"} {
			if cfg, ok := findPlugin(v[k], plugin); ok {
				return cfg, true
			}
		}
	case []any:
		for _, e := range v {
			if cfg, ok := findPlugin(e, plugin); ok {
				return cfg, true
			}
		}
	}
	return nil, false
}

// jsonable turns yaml.v3's decoded values into what encoding/json can encode.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = jsonable(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = jsonable(e)
		}
		return out
	default:
		return t
	}
}

// ReadTryRequest reads a client request: a raw HTTP/1.1 request, or a JSON
// body sent as POST to path.
func ReadTryRequest(data []byte, path string) (*http.Request, []byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		req, err := http.NewRequest(http.MethodPost, "http://localhost"+path, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("request path %q: %w", path, err)
		}
		req.Header.Set("Content-Type", "application/json")
		return req, data, nil
	}
	// Accept bare LF line endings, as people write request files by hand.
	norm := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	head, body, _ := bytes.Cut(norm, []byte("\n\n"))
	head = bytes.ReplaceAll(head, []byte("\n"), []byte("\r\n"))
	req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n\r\n"))))
	if err != nil {
		return nil, nil, fmt.Errorf("parse request file (want a JSON body or an HTTP/1.1 request): %w", err)
	}
	req.Header.Del("Content-Length")
	return req, body, nil
}

func (p *Program) cmdTry(ctx context.Context, args []string) int {
	fs := p.flags("try", "try <plugin> --config FILE --request FILE [--path /v1/chat/completions] [--consumer NAME] [--header 'K: V' …]")
	cfgFile := fs.String("config", "", "plugin config: a JSON object, or a decK file holding the plugin")
	reqFile := fs.String("request", "", "client request: a JSON body, or a raw HTTP/1.1 request")
	path := fs.String("path", "/v1/chat/completions", "request path when --request is a JSON body")
	consumer := fs.String("consumer", "", "authenticated consumer username")
	var headers headerFlags
	fs.Var(&headers, "header", "extra request header 'Name: value' (repeatable)")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || *cfgFile == "" || *reqFile == "" {
		fs.Usage()
		return 2
	}
	d, err := p.mustLookup(pos[0])
	if err != nil {
		return p.fail(err)
	}
	raw, err := os.ReadFile(*cfgFile)
	if err != nil {
		return p.fail(err)
	}
	cfg, err := ReadTryConfig(raw, pos[0])
	if err != nil {
		return p.fail(err)
	}
	rawReq, err := os.ReadFile(*reqFile)
	if err != nil {
		return p.fail(err)
	}
	req, body, err := ReadTryRequest(rawReq, *path)
	if err != nil {
		return p.fail(err)
	}
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	if p.Prepare != nil {
		if err := p.Prepare(true); err != nil {
			return p.fail(err)
		}
	}
	res, err := Try(ctx, d, TryInput{Config: cfg, Request: req, Body: body, Consumer: *consumer})
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			fmt.Fprintf(p.Stderr, "%s: %v\n", p.Name, err)
			return 1
		}
		return p.fail(err)
	}
	enc := json.NewEncoder(p.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return p.fail(err)
	}
	return 0
}

type headerFlags [][2]string

func (h *headerFlags) String() string { return fmt.Sprint(*h) }

func (h *headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("header %q: want 'Name: value'", v)
	}
	*h = append(*h, [2]string{strings.TrimSpace(k), strings.TrimSpace(val)})
	return nil
}
