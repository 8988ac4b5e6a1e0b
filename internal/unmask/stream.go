package unmask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

// ErrUnreadable is wrapped by the errors of a Stream or Body that met an
// answer it cannot rewrite with certainty; the caller must not pass that
// answer on (fail closed).
var ErrUnreadable = errors.New("answer cannot be checked for personal data")

// channel is one text channel of a stream and what a synthetic event that
// carries its last text needs.
type channel struct {
	f *filter
	// choice index (OpenAI), content block index (Anthropic) or output
	// index (Responses); tool is the tool call index (OpenAI) or -1.
	index, tool int
	field       string // content, refusal, text, arguments, partial_json, delta
	// Responses: the item and content part the deltas belong to.
	itemID       json.RawMessage
	contentIndex int
}

// Stream rewrites the events of one streamed answer in the client's
// format. Call Event for every event as it arrives and write what it
// returns; call Close at the end of the stream and write what it returns.
// Events that need no change come back as they were.
type Stream struct {
	r        *Rewriter
	format   llm.Format
	chans    map[string]*channel
	order    []string
	template []byte // OpenAI: the last chunk, for synthetic chunks
}

// Stream returns a Stream for an answer in format f.
func (r *Rewriter) Stream(f llm.Format) (*Stream, error) {
	switch f {
	case llm.FormatChat, llm.FormatCompletions, llm.FormatAnthropic, llm.FormatResponses:
	default:
		return nil, fmt.Errorf("%w: no stream rewriting for the %q API", ErrUnreadable, f)
	}
	return &Stream{r: r, format: f, chans: map[string]*channel{}}, nil
}

// Event rewrites the event(s) in raw.
func (s *Stream) Event(raw []byte) ([]byte, error) {
	if s.r.scanner == nil && !s.holding() && !mayHavePlaceholder(raw) {
		// Restoring only, nothing held and no '<' in sight: nothing can
		// change, and the event need not even be parsed.
		return raw, nil
	}
	if ev, ok := simpleEvent(raw); ok {
		return s.event(ev)
	}
	rd := sse.NewReader(bytes.NewReader(raw))
	var out []byte
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
		}
		b, err := s.event(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	if len(out) == 0 && len(bytes.TrimSpace(raw)) > 0 {
		// Comments only: nothing to rewrite.
		return raw, nil
	}
	return out, nil
}

func (s *Stream) event(ev sse.Event) ([]byte, error) {
	switch s.format {
	case llm.FormatAnthropic:
		return s.anthropic(ev)
	case llm.FormatResponses:
		return s.responses(ev)
	}
	return s.openai(ev)
}

// holding reports whether any channel holds text back.
func (s *Stream) holding() bool {
	for _, c := range s.chans {
		if c.f.held != "" || c.f.suppress {
			return true
		}
	}
	return false
}

// mayHavePlaceholder reports whether raw has a '<', as is or JSON-escaped
// (Go's encoding/json writes \u003c).
func mayHavePlaceholder(raw []byte) bool {
	return bytes.IndexByte(raw, '<') >= 0 || bytes.Contains(raw, []byte(`\u003c`)) || bytes.Contains(raw, []byte(`\u003C`))
}

// simpleEvent parses the common event block, "event:" and one "data:"
// line ended by LF, without a reader; anything else goes to sse.Reader.
func simpleEvent(raw []byte) (sse.Event, bool) {
	if !bytes.HasSuffix(raw, []byte("\n\n")) || bytes.IndexByte(raw, '\r') >= 0 {
		return sse.Event{}, false
	}
	body := raw[:len(raw)-2]
	ev := sse.Event{Raw: raw}
	seenData := false
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("data:")) && !seenData:
			ev.Data = string(trimOneSpace(line[5:]))
			seenData = true
		case bytes.HasPrefix(line, []byte("event:")) && ev.Event == "":
			ev.Event = string(trimOneSpace(line[6:]))
		default:
			return sse.Event{}, false
		}
	}
	return ev, seenData
}

func trimOneSpace(b []byte) []byte {
	if len(b) > 0 && b[0] == ' ' {
		return b[1:]
	}
	return b
}

// Close returns synthetic events carrying the text still held, for a
// stream that ended without its final events.
func (s *Stream) Close() []byte {
	return s.flushAll()
}

func (s *Stream) get(key string, mk func() *channel) *channel {
	c := s.chans[key]
	if c == nil {
		c = mk()
		c.f = &filter{r: s.r, inJSON: c.field == "arguments" || c.field == "partial_json"}
		s.chans[key] = c
		s.order = append(s.order, key)
	}
	return c
}

// flushAll flushes every channel, in the order they opened.
func (s *Stream) flushAll() []byte {
	var out []byte
	for _, k := range s.order {
		out = append(out, s.flushOne(s.chans[k])...)
	}
	return out
}

func (s *Stream) flushOne(c *channel) []byte {
	t := c.f.flush()
	if t == "" {
		return nil
	}
	switch s.format {
	case llm.FormatAnthropic:
		typ := "text_delta"
		if c.field == "partial_json" {
			typ = "input_json_delta"
		}
		d := `{"type":"content_block_delta","index":` + strconv.Itoa(c.index) + `,"delta":{"type":"` + typ + `","` + c.field + `":` + string(quote(t)) + `}}`
		return eventBytes("content_block_delta", d)
	case llm.FormatResponses:
		typ := "response.output_text.delta"
		d := `{"type":"` + typ + `","item_id":` + rawOr(c.itemID, `""`) + `,"output_index":` + strconv.Itoa(c.index) + `,"content_index":` + strconv.Itoa(c.contentIndex) + `,"delta":` + string(quote(t)) + `}`
		if c.field == "arguments" {
			typ = "response.function_call_arguments.delta"
			d = `{"type":"` + typ + `","item_id":` + rawOr(c.itemID, `""`) + `,"output_index":` + strconv.Itoa(c.index) + `,"delta":` + string(quote(t)) + `}`
		}
		return eventBytes(typ, d)
	}
	var choice string
	switch c.field {
	case "text":
		choice = `{"index":` + strconv.Itoa(c.index) + `,"text":` + string(quote(t)) + `,"logprobs":null,"finish_reason":null}`
	case "arguments":
		choice = `{"index":` + strconv.Itoa(c.index) + `,"delta":{"tool_calls":[{"index":` + strconv.Itoa(c.tool) + `,"function":{"arguments":` + string(quote(t)) + `}}]},"finish_reason":null}`
	default:
		choice = `{"index":` + strconv.Itoa(c.index) + `,"delta":{"` + c.field + `":` + string(quote(t)) + `},"finish_reason":null}`
	}
	return eventBytes("", string(s.chunk(choice)))
}

// chunk is a chunk like the stream's last one with choices set to the one
// choice given and no usage.
func (s *Stream) chunk(choice string) []byte {
	var top map[string]json.RawMessage
	if len(s.template) == 0 || json.Unmarshal(s.template, &top) != nil {
		top = map[string]json.RawMessage{"object": json.RawMessage(`"chat.completion.chunk"`)}
	}
	delete(top, "usage")
	top["choices"] = json.RawMessage("[" + choice + "]")
	b, _ := json.Marshal(top)
	return b
}

func rawOr(r json.RawMessage, def string) string {
	if len(r) == 0 {
		return def
	}
	return string(r)
}

func eventBytes(name, data string) []byte {
	var b []byte
	if name != "" {
		b = append(b, "event: "+name+"\n"...)
	}
	b = append(b, "data: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// openai rewrites a chat or completions chunk.
func (s *Stream) openai(ev sse.Event) ([]byte, error) {
	data := []byte(ev.Data)
	if strings.TrimSpace(ev.Data) == "[DONE]" {
		return append(s.flushAll(), ev.Raw...), nil
	}
	// One pass collects the text strings and the indexes they need; the
	// chunk is not decoded otherwise.
	type text struct {
		at, end   int
		raw       []byte
		pos, tpos int
		field     string
	}
	var (
		texts      []text
		choiceIdx  []int // by position in choices
		toolIdx    = map[[2]int]int{}
		finishing  []int // positions
		hasChoices bool
	)
	setIdx := func(pos, v int) {
		for len(choiceIdx) <= pos {
			choiceIdx = append(choiceIdx, len(choiceIdx))
		}
		choiceIdx[pos] = v
	}
	err := walk(data, func(path []string, raw []byte, at int) {
		if len(path) < 3 || path[0] != "choices" {
			return
		}
		hasChoices = true
		pos := pathIndex(path[1])
		switch {
		case len(path) == 3 && path[2] == "finish_reason":
			finishing = append(finishing, pos)
		case len(path) == 3 && path[2] == "text" && s.format == llm.FormatCompletions:
			texts = append(texts, text{at, at + len(raw), raw, pos, -1, "text"})
		case len(path) == 4 && path[2] == "delta" && (path[3] == "content" || path[3] == "refusal"):
			texts = append(texts, text{at, at + len(raw), raw, pos, -1, path[3]})
		case len(path) == 7 && path[2] == "delta" && path[3] == "tool_calls" && path[5] == "function" && path[6] == "arguments":
			texts = append(texts, text{at, at + len(raw), raw, pos, pathIndex(path[4]), "arguments"})
		}
	}, func(path []string, raw []byte) {
		if len(path) >= 2 && path[0] == "choices" {
			hasChoices = true
		}
		if len(path) == 3 && path[0] == "choices" && path[2] == "index" {
			if v, err := strconv.Atoi(string(raw)); err == nil {
				setIdx(pathIndex(path[1]), v)
			}
		}
		if len(path) == 6 && path[0] == "choices" && path[2] == "delta" && path[3] == "tool_calls" && path[5] == "index" {
			if v, err := strconv.Atoi(string(raw)); err == nil {
				toolIdx[[2]int{pathIndex(path[1]), pathIndex(path[4])}] = v
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: a stream event is not JSON", ErrUnreadable)
	}
	if !hasChoices && len(texts) == 0 {
		// Usage-only chunks and error events end the text: flush first.
		return append(s.flushAll(), ev.Raw...), nil
	}
	s.template = append(s.template[:0], data...)
	index := func(pos int) int {
		if pos < len(choiceIdx) {
			return choiceIdx[pos]
		}
		return pos
	}
	var finishingIdx []int
	for _, pos := range finishing {
		finishingIdx = append(finishingIdx, index(pos))
	}
	isFinishing := func(i int) bool { return slices.Contains(finishingIdx, i) }
	var touched []string
	var edits []edit
	for _, t := range texts {
		v, err := unquote(t.raw)
		if err != nil {
			return nil, fmt.Errorf("%w: a stream event is not JSON", ErrUnreadable)
		}
		idx := index(t.pos)
		tool := -1
		key := "c" + strconv.Itoa(idx) + "." + t.field
		if t.field == "arguments" {
			tool = t.tpos
			if v, ok := toolIdx[[2]int{t.pos, t.tpos}]; ok {
				tool = v
			}
			key = "c" + strconv.Itoa(idx) + ".t" + strconv.Itoa(tool)
		}
		field := t.field
		c := s.get(key, func() *channel { return &channel{index: idx, tool: tool, field: field} })
		touched = append(touched, key)
		out := c.f.push(v)
		if isFinishing(idx) {
			out += c.f.flush()
		}
		if out != v {
			edits = append(edits, edit{t.at, t.end, quote(out)})
		}
	}
	var pre []byte
	for _, k := range s.order {
		if c := s.chans[k]; isFinishing(c.index) && !slices.Contains(touched, k) {
			pre = append(pre, s.flushOne(c)...)
		}
	}
	if len(pre) == 0 && len(edits) == 0 {
		return ev.Raw, nil
	}
	return append(pre, rebuild(ev, splice(data, edits))...), nil
}

// pathIndex is the array index of a path element ("#3" → 3).
func pathIndex(e string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(e, "#"))
	return n
}

// rebuild writes ev again with new data, keeping its event name and id.
func rebuild(ev sse.Event, data []byte) []byte {
	b, err := sse.AppendEvent(nil, sse.Event{Event: ev.Event, ID: ev.ID, Retry: ev.Retry, Data: string(data)})
	if err != nil {
		return eventBytes(ev.Event, string(data))
	}
	return b
}

// anthropic rewrites an Anthropic Messages stream event.
func (s *Stream) anthropic(ev sse.Event) ([]byte, error) {
	var head struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta struct {
			Type string `json:"type"`
		} `json:"delta"`
		Block struct {
			Type string `json:"type"`
		} `json:"content_block"`
	}
	data := []byte(ev.Data)
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: a stream event is not JSON", ErrUnreadable)
	}
	switch head.Type {
	case "content_block_delta", "content_block_start":
		out, err := rewriteStrings(data, func(path []string, v string) (string, bool) {
			var field string
			switch {
			case len(path) == 2 && path[0] == "delta" && head.Delta.Type == "text_delta" && path[1] == "text":
				field = "text"
			case len(path) == 2 && path[0] == "delta" && head.Delta.Type == "input_json_delta" && path[1] == "partial_json":
				field = "partial_json"
			case len(path) == 2 && path[0] == "content_block" && head.Block.Type == "text" && path[1] == "text":
				field = "text"
			default:
				return "", false
			}
			key := "b" + strconv.Itoa(head.Index)
			c := s.get(key, func() *channel { return &channel{index: head.Index, tool: -1, field: field} })
			return c.f.push(v), true
		})
		if err != nil {
			return nil, fmt.Errorf("%w: a stream event is not JSON", ErrUnreadable)
		}
		if bytes.Equal(out, data) {
			return ev.Raw, nil
		}
		return rebuild(ev, out), nil
	case "content_block_stop":
		if c := s.chans["b"+strconv.Itoa(head.Index)]; c != nil {
			return append(s.flushOne(c), ev.Raw...), nil
		}
		return ev.Raw, nil
	case "message_delta", "message_stop", "error":
		return append(s.flushAll(), ev.Raw...), nil
	}
	return ev.Raw, nil
}

// responses rewrites an OpenAI Responses stream event: deltas through the
// channels, and the full texts that later events repeat (done events, the
// final response) as whole texts.
func (s *Stream) responses(ev sse.Event) ([]byte, error) {
	var head struct {
		Type         string          `json:"type"`
		ItemID       json.RawMessage `json:"item_id"`
		OutputIndex  int             `json:"output_index"`
		ContentIndex int             `json:"content_index"`
	}
	data := []byte(ev.Data)
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: a stream event is not JSON", ErrUnreadable)
	}
	var pre []byte
	var fn func(path []string, v string) (string, bool)
	switch head.Type {
	case "response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta":
		field := "delta"
		if head.Type == "response.function_call_arguments.delta" {
			field = "arguments"
		}
		key := "o" + strconv.Itoa(head.OutputIndex) + "." + strconv.Itoa(head.ContentIndex) + "." + field
		c := s.get(key, func() *channel {
			return &channel{index: head.OutputIndex, contentIndex: head.ContentIndex, tool: -1, field: field, itemID: slices.Clone(head.ItemID)}
		})
		fn = func(path []string, v string) (string, bool) {
			if len(path) != 1 || path[0] != "delta" {
				return "", false
			}
			return c.f.push(v), true
		}
	default:
		if strings.HasSuffix(head.Type, ".done") || head.Type == "response.completed" || head.Type == "response.incomplete" || head.Type == "response.failed" {
			for _, k := range s.order {
				if c := s.chans[k]; head.Type == "response.completed" || head.Type == "response.incomplete" || head.Type == "response.failed" || c.index == head.OutputIndex {
					pre = append(pre, s.flushOne(c)...)
				}
			}
		}
		fn = func(path []string, v string) (string, bool) { return s.r.whole(path, v) }
	}
	out, err := rewriteStrings(data, fn)
	if err != nil {
		return nil, fmt.Errorf("%w: a stream event is not JSON", ErrUnreadable)
	}
	if len(pre) == 0 && bytes.Equal(out, data) {
		return ev.Raw, nil
	}
	return append(pre, rebuild(ev, out)...), nil
}
