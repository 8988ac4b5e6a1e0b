package fakellm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// API names the wire dialect a request was answered in.
type API string

// The dialects the fake speaks.
const (
	APIOpenAI    API = "openai"
	APIAzure     API = "azure"
	APIAnthropic API = "anthropic"
)

// Options configures a [Server]. The zero value accepts any credentials and
// echoes the last user message.
type Options struct {
	// Addr is the address to listen on; empty means 127.0.0.1:0.
	Addr string
	// APIKey is the key every dialect expects (Bearer, api-key, x-api-key);
	// empty disables the credential check.
	APIKey string
	// AzureAPIKey and AnthropicAPIKey override APIKey for their dialect.
	AzureAPIKey     string
	AnthropicAPIKey string
	// Models, when not empty, is the list of known models (and Azure
	// deployments); any other model is answered with the provider's 404.
	// GET /v1/models lists them.
	Models []string
	// OmitUsage makes the OpenAI routes answer like OpenAI-compatible
	// servers that send no usage (no usage object, no usage chunk).
	OmitUsage bool
	// EmbeddingDimensions is the default embedding size; 0 means 1536, the
	// size of text-embedding-3-small. A request's "dimensions" wins.
	EmbeddingDimensions int
	// Reply computes the reply text; nil means "echo: <last user message>".
	Reply func(Prompt) string
	// Now stamps created fields; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per request (never content); nil discards.
	Logger *slog.Logger
}

// Prompt is what a reply is computed from.
type Prompt struct {
	API      API
	Endpoint string // "chat/completions", "completions", "responses", "messages"
	Model    string
	// Texts holds every text of the prompt in order (system first).
	Texts []string
	// LastUser is the text of the last user message (or the prompt).
	LastUser string
}

// Request is one request as the fake received it.
type Request struct {
	Time   time.Time
	Method string
	// Path is the URL path; Query the raw query string.
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	// API is the dialect the route belongs to ("" for unknown routes).
	API API
	// Model is the body's "model" (for Azure: the deployment).
	Model string
	// Stream reports whether the body asked for a stream.
	Stream bool
}

// Decode unmarshals the request body into v.
func (r Request) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %s %s body: %w", r.Method, r.Path, err)
	}
	return nil
}

// Server is a running fake provider. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	srv  *httptest.Server
	done chan struct{}
	once sync.Once
	seq  atomic.Uint64

	mu      sync.Mutex
	reqs    []Request
	changed chan struct{}
	queue   []Behavior
	always  []Behavior
}

// New starts a fake provider and panics if it cannot listen, like
// httptest.NewServer. Close it when done.
func New(opts Options) *Server {
	s, err := Listen(opts)
	if err != nil {
		panic(fmt.Sprintf("fakellm: %v", err))
	}
	return s
}

// Listen starts a fake provider on opts.Addr (127.0.0.1:0 when empty).
func Listen(opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if opts.EmbeddingDimensions <= 0 {
		opts.EmbeddingDimensions = 1536
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: log, done: make(chan struct{}), changed: make(chan struct{})}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	return s, nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234. It is the
// Anthropic SDK's and Azure's base URL.
func (s *Server) URL() string { return s.srv.URL }

// OpenAIBaseURL is the OpenAI SDK's base URL: URL + "/v1".
func (s *Server) OpenAIBaseURL() string { return s.srv.URL + "/v1" }

// Close stops the server, releasing handlers that hang or wait for a gate.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Requests returns a copy of every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// WaitRequests waits until at least n requests have been received and returns
// them, or returns ctx's error.
func (s *Server) WaitRequests(ctx context.Context, n int) ([]Request, error) {
	for {
		s.mu.Lock()
		if len(s.reqs) >= n {
			out := append([]Request(nil), s.reqs...)
			s.mu.Unlock()
			return out, nil
		}
		changed := s.changed
		got := len(s.reqs)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d requests (got %d): %w", n, got, ctx.Err())
		}
	}
}

// Reset forgets recorded requests and every queued or persistent behaviour.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs, s.queue, s.always = nil, nil, nil
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

// route is one matched endpoint.
type route struct {
	api      API
	endpoint string // "chat/completions", "completions", "embeddings", "responses", "models", "messages"
	// deployment is the Azure deployment from the path.
	deployment string
}

func (s *Server) match(r *http.Request) (route, bool) {
	p := r.URL.Path
	anthropicHeaders := r.Header.Get("x-api-key") != "" || r.Header.Get("anthropic-version") != ""
	switch {
	case r.Method == http.MethodPost && p == "/v1/chat/completions":
		return route{api: APIOpenAI, endpoint: "chat/completions"}, true
	case r.Method == http.MethodPost && p == "/v1/completions":
		return route{api: APIOpenAI, endpoint: "completions"}, true
	case r.Method == http.MethodPost && p == "/v1/embeddings":
		return route{api: APIOpenAI, endpoint: "embeddings"}, true
	case r.Method == http.MethodPost && p == "/v1/responses":
		return route{api: APIOpenAI, endpoint: "responses"}, true
	case r.Method == http.MethodGet && p == "/v1/models":
		if anthropicHeaders {
			return route{api: APIAnthropic, endpoint: "models"}, true
		}
		return route{api: APIOpenAI, endpoint: "models"}, true
	case r.Method == http.MethodPost && p == "/v1/messages":
		return route{api: APIAnthropic, endpoint: "messages"}, true
	case strings.HasPrefix(p, "/openai/deployments/"):
		rest := strings.TrimPrefix(p, "/openai/deployments/")
		dep, ep, ok := strings.Cut(rest, "/")
		if !ok || dep == "" || r.Method != http.MethodPost {
			return route{api: APIAzure}, false
		}
		switch ep {
		case "chat/completions", "completions", "embeddings":
			return route{api: APIAzure, endpoint: ep, deployment: dep}, true
		}
		return route{api: APIAzure}, false
	case strings.HasPrefix(p, "/openai/"):
		return route{api: APIAzure}, false
	case strings.HasPrefix(p, "/v1/") && anthropicHeaders:
		return route{api: APIAnthropic}, false
	}
	return route{api: APIOpenAI}, false
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.log.Warn("fakellm read body", "path", r.URL.Path, "error", err)
		return
	}
	rt, ok := s.match(r)
	var head struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	_ = json.Unmarshal(body, &head)
	rec := Request{
		Time: start, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, API: rt.api, Model: head.Model, Stream: head.Stream,
	}
	if rt.api == APIAzure && rt.deployment != "" {
		rec.Model = rt.deployment
	}
	s.record(rec)

	ex := &exchange{s: s, w: w, r: r, route: rt, body: body, req: rec}
	ex.behavior = s.pick(rec)
	defer func() {
		s.log.Info("fakellm request", "method", r.Method, "path", r.URL.Path, "api", string(rt.api),
			"status", ex.status, "body_bytes", len(body), "duration_ms", time.Since(start).Milliseconds())
	}()
	if !ok {
		ex.notFound()
		return
	}
	ex.serve()
}

// pick takes the first matching queued behaviour, else the first matching
// persistent one.
func (s *Server) pick(r Request) Behavior {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range s.queue {
		if b.Match == nil || b.Match(r) {
			s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
			return b
		}
	}
	for _, b := range s.always {
		if b.Match == nil || b.Match(r) {
			return b
		}
	}
	return Behavior{}
}

// nextID returns a deterministic, provider-looking identifier.
func (s *Server) nextID(prefix string) string {
	n := s.seq.Add(1)
	return fmt.Sprintf("%s%s", prefix, idSuffix(n))
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// idSuffix spreads n over 24 base-62 characters so ids look like real ones
// and stay unique and reproducible.
func idSuffix(n uint64) string {
	x := n*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	var b bytes.Buffer
	for i := 0; i < 24; i++ {
		x ^= x >> 29
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 32
		b.WriteByte(idAlphabet[x%uint64(len(idAlphabet))])
	}
	return b.String()
}

func (s *Server) keyFor(api API) string {
	switch {
	case api == APIAzure && s.opts.AzureAPIKey != "":
		return s.opts.AzureAPIKey
	case api == APIAnthropic && s.opts.AnthropicAPIKey != "":
		return s.opts.AnthropicAPIKey
	}
	return s.opts.APIKey
}

func (s *Server) knownModel(m string) bool {
	if len(s.opts.Models) == 0 {
		return true
	}
	for _, k := range s.opts.Models {
		if k == m {
			return true
		}
	}
	return false
}
