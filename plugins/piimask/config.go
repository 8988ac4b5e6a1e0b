package piimask

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/tollgate-ai/tollgate/internal/pii"
)

// Actions a finding may get.
const (
	ActionRedact   = "redact"
	ActionMask     = "mask"
	ActionHash     = "hash"
	ActionTokenize = "tokenize"
	ActionBlock    = "block"
)

// Config is tollgate-pii-mask's Kong schema.
type Config struct {
	DefaultAction   string         `json:"default_action" kong:"default=tokenize,one_of=redact|mask|hash|tokenize|block" desc:"What is done to personal data of a type no entry of entities names."`
	Entities        []Entity       `json:"entities" desc:"Per-type actions that override default_action."`
	Types           []string       `json:"types" kong:"type=set,elements.one_of=EMAIL|PHONE|CREDIT_CARD|US_SSN|IBAN|IPV4|IPV6|MAC|AWS_ACCESS_KEY|SECRET|JWT|URL_CREDENTIALS" desc:"Built-in detector types to enable; unset enables all."`
	DefaultRegion   string         `json:"default_region" kong:"default=US,match=^[A-Z][A-Z]$" desc:"CLDR region used to read phone numbers written without a leading +."`
	AllowValues     []string       `json:"allow_values" kong:"elements.len_min=1" desc:"Values that are never touched, compared exactly and case-insensitively."`
	CustomEntities  []CustomEntity `json:"custom_entities" desc:"User-defined entity types, found by RE2 patterns or dictionary words."`
	Roles           []string       `json:"roles" kong:"type=set,default=[\"system\",\"developer\",\"user\",\"assistant\",\"tool\"],elements.one_of=system|developer|user|assistant|tool" desc:"Roles whose messages are scanned; assistant history is scanned because clients send restored answers back."`
	Fields          []string       `json:"fields" kong:"type=set,default=[\"text\",\"tool_arguments\",\"tool_results\",\"prompt\"],elements.one_of=text|tool_arguments|tool_results|prompt" desc:"Parts of the request that are scanned: message text, tool call arguments, tool results, legacy completions prompt and suffix."`
	HashKey         string         `json:"hash_key" kong:"referenceable,encrypted" desc:"Secret key of the hash action's HMAC-SHA256; required when any action is hash."`
	Analyzer        Analyzer       `json:"analyzer" desc:"An optional Microsoft Presidio Analyzer for names, places and other entities patterns cannot find."`
	Response        Response       `json:"response" desc:"What egress does to the answer."`
	MaxPlaceholders int            `json:"max_placeholders" kong:"default=256,between=1:10000" desc:"Most distinct tokenized values per request; values beyond it are redacted instead."`
	AuditHeader     bool           `json:"audit_header" kong:"default=false" desc:"Add X-Tollgate-PII-Found (types and counts, never values) to the response."`
	Shadow          bool           `json:"shadow" kong:"default=false" desc:"Detect and report (header, log) without changing the body or handing anything to egress."`
}

// Entity overrides the action for one type.
type Entity struct {
	Type     string `json:"type" kong:"required,len_max=40,match=^[A-Z][A-Z0-9_]*$" desc:"A built-in type or the name of a custom entity."`
	Action   string `json:"action" kong:"required,one_of=redact|mask|hash|tokenize|block" desc:"What is done to values of this type."`
	KeepLast int    `json:"keep_last" kong:"default=4,between=0:16" desc:"For mask: how many trailing letters or digits stay visible."`
}

// CustomEntity is a user-defined entity type.
type CustomEntity struct {
	Name     string   `json:"name" kong:"required,len_max=40,match=^[A-Z][A-Z0-9_]*$" desc:"Type name, used in placeholders and headers; not a built-in type."`
	Patterns []string `json:"patterns" kong:"elements.len_min=1,elements.is_regex" desc:"RE2 regular expressions whose matches are of this type."`
	Words    []string `json:"words" kong:"elements.len_min=1" desc:"Dictionary words (such as project code names) matched case-insensitively on word boundaries."`
}

// Analyzer is a Presidio Analyzer whose findings are merged with the
// built-in detectors'.
type Analyzer struct {
	URL            string   `json:"url" kong:"match=^https?://" desc:"Base URL of the analyzer (POST <url>/analyze); unset means no analyzer."`
	Timeout        int      `json:"timeout" kong:"default=2000,between=1:60000" desc:"Milliseconds to wait for the analyzer per request."`
	Language       string   `json:"language" kong:"default=en,len_min=2,len_max=16" desc:"Language of the prompts, as the analyzer names it."`
	ScoreThreshold float64  `json:"score_threshold" kong:"default=0.5,between=0:1" desc:"Analyzer results scoring below this are ignored."`
	Entities       []string `json:"entities" kong:"type=set,elements.match=^[A-Z][A-Z0-9_]*$" desc:"Presidio entity types to ask for (PERSON, LOCATION, …); unset asks for all."`
	FaultTolerant  bool     `json:"fault_tolerant" kong:"default=false" desc:"When the analyzer fails, go on with the built-in findings (true) or refuse the request with 503 (false)."`
}

// Response configures the response side, done by egress.
type Response struct {
	Restore          bool     `json:"restore" kong:"default=true" desc:"Put tokenized values back into the answer."`
	Redact           bool     `json:"redact" kong:"default=false" desc:"Also redact personal data the model wrote itself."`
	RedactTypes      []string `json:"redact_types" kong:"type=set,elements.one_of=EMAIL|PHONE|CREDIT_CARD|US_SSN|IBAN|IPV4|IPV6|MAC|AWS_ACCESS_KEY|SECRET|JWT|URL_CREDENTIALS" desc:"Built-in types redacted in the answer; unset means the enabled types."`
	StreamLookBehind int      `json:"stream_look_behind" kong:"default=1024,between=64:65536" desc:"Bytes of a streamed answer held back to find placeholders and values split across chunks."`
}

var namePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func builtin(name string) bool { return slices.Contains(pii.Types(), pii.Type(name)) }

// Validate checks what the schema cannot express. Errors never echo
// allow_values.
func (c *Config) Validate() error {
	var errs []error
	custom := map[string]bool{}
	for i, ce := range c.CustomEntities {
		p := fmt.Sprintf("config.custom_entities[%d]", i)
		switch {
		case !namePattern.MatchString(ce.Name):
			errs = append(errs, fmt.Errorf("%s.name: must match ^[A-Z][A-Z0-9_]*$", p))
		case builtin(ce.Name):
			errs = append(errs, fmt.Errorf("%s.name: %q is a built-in type", p, ce.Name))
		case custom[ce.Name]:
			errs = append(errs, fmt.Errorf("%s.name: %q is used by another entity", p, ce.Name))
		}
		custom[ce.Name] = true
		if len(ce.Patterns) == 0 && len(ce.Words) == 0 {
			errs = append(errs, fmt.Errorf("%s: needs patterns or words", p))
		}
		for j, pat := range ce.Patterns {
			if _, err := regexp.Compile(pat); err != nil {
				errs = append(errs, fmt.Errorf("%s.patterns[%d]: not a valid RE2 expression", p, j))
			}
		}
	}
	hash := c.DefaultAction == ActionHash
	seen := map[string]bool{}
	for i, e := range c.Entities {
		p := fmt.Sprintf("config.entities[%d]", i)
		if !builtin(e.Type) && !custom[e.Type] && c.Analyzer.URL == "" {
			errs = append(errs, fmt.Errorf("%s.type: %q is neither a built-in type nor a custom entity (and no analyzer is configured)", p, e.Type))
		}
		if seen[e.Type] {
			errs = append(errs, fmt.Errorf("%s.type: %q is given more than once", p, e.Type))
		}
		seen[e.Type] = true
		hash = hash || e.Action == ActionHash
	}
	if hash && c.HashKey == "" {
		errs = append(errs, errors.New("config.hash_key: required when an action is hash"))
	}
	return errors.Join(errs...)
}
