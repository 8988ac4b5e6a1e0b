// Package promptguard is the tollgate-prompt-guard Kong plugin: it
// validates an LLM request's shape and limits, applies allow and deny
// rules (RE2 patterns and folded phrases, Kong ai-prompt-guard semantics
// and beyond), and scores the prompt with package guard's injection
// detector, refusing with an OpenAI-shaped 400 (413 for size) that names
// the rule, never the matched text.
package promptguard
