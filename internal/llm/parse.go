package llm

import (
	"encoding/json"
	"strings"
)

// parser builds a Request from a body's tree. Every helper takes the path of
// the value it reads, for the error it may return.
type parser struct {
	req *Request
	doc *document
	a   *arena
}

// object decodes n as an object.
func (p *parser) object(n *node, path string) error {
	if !n.isObject() {
		return errType(path, "an object", n)
	}
	dup, err := n.decodeObject(p.a)
	if err != nil {
		return errAt(path, CodeInvalidJSON, "is not valid JSON")
	}
	if dup != "" {
		// Only a key this package reads is named: others are the client's
		// own text.
		if knownKeys[dup] {
			return errAt(join(path, dup), CodeInvalidValue, "is given more than once")
		}
		return errAt(path, CodeInvalidValue, "has a member given more than once")
	}
	return nil
}

// knownKeys are the member names the parsers read.
var knownKeys = keySet(`arguments call_id content custom data description dimensions
	encoding_format frequency_penalty function function_call functions id include_usage
	input input_schema instructions max_completion_tokens max_output_tokens max_tokens
	messages metadata model n name output parameters presence_penalty prompt refusal
	response_format role seed source stop stop_sequences stream stream_options suffix
	system temperature text thinking tool_call_id tool_calls tool_choice tool_use_id
	tools top_k top_p type user user_id`)

func keySet(keys string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(keys) {
		m[k] = true
	}
	return m
}

// array decodes n as an array.
func (p *parser) array(n *node, path string) error {
	if !n.isArray() {
		return errType(path, "an array", n)
	}
	if err := n.decodeArray(p.a); err != nil {
		return errAt(path, CodeInvalidJSON, "is not valid JSON")
	}
	return nil
}

// field returns obj's key and its path; nil for an absent or null member.
func field(obj *node, path, key string) (*node, string) {
	return value(obj, key), join(path, key)
}

// value returns obj's key; nil for an absent or null member.
func value(obj *node, key string) *node {
	if v := obj.get(key); !v.isNull() {
		return v
	}
	return nil
}

// str reads an optional string member ("" when absent or null).
func (p *parser) str(obj *node, path, key string) (string, error) {
	v := value(obj, key)
	if v == nil {
		return "", nil
	}
	s, ok := stringValue(v)
	if !ok {
		return "", errType(join(path, key), "a string", v)
	}
	return s, nil
}

// requiredStr reads a string member that must be present.
func (p *parser) requiredStr(obj *node, path, key string) (string, error) {
	v := value(obj, key)
	if v == nil {
		return "", errMissing(join(path, key))
	}
	return p.str(obj, path, key)
}

func (p *parser) boolean(obj *node, path, key string) (bool, error) {
	v := value(obj, key)
	if v == nil {
		return false, nil
	}
	switch string(v.raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errType(join(path, key), "a boolean", v)
}

func (p *parser) number(obj *node, path, key string) (*float64, error) {
	v := value(obj, key)
	if v == nil {
		return nil, nil
	}
	var f float64
	if jsonType(v.raw) != "a number" || json.Unmarshal(v.raw, &f) != nil {
		return nil, errType(join(path, key), "a number", v)
	}
	return &f, nil
}

func (p *parser) int64(obj *node, path, key string) (*int64, error) {
	v := value(obj, key)
	if v == nil {
		return nil, nil
	}
	var i int64
	if jsonType(v.raw) != "a number" || json.Unmarshal(v.raw, &i) != nil {
		return nil, errType(join(path, key), "an integer", v)
	}
	return &i, nil
}

func (p *parser) integer(obj *node, path, key string) (*int, error) {
	v := value(obj, key)
	if v == nil {
		return nil, nil
	}
	var i int
	if jsonType(v.raw) != "a number" || json.Unmarshal(v.raw, &i) != nil {
		return nil, errType(join(path, key), "an integer", v)
	}
	return &i, nil
}

// count reads a non-negative integer (a token cap, a dimension).
func (p *parser) count(obj *node, path, key string) (*int, error) {
	i, err := p.integer(obj, path, key)
	if err == nil && i != nil && *i < 0 {
		return nil, errAt(join(path, key), CodeInvalidValue, "must not be negative")
	}
	return i, err
}

// raw returns an optional member as written, checking it is one of the
// allowed JSON types; nil when absent or null.
func (p *parser) raw(obj *node, path, key, want string, allowed ...byte) (json.RawMessage, error) {
	v := value(obj, key)
	if v == nil {
		return nil, nil
	}
	for _, c := range allowed {
		if v.raw[0] == c {
			return json.RawMessage(v.raw), nil
		}
	}
	return nil, errType(join(path, key), want, v)
}

// stop reads stop sequences: a list of strings, or (if one is true) a
// single string.
func (p *parser) stop(obj *node, path, key string, one bool) ([]string, error) {
	v := value(obj, key)
	if v == nil {
		return nil, nil
	}
	if one && v.isString() {
		s, _ := stringValue(v)
		return []string{s}, nil
	}
	want := "an array of strings"
	if one {
		want = "a string or an array of strings"
	}
	if !v.isArray() {
		return nil, errType(join(path, key), want, v)
	}
	if err := p.array(v, join(path, key)); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(v.items()))
	for i, e := range v.items() {
		s, ok := stringValue(e)
		if !ok {
			return nil, errType(index(join(path, key), i), "a string", e)
		}
		out = append(out, s)
	}
	return out, nil
}

// model reads the model member.
func (p *parser) model(root *node) error {
	var err error
	p.req.Model, err = p.str(root, "", "model")
	return err
}

// stream reads stream and, if options, stream_options.include_usage.
func (p *parser) stream(root *node, options bool) error {
	var err error
	if p.req.Stream, err = p.boolean(root, "", "stream"); err != nil || !options {
		return err
	}
	so, sopath := field(root, "", "stream_options")
	if so == nil {
		return nil
	}
	if err := p.object(so, sopath); err != nil {
		return err
	}
	p.req.IncludeUsage, err = p.boolean(so, sopath, "include_usage")
	return err
}

// sampling reads the sampling members the format has.
func (p *parser) sampling(root *node, keys ...string) error {
	r := p.req
	var err error
	for _, k := range keys {
		switch k {
		case "temperature":
			r.Temperature, err = p.number(root, "", k)
		case "top_p":
			r.TopP, err = p.number(root, "", k)
		case "top_k":
			r.TopK, err = p.integer(root, "", k)
		case "n":
			r.N, err = p.integer(root, "", k)
		case "presence_penalty":
			r.PresencePenalty, err = p.number(root, "", k)
		case "frequency_penalty":
			r.FrequencyPenalty, err = p.number(root, "", k)
		case "seed":
			r.Seed, err = p.int64(root, "", k)
		case "user":
			r.User, err = p.str(root, "", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// text registers the string v at path as a text segment of part pi of
// message mi (sub-part si, or -1) and returns its value.
func (p *parser) text(v *node, path string, mi, pi, si int) (string, error) {
	s, ok := stringValue(v)
	if !ok {
		return "", errType(path, "a string", v)
	}
	p.doc.texts = append(p.doc.texts, textSlot{path: path, val: v, text: s, msg: mi, part: pi, sub: si})
	return s, nil
}

// arguments registers obj's optional string member key as the arguments of
// tool call pi of message mi (sub-part si, or -1) and returns its value.
func (p *parser) arguments(obj *node, path, key string, mi, pi, si int) (string, error) {
	v, vpath := field(obj, path, key)
	if v == nil {
		return "", nil
	}
	s, ok := stringValue(v)
	if !ok {
		return "", errType(vpath, "a string", v)
	}
	p.doc.args = append(p.doc.args, argSlot{path: vpath, val: v, msg: mi, part: pi, sub: si})
	return s, nil
}

// textMember registers obj's string member key as a text segment; it must
// be present.
func (p *parser) textMember(obj *node, path, key string, mi, pi, si int) (string, error) {
	v, vpath := field(obj, path, key)
	if v == nil {
		return "", errMissing(vpath)
	}
	return p.text(v, vpath, mi, pi, si)
}

// partType reads a part's required "type".
func (p *parser) partType(obj *node, path string) (string, error) {
	return p.requiredStr(obj, path, "type")
}

// prompts reads a completions prompt or an embeddings input into the parts
// of message 0: a string, a list of strings, a list of tokens or a list of
// token lists.
func (p *parser) prompts(v *node, path string) ([]Part, error) {
	const want = "a string, an array of strings or an array of token arrays"
	if v.isString() {
		s, err := p.text(v, path, 0, 0, -1)
		return []Part{{Kind: PartText, Text: s}}, err
	}
	if !v.isArray() {
		return nil, errType(path, want, v)
	}
	if err := p.array(v, path); err != nil {
		return nil, err
	}
	if len(v.items()) > 0 && jsonType(v.items()[0].raw) == "a number" {
		toks, err := p.tokens(v, path)
		if err != nil {
			return nil, err
		}
		return []Part{{Kind: PartTokens, Tokens: toks}}, nil
	}
	parts := make([]Part, 0, len(v.items()))
	for i, e := range v.items() {
		epath := index(path, i)
		switch {
		case e.isString():
			s, err := p.text(e, epath, 0, len(parts), -1)
			if err != nil {
				return nil, err
			}
			parts = append(parts, Part{Kind: PartText, Text: s})
		case e.isArray():
			if err := p.array(e, epath); err != nil {
				return nil, err
			}
			toks, err := p.tokens(e, epath)
			if err != nil {
				return nil, err
			}
			parts = append(parts, Part{Kind: PartTokens, Tokens: toks})
		default:
			return nil, errType(epath, "a string or an array of tokens", e)
		}
	}
	return parts, nil
}

// tokens reads a decoded array of token ids.
func (p *parser) tokens(v *node, path string) ([]int, error) {
	toks := make([]int, 0, len(v.items()))
	for i, e := range v.items() {
		var t int
		if jsonType(e.raw) != "a number" || json.Unmarshal(e.raw, &t) != nil {
			return nil, errType(index(path, i), "a token id (an integer)", e)
		}
		if t < 0 {
			return nil, errAt(index(path, i), CodeInvalidValue, "must not be negative")
		}
		toks = append(toks, t)
	}
	return toks, nil
}
