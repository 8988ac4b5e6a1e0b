package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what [Parse] accepts.
const (
	// MaxBodyBytes is the largest body Parse reads (Anthropic's own request
	// limit). Plugins with a smaller limit check len(body) first.
	MaxBodyBytes = 32 << 20
	// MaxDepth is the deepest nesting of objects and arrays Parse accepts;
	// real requests, JSON schemas of tools included, stay far below it.
	MaxDepth = 64
)

// Role is the author of a message.
type Role string

// Roles. OpenAI chat accepts all of them; Responses accepts system,
// developer, user and assistant (and produces tool for function call
// outputs); Anthropic accepts user and assistant in messages and produces
// system for its system prompt.
const (
	RoleSystem    Role = "system"
	RoleDeveloper Role = "developer"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
	RoleFunction  Role = "function"
)

// PartKind is what a [Part] holds.
type PartKind string

// Part kinds.
const (
	PartText       PartKind = "text"
	PartImage      PartKind = "image"
	PartAudio      PartKind = "audio"
	PartFile       PartKind = "file"
	PartToolCall   PartKind = "tool_call"
	PartToolResult PartKind = "tool_result"
	PartRefusal    PartKind = "refusal"
	PartThinking   PartKind = "thinking"
	PartTokens     PartKind = "tokens" // pre-tokenized prompt or input
	PartOther      PartKind = "other"  // a type this package does not know; kept as is
)

// Request is a parsed request body, the same model for every [Format].
//
// The fields describe the body as parsed and as changed by the Set methods.
// Treat them as read-only: assigning a field does not change [Request.Bytes].
// A Request is not safe for concurrent use: Bytes caches what it builds.
type Request struct {
	Format Format
	// Model is "" when the body has none (Azure takes it from the path,
	// Kong's ai-proxy from its config).
	Model string
	// Stream is the "stream" member.
	Stream bool
	// IncludeUsage is stream_options.include_usage (chat and completions).
	IncludeUsage bool
	// MaxTokens is the output cap: max_completion_tokens, else max_tokens
	// (chat), max_output_tokens (Responses), max_tokens (completions,
	// Anthropic); nil when absent.
	MaxTokens *int
	// Sampling parameters, nil when absent.
	Temperature      *float64
	TopP             *float64
	TopK             *int // Anthropic
	N                *int
	PresencePenalty  *float64
	FrequencyPenalty *float64
	Seed             *int64
	// Stop is stop (chat, completions) or stop_sequences (Anthropic).
	Stop []string
	// User is "user" (OpenAI) or metadata.user_id (Anthropic).
	User string
	// Dimensions and EncodingFormat are the embeddings options.
	Dimensions     *int
	EncodingFormat string
	// Messages are the conversation in order. The system prompt
	// (Anthropic's "system", Responses' "instructions") is the first
	// message, with role system. Completions and embeddings have one user
	// message whose parts are the prompts or inputs (and the suffix).
	Messages []Message
	// Tools are the tools (and legacy functions) the model may call.
	Tools []Tool
	// ToolChoice and ResponseFormat are the members as written, or nil.
	ToolChoice     json.RawMessage
	ResponseFormat json.RawMessage

	doc *document
}

// Message is one turn of the conversation, or one Responses input item.
type Message struct {
	Role Role
	// Name is the participant or function name (OpenAI "name").
	Name string
	// ToolCallID is the call a tool message answers (OpenAI tool_call_id,
	// Responses call_id).
	ToolCallID string
	// Type is a Responses input item's type ("message", "function_call",
	// …), "" elsewhere. Items that are neither messages nor function calls
	// or outputs have Role "" and one [PartOther] part.
	Type  string
	Parts []Part
}

// Part is one piece of a message's content.
type Part struct {
	Kind PartKind
	// Type is the part's type as written ("text", "input_text",
	// "image_url", "tool_use", …); "" for a plain string, "suffix" for a
	// completions suffix.
	Type string
	// Text is the text of textual parts (text, refusal, thinking, a tool
	// result, a plain-text document); for a tool result with content blocks
	// it is their texts joined by newlines.
	Text string
	// ID is the tool call's id, or for a tool result the call it answers.
	ID string
	// Name is the called tool's name.
	Name string
	// Arguments is a tool call's arguments as JSON text (OpenAI's
	// arguments string, Anthropic's input object).
	Arguments string
	// Tokens is a pre-tokenized prompt ([PartTokens]).
	Tokens []int
	// Content is a tool result's content blocks (Anthropic, and Responses
	// function_call_output with content parts).
	Content []Part
}

// Tool is a tool (or legacy function) the model may call.
type Tool struct {
	// Type is "function", "custom", or a built-in tool's type
	// ("web_search", "web_search_20250305", …); "" for an Anthropic
	// client tool, which has none.
	Type        string
	Name        string
	Description string
	// Parameters is the JSON schema of the arguments (function.parameters,
	// Responses parameters, Anthropic input_schema), or nil.
	Parameters json.RawMessage
}

// TextPart is one text segment of the body, as [Request.TextParts] lists
// them: every place a caller may read or rewrite text.
type TextPart struct {
	// Path is the JSON path of the string, stable across edits, as in
	// "messages[1].content[0].text"; it is what [Request.SetText] takes.
	Path string
	// Message and Part index [Request.Messages] and its Parts.
	Message int
	Part    int
	Role    Role
	Kind    PartKind
	Text    string
}

// document is the editable body behind a Request.
type document struct {
	body    []byte
	root    *node
	texts   []textSlot
	byPath  map[string]int
	args    []argSlot
	changed bool
}

// textSlot is where a text segment lives in the body and in the model.
type textSlot struct {
	path      string
	val       *node // the JSON string
	text      string
	msg, part int
	sub       int // index in Part.Content, or -1
}

// argSlot is where a tool call's arguments live in the body and in the
// model.
type argSlot struct {
	path      string
	val       *node // the JSON string (OpenAI) or object (Anthropic input)
	object    bool
	msg, part int
	sub       int // index in Part.Content, or -1
}

// Parse parses a request body written for format f; for [FormatUnknown] it
// detects the format first (see [Detect]). Errors are [*RequestError]s. The
// Request keeps references into body, which must not be modified afterwards.
func Parse(f Format, body []byte) (*Request, error) {
	if f != FormatUnknown && !f.Valid() {
		return nil, errAt("", CodeUnknownFormat, "unsupported request format %q", string(f))
	}
	if len(body) > MaxBodyBytes {
		return nil, errAt("", CodeTooLarge, "request body is larger than %d bytes", MaxBodyBytes)
	}
	if len(trimWS(body)) == 0 {
		return nil, errAt("", CodeInvalidJSON, "request body is empty")
	}
	if !json.Valid(body) {
		return nil, syntaxError(body)
	}
	ok, containers, values := measure(body, MaxDepth)
	if !ok {
		return nil, errAt("", CodeInvalidValue, "request body nests deeper than %d levels", MaxDepth)
	}
	root := &node{raw: trimWS(body)}
	if !root.isObject() {
		return nil, errAt("", CodeInvalidType, "request body must be a JSON object, not %s", jsonType(root.raw))
	}
	p := &parser{
		req: &Request{},
		doc: &document{body: body, root: root},
		a:   newArena(containers, values),
	}
	p.req.doc = p.doc
	if err := p.object(root, ""); err != nil {
		return nil, err
	}
	if f == FormatUnknown {
		if f = detect(root, p.a); f == FormatUnknown {
			return nil, errAt("", CodeUnknownFormat, "request body has none of messages, input and prompt")
		}
	}
	p.req.Format = f
	var err error
	switch f {
	case FormatChat:
		err = p.chat(root)
	case FormatResponses:
		err = p.responses(root)
	case FormatCompletions:
		err = p.completions(root)
	case FormatEmbeddings:
		err = p.embeddings(root)
	case FormatAnthropic:
		err = p.anthropic(root)
	}
	if err != nil {
		return nil, err
	}
	return p.req, nil
}

func syntaxError(body []byte) error {
	var v json.RawMessage
	err := json.Unmarshal(body, &v)
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return errAt("", CodeInvalidJSON, "request body is not valid JSON: syntax error at byte %d", se.Offset)
	}
	return errAt("", CodeInvalidJSON, "request body is not valid JSON")
}

// Bytes returns the body with the edits made so far. Only the edited values
// change: members this package does not know, every other value, the order
// of members and the whitespace between them are copied verbatim; a member
// an edit adds is laid out like the one before it. Without edits it returns
// the body given to [Parse] itself. The result must not be modified.
func (r *Request) Bytes() []byte {
	if !r.doc.changed {
		return r.doc.body
	}
	if r.doc.root.dirty {
		r.doc.root.encode(make([]byte, 0, len(r.doc.body)+64))
	}
	return r.doc.root.raw
}

// Changed reports whether an edit changed the body since [Parse].
func (r *Request) Changed() bool { return r.doc.changed }

// Text returns all the text of the prompt, each message's [Message.Text]
// joined by newlines: what a tokenizer counts or a scanner checks.
func (r *Request) Text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		t := m.Text()
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t)
	}
	return b.String()
}

// Text returns the message's text: the Text of its parts, joined by
// newlines. Tool call arguments, images, audio, files other than plain-text
// documents and tokens have none.
func (m Message) Text() string {
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Text == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// TextParts lists every text segment of the body in document order, with
// its path for [Request.SetText]. A tool result with content blocks yields
// one segment per text block. Rewriting a thinking segment invalidates the
// block's signature, which Anthropic checks.
func (r *Request) TextParts() []TextPart {
	out := make([]TextPart, len(r.doc.texts))
	for i, s := range r.doc.texts {
		tp := TextPart{Path: s.path, Message: s.msg, Part: s.part, Text: s.text}
		if p := r.part(s.msg, s.part); p != nil {
			tp.Role = r.Messages[s.msg].Role
			tp.Kind = p.Kind
		}
		out[i] = tp
	}
	return out
}

func (r *Request) part(msg, part int) *Part {
	if msg < 0 || msg >= len(r.Messages) || part < 0 || part >= len(r.Messages[msg].Parts) {
		return nil
	}
	return &r.Messages[msg].Parts[part]
}

// SetText replaces the text segment at path (a [TextPart.Path]).
func (r *Request) SetText(path, text string) error {
	if r.doc.byPath == nil {
		r.doc.byPath = make(map[string]int, len(r.doc.texts))
		for i, s := range r.doc.texts {
			r.doc.byPath[s.path] = i
		}
	}
	i, ok := r.doc.byPath[path]
	if !ok {
		return fmt.Errorf("set text at %q: no text segment there", path)
	}
	s := &r.doc.texts[i]
	if s.text == text {
		return nil
	}
	s.text = text
	s.val.setRaw(quote(text))
	r.doc.changed = true
	if p := r.part(s.msg, s.part); p != nil {
		if s.sub >= 0 && s.sub < len(p.Content) {
			p.Content[s.sub].Text = text
			p.Text = joinText(p.Content)
		} else {
			p.Text = text
		}
	}
	return nil
}

// ArgumentParts lists the arguments of every tool call in the body in
// document order, with Kind [PartToolCall] and Text the arguments as JSON
// text (OpenAI's arguments string, Anthropic's input object as written),
// and the path for [Request.SetArguments]. A custom tool's input is free
// text, not JSON.
func (r *Request) ArgumentParts() []TextPart {
	out := make([]TextPart, 0, len(r.doc.args))
	for _, s := range r.doc.args {
		tp := TextPart{Path: s.path, Message: s.msg, Part: s.part, Kind: PartToolCall}
		if p := r.argPart(&s); p != nil {
			tp.Role = r.Messages[s.msg].Role
			tp.Text = p.Arguments
		}
		out = append(out, tp)
	}
	return out
}

func (r *Request) argPart(s *argSlot) *Part {
	p := r.part(s.msg, s.part)
	if p != nil && s.sub >= 0 {
		if s.sub >= len(p.Content) {
			return nil
		}
		p = &p.Content[s.sub]
	}
	return p
}

// SetArguments replaces the arguments of the tool call at path (an
// [Request.ArgumentParts] path). Where the body holds them as a JSON string
// (OpenAI) args becomes that string's content; where it holds an object
// (Anthropic input) args is written as the object itself and must be a
// JSON object.
func (r *Request) SetArguments(path, args string) error {
	for i := range r.doc.args {
		s := &r.doc.args[i]
		if s.path != path {
			continue
		}
		p := r.argPart(s)
		if p != nil && p.Arguments == args {
			return nil
		}
		raw := quote(args)
		if s.object {
			b := trimWS([]byte(args))
			if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
				return fmt.Errorf("set arguments at %q: must be a JSON object", path)
			}
			raw = b
		}
		s.val.setRaw(raw)
		r.doc.changed = true
		if p != nil {
			p.Arguments = args
		}
		return nil
	}
	return fmt.Errorf("set arguments at %q: no tool call arguments there", path)
}

func joinText(parts []Part) string {
	return Message{Parts: parts}.Text()
}

// SetModel sets the "model" member; "" removes it.
func (r *Request) SetModel(model string) {
	root := r.doc.root
	v := root.get("model")
	switch {
	case model == "" && v != nil:
		root.del("model")
	case model == "":
		return
	case v != nil && v.isString() && model == r.Model:
		return
	default:
		root.set("model", quote(model))
	}
	r.Model = model
	r.doc.changed = true
}

// SetMaxTokens sets the output cap in the format's field: max_tokens
// (completions, Anthropic), max_output_tokens (Responses), and for chat
// every one of max_completion_tokens and max_tokens that is present, or
// max_completion_tokens when neither is (max_tokens is deprecated and
// rejected by OpenAI's reasoning models). Embeddings have no cap.
func (r *Request) SetMaxTokens(n int) error {
	if n < 0 {
		return fmt.Errorf("set max tokens %d: must be >= 0", n)
	}
	var keys []string
	switch r.Format {
	case FormatChat:
		for _, k := range []string{"max_completion_tokens", "max_tokens"} {
			if v := r.doc.root.get(k); v != nil && !v.isNull() {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			keys = []string{"max_completion_tokens"}
		}
	case FormatResponses:
		keys = []string{"max_output_tokens"}
	case FormatCompletions, FormatAnthropic:
		keys = []string{"max_tokens"}
	default:
		return fmt.Errorf("set max tokens on %s request: %w", r.Format, ErrUnsupported)
	}
	for _, k := range keys {
		if v := r.doc.root.get(k); v != nil && string(v.raw) == strconv.Itoa(n) {
			continue
		}
		r.doc.root.set(k, encodeInt(n))
		r.doc.changed = true
	}
	r.MaxTokens = &n
	return nil
}

// SetIncludeUsage sets stream_options.include_usage (chat and completions),
// keeping the other stream options. On a request that does not stream it
// does nothing, since OpenAI rejects stream_options without stream.
// Responses and Anthropic streams always report usage and have no such
// option.
func (r *Request) SetIncludeUsage(include bool) error {
	switch r.Format {
	case FormatChat, FormatCompletions:
	default:
		return fmt.Errorf("set include_usage on %s request: %w", r.Format, ErrUnsupported)
	}
	if !r.Stream || include == r.IncludeUsage {
		return nil
	}
	so := r.doc.root.get("stream_options")
	if so.isNull() {
		r.doc.root.set("stream_options", []byte(`{}`))
		so = r.doc.root.get("stream_options")
	}
	// Parse checked that it is an object, or this method made it one.
	if _, err := so.decodeObject(&arena{}); err != nil {
		return fmt.Errorf("set include_usage: stream_options: %w", err)
	}
	so.set("include_usage", encodeBool(include))
	r.IncludeUsage = include
	r.doc.changed = true
	return nil
}
