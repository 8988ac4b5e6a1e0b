// Package proxy is the Kong emulator's request path: it routes a request
// with the declarative config, runs Kong's bundled key-auth and the
// external plugins phase by phase in priority order over real sockets
// (konghost), proxies to the service with streaming (or buffered, when a
// collected plugin has a response handler), and runs log handlers
// asynchronously afterwards. It follows §2–§5 and §7 of
// shared/kong-external-plugin-protocol.md; spec/kongemu/README.md lists
// where it differs from Kong.
package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/spec/kongemu"
	"github.com/tollgate-ai/tollgate/spec/kongemu/pluginservers"
)

// KongVersion is the Kong the emulator stands in for (Server and Via headers).
const KongVersion = "3.10.0"

// maxRetries caps Kong's unbounded retry of an event after "closed" (spec §7.4).
const maxRetries = 5

// Options configure a Gateway.
type Options struct {
	// Servers are the queried (and started) plugin servers.
	Servers *pluginservers.Manager
	// Workers is the number of Kong workers simulated (default 2): each has
	// its own connection pools, sequence counters and instances.
	Workers int
	// BodyBufferSize is nginx's client body buffer (default from kong.conf).
	BodyBufferSize int
	// BodyDir is client_body_temp (default <prefix>/client_body_temp).
	BodyDir string
	// Transport reaches the services (default: a plain http.Transport).
	Transport http.RoundTripper
	// NodeID is kong.node.get_id (default: a random UUID).
	NodeID string
	Log    *slog.Logger
}

// Gateway is the emulated Kong proxy.
type Gateway struct {
	opts    Options
	servers *pluginservers.Manager
	log     *slog.Logger
	tr      http.RoundTripper

	state   atomic.Pointer[generation]
	seq     seqCounter
	workers []*worker
	rr      atomic.Uint64

	logs    pending
	spooled atomic.Int64 // request bodies handed over as a file

	mu       sync.Mutex
	pdkLines []PDKLog
}

// PDKLog is one kong.log.* line a plugin wrote, as Kong's error.log has it.
type PDKLog struct {
	Plugin, Phase, Level, Message string
}

// New builds a gateway serving deck (decK YAML).
func New(opts Options, deck []byte) (*Gateway, error) {
	if opts.Servers == nil {
		return nil, errors.New("no plugin servers")
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.BodyBufferSize <= 0 {
		opts.BodyBufferSize = opts.Servers.Conf.BodyBufferSize
	}
	if opts.BodyDir == "" {
		opts.BodyDir = opts.Servers.Conf.Prefix + "/client_body_temp"
	}
	if opts.NodeID == "" {
		opts.NodeID = uuid()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	g := &Gateway{opts: opts, servers: opts.Servers, log: opts.Log, tr: opts.Transport}
	if g.tr == nil {
		g.tr = &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 60 * time.Second}).DialContext,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     60 * time.Second,
		}
	}
	if err := g.Load(deck); err != nil {
		return nil, err
	}
	for i := range opts.Workers {
		g.workers = append(g.workers, newWorker(g, i))
	}
	return g, nil
}

// Load replaces the declarative config, as a DB-less reload does: the
// plugins iterator is rebuilt, so every plugin gets a new __seq__ and its
// instances restart lazily in each worker.
func (g *Gateway) Load(deck []byte) error {
	gen, err := buildGeneration(deck, g.servers)
	if err != nil {
		return err
	}
	if old := g.state.Load(); old != nil {
		gen.n = old.n + 1
	}
	g.state.Store(gen)
	return nil
}

// Close waits for log handlers and closes the workers' connections.
func (g *Gateway) Close() {
	g.logs.Wait()
	for _, w := range g.workers {
		w.close()
	}
}

// WaitLogs waits until every request in flight has been answered and its
// log handlers have run.
func (g *Gateway) WaitLogs() { g.logs.Wait() }

// pending counts work in flight. Unlike sync.WaitGroup it may go up from
// zero while someone waits: requests keep arriving while a test waits.
type pending struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int
}

func (p *pending) Add(d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cond == nil {
		p.cond = sync.NewCond(&p.mu)
	}
	p.n += d
	if p.n <= 0 {
		p.cond.Broadcast()
	}
}

func (p *pending) Done() { p.Add(-1) }

func (p *pending) Wait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cond == nil {
		p.cond = sync.NewCond(&p.mu)
	}
	for p.n > 0 {
		p.cond.Wait()
	}
}

// SpooledBodies counts the request bodies that plugins received as a file
// path because they were larger than the body buffer.
func (g *Gateway) SpooledBodies() int64 { return g.spooled.Load() }

// PDKLogs returns the kong.log.* lines written so far.
func (g *Gateway) PDKLogs() []PDKLog {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]PDKLog(nil), g.pdkLines...)
}

func (g *Gateway) recordLogs(lines []konghost.LogLine) {
	if len(lines) == 0 {
		return
	}
	g.mu.Lock()
	for _, l := range lines {
		g.pdkLines = append(g.pdkLines, PDKLog{Plugin: l.Plugin, Phase: string(l.Phase), Level: l.Level, Message: l.Message})
	}
	if n := len(g.pdkLines); n > 10000 {
		g.pdkLines = append([]PDKLog(nil), g.pdkLines[n-5000:]...)
	}
	g.mu.Unlock()
}

// call is one request through the gateway.
type call struct {
	g       *Gateway
	gen     *generation
	w       *worker
	r       *konghost.Request
	start   time.Time
	route   *routeMatch
	entries []*entity // collected external plugins, priority order
	sent    bool      // the client response was written by Kong itself
}

// ServeHTTP proxies one client request.
func (g *Gateway) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	g.logs.Add(1) // until the log handlers of this request have run
	gen := g.state.Load()
	c := &call{g: g, gen: gen, w: g.workers[int(g.rr.Add(1))%len(g.workers)], start: time.Now()}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(rw, "Bad request", http.StatusBadRequest)
		g.logs.Done()
		return
	}
	c.r = g.newRequest(req, body)
	ctx := req.Context()

	// rewrite runs before routing, for global plugins only (spec §4.1).
	for _, e := range gen.global {
		if e.plugin.HasPhase(konghost.PhaseRewrite) {
			if done := c.runPhase(ctx, rw, e, konghost.PhaseRewrite); done {
				c.finish(rw, gen.global)
				return
			}
		}
	}

	rm, ok := gen.match(req, c.r)
	if !ok {
		c.fail(rw, http.StatusNotFound, "no Route matched with those values")
		c.finish(rw, gen.global)
		return
	}
	c.route = rm
	c.r.Route, c.r.Service, c.r.Captures = rm.pbRoute, rm.pbService, rm.captures
	if rm.exit != nil { // https_redirect_status_code: answered before access
		c.writeKongResponse(rw, rm.exit)
		c.finish(rw, gen.global)
		return
	}

	if c.access(ctx, rw) {
		c.finish(rw, c.entries)
		return
	}
	c.proxy(ctx, rw)
	c.finish(rw, c.entries)
}

// access runs the access phase of every plugin that applies, in priority
// order, resolving each plugin's config with the consumer known at that
// point. It reports whether the response was already sent.
func (c *call) access(ctx context.Context, rw http.ResponseWriter) bool {
	var consumer *consumerRef
	answered := false
	for _, name := range c.gen.order {
		pl := c.gen.resolve(name, c.route, consumer)
		if pl == nil {
			continue
		}
		if pl.bundled != nil {
			if answered {
				continue
			}
			res := pl.bundled(c.r, c.gen)
			if res.exit != nil {
				c.r.Exit = res.exit
				answered = true
				continue
			}
			if res.consumer != nil {
				consumer = res.consumer
			}
			continue
		}
		e := pl.entity
		c.entries = append(c.entries, e)
		if answered || !e.plugin.HasPhase(konghost.PhaseAccess) {
			continue
		}
		if done := c.runPhase(ctx, rw, e, konghost.PhaseAccess); done {
			answered = true
		}
	}
	if c.r.Exit != nil && !c.sent {
		c.writeExit(rw)
		return true
	}
	return answered
}

// runPhase runs one phase of one plugin and answers the client when the
// plugin exited or failed. It reports whether the response was sent.
func (c *call) runPhase(ctx context.Context, rw http.ResponseWriter, e *entity, phase konghost.Phase) bool {
	out, err := c.g.event(ctx, c.w, c.gen, e, phase, c.r)
	if err != nil {
		c.g.log.Error("pluginserver error", "plugin", e.name, "phase", string(phase), "error", err.Error())
		if c.r.Exit == nil {
			c.fail(rw, http.StatusInternalServerError, "An unexpected error occurred")
		}
		return true
	}
	if out == konghost.Exited {
		c.writeExit(rw)
		return true
	}
	return false
}

// event sends one event, starting the instance lazily, and on "closed"
// resets the plugin's instances in every worker and retries (spec §2.6).
func (g *Gateway) event(ctx context.Context, w *worker, gen *generation, e *entity, phase konghost.Phase, r *konghost.Request) (konghost.Outcome, error) {
	for attempt := 0; ; attempt++ {
		id, err := w.instanceFor(ctx, e, w.seqFor(gen, e, &g.seq))
		if err != nil {
			return konghost.Continued, fmt.Errorf("start instance: %w", err)
		}
		out, err := w.clients[e.name].HandleEvent(ctx, id, phase, r)
		if err == nil {
			return out, nil
		}
		if !konghost.IsClosed(err) || attempt >= maxRetries {
			return out, err
		}
		g.log.Warn("plugin server connection closed; resetting its instances", "plugin", e.name, "error", err.Error())
		for _, wk := range g.workers {
			wk.reset(e.name)
		}
	}
}

func (c *call) writeExit(rw http.ResponseWriter) {
	ex := c.r.Exit
	h := rw.Header()
	for k, v := range ex.Headers {
		h[k] = append([]string(nil), v...)
	}
	h.Set("Content-Length", strconv.Itoa(len(ex.Body)))
	h.Set("Server", "kong/"+KongVersion)
	h.Set("X-Kong-Response-Latency", strconv.FormatInt(time.Since(c.start).Milliseconds(), 10))
	h.Set("X-Kong-Request-Id", c.r.RequestID)
	rw.WriteHeader(ex.Status)
	_, _ = rw.Write(ex.Body)
	c.r.Response.Status, c.r.Response.Source, c.r.Response.Size = ex.Status, "exit", len(ex.Body)
	c.r.Response.Headers = h.Clone()
	c.sent = true
}

// finish ends the request and schedules the log handlers of the collected
// plugins, each in its own timer, concurrently (spec §4.2, §4.5).
func (c *call) finish(rw http.ResponseWriter, entries []*entity) {
	c.r.Latencies.Request = int(time.Since(c.start).Milliseconds())
	if c.r.BodyFile() != "" {
		c.g.spooled.Add(1)
	}
	c.r.Finish()
	var timers sync.WaitGroup
	for _, e := range entries {
		if !e.plugin.HasPhase(konghost.PhaseLog) {
			continue
		}
		c.g.logs.Add(1)
		timers.Add(1)
		go func() {
			defer c.g.logs.Done()
			defer timers.Done()
			ctx, cancel := context.WithTimeout(context.Background(), konghost.DefaultTimeout)
			defer cancel()
			if _, err := c.g.event(ctx, c.w, c.gen, e, konghost.PhaseLog, c.r); err != nil {
				c.g.log.Error("pluginserver error in log phase", "plugin", e.name, "error", err.Error())
			}
		}()
	}
	go func() {
		defer c.g.logs.Done() // the Add of ServeHTTP
		timers.Wait()
		c.g.recordLogs(c.r.LogLines())
	}()
}

func (g *Gateway) newRequest(req *http.Request, body []byte) *konghost.Request {
	host, port := splitHostPort(req.Host, 80)
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
		if !strings.Contains(req.Host, ":") {
			port = 443
		}
	}
	if la, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		_, port = splitHostPort(la.String(), port)
	}
	headers := req.Header.Clone()
	headers.Set("Host", req.Host)
	clientIP, clientPort := splitHostPort(req.RemoteAddr, 0)
	ver, _ := strconv.ParseFloat(fmt.Sprintf("%d.%d", req.ProtoMajor, req.ProtoMinor), 64)
	return &konghost.Request{
		Scheme: scheme, Host: strings.ToLower(host), Port: port, Method: req.Method,
		Path: kongemu.NormalizePath(req.URL.Path), RawQuery: req.URL.RawQuery, HTTPVersion: ver,
		Headers: headers, Body: body, BodyBufferSize: g.opts.BodyBufferSize, BodyDir: g.opts.BodyDir,
		ClientIP: clientIP, ClientPort: clientPort, ForwardedIP: clientIP, ForwardedPort: clientPort,
		StartTime: time.Now(), NodeID: g.opts.NodeID, RequestID: requestID(),
		Shared: map[string]any{}, NginxCtx: map[string]any{},
		LoadConsumer: g.state.Load().loadConsumer,
	}
}

func splitHostPort(hp string, def int) (string, int) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, def
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return h, def
	}
	return h, n
}

// writeKongResponse sends a response Kong makes itself (kong.response.error),
// in the format the client's Accept asks for.
func (c *call) writeKongResponse(rw http.ResponseWriter, e *kongemu.ErrorResponse) {
	h, body := e.Render(c.r.Headers.Get("Accept"), c.r.RequestID)
	dst := rw.Header()
	for k, v := range h {
		dst[k] = v
	}
	dst.Set("Content-Length", strconv.Itoa(len(body)))
	dst.Set("Server", "kong/"+KongVersion)
	dst.Set("X-Kong-Response-Latency", strconv.FormatInt(time.Since(c.start).Milliseconds(), 10))
	dst.Set("X-Kong-Request-Id", c.r.RequestID)
	rw.WriteHeader(e.Status)
	_, _ = rw.Write(body)
	c.r.Response.Status, c.r.Response.Source, c.r.Response.Size = e.Status, "error", len(body)
	c.r.Response.Headers = dst.Clone()
	c.sent = true
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
