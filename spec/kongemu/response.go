package kongemu

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// ErrorResponse is a response Kong produces itself with
// kong.response.error (a status of 400 or more and a message) or, for a
// redirect, kong.response.exit with headers and no body.
type ErrorResponse struct {
	Status  int
	Message string
	Headers http.Header
}

func (e *ErrorResponse) Error() string {
	return fmt.Sprintf("kong response %d: %s", e.Status, e.Message)
}

// Kong 3.9's default error templates (kong/tools/http.lua); the message
// is inserted verbatim, without escaping.
const (
	jsonErrorTemplate  = "{\n  \"message\":\"%s\",\n  \"request_id\":\"%s\"\n}"
	htmlErrorTemplate  = "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>%s.</p>\n    <p>request_id: %s</p>\n  </body>\n</html>\n"
	xmlErrorTemplate   = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>%s</message>\n  <requestid>%s</requestid>\n</error>\n"
	plainErrorTemplate = "%s\nrequest_id: %s\n"
)

const (
	mimeJSON  = "application/json; charset=utf-8"
	mimeHTML  = "text/html; charset=utf-8"
	mimeXML   = "application/xml; charset=utf-8"
	mimePlain = "text/plain; charset=utf-8"
)

// mimeTypes is kong/tools/http.lua's MIME_TYPES (grpc left out: the
// emulator has no gRPC).
var mimeTypes = map[string]string{
	"application/json": mimeJSON,
	"text/html":        mimeHTML,
	"application/xml":  mimeXML,
	"text/plain":       mimePlain,
	"application":      mimeJSON,
	"text":             mimePlain,
}

// Render returns the headers and body Kong sends for the response, for a
// request with this Accept header and X-Kong-Request-Id. Kong adds Server,
// X-Kong-Response-Latency, X-Kong-Request-Id and Content-Length on top.
func (e *ErrorResponse) Render(accept, requestID string) (http.Header, []byte) {
	h := e.Headers.Clone()
	if h == nil {
		h = http.Header{}
	}
	if e.Status < 400 && e.Message == "" {
		return h, nil
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = ResponseType(accept)
		h.Set("Content-Type", ct)
	}
	message := e.Message
	if message == "" {
		message = defaultMessage(e.Status)
	}
	var tmpl string
	switch ct {
	case mimeHTML, "text/html":
		tmpl = htmlErrorTemplate
	case mimeXML, "application/xml":
		tmpl = xmlErrorTemplate
	case mimePlain, "text/plain":
		tmpl = plainErrorTemplate
	default:
		tmpl = jsonErrorTemplate
	}
	return h, fmt.Appendf(nil, tmpl, message, requestID)
}

// httpErrorMessages are kong.response.error's default messages.
var httpErrorMessages = map[int]string{
	400: "Bad request", 401: "Unauthorized", 402: "Payment required", 403: "Forbidden",
	404: "Not found", 405: "Method not allowed", 406: "Not acceptable",
	407: "Proxy authentication required", 408: "Request timeout", 409: "Conflict",
	410: "Gone", 411: "Length required", 412: "Precondition failed", 413: "Payload too large",
	414: "URI too long", 415: "Unsupported media type", 416: "Range not satisfiable",
	417: "Expectation failed", 418: "I'm a teapot", 421: "Misdirected request",
	422: "Unprocessable entity", 423: "Locked", 424: "Failed dependency", 425: "Too early",
	426: "Upgrade required", 428: "Precondition required", 429: "Too many requests",
	431: "Request header fields too large", 451: "Unavailable for legal reasons",
	494: "Request header or cookie too large", 500: "An unexpected error occurred",
	501: "Not implemented", 502: "An invalid response was received from the upstream server",
	503: "The upstream server is currently unavailable", 504: "The upstream server is timing out",
	505: "HTTP version not supported", 506: "Variant also negotiates", 507: "Insufficient storage",
	508: "Loop detected", 510: "Not extended", 511: "Network authentication required",
}

func defaultMessage(status int) string {
	if m, ok := httpErrorMessages[status]; ok {
		return m
	}
	return fmt.Sprintf("The upstream server responded with %d", status)
}

var acceptRE = regexp.MustCompile(`(?i)^((?:[a-z0-9][a-z0-9\-!#$&^_+.]+|\*)/(?:[a-z0-9][a-z0-9\-!#$&^_+.]+|\*))(?:\s*;\s*q=(1(?:\.0{0,3}|)|0(?:\.\d{0,3}|))|\s*;\s*[a-z0-9][a-z0-9\-!#$&^_+.]+(?:=[^;]*|))*`)

// ResponseType picks the Content-Type of a Kong error from the Accept
// header as tools_http.get_response_type does: the first media range with
// the highest q wins, JSON by default and for anything unknown.
func ResponseType(accept string) string {
	ct := mimeJSON
	best := 0.0
	for _, v := range strings.Split(accept, ",") {
		m := acceptRE.FindStringSubmatch(strings.TrimSpace(v))
		if m == nil {
			continue
		}
		q := 1.0
		if m[2] != "" {
			q, _ = strconv.ParseFloat(m[2], 64)
		}
		if q > best {
			best = q
			ct = mimeType(m[1])
		}
	}
	return ct
}

// mimeType is tools_http.get_mime_type with use_default.
func mimeType(mediaType string) string {
	typ, sub, _ := strings.Cut(mediaType, "/")
	key := mediaType
	if sub == "*" {
		key = typ
		if typ == "*" {
			return mimeJSON
		}
	}
	if t, ok := mimeTypes[key]; ok {
		return t
	}
	return mimeJSON
}
