package llm

import "slices"

// anthropic parses an Anthropic Messages body.
func (p *parser) anthropic(root *node) error {
	r := p.req
	if err := p.model(root); err != nil {
		return err
	}
	if err := p.stream(root, false); err != nil {
		return err
	}
	var err error
	if r.MaxTokens, err = p.count(root, "", "max_tokens"); err != nil {
		return err
	}
	if err := p.sampling(root, "temperature", "top_p", "top_k"); err != nil {
		return err
	}
	if r.Stop, err = p.stop(root, "", "stop_sequences", false); err != nil {
		return err
	}
	if md, mpath := field(root, "", "metadata"); md != nil {
		if err := p.object(md, mpath); err != nil {
			return err
		}
		if r.User, err = p.str(md, mpath, "user_id"); err != nil {
			return err
		}
	}
	if r.ToolChoice, err = p.raw(root, "", "tool_choice", "an object", '{'); err != nil {
		return err
	}
	if err := p.anthropicTools(root); err != nil {
		return err
	}
	if err := p.anthropicSystem(root); err != nil {
		return err
	}
	return p.messages(root, p.anthropicMessage)
}

// messages reads the required, non-empty messages array, each element
// with read.
func (p *parser) messages(root *node, read func(m *node, path string) error) error {
	msgs, path := field(root, "", "messages")
	if msgs == nil {
		return errMissing(path)
	}
	if err := p.array(msgs, path); err != nil {
		return err
	}
	if len(msgs.items()) == 0 {
		return errAt(path, CodeInvalidValue, "must not be empty")
	}
	p.req.Messages = slices.Grow(p.req.Messages, len(msgs.items()))
	for i, m := range msgs.items() {
		if err := read(m, index(path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) anthropicTools(root *node) error {
	tools, path := field(root, "", "tools")
	if tools == nil {
		return nil
	}
	if err := p.array(tools, path); err != nil {
		return err
	}
	for i, t := range tools.items() {
		tpath := index(path, i)
		if err := p.object(t, tpath); err != nil {
			return err
		}
		var tool Tool
		var err error
		if tool.Type, err = p.str(t, tpath, "type"); err != nil {
			return err
		}
		if tool.Name, err = p.str(t, tpath, "name"); err != nil {
			return err
		}
		if tool.Description, err = p.str(t, tpath, "description"); err != nil {
			return err
		}
		if tool.Parameters, err = p.raw(t, tpath, "input_schema", "an object", '{'); err != nil {
			return err
		}
		p.req.Tools = append(p.req.Tools, tool)
	}
	return nil
}

// anthropicSystem reads the system prompt, a string or text blocks, into a
// system message.
func (p *parser) anthropicSystem(root *node) error {
	sys, path := field(root, "", "system")
	if sys == nil {
		return nil
	}
	mi := len(p.req.Messages)
	msg := Message{Role: RoleSystem}
	switch {
	case sys.isString():
		s, err := p.text(sys, path, mi, 0, -1)
		if err != nil {
			return err
		}
		msg.Parts = []Part{{Kind: PartText, Text: s}}
	case sys.isArray():
		if err := p.array(sys, path); err != nil {
			return err
		}
		for j, b := range sys.items() {
			part, err := p.anthropicBlock(b, index(path, j), mi, len(msg.Parts), -1)
			if err != nil {
				return err
			}
			msg.Parts = append(msg.Parts, part)
		}
	default:
		return errType(path, "a string or an array of text blocks", sys)
	}
	p.req.Messages = append(p.req.Messages, msg)
	return nil
}

func (p *parser) anthropicMessage(m *node, path string) error {
	if err := p.object(m, path); err != nil {
		return err
	}
	role, err := p.requiredStr(m, path, "role")
	if err != nil {
		return err
	}
	msg := Message{Role: Role(role)}
	if msg.Role != RoleUser && msg.Role != RoleAssistant {
		return errAt(join(path, "role"), CodeInvalidValue, `must be "user" or "assistant"`)
	}
	mi := len(p.req.Messages)
	if err := p.content(m, path, mi, &msg, "content blocks", p.anthropicBlock); err != nil {
		return err
	}
	p.req.Messages = append(p.req.Messages, msg)
	return nil
}

// content reads a message's required content, a string or an array of
// parts that part reads, into msg.
func (p *parser) content(m *node, path string, mi int, msg *Message, what string, part func(b *node, path string, mi, pi, si int) (Part, error)) error {
	content, cpath := field(m, path, "content")
	switch {
	case content == nil:
		return errMissing(cpath)
	case content.isString():
		s, err := p.text(content, cpath, mi, 0, -1)
		if err != nil {
			return err
		}
		msg.Parts = []Part{{Kind: PartText, Text: s}}
	case content.isArray():
		if err := p.array(content, cpath); err != nil {
			return err
		}
		for j, b := range content.items() {
			pt, err := part(b, index(cpath, j), mi, len(msg.Parts), -1)
			if err != nil {
				return err
			}
			msg.Parts = append(msg.Parts, pt)
		}
	default:
		return errType(cpath, "a string or an array of "+what, content)
	}
	return nil
}

// anthropicBlock reads one content block: of a message (si < 0), or inside
// the tool_result that is part pi (si is its index there).
func (p *parser) anthropicBlock(b *node, path string, mi, pi, si int) (Part, error) {
	if err := p.object(b, path); err != nil {
		return Part{}, err
	}
	typ, err := p.partType(b, path)
	if err != nil {
		return Part{}, err
	}
	part := Part{Type: typ}
	switch typ {
	case "text":
		part.Kind = PartText
		part.Text, err = p.textMember(b, path, "text", mi, pi, si)
	case "image":
		part.Kind = PartImage
	case "document":
		part.Kind = PartFile
		part.Text, err = p.document(b, path, mi, pi, si)
	case "thinking":
		part.Kind = PartThinking
		part.Text, err = p.textMember(b, path, "thinking", mi, pi, si)
	case "redacted_thinking":
		part.Kind = PartThinking
	case "tool_use", "server_tool_use":
		part.Kind = PartToolCall
		if part.ID, err = p.str(b, path, "id"); err != nil {
			return Part{}, err
		}
		if part.Name, err = p.str(b, path, "name"); err != nil {
			return Part{}, err
		}
		if in, ipath := field(b, path, "input"); in != nil {
			if !in.isObject() {
				return Part{}, errType(ipath, "an object", in)
			}
			part.Arguments = string(in.raw)
			p.doc.args = append(p.doc.args, argSlot{path: ipath, val: in, object: true, msg: mi, part: pi, sub: si})
		}
	case "tool_result":
		if si >= 0 {
			// Not allowed inside a tool result; kept, not interpreted.
			part.Kind = PartOther
			break
		}
		part.Kind = PartToolResult
		err = p.toolResult(b, path, mi, pi, &part)
	default:
		part.Kind = PartOther
	}
	return part, err
}

func (p *parser) toolResult(b *node, path string, mi, pi int, part *Part) error {
	var err error
	if part.ID, err = p.str(b, path, "tool_use_id"); err != nil {
		return err
	}
	content, cpath := field(b, path, "content")
	switch {
	case content == nil:
	case content.isString():
		part.Text, err = p.text(content, cpath, mi, pi, -1)
	case content.isArray():
		if err := p.array(content, cpath); err != nil {
			return err
		}
		for k, c := range content.items() {
			sub, err := p.anthropicBlock(c, index(cpath, k), mi, pi, len(part.Content))
			if err != nil {
				return err
			}
			part.Content = append(part.Content, sub)
		}
		part.Text = joinText(part.Content)
	default:
		err = errType(cpath, "a string or an array of content blocks", content)
	}
	return err
}

// document returns the text of a plain-text document (source type "text"),
// registered as a text segment; other documents have none.
func (p *parser) document(b *node, path string, mi, pi, si int) (string, error) {
	src, spath := field(b, path, "source")
	if src == nil {
		return "", nil
	}
	if err := p.object(src, spath); err != nil {
		return "", err
	}
	typ, err := p.str(src, spath, "type")
	if err != nil || typ != "text" {
		return "", err
	}
	return p.textMember(src, spath, "data", mi, pi, si)
}
