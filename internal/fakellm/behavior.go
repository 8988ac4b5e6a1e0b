package fakellm

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// ErrorKind is a provider error the fake renders in the dialect of the route
// that was called (OpenAI, Azure or Anthropic body and status).
type ErrorKind int

// Error kinds, with the status each dialect answers them with.
const (
	ErrorNone ErrorKind = iota
	// ErrorBadRequest is 400 invalid_request_error.
	ErrorBadRequest
	// ErrorContextLength is 400: OpenAI/Azure code context_length_exceeded,
	// Anthropic "prompt is too long".
	ErrorContextLength
	// ErrorUnauthorized is 401 (invalid_api_key, authentication_error).
	ErrorUnauthorized
	// ErrorPermission is 403 (permission_error).
	ErrorPermission
	// ErrorNotFound is 404 (model_not_found, DeploymentNotFound, not_found_error).
	ErrorNotFound
	// ErrorRateLimit is 429 (rate_limit_exceeded, rate_limit_error); set
	// Behavior.RetryAfter to send Retry-After.
	ErrorRateLimit
	// ErrorServer is 500 (server_error, api_error).
	ErrorServer
	// ErrorUnavailable is 503 (OpenAI "overloaded", Anthropic api_error).
	ErrorUnavailable
	// ErrorOverloaded is Anthropic's 529 overloaded_error (503 elsewhere).
	ErrorOverloaded
)

// Interrupt says how a [Behavior] ends an answer early.
type Interrupt int

// Interrupt modes.
const (
	// InterruptNone lets the answer finish.
	InterruptNone Interrupt = iota
	// InterruptClose drops the connection without ending the response
	// (no last chunk, no [DONE]): the client sees an unexpected EOF.
	InterruptClose
	// InterruptHang stops writing and holds the connection until the client
	// goes away or the server closes.
	InterruptHang
	// InterruptError sends the provider's in-stream error event
	// (Anthropic "event: error", OpenAI "data: {"error":…}") for
	// Behavior.Error (ErrorOverloaded when unset) and ends the stream.
	InterruptError
)

// Behavior customises the answer to one request (queued with
// [Server.Enqueue]) or to every matching request ([Server.Always]).
// The zero value is a normal answer.
type Behavior struct {
	// Match restricts the behaviour to requests it returns true for.
	Match func(Request) bool

	// Status with Body answers with exactly that raw response (its
	// Content-Type sniffed unless Header gives one). Status alone
	// with Error unset picks the ErrorKind for that status.
	Status int
	Body   []byte
	// Error answers with a provider-shaped error; Message overrides its text.
	Error   ErrorKind
	Message string
	// RetryAfter sets the Retry-After header (whole seconds, rounded up).
	RetryAfter time.Duration
	// Header is added to the response headers.
	Header http.Header

	// Reply overrides the reply text; OmitUsage drops usage (OpenAI routes).
	Reply     string
	OmitUsage bool
	// ChunkBytes, when positive, streams the reply in pieces of that many
	// bytes (whole characters) instead of one per word, as real tokenizers
	// split words; usage still counts words.
	ChunkBytes int

	// HeaderDelay waits before anything is written.
	HeaderDelay time.Duration
	// Hang writes nothing and waits until the client goes away.
	Hang bool
	// ChunkDelay waits before every stream event.
	ChunkDelay time.Duration
	// Release, when set, gates every stream event (including OpenAI's final
	// "[DONE]"): the fake receives once from it before writing each event.
	// Closing it releases the rest. Headers are sent before the first event.
	Release <-chan struct{}
	// Interrupt ends a stream after InterruptAfter events (0: right after
	// the headers). For a non-streamed answer, InterruptClose and
	// InterruptHang act after half of the body has been written.
	Interrupt      Interrupt
	InterruptAfter int
}

// Enqueue adds one-shot behaviours: each is used by the next request it
// matches, in order, and then discarded.
func (s *Server) Enqueue(b ...Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, b...)
}

// Always adds a persistent behaviour, used (first match wins) when no queued
// behaviour matches.
func (s *Server) Always(b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = append(s.always, b)
}

// Pending is the number of queued behaviours not used yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// RateLimited is a 429 with Retry-After.
func RateLimited(retryAfter time.Duration) Behavior {
	return Behavior{Error: ErrorRateLimit, RetryAfter: retryAfter}
}

// ContextLengthExceeded is the 400 a provider answers for a too long prompt.
func ContextLengthExceeded() Behavior { return Behavior{Error: ErrorContextLength} }

// ServerError is a 500 in the provider's shape.
func ServerError() Behavior { return Behavior{Error: ErrorServer} }

// Unavailable is a 503 in the provider's shape.
func Unavailable() Behavior { return Behavior{Error: ErrorUnavailable} }

func kindForStatus(status int) ErrorKind {
	switch status {
	case http.StatusBadRequest:
		return ErrorBadRequest
	case http.StatusUnauthorized:
		return ErrorUnauthorized
	case http.StatusForbidden:
		return ErrorPermission
	case http.StatusNotFound:
		return ErrorNotFound
	case http.StatusTooManyRequests:
		return ErrorRateLimit
	case http.StatusServiceUnavailable:
		return ErrorUnavailable
	case 529:
		return ErrorOverloaded
	}
	return ErrorServer
}

// errStop tells a writer the exchange was ended (client gone, server closed,
// interruption) and nothing more should be written.
var errStop = errors.New("fakellm: exchange ended")

// exchange is one request being answered.
type exchange struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	route    route
	body     []byte
	req      Request
	behavior Behavior
	status   int
	events   int
}

// wait sleeps for d unless the client or the server goes away first.
func (ex *exchange) wait(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ex.r.Context().Done():
		return errStop
	case <-ex.s.done:
		return errStop
	}
}

// hang blocks until the client or the server goes away.
func (ex *exchange) hang() {
	select {
	case <-ex.r.Context().Done():
	case <-ex.s.done:
	}
}

func (ex *exchange) serve() {
	b := ex.behavior
	if err := ex.wait(b.HeaderDelay); err != nil {
		return
	}
	if b.Hang {
		ex.hang()
		return
	}
	if b.Status != 0 && len(b.Body) > 0 {
		ex.setHeaders()
		if b.Header.Get("Content-Type") == "" {
			ex.w.Header().Set("Content-Type", sniffContentType(b.Body))
		}
		ex.writeBody(b.Status, b.Body)
		return
	}
	if kind := b.Error; kind != ErrorNone || b.Status >= 400 {
		if kind == ErrorNone {
			kind = kindForStatus(b.Status)
		}
		ex.fail(kind, b.Message)
		return
	}
	switch ex.route.api {
	case APIAnthropic:
		ex.serveAnthropic()
	case APIAzure:
		ex.serveAzure()
	default:
		ex.serveOpenAI()
	}
}

// setHeaders adds the behaviour's headers, Retry-After and a request id.
func (ex *exchange) setHeaders() {
	h := ex.w.Header()
	for k, vs := range ex.behavior.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if ra := ex.behavior.RetryAfter; ra > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
	}
	id := idSuffix(ex.s.seq.Add(1))
	switch ex.route.api {
	case APIAnthropic:
		h.Set("request-id", "req_"+id)
	case APIAzure:
		h.Set("apim-request-id", id)
		h.Set("x-request-id", id)
	default:
		h.Set("x-request-id", "req_"+id)
		h.Set("openai-version", "2020-10-01")
		h.Set("openai-processing-ms", "1")
	}
}

// writeJSONBody writes a complete JSON answer.
func (ex *exchange) writeJSON(status int, v any) {
	ex.setHeaders()
	ex.w.Header().Set("Content-Type", "application/json")
	ex.writeBody(status, mustJSON(v))
}

// writeBody writes status and body, honouring a non-stream interruption.
func (ex *exchange) writeBody(status int, body []byte) {
	ex.status = status
	ex.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	b := ex.behavior
	if b.Interrupt == InterruptClose || b.Interrupt == InterruptHang {
		ex.w.WriteHeader(status)
		_, _ = ex.w.Write(body[:len(body)/2])
		_ = http.NewResponseController(ex.w).Flush()
		if b.Interrupt == InterruptHang {
			ex.hang()
		}
		panic(http.ErrAbortHandler)
	}
	ex.w.WriteHeader(status)
	_, _ = ex.w.Write(body)
}

// startStream sends the headers of an SSE answer.
func (ex *exchange) startStream() {
	ex.setHeaders()
	h := ex.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	ex.status = http.StatusOK
	ex.w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(ex.w).Flush()
}

// event writes one SSE event after the behaviour's delay, gate and
// interruption checks. A non-nil error means stop writing.
func (ex *exchange) event(name string, data []byte) error {
	b := ex.behavior
	if b.Interrupt != InterruptNone && ex.events >= b.InterruptAfter {
		switch b.Interrupt {
		case InterruptHang:
			ex.hang()
		case InterruptError:
			kind := b.Error
			if kind == ErrorNone {
				kind = ErrorOverloaded
			}
			ex.writeStreamError(kind, b.Message)
			return errStop
		}
		panic(http.ErrAbortHandler)
	}
	if err := ex.wait(b.ChunkDelay); err != nil {
		return err
	}
	if b.Release != nil {
		select {
		case <-b.Release:
		case <-ex.r.Context().Done():
			return errStop
		case <-ex.s.done:
			return errStop
		}
	}
	ex.events++
	var err error
	if name != "" {
		_, err = fmt.Fprintf(ex.w, "event: %s\ndata: %s\n\n", name, data)
	} else {
		_, err = fmt.Fprintf(ex.w, "data: %s\n\n", data)
	}
	if err != nil {
		return errStop
	}
	if err := http.NewResponseController(ex.w).Flush(); err != nil {
		return errStop
	}
	return nil
}

func (ex *exchange) writeStreamError(kind ErrorKind, msg string) {
	_, body := ex.errorBody(kind, msg)
	if ex.route.api == APIAnthropic {
		_, _ = fmt.Fprintf(ex.w, "event: error\ndata: %s\n\n", body)
	} else {
		_, _ = fmt.Fprintf(ex.w, "data: %s\n\n", body)
	}
	_ = http.NewResponseController(ex.w).Flush()
}

// fail answers with a provider-shaped error.
func (ex *exchange) fail(kind ErrorKind, msg string) {
	status, body := ex.errorBody(kind, msg)
	ex.setHeaders()
	ex.w.Header().Set("Content-Type", "application/json")
	if ex.route.api == APIAnthropic {
		ex.w.Header().Set("x-should-retry", strconv.FormatBool(status == 429 || status >= 500))
	}
	ex.writeBody(status, body)
}

func (ex *exchange) errorBody(kind ErrorKind, msg string) (int, []byte) {
	switch ex.route.api {
	case APIAnthropic:
		return anthropicError(kind, msg, ex.req.Model)
	case APIAzure:
		return azureError(kind, msg, ex.req.Model)
	}
	return openAIError(kind, msg, ex.req.Model)
}

// notFound answers an unknown route in the dialect its path suggests.
func (ex *exchange) notFound() {
	switch ex.route.api {
	case APIAnthropic:
		ex.fail(ErrorNotFound, "Not Found")
	case APIAzure:
		ex.writeJSON(http.StatusNotFound, map[string]any{"error": map[string]any{"code": "404", "message": "Resource not found"}})
	default:
		ex.writeJSON(http.StatusNotFound, openAIErrorObject(
			fmt.Sprintf("Invalid URL (%s %s)", ex.r.Method, ex.r.URL.Path), "invalid_request_error", nil, nil))
	}
}

func sniffContentType(body []byte) string {
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "application/json"
	}
	return http.DetectContentType(body)
}
