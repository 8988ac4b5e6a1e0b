package llm

import (
	"encoding/json"
	"strings"
)

// Format is the API a request body is written for.
type Format string

// The supported formats. The zero value is "unknown": [Parse] then detects
// the format from the body.
const (
	FormatUnknown     Format = ""
	FormatChat        Format = "chat"        // OpenAI POST /v1/chat/completions (and Azure's)
	FormatResponses   Format = "responses"   // OpenAI POST /v1/responses
	FormatCompletions Format = "completions" // OpenAI POST /v1/completions (legacy)
	FormatEmbeddings  Format = "embeddings"  // OpenAI POST /v1/embeddings
	FormatAnthropic   Format = "anthropic"   // Anthropic POST /v1/messages
)

// Valid reports whether f is one of the supported formats.
func (f Format) Valid() bool {
	switch f {
	case FormatChat, FormatResponses, FormatCompletions, FormatEmbeddings, FormatAnthropic:
		return true
	}
	return false
}

// pathSuffixes maps path suffixes to formats, most specific first. Each
// suffix starts at a segment boundary.
var pathSuffixes = []struct {
	suffix string
	format Format
}{
	{"/chat/completions", FormatChat},
	{"/completions", FormatCompletions},
	{"/embeddings", FormatEmbeddings},
	{"/responses", FormatResponses},
	// Not just "/messages": OpenAI's Assistants API has
	// /v1/threads/{id}/messages with another body.
	{"/v1/messages", FormatAnthropic},
}

// FormatForPath returns the format of the API served at an HTTP request
// path: /v1/chat/completions, /openai/deployments/{d}/chat/completions
// (Azure), /v1/responses, /v1/completions, /v1/embeddings, /v1/messages
// (Anthropic), each also under any prefix (a Kong route's path, say). A query
// string and a trailing slash are ignored. It reports false for any other
// path.
func FormatForPath(path string) (Format, bool) {
	path, _, _ = strings.Cut(path, "?")
	path = strings.TrimSuffix(path, "/")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	for _, s := range pathSuffixes {
		if strings.HasSuffix(path, s.suffix) {
			return s.format, true
		}
	}
	return FormatUnknown, false
}

// Detect guesses the format from the body's shape, for routes whose path
// says nothing. It reports false when the body is not a JSON object or has
// none of "messages", "input" and "prompt". The rules, in order:
//
//   - "messages": Anthropic when no message has an OpenAI-only role
//     (system, developer, tool, function) and the body has an
//     Anthropic-only member (system, stop_sequences, top_k,
//     anthropic_version, a tool with input_schema) or content block (image,
//     document, tool_use, tool_result, thinking, redacted_thinking); chat
//     otherwise, since most clients speak OpenAI's dialect.
//   - "input": Responses when the body has a Responses-only member
//     (instructions, max_output_tokens, previous_response_id, tools, stream,
//     …) or an input item that is an object; embeddings when it has
//     dimensions or encoding_format, token arrays as input, or a model whose
//     name contains "embed"; Responses otherwise.
//   - "prompt": legacy completions.
func Detect(body []byte) (Format, bool) {
	if !json.Valid(body) {
		return FormatUnknown, false
	}
	root := &node{raw: trimWS(body)}
	f := detect(root, &arena{})
	return f, f != FormatUnknown
}

func trimWS(b []byte) []byte {
	b = b[skipWS(b, 0):]
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\n', '\r':
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}

// detect implements [Detect] on a root node; it decodes what it looks at,
// which the parser then reuses.
func detect(root *node, a *arena) Format {
	if !root.isObject() {
		return FormatUnknown
	}
	if dup, err := root.decodeObject(a); dup != "" || err != nil {
		return FormatUnknown
	}
	switch {
	case root.get("messages") != nil:
		return detectMessages(root, a)
	case root.get("input") != nil:
		return detectInput(root, a)
	case root.get("prompt") != nil:
		return FormatCompletions
	}
	return FormatUnknown
}

func detectMessages(root *node, a *arena) Format {
	anthropic := false
	for _, k := range []string{"system", "stop_sequences", "top_k", "anthropic_version"} {
		if v := root.get(k); v != nil && !v.isNull() {
			anthropic = true
		}
	}
	if tools := root.get("tools"); tools.isArray() && tools.decodeArray(a) == nil {
		for _, t := range tools.items() {
			if t.isObject() {
				if dup, err := t.decodeObject(a); dup == "" && err == nil && t.get("input_schema") != nil {
					anthropic = true
				}
			}
		}
	}
	msgs := root.get("messages")
	if !msgs.isArray() || msgs.decodeArray(a) != nil {
		return FormatChat
	}
	for _, m := range msgs.items() {
		if !m.isObject() {
			continue
		}
		if dup, err := m.decodeObject(a); dup != "" || err != nil {
			continue
		}
		if role, ok := stringValue(m.get("role")); ok {
			switch Role(role) {
			case RoleSystem, RoleDeveloper, RoleTool, RoleFunction:
				return FormatChat
			}
		}
		content := m.get("content")
		if !content.isArray() || content.decodeArray(a) != nil {
			continue
		}
		for _, p := range content.items() {
			if !p.isObject() {
				continue
			}
			if dup, err := p.decodeObject(a); dup != "" || err != nil {
				continue
			}
			t, _ := stringValue(p.get("type"))
			switch t {
			case "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking":
				anthropic = true
			}
		}
	}
	if anthropic {
		return FormatAnthropic
	}
	return FormatChat
}

// responsesOnly are top-level members of a Responses request that an
// embeddings request does not have.
var responsesOnly = []string{
	"instructions", "max_output_tokens", "previous_response_id", "conversation",
	"reasoning", "text", "store", "background", "include", "tools", "tool_choice",
	"stream", "parallel_tool_calls", "truncation", "temperature", "top_p",
}

func detectInput(root *node, a *arena) Format {
	for _, k := range responsesOnly {
		if root.get(k) != nil {
			return FormatResponses
		}
	}
	if root.get("dimensions") != nil || root.get("encoding_format") != nil {
		return FormatEmbeddings
	}
	if in := root.get("input"); in.isArray() && in.decodeArray(a) == nil {
		for _, e := range in.items() {
			switch {
			case e.isObject():
				return FormatResponses
			case e.isArray(), len(e.raw) > 0 && (e.raw[0] == '-' || (e.raw[0] >= '0' && e.raw[0] <= '9')):
				return FormatEmbeddings
			}
		}
	}
	if model, ok := stringValue(root.get("model")); ok && strings.Contains(strings.ToLower(model), "embed") {
		return FormatEmbeddings
	}
	return FormatResponses
}

// stringValue returns the value of a string node.
func stringValue(n *node) (string, bool) {
	if !n.isString() {
		return "", false
	}
	return unquote(n.raw)
}
