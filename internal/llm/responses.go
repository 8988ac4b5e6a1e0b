package llm

// responses parses an OpenAI Responses API body.
func (p *parser) responses(root *node) error {
	r := p.req
	if err := p.model(root); err != nil {
		return err
	}
	if err := p.stream(root, false); err != nil {
		return err
	}
	var err error
	if r.MaxTokens, err = p.count(root, "", "max_output_tokens"); err != nil {
		return err
	}
	if err := p.sampling(root, "temperature", "top_p", "user"); err != nil {
		return err
	}
	if r.ToolChoice, err = p.raw(root, "", "tool_choice", "a string or an object", '"', '{'); err != nil {
		return err
	}
	if err := p.responsesTools(root); err != nil {
		return err
	}
	if v, path := field(root, "", "instructions"); v != nil {
		s, err := p.text(v, path, len(r.Messages), 0, -1)
		if err != nil {
			return err
		}
		r.Messages = append(r.Messages, Message{Role: RoleSystem, Parts: []Part{{Kind: PartText, Text: s}}})
	}
	in, path := field(root, "", "input")
	switch {
	case in == nil:
		// A request may continue a stored conversation
		// (previous_response_id, conversation) without new input.
	case in.isString():
		s, err := p.text(in, path, len(r.Messages), 0, -1)
		if err != nil {
			return err
		}
		r.Messages = append(r.Messages, Message{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: s}}})
	case in.isArray():
		if err := p.array(in, path); err != nil {
			return err
		}
		for i, item := range in.items() {
			if err := p.responsesItem(item, index(path, i)); err != nil {
				return err
			}
		}
	default:
		return errType(path, "a string or an array of input items", in)
	}
	return nil
}

func (p *parser) responsesTools(root *node) error {
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
		typ, err := p.partType(t, tpath)
		if err != nil {
			return err
		}
		// Function and custom tools are flat; built-in tools have no
		// parameters, and usually no name.
		tool, err := p.function(t, tpath, typ)
		if err != nil {
			return err
		}
		p.req.Tools = append(p.req.Tools, tool)
	}
	return nil
}

// responsesItem reads one input item into one message.
func (p *parser) responsesItem(item *node, path string) error {
	if err := p.object(item, path); err != nil {
		return err
	}
	typ, err := p.str(item, path, "type")
	if err != nil {
		return err
	}
	mi := len(p.req.Messages)
	msg := Message{Type: typ}
	switch {
	case typ == "message" || (typ == "" && item.get("role") != nil):
		err = p.responsesMessage(item, path, mi, &msg)
	case typ == "":
		return errMissing(join(path, "type"))
	case typ == "function_call" || typ == "custom_tool_call":
		msg.Role = RoleAssistant
		part := Part{Kind: PartToolCall, Type: typ}
		if part.ID, err = p.str(item, path, "call_id"); err != nil {
			return err
		}
		if part.Name, err = p.str(item, path, "name"); err != nil {
			return err
		}
		args := "arguments"
		if typ == "custom_tool_call" {
			args = "input"
		}
		if part.Arguments, err = p.arguments(item, path, args, mi, 0, -1); err != nil {
			return err
		}
		msg.Parts = []Part{part}
	case typ == "function_call_output" || typ == "custom_tool_call_output":
		msg.Role = RoleTool
		if msg.ToolCallID, err = p.str(item, path, "call_id"); err != nil {
			return err
		}
		var part Part
		part, err = p.responsesOutput(item, path, mi)
		part.ID = msg.ToolCallID
		msg.Parts = []Part{part}
	default:
		// reasoning, item_reference, web_search_call and the other items
		// are kept as they are.
		msg.Parts = []Part{{Kind: PartOther, Type: typ}}
	}
	if err != nil {
		return err
	}
	p.req.Messages = append(p.req.Messages, msg)
	return nil
}

func (p *parser) responsesMessage(item *node, path string, mi int, msg *Message) error {
	role, err := p.requiredStr(item, path, "role")
	if err != nil {
		return err
	}
	msg.Role = Role(role)
	switch msg.Role {
	case RoleSystem, RoleDeveloper, RoleUser, RoleAssistant:
	default:
		return errAt(join(path, "role"), CodeInvalidValue,
			`must be one of "system", "developer", "user", "assistant"`)
	}
	return p.content(item, path, mi, msg, "content parts", p.responsesPart)
}

// responsesOutput reads a function call output: a string or content parts.
func (p *parser) responsesOutput(item *node, path string, mi int) (Part, error) {
	part := Part{Kind: PartToolResult}
	out, opath := field(item, path, "output")
	switch {
	case out == nil:
		return part, errMissing(opath)
	case out.isString():
		s, err := p.text(out, opath, mi, 0, -1)
		part.Text = s
		return part, err
	case out.isArray():
		if err := p.array(out, opath); err != nil {
			return part, err
		}
		for k, c := range out.items() {
			sub, err := p.responsesPart(c, index(opath, k), mi, 0, len(part.Content))
			if err != nil {
				return part, err
			}
			part.Content = append(part.Content, sub)
		}
		part.Text = joinText(part.Content)
		return part, nil
	}
	return part, errType(opath, "a string or an array of content parts", out)
}

// responsesPart reads one content part of a Responses message or function
// call output.
func (p *parser) responsesPart(c *node, path string, mi, pi, si int) (Part, error) {
	if err := p.object(c, path); err != nil {
		return Part{}, err
	}
	typ, err := p.partType(c, path)
	if err != nil {
		return Part{}, err
	}
	part := Part{Type: typ}
	switch typ {
	case "input_text", "output_text":
		part.Kind = PartText
		part.Text, err = p.textMember(c, path, "text", mi, pi, si)
	case "refusal":
		part.Kind = PartRefusal
		part.Text, err = p.textMember(c, path, "refusal", mi, pi, si)
	case "input_image":
		part.Kind = PartImage
	case "input_audio":
		part.Kind = PartAudio
	case "input_file":
		part.Kind = PartFile
	default:
		part.Kind = PartOther
	}
	return part, err
}
