package promptguard

import (
	"errors"
	"fmt"
	"path"
)

// Config is tollgate-prompt-guard's Kong schema.
type Config struct {
	MaxBodyBytes    int       `json:"max_body_bytes" kong:"default=1048576,between=1:33554432" desc:"Largest request body in bytes; larger ones get 413."`
	MaxMessages     int       `json:"max_messages" kong:"default=200,between=1:10000" desc:"Most messages (and Anthropic turns) a request may carry."`
	MaxMessageChars int       `json:"max_message_chars" kong:"default=100000,between=1:10000000" desc:"Most characters in one message's text."`
	MaxPromptTokens int       `json:"max_prompt_tokens" kong:"between=1:10000000" desc:"Most prompt tokens, counted with the model's tokenizer; unset means no limit."`
	MaxTokens       int       `json:"max_tokens" kong:"between=1:10000000" desc:"Largest max_tokens a request may ask for; unset means no limit."`
	AllowedModels   []string  `json:"allowed_models" kong:"elements.len_min=1" desc:"Model name globs (path.Match syntax, such as gpt-4o*) a request may name; unset allows every model."`
	ForbidTools     bool      `json:"forbid_tools" kong:"default=false" desc:"Refuse requests that declare tools or functions."`
	ForbiddenParams []string  `json:"forbidden_params" kong:"elements.one_of=temperature|top_p|n|logprobs|seed|stop|user|response_format|tools|tool_choice|stream" desc:"Request parameters that are refused when present."`
	Allow           []Rule    `json:"allow_rules" desc:"Allow rules: when any is set, every checked message must match at least one."`
	Deny            []Rule    `json:"deny_rules" desc:"Deny rules: a checked message that matches one is refused; deny wins over allow."`
	Roles           []string  `json:"roles" kong:"type=set,default=[\"user\"],elements.one_of=system|developer|user|assistant|tool" desc:"Roles whose messages the rules and the detector check."`
	CheckHistory    bool      `json:"match_all_conversation_history" kong:"default=false" desc:"Check every message of the checked roles, not only the last one (Kong ai-prompt-guard's name)."`
	Injection       Injection `json:"injection" desc:"Built-in prompt-injection detector."`
	Shadow          bool      `json:"shadow" kong:"default=false" desc:"Report what would be refused (header, log) but let every request through."`
}

// Rule is one allow or deny rule.
type Rule struct {
	Name          string   `json:"name" kong:"required,len_max=64,match=^[%w_%-%.]+$" desc:"Name of the rule, given in errors and headers instead of the matched text."`
	Patterns      []string `json:"patterns" kong:"elements.len_min=1,elements.is_regex" desc:"RE2 regular expressions matched on the normalized text."`
	Phrases       []string `json:"phrases" kong:"elements.len_min=1" desc:"Literal phrases matched on the folded text (case, homoglyphs and leetspeak folded)."`
	Roles         []string `json:"roles" kong:"type=set,elements.one_of=system|developer|user|assistant|tool" desc:"Roles the rule applies to, within the checked roles; unset means all of them."`
	CaseSensitive bool     `json:"case_sensitive" kong:"default=false" desc:"Match the patterns on the raw text, case-sensitively."`
}

// Injection configures the detector.
type Injection struct {
	Enabled      bool     `json:"enabled" kong:"default=true" desc:"Score checked messages for prompt injection."`
	Action       string   `json:"action" kong:"default=block,one_of=block|flag|log" desc:"What a detection does: block (400), flag (header, request passes) or log."`
	Threshold    float64  `json:"threshold" kong:"default=0.5,between=0.01:1" desc:"Score from which a message counts as an injection attempt."`
	ExtraPhrases []string `json:"extra_phrases" kong:"elements.len_min=3" desc:"More phrases that count as a strong injection signal."`
}

// Validate checks what the schema cannot express.
func (c *Config) Validate() error {
	var errs []error
	for i, g := range c.AllowedModels {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("config.allowed_models[%d]: bad glob", i))
		}
	}
	names := map[string]bool{}
	for _, set := range []struct {
		field string
		rules []Rule
	}{{"allow_rules", c.Allow}, {"deny_rules", c.Deny}} {
		for i, r := range set.rules {
			if len(r.Patterns) == 0 && len(r.Phrases) == 0 {
				errs = append(errs, fmt.Errorf("config.%s[%d]: needs patterns or phrases", set.field, i))
			}
			if names[r.Name] {
				errs = append(errs, fmt.Errorf("config.%s[%d].name: %q is used by another rule", set.field, i, r.Name))
			}
			names[r.Name] = true
		}
	}
	return errors.Join(errs...)
}
