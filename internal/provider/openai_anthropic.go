package provider

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

// This file translates OpenAI chat/completions to Anthropic Messages and
// back: the request, the answer and the stream.

// chatRequest is the part of an OpenAI chat request the translation reads.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	TopK                *int            `json:"top_k"`
	Stream              bool            `json:"stream"`
	User                string          `json:"user"`
	SafetyIdentifier    string          `json:"safety_identifier"`
	Tools               []chatTool      `json:"tools"`
	Functions           []chatFunction  `json:"functions"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	FunctionCall        json.RawMessage `json:"function_call"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls"`
	N                   *int            `json:"n"`
	Logprobs            *bool           `json:"logprobs"`
	ResponseFormat      *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Modalities []string        `json:"modalities"`
	Audio      json.RawMessage `json:"audio"`
}

type chatMessage struct {
	Role         string            `json:"role"`
	Content      json.RawMessage   `json:"content"`
	Name         string            `json:"name"`
	ToolCalls    []chatToolCall    `json:"tool_calls"`
	ToolCallID   string            `json:"tool_call_id"`
	FunctionCall *chatFunctionCall `json:"function_call"`
	Refusal      string            `json:"refusal"`
}

type chatPart struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	Refusal      string          `json:"refusal"`
	ImageURL     json.RawMessage `json:"image_url"`
	File         *chatFile       `json:"file"`
	CacheControl json.RawMessage `json:"cache_control"`
}

type chatFile struct {
	FileData string `json:"file_data"`
	FileID   string `json:"file_id"`
	Filename string `json:"filename"`
}

type chatToolCall struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Function chatFunctionCall `json:"function"`
}

type chatFunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type chatTool struct {
	Type     string        `json:"type"`
	Function *chatFunction `json:"function"`
}

type chatFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// The Anthropic Messages request the translation writes.
type messagesRequest struct {
	Model         string              `json:"model"`
	System        any                 `json:"system,omitempty"`
	Messages      []messagesTurn      `json:"messages"`
	MaxTokens     int                 `json:"max_tokens"`
	Metadata      *messagesMetadata   `json:"metadata,omitempty"`
	StopSequences []string            `json:"stop_sequences,omitempty"`
	Stream        bool                `json:"stream"`
	Temperature   *float64            `json:"temperature,omitempty"`
	TopP          *float64            `json:"top_p,omitempty"`
	TopK          *int                `json:"top_k,omitempty"`
	Tools         []messagesTool      `json:"tools,omitempty"`
	ToolChoice    *messagesToolChoice `json:"tool_choice,omitempty"`
}

type messagesMetadata struct {
	UserID string `json:"user_id"`
}

type messagesTurn struct {
	Role    string `json:"role"`
	Content any    `json:"content"` // a string or []block
	blocks  []block
}

type block struct {
	Type         string          `json:"type"`
	Text         string          `json:"text,omitempty"`
	Source       *blockSource    `json:"source,omitempty"`
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Input        json.RawMessage `json:"input,omitempty"`
	ToolUseID    string          `json:"tool_use_id,omitempty"`
	Content      any             `json:"content,omitempty"` // tool_result: a string or []block
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type blockSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type messagesTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type messagesToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitempty"`
}

// emptySchema is the input_schema of a function without parameters:
// Anthropic requires an object schema.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// chatToMessages translates an OpenAI chat request body into an Anthropic
// Messages body for target t.
func chatToMessages(t Target, req *llm.Request) ([]byte, error) {
	var in chatRequest
	if err := json.Unmarshal(req.Bytes(), &in); err != nil {
		return nil, badBody("anthropic", apierror.BadRequest("invalid_request",
			"The chat request cannot be translated for the Anthropic provider: a member has an unexpected type."))
	}
	out := messagesRequest{Model: t.Model, Stream: in.Stream, Temperature: in.Temperature, TopP: in.TopP, TopK: in.TopK}
	if out.Model == "" {
		out.Model = in.Model
	}
	if out.Model == "" {
		return nil, configError("anthropic target needs a model")
	}
	switch {
	case in.N != nil && *in.N > 1:
		return nil, unsupported("anthropic", "n greater than 1")
	case in.Logprobs != nil && *in.Logprobs:
		return nil, unsupported("anthropic", "logprobs")
	case in.ResponseFormat != nil && in.ResponseFormat.Type != "" && in.ResponseFormat.Type != "text":
		return nil, unsupported("anthropic", "response_format "+strconv.Quote(identifier(in.ResponseFormat.Type)))
	case !isNull(in.Audio) || slices.Contains(in.Modalities, "audio"):
		return nil, unsupported("anthropic", "audio output")
	}

	switch {
	case in.MaxCompletionTokens != nil:
		out.MaxTokens = *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		out.MaxTokens = *in.MaxTokens
	default:
		out.MaxTokens = DefaultMaxTokens
	}
	out.StopSequences = req.Stop
	if user := cmp.Or(in.User, in.SafetyIdentifier); user != "" {
		out.Metadata = &messagesMetadata{UserID: user}
	}

	var err error
	if out.Tools, err = translateTools(in); err != nil {
		return nil, err
	}
	if len(out.Tools) > 0 {
		if out.ToolChoice, err = translateToolChoice(in); err != nil {
			return nil, err
		}
	}

	var tb turns
	for i, m := range in.Messages {
		if err := tb.add(i, m); err != nil {
			return nil, err
		}
	}
	out.System = tb.systemValue()
	out.Messages = tb.finish()

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, badBody("anthropic", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func translateTools(in chatRequest) ([]messagesTool, error) {
	var out []messagesTool
	add := func(f *chatFunction) {
		schema := f.Parameters
		if isNull(schema) || isEmptyObject(schema) {
			schema = emptySchema
		}
		out = append(out, messagesTool{Name: f.Name, Description: f.Description, InputSchema: schema})
	}
	for _, t := range in.Tools {
		if t.Type != "" && t.Type != "function" || t.Function == nil {
			return nil, unsupported("anthropic", "tools of type "+strconv.Quote(identifier(t.Type)))
		}
		add(t.Function)
	}
	for i := range in.Functions {
		add(&in.Functions[i])
	}
	return out, nil
}

func isEmptyObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && len(m) == 0
}

// translateToolChoice maps tool_choice (or legacy function_call) and
// parallel_tool_calls: auto → auto, none → none, required → any, a named
// function → tool.
func translateToolChoice(in chatRequest) (*messagesToolChoice, error) {
	raw := in.ToolChoice
	if isNull(raw) {
		raw = in.FunctionCall
	}
	var tc *messagesToolChoice
	if !isNull(raw) {
		var s string
		var obj struct {
			Type     string `json:"type"`
			Name     string `json:"name"` // legacy function_call {"name": …}
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		switch {
		case json.Unmarshal(raw, &s) == nil:
			switch s {
			case "auto":
				tc = &messagesToolChoice{Type: "auto"}
			case "none":
				tc = &messagesToolChoice{Type: "none"}
			case "required":
				tc = &messagesToolChoice{Type: "any"}
			default:
				return nil, unsupported("anthropic", "tool_choice "+strconv.Quote(identifier(s)))
			}
		case json.Unmarshal(raw, &obj) == nil && (obj.Type == "function" || obj.Type == "") && cmp.Or(obj.Function.Name, obj.Name) != "":
			tc = &messagesToolChoice{Type: "tool", Name: cmp.Or(obj.Function.Name, obj.Name)}
		default:
			return nil, unsupported("anthropic", "this tool_choice")
		}
	}
	if in.ParallelToolCalls != nil && !*in.ParallelToolCalls {
		if tc == nil {
			tc = &messagesToolChoice{Type: "auto"}
		}
		if tc.Type != "none" {
			yes := true
			tc.DisableParallelToolUse = &yes
		}
	}
	return tc, nil
}

// turns builds Anthropic's system prompt and alternating turns.
type turns struct {
	system []block
	msgs   []messagesTurn
	// fnIDs are the ids made up for legacy function calls, by function
	// name, until their results consume them.
	fnIDs map[string][]string
	fnSeq int
}

func (tb *turns) push(role string, blocks ...block) {
	if len(blocks) == 0 {
		return
	}
	if n := len(tb.msgs); n > 0 && tb.msgs[n-1].Role == role {
		tb.msgs[n-1].blocks = append(tb.msgs[n-1].blocks, blocks...)
		return
	}
	tb.msgs = append(tb.msgs, messagesTurn{Role: role, blocks: blocks})
}

func (tb *turns) add(i int, m chatMessage) error {
	where := fmt.Sprintf("messages[%d]", i)
	switch m.Role {
	case "system", "developer":
		blocks, err := contentBlocks(m.Content, where, false)
		if err != nil {
			return err
		}
		tb.system = append(tb.system, blocks...)
	case "user":
		blocks, err := contentBlocks(m.Content, where, true)
		if err != nil {
			return err
		}
		tb.push("user", blocks...)
	case "assistant":
		blocks, err := contentBlocks(m.Content, where, false)
		if err != nil {
			return err
		}
		if m.Refusal != "" {
			blocks = append(blocks, block{Type: "text", Text: m.Refusal})
		}
		for j, call := range m.ToolCalls {
			if call.Type != "" && call.Type != "function" {
				return unsupported("anthropic", "tool calls of type "+strconv.Quote(identifier(call.Type)))
			}
			input, err := toolInput(call.Function.Arguments, fmt.Sprintf("%s.tool_calls[%d]", where, j))
			if err != nil {
				return err
			}
			blocks = append(blocks, block{Type: "tool_use", ID: call.ID, Name: call.Function.Name, Input: input})
		}
		if fc := m.FunctionCall; fc != nil {
			input, err := toolInput(fc.Arguments, where+".function_call")
			if err != nil {
				return err
			}
			tb.fnSeq++
			id := fmt.Sprintf("toolu_fn_%d", tb.fnSeq)
			if tb.fnIDs == nil {
				tb.fnIDs = make(map[string][]string)
			}
			tb.fnIDs[fc.Name] = append(tb.fnIDs[fc.Name], id)
			blocks = append(blocks, block{Type: "tool_use", ID: id, Name: fc.Name, Input: input})
		}
		tb.push("assistant", blocks...)
	case "tool", "function":
		id := m.ToolCallID
		if m.Role == "function" {
			if ids := tb.fnIDs[m.Name]; len(ids) > 0 {
				id, tb.fnIDs[m.Name] = ids[0], ids[1:]
			} else {
				tb.fnSeq++
				id = fmt.Sprintf("toolu_fn_%d", tb.fnSeq)
			}
		}
		result := block{Type: "tool_result", ToolUseID: id}
		var s string
		if json.Unmarshal(m.Content, &s) == nil {
			if s != "" {
				result.Content = s
			}
		} else if !isNull(m.Content) {
			blocks, err := contentBlocks(m.Content, where, true)
			if err != nil {
				return err
			}
			if len(blocks) > 0 {
				result.Content = blocks
			}
		}
		tb.push("user", result)
	default:
		return unsupported("anthropic", "messages with role "+strconv.Quote(identifier(m.Role)))
	}
	return nil
}

// toolInput turns OpenAI's arguments string into Anthropic's input object.
func toolInput(args, where string) (json.RawMessage, error) {
	args = strings.TrimSpace(args)
	if args == "" {
		return json.RawMessage(`{}`), nil
	}
	if !strings.HasPrefix(args, "{") || !json.Valid([]byte(args)) {
		return nil, unsupported("anthropic", where+" with arguments that are not a JSON object")
	}
	return compactJSON([]byte(args)), nil
}

// contentBlocks translates a message's content (a string or parts) into
// blocks. Empty texts are dropped (Anthropic rejects them); media is only
// allowed where Anthropic takes it.
func contentBlocks(raw json.RawMessage, where string, media bool) ([]block, error) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, nil
		}
		return []block{{Type: "text", Text: s}}, nil
	}
	var parts []chatPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, unsupported("anthropic", where+".content of this shape")
	}
	var out []block
	for j, p := range parts {
		switch {
		case p.Type == "text" || p.Type == "refusal":
			text := p.Text
			if p.Type == "refusal" {
				text = p.Refusal
			}
			if text != "" {
				out = append(out, block{Type: "text", Text: text, CacheControl: p.CacheControl})
			}
		case media && p.Type == "image_url":
			b, err := imageBlock(p.ImageURL, fmt.Sprintf("%s.content[%d]", where, j))
			if err != nil {
				return nil, err
			}
			b.CacheControl = p.CacheControl
			out = append(out, b)
		case media && p.Type == "file":
			b, err := documentBlock(p.File, fmt.Sprintf("%s.content[%d]", where, j))
			if err != nil {
				return nil, err
			}
			b.CacheControl = p.CacheControl
			out = append(out, b)
		default:
			return nil, unsupported("anthropic", fmt.Sprintf("%s.content[%d] of type %q", where, j, identifier(p.Type)))
		}
	}
	return out, nil
}

// imageBlock maps an image_url (an object with url, or a bare string) to an
// image block: data: URLs to a base64 source, http(s) URLs to a url one.
func imageBlock(raw json.RawMessage, where string) (block, error) {
	var u string
	if json.Unmarshal(raw, &u) != nil {
		var obj struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return block{}, unsupported("anthropic", where+" with this image_url")
		}
		u = obj.URL
	}
	switch {
	case strings.HasPrefix(u, "data:"):
		mediaType, data, ok := dataURL(u)
		if !ok {
			return block{}, unsupported("anthropic", where+" with an image data URL that is not base64")
		}
		return block{Type: "image", Source: &blockSource{Type: "base64", MediaType: mediaType, Data: data}}, nil
	case strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://"):
		return block{Type: "image", Source: &blockSource{Type: "url", URL: u}}, nil
	}
	return block{}, unsupported("anthropic", where+" with an image URL that is neither data: nor http(s)")
}

// dataURL splits a base64 data: URL into its media type and data.
func dataURL(u string) (mediaType, data string, ok bool) {
	meta, data, found := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !found {
		return "", "", false
	}
	params := strings.Split(meta, ";")
	if len(params) < 2 || params[len(params)-1] != "base64" {
		return "", "", false
	}
	return params[0], data, true
}

// documentBlock maps a file part with inline data to a document block:
// PDFs (and other binary types) as base64, text/plain as text.
func documentBlock(f *chatFile, where string) (block, error) {
	if f == nil || f.FileData == "" {
		return block{}, unsupported("anthropic", where+" without file_data (file_id references)")
	}
	mediaType, data := "application/pdf", f.FileData
	if strings.HasPrefix(data, "data:") {
		var ok bool
		if mediaType, data, ok = dataURL(data); !ok {
			return block{}, unsupported("anthropic", where+" with file_data that is not base64")
		}
	}
	if mediaType == "text/plain" {
		text, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return block{}, unsupported("anthropic", where+" with file_data that is not base64")
		}
		return block{Type: "document", Source: &blockSource{Type: "text", MediaType: mediaType, Data: string(text)}}, nil
	}
	return block{Type: "document", Source: &blockSource{Type: "base64", MediaType: mediaType, Data: data}}, nil
}

// systemValue is the system prompt: a string for one plain text, blocks
// otherwise, nil without one.
func (tb *turns) systemValue() any {
	switch {
	case len(tb.system) == 0:
		return nil
	case len(tb.system) == 1 && tb.system[0].CacheControl == nil:
		return tb.system[0].Text
	}
	return tb.system
}

// finish returns the turns, a turn that is one plain text as a string.
func (tb *turns) finish() []messagesTurn {
	for i := range tb.msgs {
		m := &tb.msgs[i]
		if len(m.blocks) == 1 && m.blocks[0].Type == "text" && m.blocks[0].CacheControl == nil {
			m.Content = m.blocks[0].Text
		} else {
			m.Content = m.blocks
		}
	}
	if tb.msgs == nil {
		return []messagesTurn{}
	}
	return tb.msgs
}

// finishReason maps Anthropic's stop_reason to OpenAI's finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn
}

// messageResponse is the part of Anthropic's message the translation reads.
type messageResponse struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Model      string          `json:"model"`
	Content    []responseBlock `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      *anthropicUsage `json:"usage"`
}

type responseBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// The OpenAI chat completion the translation writes.
type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *chatUsage   `json:"usage,omitempty"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      chatRespMessage `json:"message"`
	Logprobs     *struct{}       `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type chatRespMessage struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
}

type chatUsage struct {
	PromptTokens        int                `json:"prompt_tokens"`
	CompletionTokens    int                `json:"completion_tokens"`
	TotalTokens         int                `json:"total_tokens"`
	PromptTokensDetails *promptTokenDetail `json:"prompt_tokens_details,omitempty"`
}

type promptTokenDetail struct {
	CachedTokens int `json:"cached_tokens"`
}

func openAIUsageOf(u Usage) *chatUsage {
	cu := &chatUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.CachedTokens > 0 {
		cu.PromptTokensDetails = &promptTokenDetail{CachedTokens: u.CachedTokens}
	}
	return cu
}

// messageToChat translates Anthropic's message into an OpenAI chat
// completion: text blocks joined into the content, tool_use blocks into
// tool_calls (thinking and server tool blocks have no OpenAI equivalent
// and are left out).
func (a *anthropic) messageToChat(body []byte) ([]byte, Usage, error) {
	var m messageResponse
	if err := json.Unmarshal(body, &m); err != nil || m.Type == "error" || (m.Content == nil && m.Type != "message") {
		return nil, Usage{}, invalidResponse("anthropic", "2xx answer is not a message")
	}
	var text strings.Builder
	var calls []chatToolCall
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args := "{}"
			if !isNull(b.Input) {
				args = string(compactJSON(b.Input))
			}
			calls = append(calls, chatToolCall{ID: b.ID, Type: "function", Function: chatFunctionCall{Name: b.Name, Arguments: args}})
		}
	}
	msg := chatRespMessage{Role: "assistant", ToolCalls: calls}
	if content := text.String(); content != "" || len(calls) == 0 {
		msg.Content = &content
	}
	usage := m.Usage.usage()
	out := chatCompletion{
		ID:      cmp.Or(m.ID, newID()),
		Object:  "chat.completion",
		Created: a.now().Unix(),
		Model:   m.Model,
		Choices: []chatChoice{{Message: msg, FinishReason: finishReason(m.StopReason)}},
	}
	if usage.Known {
		out.Usage = openAIUsageOf(usage)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, Usage{}, invalidResponse("anthropic", "answer cannot be translated")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), usage, nil
}

// chatFromMessages translates Anthropic's event stream into OpenAI
// chat.completion.chunk events:
//
//	message_start              (nothing yet: the role goes with the first delta)
//	content_block_start text   content delta, if the block starts with text
//	content_block_start tool   tool_calls delta: index, id, type, name, empty arguments
//	content_block_delta        content delta (text_delta), arguments delta (input_json_delta)
//	message_delta              the finish_reason chunk
//	message_stop               the usage chunk (if the client asked for it), data: [DONE]
//	ping                       a ": ping" comment once the answer has started
//	error                      an OpenAI error event, then the end
//
// Thinking, signature and citation deltas are dropped. Every chunk carries
// the id, created time and model of message_start.
type chatFromMessages struct {
	r            *sse.Reader
	now          func() time.Time
	includeUsage bool

	buf     []byte
	prefix  []byte // `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[`
	id      string
	model   string
	created int64

	started  bool // message_start seen
	sentRole bool
	tools    map[int]int // content block index → tool_calls index
	finished bool        // finish_reason sent
	done     bool
	counts   anthropicUsage
	err      *UpstreamError
}

func newChatFromMessagesStream(c *Call, upstream io.Reader, now func() time.Time) *chatFromMessages {
	return &chatFromMessages{r: sse.NewReader(upstream), now: now, includeUsage: c.clientIncludeUsage()}
}

func (s *chatFromMessages) Usage() Usage        { return s.counts.usage() }
func (s *chatFromMessages) Err() *UpstreamError { return s.err }

func (s *chatFromMessages) Next() ([]byte, error) {
	s.buf = s.buf[:0]
	for len(s.buf) == 0 {
		if s.done {
			return nil, io.EOF
		}
		ev, err := s.r.Next()
		switch {
		case err == nil:
			s.event(ev)
		case errors.Is(err, io.EOF) && s.finished:
			// No message_stop, but the answer is complete.
			s.end()
		case errors.Is(err, io.EOF):
			s.fail(truncated("anthropic"))
		default:
			s.fail(streamError("anthropic", err))
		}
	}
	return s.buf, nil
}

func (s *chatFromMessages) fail(e *UpstreamError) {
	s.err = e
	s.done = true
	s.buf = append(s.buf, e.sseEvent()...)
}

func (s *chatFromMessages) event(ev sse.Event) {
	data := ev.Data
	if strings.HasPrefix(data, `{"type":"content_block_delta"`) || ev.Event == "content_block_delta" {
		if s.delta(data) {
			return
		}
	}
	switch eventType(ev) {
	case "message_start":
		var m struct {
			Message struct {
				ID    string          `json:"id"`
				Model string          `json:"model"`
				Usage *anthropicUsage `json:"usage"`
			} `json:"message"`
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			s.fail(invalidResponse("anthropic", "unreadable message_start event"))
			return
		}
		s.started = true
		if s.prefix == nil {
			s.id, s.model = m.Message.ID, m.Message.Model
		}
		s.counts.merge(m.Message.Usage)
	case "content_block_start":
		var m struct {
			Index        int `json:"index"`
			ContentBlock struct {
				Type string `json:"type"`
				Text string `json:"text"`
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"content_block"`
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			s.fail(invalidResponse("anthropic", "unreadable content_block_start event"))
			return
		}
		switch m.ContentBlock.Type {
		case "text":
			if m.ContentBlock.Text != "" {
				s.chunk(func(b []byte) []byte {
					b = append(b, `"content":`...)
					return appendString(b, m.ContentBlock.Text)
				}, "")
			}
		case "tool_use":
			if s.tools == nil {
				s.tools = make(map[int]int)
			}
			if _, dup := s.tools[m.Index]; dup {
				return
			}
			k := len(s.tools)
			s.tools[m.Index] = k
			s.chunk(func(b []byte) []byte {
				b = append(b, `"tool_calls":[{"index":`...)
				b = strconv.AppendInt(b, int64(k), 10)
				b = append(b, `,"id":`...)
				b = appendString(b, m.ContentBlock.ID)
				b = append(b, `,"type":"function","function":{"name":`...)
				b = appendString(b, m.ContentBlock.Name)
				return append(b, `,"arguments":""}}]`...)
			}, "")
		}
	case "content_block_delta":
		// delta did not take it: a delta type with no OpenAI equivalent
		// (thinking, signature, citations), or a malformed one.
	case "message_delta":
		var m struct {
			Delta struct {
				StopReason string `json:"stop_reason"`
			} `json:"delta"`
			Usage *anthropicUsage `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			s.fail(invalidResponse("anthropic", "unreadable message_delta event"))
			return
		}
		s.counts.merge(m.Usage)
		if !s.finished {
			s.finished = true
			s.chunk(nil, finishReason(m.Delta.StopReason))
		}
	case "message_stop":
		if !s.finished {
			s.finished = true
			s.chunk(nil, "stop")
		}
		s.end()
	case "ping":
		if s.sentRole {
			s.buf = sse.AppendComment(s.buf, "ping")
		}
	case "error":
		s.fail(anthropicStreamError(data))
	}
}

// delta handles a content_block_delta without decoding it: the text or
// partial JSON string is copied as it is. It reports false when the event
// is not one it knows.
func (s *chatFromMessages) delta(data string) bool {
	var index, delta string
	ok := members(data, func(k, v string) bool {
		switch k {
		case "index":
			index = v
		case "delta":
			delta = v
		}
		return true
	})
	if !ok || delta == "" {
		return false
	}
	var typ, text, partial string
	if !members(delta, func(k, v string) bool {
		switch k {
		case "type":
			typ = v
		case "text":
			text = v
		case "partial_json":
			partial = v
		}
		return true
	}) {
		return false
	}
	switch typ {
	case `"text_delta"`:
		if len(text) < 2 || text[0] != '"' {
			return false
		}
		if text != `""` {
			s.chunk(func(b []byte) []byte {
				b = append(b, `"content":`...)
				return append(b, text...)
			}, "")
		}
		return true
	case `"input_json_delta"`:
		i, ok := intValue(index)
		if !ok || len(partial) < 2 || partial[0] != '"' {
			return false
		}
		k, ok := s.tools[i]
		if !ok || partial == `""` {
			return true
		}
		s.chunk(func(b []byte) []byte {
			b = append(b, `"tool_calls":[{"index":`...)
			b = strconv.AppendInt(b, int64(k), 10)
			b = append(b, `,"function":{"arguments":`...)
			b = append(b, partial...)
			return append(b, `}}]`...)
		}, "")
		return true
	}
	return false
}

// ensurePrefix builds the start every chunk shares.
func (s *chatFromMessages) ensurePrefix() {
	if s.prefix != nil {
		return
	}
	if s.id == "" {
		s.id = newID()
	}
	s.created = s.now().Unix()
	b := []byte(`data: {"id":`)
	b = appendString(b, s.id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, s.created, 10)
	b = append(b, `,"model":`...)
	b = appendString(b, s.model)
	s.prefix = append(b, `,"choices":[`...)
}

// chunk appends one chunk whose delta holds what members writes (nil for
// none), with finish as its finish_reason ("" for null). The first chunk
// also carries the role.
func (s *chatFromMessages) chunk(members func([]byte) []byte, finish string) {
	s.ensurePrefix()
	b := append(s.buf, s.prefix...)
	b = append(b, `{"index":0,"delta":{`...)
	start := len(b)
	if !s.sentRole {
		s.sentRole = true
		b = append(b, `"role":"assistant"`...)
		if members == nil {
			b = append(b, `,"content":""`...)
		}
	}
	if members != nil {
		if len(b) > start {
			b = append(b, ',')
		}
		b = members(b)
	}
	b = append(b, `},"logprobs":null,"finish_reason":`...)
	if finish == "" {
		b = append(b, `null`...)
	} else {
		b = appendString(b, finish)
	}
	s.buf = append(b, "}]}\n\n"...)
}

// end appends the usage chunk, if the client asked for it, and [DONE].
func (s *chatFromMessages) end() {
	s.done = true
	if u := s.counts.usage(); s.includeUsage && u.Known {
		s.ensurePrefix()
		b := append(s.buf, s.prefix...)
		b = append(b, `],"usage":`...)
		ub, _ := json.Marshal(openAIUsageOf(u))
		b = append(b, ub...)
		s.buf = append(b, "}\n\n"...)
	}
	s.buf = sse.AppendData(s.buf, []byte("[DONE]"))
}
