package llm

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tollgate-ai/tollgate/internal/apierror"
)

// Codes of a [RequestError], rendered as the OpenAI error's "code". The
// names follow OpenAI's own where it has one.
const (
	CodeInvalidJSON   = "invalid_json"
	CodeInvalidType   = "invalid_type"
	CodeInvalidValue  = "invalid_value"
	CodeMissing       = "missing_required_parameter"
	CodeTooLarge      = "request_too_large"
	CodeUnknownFormat = "unsupported_request_format"
)

// ErrUnsupported is wrapped by the edit methods when the request's format
// has no such field (for example max_tokens in an embeddings request).
var ErrUnsupported = errors.New("not supported for this request format")

// RequestError is a problem with a request body, found by [Parse]. It
// converts to a 400 (413 for [CodeTooLarge]) in the OpenAI error shape: it
// implements As for **apierror.Error, so [apierror.As] and [apierror.Write]
// answer it as the client error it is, even when wrapped.
//
// The message never quotes the body's content, only its structure.
type RequestError struct {
	// Path is the JSON path of the offending value, as in
	// "messages[2].content"; empty for the body as a whole.
	Path string
	// Code is one of the Code constants.
	Code string
	// Message says what is wrong, without the path.
	Message string
}

// Error returns "path: message", or the message alone for the whole body.
func (e *RequestError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// APIError returns the client error: 400 invalid_request_error (413 for
// [CodeTooLarge]) with the path as "param".
func (e *RequestError) APIError() *apierror.Error {
	var ae *apierror.Error
	if e.Code == CodeTooLarge {
		ae = apierror.TooLarge(e.Code, e.Error())
	} else {
		ae = apierror.BadRequest(e.Code, e.Error())
	}
	ae.Param = e.Path
	return ae
}

// As sets *target to [RequestError.APIError] when target is an
// **apierror.Error.
func (e *RequestError) As(target any) bool {
	if t, ok := target.(**apierror.Error); ok {
		*t = e.APIError()
		return true
	}
	return false
}

func errAt(path, code, format string, args ...any) *RequestError {
	return &RequestError{Path: path, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errType(path, want string, got *node) *RequestError {
	return errAt(path, CodeInvalidType, "must be %s, not %s", want, jsonType(got.raw))
}

func errMissing(path string) *RequestError {
	return errAt(path, CodeMissing, "is required")
}

// join returns the path of key under path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index returns the path of element i under path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
