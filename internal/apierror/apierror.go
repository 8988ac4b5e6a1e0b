// Package apierror renders client errors in the OpenAI error shape with the
// right HTTP status, so that OpenAI SDKs (which pick their exception class from
// the status) and humans reading the body both understand a Tollgate refusal:
//
//	{"error":{"message":"…","type":"…","param":null,"code":"…"}}
//
// # Mapping
//
// OpenAI's error types are not a closed set; this package uses the ones OpenAI
// and Anthropic clients recognise, one per class of failure:
//
//	constructor      status         type                   default code
//	BadRequest       400            invalid_request_error  (caller's)
//	Forbidden        403            permission_error       (caller's)
//	TooLarge         413            invalid_request_error  (caller's)
//	RateLimited      429            rate_limit_error       rate_limit_exceeded
//	QuotaExceeded    429            insufficient_quota     insufficient_quota
//	Upstream         502, 503, 504  server_error           upstream_error, upstream_unavailable, upstream_timeout
//	Internal         500            server_error           internal_error
//
// OpenAI itself labels rate-limit errors with the type "requests" or "tokens";
// "rate_limit_error" is Anthropic's name and says which class it is without
// claiming which dimension ran out. The code rate_limit_exceeded is OpenAI's.
// 429 responses carry Retry-After in whole seconds, rounded up, as Kong's
// rate-limiting plugins do.
//
// An empty Code or Param renders as JSON null, as OpenAI does.
//
// # Confidentiality
//
// Only Message, Type, Code and Param reach the client. The cause (Err) is for
// logs: [Internal] always answers "internal error", and [As] turns any error
// that is not an *Error into an Internal one, so a wrapped driver or provider
// error can never leak through [Write].
package apierror

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Error types, as rendered in the body's "type" field.
const (
	TypeInvalidRequest    = "invalid_request_error"
	TypePermission        = "permission_error"
	TypeRateLimit         = "rate_limit_error"
	TypeInsufficientQuota = "insufficient_quota"
	TypeServer            = "server_error"
)

// Codes set by the constructors when the caller does not pick one.
const (
	CodeRateLimitExceeded   = "rate_limit_exceeded"
	CodeInsufficientQuota   = "insufficient_quota"
	CodeUpstreamError       = "upstream_error"
	CodeUpstreamUnavailable = "upstream_unavailable"
	CodeUpstreamTimeout     = "upstream_timeout"
	CodeInternal            = "internal_error"
)

// internalMessage is the only message a 500 ever shows a client.
const internalMessage = "internal error"

// Error is an error answered to the client in the OpenAI shape.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message, Type, Code and Param are rendered in the body; empty Code and
	// Param render as null.
	Message string
	Type    string
	Code    string
	Param   string
	// Headers are added to the response (for example Retry-After).
	Headers http.Header
	// Err is the cause, for logs and errors.Is/As; it is never rendered.
	Err error
}

// Error returns a one-line description for logs, including the cause.
func (e *Error) Error() string {
	s := fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message)
	if e.Code != "" {
		s = fmt.Sprintf("%d %s (%s): %s", e.Status, e.Type, e.Code, e.Message)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// BadRequest is a 400 for a request Tollgate will not forward.
func BadRequest(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Code: code, Message: msg}
}

// Forbidden is a 403 for a request a policy denies.
func Forbidden(code, msg string) *Error {
	return &Error{Status: http.StatusForbidden, Type: TypePermission, Code: code, Message: msg}
}

// TooLarge is a 413 for a request over a size limit.
func TooLarge(code, msg string) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Type: TypeInvalidRequest, Code: code, Message: msg}
}

// RateLimited is a 429 for a caller over a rate limit. A positive retryAfter
// sets Retry-After in whole seconds, rounded up.
func RateLimited(msg string, retryAfter time.Duration) *Error {
	e := &Error{Status: http.StatusTooManyRequests, Type: TypeRateLimit, Code: CodeRateLimitExceeded, Message: msg}
	e.setRetryAfter(retryAfter)
	return e
}

// QuotaExceeded is a 429 for a caller whose budget is spent, in OpenAI's
// insufficient_quota shape. A positive retryAfter (time until the budget
// resets) sets Retry-After as in [RateLimited].
func QuotaExceeded(msg string, retryAfter time.Duration) *Error {
	e := &Error{Status: http.StatusTooManyRequests, Type: TypeInsufficientQuota, Code: CodeInsufficientQuota, Message: msg}
	e.setRetryAfter(retryAfter)
	return e
}

// Upstream is a 502, 503 or 504 for a provider failure; any other status
// becomes 502.
func Upstream(status int, msg string) *Error {
	code := CodeUpstreamError
	switch status {
	case http.StatusServiceUnavailable:
		code = CodeUpstreamUnavailable
	case http.StatusGatewayTimeout:
		code = CodeUpstreamTimeout
	default:
		status = http.StatusBadGateway
	}
	return &Error{Status: status, Type: TypeServer, Code: code, Message: msg}
}

// Internal is a 500 whose body says only "internal error"; cause is kept for
// logs.
func Internal(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Type: TypeServer, Code: CodeInternal, Message: internalMessage, Err: cause}
}

func (e *Error) setRetryAfter(d time.Duration) {
	if d <= 0 {
		return
	}
	secs := int64(math.Ceil(d.Seconds()))
	if e.Headers == nil {
		e.Headers = make(http.Header)
	}
	e.Headers.Set("Retry-After", strconv.FormatInt(secs, 10))
}

type body struct {
	Error bodyError `json:"error"`
}

type bodyError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Body returns the JSON body. An empty message falls back to the status text.
func (e *Error) Body() []byte {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.status())
	}
	b, err := json.Marshal(body{Error: bodyError{
		Message: msg,
		Type:    e.Type,
		Param:   nullable(e.Param),
		Code:    nullable(e.Code),
	}})
	if err != nil {
		// Unreachable: the value is only strings.
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":"internal_error"}}`)
	}
	return b
}

// status returns Status, or 500 if it is not an error status.
func (e *Error) status() int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// As returns the *Error in err's chain, or err wrapped by [Internal] if there
// is none; nil for a nil err.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok && e != nil {
		return e
	}
	return Internal(err)
}

// Write answers err: its headers, Content-Type application/json, its status
// (500 if it has no error status) and its body. Errors that are not an *Error,
// and a nil err, are answered as [Internal].
func Write(w http.ResponseWriter, err error) {
	if err == nil {
		err = Internal(errors.New("apierror: write called with nil error"))
	}
	e := As(err)
	b := e.Body()
	h := w.Header()
	for k, vs := range e.Headers {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

// Parse reads an error body back: the OpenAI shape, Anthropic's (which shares
// the "error" object) and the {"error":"message"} form some servers use. A
// numeric code or param is kept as its JSON text. Status is left 0 since the
// body does not carry it. It reports false if body is not such an error.
func Parse(body []byte) (*Error, bool) {
	var outer struct {
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &outer); err != nil || len(outer.Error) == 0 {
		return nil, false
	}
	var msg string
	if err := json.Unmarshal(outer.Error, &msg); err == nil {
		if msg == "" {
			return nil, false
		}
		return &Error{Message: msg}, true
	}
	var inner struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
		Param   json.RawMessage `json:"param"`
	}
	if err := json.Unmarshal(outer.Error, &inner); err != nil {
		return nil, false
	}
	if inner.Message == "" && inner.Type == "" {
		return nil, false
	}
	return &Error{Message: inner.Message, Type: inner.Type, Code: scalar(inner.Code), Param: scalar(inner.Param)}, true
}

// scalar returns a JSON string's value, a number's or bool's text, and "" for
// null, absent or composite values.
func scalar(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	switch v.(type) {
	case float64, bool:
		return string(raw)
	}
	return ""
}
