package provider

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

// passthrough forwards an OpenAI-shaped stream (OpenAI, Azure,
// OpenAI-compatible) event by event, as the upstream wrote each one,
// reading the usage on the way. The one event it drops is the usage-only
// chunk (choices: [] with usage) the client did not ask for: Request asks
// for it on every chat and completions stream.
type passthrough struct {
	provider  string
	r         *sse.Reader
	format    llm.Format
	dropUsage bool
	usage     Usage
	err       *UpstreamError
	done      bool
}

func newPassthrough(provider string, c *Call, upstream io.Reader) *passthrough {
	return &passthrough{
		provider:  provider,
		r:         sse.NewReader(upstream),
		format:    c.format(),
		dropUsage: !c.clientIncludeUsage(),
	}
}

func (s *passthrough) Usage() Usage        { return s.usage }
func (s *passthrough) Err() *UpstreamError { return s.err }

func (s *passthrough) Next() ([]byte, error) {
	for !s.done {
		ev, err := s.r.Next()
		if err != nil {
			s.done = true
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			s.err = streamError(s.provider, err)
			return s.err.sseEvent(), nil
		}
		if s.format == llm.FormatResponses {
			s.responsesEvent(ev)
			return ev.Raw, nil
		}
		if strings.TrimSpace(ev.Data) == "[DONE]" {
			// The end; do not wait for the server to close.
			s.done = true
			return ev.Raw, nil
		}
		if !mayMatter(ev.Data) {
			return ev.Raw, nil
		}
		var usage, choices, errVal string
		members(ev.Data, func(k, v string) bool {
			switch k {
			case "usage":
				usage = v
			case "choices":
				choices = v
			case "error":
				errVal = v
			}
			return true
		})
		if !isNull(errVal) && choices == "" {
			s.err = streamErrorEvent(s.provider, ev.Data)
			s.done = true
			return ev.Raw, nil
		}
		if !isNull(usage) {
			if u := parseUsage(usage); u.Known {
				s.usage = u
			}
			if s.dropUsage && isEmptyArray(choices) {
				continue
			}
		}
		return ev.Raw, nil
	}
	return nil, io.EOF
}

// responsesEvent reads the usage of a Responses stream from its final
// event, and an error event.
func (s *passthrough) responsesEvent(ev sse.Event) {
	typ := ev.Event
	if t, ok := stringValue(member(ev.Data, "type")); ok {
		typ = t
	}
	switch typ {
	case "response.completed", "response.incomplete", "response.failed":
		if u := parseUsage(member(member(ev.Data, "response"), "usage")); u.Known {
			s.usage = u
		}
	case "error":
		s.err = streamErrorEvent(s.provider, ev.Data)
	}
}

// streamErrorEvent classifies an OpenAI-shaped error event inside a stream
// ({"error":{…}}, or a Responses error event {"type":"error","code",…}).
func streamErrorEvent(provider, data string) *UpstreamError {
	pe := parseProviderError([]byte(data))
	status := http.StatusInternalServerError
	switch {
	case pe.Type == "rate_limit_error" || pe.Type == "requests" || pe.Type == "tokens" || pe.Code == "rate_limit_exceeded":
		status = http.StatusTooManyRequests
	case pe.Type == "invalid_request_error":
		status = http.StatusBadRequest
	}
	e := classify(provider, status, nil, []byte(data), pe, true, time.Now())
	e.Message = provider + ": error event in stream (" + string(e.Class) + ")"
	return e
}

// mayMatter reports whether a chunk may have a non-null "usage" or "error"
// member, which the full scan then decides; the other chunks (all content
// chunks, which carry "usage":null when include_usage is set) go through
// without it. Inside a JSON string a quote is escaped, so `"usage"` only
// occurs as a key or as a whole string value.
func mayMatter(data string) bool {
	for _, key := range [...]string{`"usage"`, `"error"`} {
		for rest := data; ; {
			i := strings.Index(rest, key)
			if i < 0 {
				break
			}
			rest = rest[i+len(key):]
			j := skipWS(rest, 0)
			if j == len(rest) || rest[j] != ':' {
				continue
			}
			j = skipWS(rest, j+1)
			if !strings.HasPrefix(rest[j:], "null") {
				return true
			}
		}
	}
	return false
}
