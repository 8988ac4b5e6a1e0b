package llm

// chat parses an OpenAI chat/completions body.
func (p *parser) chat(root *node) error {
	r := p.req
	if err := p.model(root); err != nil {
		return err
	}
	if err := p.stream(root, true); err != nil {
		return err
	}
	mct, err := p.count(root, "", "max_completion_tokens")
	if err != nil {
		return err
	}
	mt, err := p.count(root, "", "max_tokens")
	if err != nil {
		return err
	}
	r.MaxTokens = mct
	if r.MaxTokens == nil {
		r.MaxTokens = mt
	}
	if err := p.sampling(root, "temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "seed", "user"); err != nil {
		return err
	}
	if r.Stop, err = p.stop(root, "", "stop", true); err != nil {
		return err
	}
	if r.ResponseFormat, err = p.raw(root, "", "response_format", "an object", '{'); err != nil {
		return err
	}
	if r.ToolChoice, err = p.raw(root, "", "tool_choice", "a string or an object", '"', '{'); err != nil {
		return err
	}
	if err := p.chatTools(root); err != nil {
		return err
	}
	return p.messages(root, p.chatMessage)
}

func (p *parser) chatTools(root *node) error {
	if tools, path := field(root, "", "tools"); tools != nil {
		if err := p.array(tools, path); err != nil {
			return err
		}
		for i, t := range tools.items() {
			tpath := index(path, i)
			if err := p.object(t, tpath); err != nil {
				return err
			}
			typ, err := p.str(t, tpath, "type")
			if err != nil {
				return err
			}
			tool := Tool{Type: typ}
			// A function tool's definition is under "function", a custom
			// one's under "custom".
			key := "function"
			if typ == "custom" {
				key = "custom"
			}
			if def, dpath := field(t, tpath, key); def != nil {
				if tool, err = p.function(def, dpath, typ); err != nil {
					return err
				}
			}
			p.req.Tools = append(p.req.Tools, tool)
		}
	}
	if fns, path := field(root, "", "functions"); fns != nil {
		if err := p.array(fns, path); err != nil {
			return err
		}
		for i, f := range fns.items() {
			tool, err := p.function(f, index(path, i), "function")
			if err != nil {
				return err
			}
			p.req.Tools = append(p.req.Tools, tool)
		}
	}
	return nil
}

// function reads a function definition {name, description, parameters},
// the shape of OpenAI's chat tools, legacy functions and Responses tools.
func (p *parser) function(def *node, path, typ string) (Tool, error) {
	if err := p.object(def, path); err != nil {
		return Tool{}, err
	}
	name, err := p.str(def, path, "name")
	if err != nil {
		return Tool{}, err
	}
	desc, err := p.str(def, path, "description")
	if err != nil {
		return Tool{}, err
	}
	params, err := p.raw(def, path, "parameters", "an object", '{')
	if err != nil {
		return Tool{}, err
	}
	return Tool{Type: typ, Name: name, Description: desc, Parameters: params}, nil
}

func (p *parser) chatMessage(m *node, path string) error {
	if err := p.object(m, path); err != nil {
		return err
	}
	role, err := p.requiredStr(m, path, "role")
	if err != nil {
		return err
	}
	msg := Message{Role: Role(role)}
	switch msg.Role {
	case RoleSystem, RoleDeveloper, RoleUser, RoleAssistant, RoleTool, RoleFunction:
	default:
		return errAt(join(path, "role"), CodeInvalidValue,
			`must be one of "system", "developer", "user", "assistant", "tool", "function"`)
	}
	if msg.Name, err = p.str(m, path, "name"); err != nil {
		return err
	}
	if msg.ToolCallID, err = p.str(m, path, "tool_call_id"); err != nil {
		return err
	}
	mi := len(p.req.Messages)
	content, cpath := field(m, path, "content")
	switch {
	case content == nil:
		// Assistant turns that only call tools have no content; so may
		// function results.
		if msg.Role != RoleAssistant && msg.Role != RoleFunction {
			return errMissing(cpath)
		}
	case content.isString():
		s, err := p.text(content, cpath, mi, 0, -1)
		if err != nil {
			return err
		}
		msg.Parts = append(msg.Parts, Part{Kind: PartText, Text: s})
	case content.isArray():
		if err := p.array(content, cpath); err != nil {
			return err
		}
		msg.Parts = make([]Part, 0, len(content.items()))
		for j, c := range content.items() {
			part, err := p.chatPart(c, index(cpath, j), mi, len(msg.Parts))
			if err != nil {
				return err
			}
			msg.Parts = append(msg.Parts, part)
		}
	default:
		return errType(cpath, "a string or an array of content parts", content)
	}
	if msg.Role == RoleAssistant {
		if err := p.assistantExtras(m, path, mi, &msg); err != nil {
			return err
		}
	}
	p.req.Messages = append(p.req.Messages, msg)
	return nil
}

// assistantExtras reads an assistant message's refusal, tool_calls and
// legacy function_call into parts.
func (p *parser) assistantExtras(m *node, path string, mi int, msg *Message) error {
	if v, vpath := field(m, path, "refusal"); v != nil {
		s, err := p.text(v, vpath, mi, len(msg.Parts), -1)
		if err != nil {
			return err
		}
		msg.Parts = append(msg.Parts, Part{Kind: PartRefusal, Type: "refusal", Text: s})
	}
	if calls, cpath := field(m, path, "tool_calls"); calls != nil {
		if err := p.array(calls, cpath); err != nil {
			return err
		}
		for k, c := range calls.items() {
			part, err := p.toolCall(c, index(cpath, k), mi, len(msg.Parts))
			if err != nil {
				return err
			}
			msg.Parts = append(msg.Parts, part)
		}
	}
	if fc, fpath := field(m, path, "function_call"); fc != nil {
		if err := p.object(fc, fpath); err != nil {
			return err
		}
		part := Part{Kind: PartToolCall, Type: "function_call"}
		var err error
		if part.Name, err = p.str(fc, fpath, "name"); err != nil {
			return err
		}
		if part.Arguments, err = p.arguments(fc, fpath, "arguments", mi, len(msg.Parts), -1); err != nil {
			return err
		}
		msg.Parts = append(msg.Parts, part)
	}
	return nil
}

func (p *parser) toolCall(c *node, path string, mi, pi int) (Part, error) {
	if err := p.object(c, path); err != nil {
		return Part{}, err
	}
	part := Part{Kind: PartToolCall}
	var err error
	if part.Type, err = p.str(c, path, "type"); err != nil {
		return Part{}, err
	}
	if part.ID, err = p.str(c, path, "id"); err != nil {
		return Part{}, err
	}
	key, args := "function", "arguments"
	if part.Type == "custom" {
		key, args = "custom", "input"
	}
	fn, fpath := field(c, path, key)
	if fn == nil {
		return part, nil
	}
	if err := p.object(fn, fpath); err != nil {
		return Part{}, err
	}
	if part.Name, err = p.str(fn, fpath, "name"); err != nil {
		return Part{}, err
	}
	if part.Arguments, err = p.arguments(fn, fpath, args, mi, pi, -1); err != nil {
		return Part{}, err
	}
	return part, nil
}

// chatPart reads one content part of a chat message.
func (p *parser) chatPart(c *node, path string, mi, pi int) (Part, error) {
	if err := p.object(c, path); err != nil {
		return Part{}, err
	}
	typ, err := p.partType(c, path)
	if err != nil {
		return Part{}, err
	}
	part := Part{Type: typ}
	switch typ {
	case "text":
		part.Kind = PartText
		part.Text, err = p.textMember(c, path, "text", mi, pi, -1)
	case "refusal":
		part.Kind = PartRefusal
		part.Text, err = p.textMember(c, path, "refusal", mi, pi, -1)
	case "image_url":
		part.Kind = PartImage
	case "input_audio":
		part.Kind = PartAudio
	case "file":
		part.Kind = PartFile
	default:
		part.Kind = PartOther
	}
	return part, err
}
