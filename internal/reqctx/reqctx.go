// Package reqctx shares one request's parsed body between Tollgate's
// plugins, so that the body crosses Kong's plugin socket and is parsed once
// per request rather than once per plugin.
//
// Every PDK call is a round trip over the socket, and a prompt can be
// megabytes. The first Tollgate plugin that handles a request reads the
// path and body (two calls), parses the body with package llm, keeps the
// result in this process's [Store] and writes a token to kong.ctx.shared
// (one call). A later plugin of the same request in the same process
// (sidecar mode: every plugin in one `tollgate serve`) reads the token (one
// call) and gets the parsed request back. In Kong-managed mode each plugin
// is its own process: the token is not found there, and the plugin reads
// and parses the body itself, which is always correct, just slower.
//
// A plugin that changes the body must do it with [Store.SetBody] (which
// calls kong.service.request.set_raw_body), so the shared copy stays what
// Kong will send upstream and later plugins see the edit, as Kong's own
// kong.request.get_raw_body would show it.
package reqctx

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Kong/go-pdk"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// SharedKey is the kong.ctx.shared key that carries the token.
const SharedKey = "tollgate.request"

// Request is one client request as Tollgate's plugins see it.
type Request struct {
	// Path is kong.request.get_path (the client's path, normalised).
	Path string
	// Format is the API the path serves, or the body's detected format.
	Format llm.Format
	// Body is the body as Kong will send it upstream.
	Body []byte
	// LLM is the parsed body; nil when the body is empty or not parsed.
	LLM *llm.Request
	// ParseErr is why the body could not be parsed (an *llm.RequestError,
	// which answers as a 400 in the OpenAI shape); nil for an empty body.
	ParseErr error
	token    string
}

// Store keeps parsed requests for the plugins of one process. Entries live
// for a request's duration; they expire after TTL and at most Max are kept,
// oldest dropped first.
type Store struct {
	// TTL bounds an entry's life (default one minute, Kong's socket timeout).
	TTL time.Duration
	// Max bounds the number of entries (default 4096).
	Max int
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	order   []string // insertion order, for eviction
}

type entry struct {
	req     *Request
	expires time.Time
}

var process = &Store{}

// Load is [Store.Load] on the process-wide store.
func Load(kong *pdk.PDK) (*Request, error) { return process.Load(kong) }

// SetBody is [Store.SetBody] on the process-wide store.
func SetBody(kong *pdk.PDK, r *Request, body []byte) error { return process.SetBody(kong, r, body) }

// Load returns the request for the plugin handling kong: the one an earlier
// plugin of this request parsed in this process, or else the body read and
// parsed now and published for the next plugins. The error is a PDK
// failure; a body that is not a valid LLM request is reported in ParseErr.
func (s *Store) Load(kong *pdk.PDK) (*Request, error) {
	if tok, err := kong.Ctx.GetSharedString(SharedKey); err == nil && tok != "" {
		if r := s.get(tok); r != nil {
			return r, nil
		}
	}
	path, err := kong.Request.GetPath()
	if err != nil {
		return nil, fmt.Errorf("read request path: %w", err)
	}
	body, err := kong.Request.GetRawBody()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r := &Request{Path: path, Body: body, token: newToken()}
	r.Format, _ = llm.FormatForPath(path)
	r.parse()
	s.put(r)
	if err := kong.Ctx.SetShared(SharedKey, r.token); err != nil {
		return nil, fmt.Errorf("share parsed request: %w", err)
	}
	return r, nil
}

// SetBody sends body upstream instead of the current one
// (kong.service.request.set_raw_body), parses it again, and keeps the shared
// copy in step for the next plugins.
func (s *Store) SetBody(kong *pdk.PDK, r *Request, body []byte) error {
	if err := kong.ServiceRequest.SetRawBody(string(body)); err != nil {
		return fmt.Errorf("set upstream body: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Body = append([]byte(nil), body...)
	r.parse()
	return nil
}

func (r *Request) parse() {
	r.LLM, r.ParseErr = nil, nil
	if len(r.Body) == 0 {
		return
	}
	req, err := llm.Parse(r.Format, r.Body)
	if err != nil {
		r.ParseErr = err
		return
	}
	r.LLM = req
	if r.Format == llm.FormatUnknown {
		r.Format = req.Format
	}
}

func (s *Store) get(tok string) *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[tok]
	if e == nil || s.now().After(e.expires) {
		return nil
	}
	// Later plugins share the entry itself, so SetBody reaches everyone.
	return e.req
}

func (s *Store) put(r *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = map[string]*entry{}
	}
	now := s.now()
	// Drop expired entries from the front, then the oldest beyond Max.
	for len(s.order) > 0 {
		e := s.entries[s.order[0]]
		if e != nil && now.Before(e.expires) && len(s.order) < s.max() {
			break
		}
		delete(s.entries, s.order[0])
		s.order = s.order[1:]
	}
	s.entries[r.token] = &entry{req: r, expires: now.Add(s.ttl())}
	s.order = append(s.order, r.token)
}

// Len is the number of entries kept.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return time.Minute
}

func (s *Store) max() int {
	if s.Max > 0 {
		return s.Max
	}
	return 4096
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// IDKey is the kong.ctx.shared key of the Tollgate request id.
const IDKey = "tollgate.request_id"

// ID returns the request's Tollgate id, which every sealed hand-off of
// this request is bound to: the one an earlier plugin set in
// kong.ctx.shared, or a new one it sets now. Kong keeps ctx.shared per
// request across every plugin server, so the plugins of a request agree
// in both modes.
func ID(kong *pdk.PDK) (string, error) {
	if id, err := kong.Ctx.GetSharedString(IDKey); err == nil && id != "" {
		return id, nil
	}
	id := newToken()
	if err := kong.Ctx.SetShared(IDKey, id); err != nil {
		return "", fmt.Errorf("share request id: %w", err)
	}
	return id, nil
}

// HandOffKey is the kong.ctx.shared key of the sealed values plugins leave
// for egress.
const HandOffKey = "tollgate.handoff"

// AddHandOff leaves a sealed header value for egress. It is kept in
// kong.ctx.shared rather than set on the upstream request, so that a
// route that does not go through egress never sends it to a provider;
// tollgate-model-fallback, which points the request at egress, moves every
// hand-off into the upstream headers (HandOffs).
func AddHandOff(kong *pdk.PDK, header, value string) error {
	if strings.ContainsAny(header, "\n:") || strings.Contains(value, "\n") {
		return fmt.Errorf("hand-off %q: header names and values may not contain newlines", header)
	}
	prev, _ := kong.Ctx.GetSharedString(HandOffKey)
	next := header + ":" + value
	if prev != "" {
		next = prev + "\n" + next
	}
	if err := kong.Ctx.SetShared(HandOffKey, next); err != nil {
		return fmt.Errorf("leave hand-off for egress: %w", err)
	}
	return nil
}

// HandOffs returns the hand-offs earlier plugins left, by header.
func HandOffs(kong *pdk.PDK) (map[string]string, error) {
	v, err := kong.Ctx.GetSharedAny(HandOffKey)
	if err != nil {
		return nil, fmt.Errorf("read hand-offs: %w", err)
	}
	s, _ := v.(string)
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if h, val, ok := strings.Cut(line, ":"); ok {
			out[h] = val
		}
	}
	return out, nil
}

// ObligationsKey is the kong.ctx.shared key where an authorization plugin
// (tollgate-opa) leaves the obligations of its decision, as JSON, for the
// plugins after it to honour.
const ObligationsKey = "tollgate.obligations"

// Obligations are what a policy decision asks of the other plugins.
type Obligations struct {
	// TokenLimitScale multiplies every token window of the rate limiter
	// for this request (2 doubles a consumer's limits, 0.5 halves them);
	// 0 means unset.
	TokenLimitScale float64 `json:"token_limit_scale,omitempty"`
	// MaxTokens caps the completion a request may ask for; 0 means unset.
	MaxTokens int `json:"max_tokens,omitempty"`
	// Models, when set, are the model globs the caller may use.
	Models []string `json:"models,omitempty"`
}

// LoadObligations reads the obligations an earlier plugin left; none is
// the zero value. A value that does not decode is an error: a plugin that
// honours obligations must not silently ignore one.
func LoadObligations(kong *pdk.PDK) (Obligations, error) {
	var o Obligations
	s, err := kong.Ctx.GetSharedString(ObligationsKey)
	if err != nil || s == "" {
		return o, nil // an absent key reads as a type error in go-pdk: no obligations
	}
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return o, fmt.Errorf("decode %s: %w", ObligationsKey, err)
	}
	return o, nil
}
