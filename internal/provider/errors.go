package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

// Class is the kind of an upstream failure, what fallback decisions and
// metrics go by.
type Class string

// The classes.
const (
	ClassRateLimit     Class = "rate_limit"     // 429 (and 402): rate limit or exhausted quota
	ClassServer        Class = "server"         // 5xx (504 and Anthropic's 529 included), or an answer that is not the provider's
	ClassTimeout       Class = "timeout"        // no answer in time: a transport timeout, or 408
	ClassConnection    Class = "connection"     // the connection failed or dropped
	ClassContextLength Class = "context_length" // the prompt does not fit the model's context window
	ClassAuth          Class = "auth"           // 401, 403: the target's credentials
	ClassBadRequest    Class = "bad_request"    // other 4xx: the request itself
	ClassNotFound      Class = "not_found"      // 404: unknown model or deployment
	ClassContentFilter Class = "content_filter" // the provider's content policy refused the prompt
	// ClassUnsupported is a request this target cannot serve (or is not
	// configured to): nothing was sent, another target may serve it.
	ClassUnsupported Class = "unsupported"
)

// RetryOnValues lists the retry_on config values [Retryable] understands.
func RetryOnValues() []string {
	return []string{"429", "5xx", "timeout", "connection", "context_length"}
}

// Retryable reports whether a failure of class c should move the request
// to the next target under the retry_on config values: "429" (rate_limit),
// "5xx" (server: every 5xx answer, gateway timeouts included), "timeout"
// (no answer in time), "connection", "context_length" (a target with a
// larger context window may take it). Unsupported is always retryable:
// nothing reached the provider. Unknown values are ignored.
func Retryable(c Class, retryOn []string) bool {
	if c == ClassUnsupported {
		return true
	}
	for _, v := range retryOn {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "429":
			if c == ClassRateLimit {
				return true
			}
		case "5xx":
			if c == ClassServer {
				return true
			}
		case "timeout":
			if c == ClassTimeout {
				return true
			}
		case "connection":
			if c == ClassConnection {
				return true
			}
		case "context_length":
			if c == ClassContextLength {
				return true
			}
		}
	}
	return false
}

// UpstreamError is a failed upstream call, classified.
type UpstreamError struct {
	// Status is the status to answer the client with when this error is
	// final, with Body: 429 for rate limits, 400/404/413 for the client's
	// request, 502 for credentials and server failures (503 when the
	// provider is overloaded, 504 when it timed out), 504 for timeouts.
	Status int
	Class  Class
	// RetryAfter is how long the provider asked to wait (Retry-After,
	// retry-after-ms, or the reset time of an exhausted rate limit); 0 if
	// it did not say.
	RetryAfter time.Duration
	// Body is the error for the client, in the OpenAI shape
	// ({"error":{"message","type","param","code"}}): the provider's own
	// body when it already is that shape and the client can act on it
	// (bad request, context length, content filter, not found), otherwise
	// one written here that says what failed without the provider's
	// details (which may name the gateway's account or echo the key).
	Body []byte
	// UpstreamStatus is the provider's HTTP status; 0 when there was no
	// answer (transport failure, a request the adapter could not build, an
	// answer that could not be read). For an error event inside a stream
	// (which itself answered 200) it is the status the event's error type
	// stands for: 529 for Anthropic's overloaded_error, 429 for a rate
	// limit.
	UpstreamStatus int
	// Message describes the failure for logs: provider, status and the
	// provider's error type or code. It never holds prompt text, the
	// provider's message or a key.
	Message string
	// Err is the cause of a transport failure, for errors.Is; it is not
	// part of Error().
	Err error
}

// Error returns Message.
func (e *UpstreamError) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *UpstreamError) Unwrap() error { return e.Err }

// Retryable is [Retryable] for e's class.
func (e *UpstreamError) Retryable(retryOn []string) bool {
	return Retryable(e.Class, retryOn)
}

// Respond answers the client with the error: Status, JSON Body and, for
// 429 and 503, Retry-After in whole seconds (rounded up) when known.
func (e *UpstreamError) Respond(w http.ResponseWriter) {
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusBadGateway
	}
	body := e.Body
	if len(body) == 0 {
		body = apierror.Upstream(status, "upstream provider error").Body()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if e.RetryAfter > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(e.RetryAfter.Seconds())), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// sseEvent is the error as an OpenAI stream error event.
func (e *UpstreamError) sseEvent() []byte {
	return sse.AppendData(nil, e.Body)
}

// Client error messages written here.
const (
	msgRateLimit   = "The upstream provider is rate limiting requests; retry later."
	msgQuota       = "The upstream provider's quota for this gateway is exhausted."
	msgAuth        = "The upstream provider rejected the gateway's credentials."
	msgServer      = "The upstream provider failed to answer."
	msgUnavailable = "The upstream provider is overloaded or unavailable; retry later."
	msgTimeout     = "The upstream provider did not answer in time."
	msgConnection  = "The connection to the upstream provider failed."
	msgInvalid     = "The upstream provider sent an answer that could not be read."
)

// providerError is what a provider's error body says.
type providerError struct {
	Message, Type, Code, Param string
	// InnerCode is Azure's innererror.code.
	InnerCode string
	// OpenAIShaped is set when the body is {"error":{…"message"…}}, which
	// clients read as is.
	OpenAIShaped bool
}

// parseProviderError reads the error bodies providers send: OpenAI's and
// Azure's {"error":{…}}, Anthropic's {"type":"error","error":{…}},
// {"error":"message"} (Ollama), {"object":"error","message":…} (vLLM,
// Mistral) and {"detail":…} (FastAPI servers).
func parseProviderError(body []byte) providerError {
	var pe providerError
	if e, ok := apierror.Parse(body); ok {
		pe.Message, pe.Type, pe.Code, pe.Param = e.Message, e.Type, e.Code, e.Param
		var inner struct {
			Error struct {
				Message    *string `json:"message"`
				InnerError struct {
					Code string `json:"code"`
				} `json:"innererror"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &inner) == nil {
			pe.InnerCode = inner.Error.InnerError.Code
			pe.OpenAIShaped = inner.Error.Message != nil && *inner.Error.Message != ""
		}
		return pe
	}
	var flat struct {
		Message json.RawMessage `json:"message"`
		Type    json.RawMessage `json:"type"`
		Code    json.RawMessage `json:"code"`
		Param   json.RawMessage `json:"param"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &flat) == nil {
		pe.Message, pe.Type, pe.Code, pe.Param = scalar(flat.Message), scalar(flat.Type), scalar(flat.Code), scalar(flat.Param)
		if pe.Message == "" {
			pe.Message = scalar(flat.Detail)
		}
	}
	return pe
}

// scalar returns a JSON string's value or a number's text.
func scalar(raw json.RawMessage) string {
	if s, ok := stringValue(raw); ok {
		return s
	}
	if _, err := strconv.ParseFloat(string(raw), 64); err == nil {
		return string(raw)
	}
	return ""
}

// contextLengthHints are (lower-case) phrases providers use for a prompt
// over the context window.
var contextLengthHints = []string{
	"context_length_exceeded", "maximum context length", "context length", "context window",
	"prompt is too long", "input is too long", "too many tokens", "exceed context limit",
	"reduce the length of the messages", "maximum number of tokens",
}

func mentionsContextLength(pe providerError) bool {
	if pe.Code == "context_length_exceeded" {
		return true
	}
	msg := strings.ToLower(pe.Message)
	for _, h := range contextLengthHints {
		if strings.Contains(msg, h) {
			return true
		}
	}
	return false
}

func isContentFilter(pe providerError) bool {
	switch pe.Code {
	case "content_filter", "content_policy_violation", "ResponsibleAIPolicyViolation":
		return true
	}
	return pe.InnerCode == "ResponsibleAIPolicyViolation"
}

func isQuota(pe providerError) bool {
	return pe.Type == "insufficient_quota" || pe.Code == "insufficient_quota" ||
		pe.Type == "billing_error" || strings.Contains(strings.ToLower(pe.Message), "credit balance")
}

// classify turns an upstream error answer into an UpstreamError. provider
// names the adapter in Message; passthrough says whether a body already in
// the OpenAI shape may reach the client as is.
func classify(provider string, status int, h http.Header, body []byte, pe providerError, passthrough bool, now time.Time) *UpstreamError {
	e := &UpstreamError{UpstreamStatus: status}
	quota := isQuota(pe)
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusPaymentRequired:
		e.Class = ClassRateLimit
	case isContentFilter(pe) && status >= 400 && status < 500:
		e.Class = ClassContentFilter
	case (status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge ||
		status == http.StatusUnprocessableEntity) && mentionsContextLength(pe):
		e.Class = ClassContextLength
	case quota && status >= 400 && status < 500:
		e.Class = ClassRateLimit
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Class = ClassAuth
	case status == http.StatusNotFound:
		e.Class = ClassNotFound
	case status == http.StatusRequestTimeout:
		e.Class = ClassTimeout
	case status >= 400 && status < 500:
		e.Class = ClassBadRequest
	default:
		e.Class = ClassServer
	}
	if e.Class == ClassRateLimit || status == http.StatusServiceUnavailable || status == 529 {
		e.RetryAfter = retryAfter(h, status, now)
	}

	detail := identifier(pe.Code)
	if detail == "" {
		detail = identifier(pe.Type)
	}
	e.Message = fmt.Sprintf("%s: upstream answered %d (%s)", provider, status, e.Class)
	if detail != "" {
		e.Message = fmt.Sprintf("%s: upstream answered %d (%s, %s)", provider, status, e.Class, detail)
	}

	var ae *apierror.Error
	switch e.Class {
	case ClassRateLimit:
		ae = apierror.RateLimited(msgRateLimit, 0)
		if quota {
			ae = apierror.QuotaExceeded(msgQuota, 0)
		}
	case ClassAuth:
		ae = apierror.Upstream(http.StatusBadGateway, msgAuth)
	case ClassServer:
		switch status {
		case http.StatusServiceUnavailable, 529:
			ae = apierror.Upstream(http.StatusServiceUnavailable, msgUnavailable)
		case http.StatusGatewayTimeout, 524:
			ae = apierror.Upstream(http.StatusGatewayTimeout, msgTimeout)
		default:
			ae = apierror.Upstream(http.StatusBadGateway, msgServer)
		}
	case ClassTimeout:
		ae = apierror.Upstream(http.StatusGatewayTimeout, msgTimeout)
	default: // the client's request: say what the provider said
		ae = clientFixable(e.Class, status, pe)
		if passthrough && pe.OpenAIShaped {
			e.Body = compactJSON(body)
		}
	}
	e.Status = ae.Status
	if e.Body == nil {
		e.Body = ae.Body()
	}
	return e
}

// clientFixable is the client's error for a request the provider refused.
func clientFixable(c Class, status int, pe providerError) *apierror.Error {
	msg := pe.Message
	if msg == "" {
		msg = fmt.Sprintf("The upstream provider rejected the request (status %d).", status)
	}
	code := pe.Code
	switch c {
	case ClassContextLength:
		code = "context_length_exceeded"
	case ClassContentFilter:
		if code == "" {
			code = "content_filter"
		}
	case ClassNotFound:
		if code == "" {
			code = "model_not_found"
		}
	}
	ae := apierror.BadRequest(code, msg)
	ae.Param = pe.Param
	switch {
	case c == ClassNotFound:
		ae.Status = http.StatusNotFound
	case c == ClassBadRequest && status >= 400 && status < 500:
		ae.Status = status
	}
	return ae
}

// compactJSON returns body without insignificant whitespace, so it fits an
// SSE data line; body itself if it does not compact.
func compactJSON(body []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return body
	}
	return buf.Bytes()
}

// identifier returns s when it looks like an error type or code (letters,
// digits, _ . -, at most 64 bytes), so Message never carries free text.
func identifier(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return ""
		}
	}
	return s
}

// retryAfter reads how long to wait from the headers providers send:
// retry-after-ms (OpenAI, Azure), Retry-After in seconds or as an HTTP
// date, and on a 429 the reset time of the exhausted limit:
// x-ratelimit-reset-{requests,tokens} (OpenAI durations such as "6m0s")
// and anthropic-ratelimit-*-reset (RFC 3339 times).
func retryAfter(h http.Header, status int, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && ms >= 0 && ms < math.MaxInt64/1e6 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil {
			if secs >= 0 && secs < math.MaxInt64/1e9 {
				return time.Duration(secs * float64(time.Second))
			}
		} else if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if status != http.StatusTooManyRequests {
		return 0
	}
	var wait, any time.Duration
	consider := func(remaining, reset string, parse func(string) (time.Duration, bool)) {
		v := h.Get(reset)
		if v == "" {
			return
		}
		d, ok := parse(strings.TrimSpace(v))
		if !ok || d < 0 {
			return
		}
		any = max(any, d)
		if strings.TrimSpace(h.Get(remaining)) == "0" {
			wait = max(wait, d)
		}
	}
	relative := func(v string) (time.Duration, bool) {
		if d, err := time.ParseDuration(v); err == nil {
			return d, true
		}
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs < math.MaxInt64/1e9 {
			return time.Duration(secs * float64(time.Second)), true
		}
		return 0, false
	}
	absolute := func(v string) (time.Duration, bool) {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, false
		}
		return max(t.Sub(now), 0), true
	}
	consider("X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests", relative)
	consider("X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens", relative)
	for _, k := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
		consider("Anthropic-Ratelimit-"+k+"-Remaining", "Anthropic-Ratelimit-"+k+"-Reset", absolute)
	}
	if wait > 0 {
		return wait
	}
	return any
}

// TransportError classifies a failure to get an answer at all (from
// http.Client.Do or from reading a body): class timeout for deadlines,
// connection otherwise. Its Message never holds the request URL (which may
// carry a key in its query).
func TransportError(err error) *UpstreamError {
	cause := err
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cause = ue.Err
	}
	e := &UpstreamError{Class: ClassConnection, Err: err}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		e.Class = ClassTimeout
	}
	desc := "upstream request failed"
	if cause != nil {
		desc += ": " + cause.Error()
	}
	e.Message = desc
	ae := apierror.Upstream(http.StatusBadGateway, msgConnection)
	if e.Class == ClassTimeout {
		ae = apierror.Upstream(http.StatusGatewayTimeout, msgTimeout)
	}
	e.Status, e.Body = ae.Status, ae.Body()
	return e
}

// invalidResponse is the error for a 2xx answer that is not the
// provider's.
func invalidResponse(provider, what string) *UpstreamError {
	ae := apierror.Upstream(http.StatusBadGateway, msgInvalid)
	return &UpstreamError{
		Class: ClassServer, Status: ae.Status, Body: ae.Body(),
		Message: fmt.Sprintf("%s: %s", provider, what),
	}
}

// unsupported is the error for a request this target cannot serve.
func unsupported(provider, what string) *UpstreamError {
	ae := apierror.BadRequest("unsupported_parameter", fmt.Sprintf("%s is not supported by the %s provider.", what, provider))
	return &UpstreamError{
		Class: ClassUnsupported, Status: ae.Status, Body: ae.Body(),
		Message: fmt.Sprintf("%s: unsupported: %s", provider, what),
	}
}

// configError is the error for a target that is not configured well
// enough to call.
func configError(what string) *UpstreamError {
	ae := apierror.Upstream(http.StatusBadGateway, "The upstream provider is not configured correctly.")
	return &UpstreamError{
		Class: ClassUnsupported, Status: ae.Status, Body: ae.Body(),
		Message: "provider config: " + what,
	}
}

// streamError classifies an error reading an upstream stream.
func streamError(provider string, err error) *UpstreamError {
	if errors.Is(err, sse.ErrEventTooLarge) {
		e := invalidResponse(provider, "stream event over the size limit")
		e.Err = err
		return e
	}
	e := TransportError(err)
	cause := err
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cause = ue.Err
	}
	e.Message = fmt.Sprintf("%s: stream read failed: %v", provider, cause)
	return e
}

// truncated is the error for a stream that ended before it was complete.
func truncated(provider string) *UpstreamError {
	e := TransportError(errors.New("stream ended before the answer was complete"))
	e.Message = provider + ": stream ended before the answer was complete"
	return e
}
