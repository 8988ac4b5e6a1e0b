package llm

// completions parses a legacy OpenAI completions body. The prompts, and the
// suffix, are the parts of one user message.
func (p *parser) completions(root *node) error {
	r := p.req
	if err := p.model(root); err != nil {
		return err
	}
	if err := p.stream(root, true); err != nil {
		return err
	}
	var err error
	if r.MaxTokens, err = p.count(root, "", "max_tokens"); err != nil {
		return err
	}
	if err := p.sampling(root, "temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "seed", "user"); err != nil {
		return err
	}
	if r.Stop, err = p.stop(root, "", "stop", true); err != nil {
		return err
	}
	prompt, path := field(root, "", "prompt")
	if prompt == nil {
		return errMissing(path)
	}
	parts, err := p.prompts(prompt, path)
	if err != nil {
		return err
	}
	if v, spath := field(root, "", "suffix"); v != nil {
		s, err := p.text(v, spath, 0, len(parts), -1)
		if err != nil {
			return err
		}
		parts = append(parts, Part{Kind: PartText, Type: "suffix", Text: s})
	}
	r.Messages = []Message{{Role: RoleUser, Parts: parts}}
	return nil
}

// embeddings parses an OpenAI embeddings body. The inputs are the parts of
// one user message.
func (p *parser) embeddings(root *node) error {
	r := p.req
	if err := p.model(root); err != nil {
		return err
	}
	var err error
	if r.Dimensions, err = p.count(root, "", "dimensions"); err != nil {
		return err
	}
	if r.EncodingFormat, err = p.str(root, "", "encoding_format"); err != nil {
		return err
	}
	if err := p.sampling(root, "user"); err != nil {
		return err
	}
	in, path := field(root, "", "input")
	if in == nil {
		return errMissing(path)
	}
	parts, err := p.prompts(in, path)
	if err != nil {
		return err
	}
	r.Messages = []Message{{Role: RoleUser, Parts: parts}}
	return nil
}
