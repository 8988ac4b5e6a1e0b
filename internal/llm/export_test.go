package llm

// Model returns a copy of r without its document, so that tests can compare
// the parsed models of two bodies.
func Model(r *Request) Request {
	c := *r
	c.doc = nil
	return c
}
