package promptguard

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/Kong/go-pdk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/guard"
	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/metrics"
	"github.com/tollgate-ai/tollgate/internal/reqctx"
	"github.com/tollgate-ai/tollgate/internal/tokens"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

// Name is the Kong plugin name.
const Name = "tollgate-prompt-guard"

// Priority runs after OPA (799) has authorized the caller and before PII
// masking (795) and token counting (793), so nothing downstream spends work
// on a request that is refused.
const Priority = 797

// HeaderVerdict tells the client (and logs) what the guard flagged when it
// let the request through: "flagged:<rule>" or "shadow:<rule>".
const HeaderVerdict = "X-Tollgate-Prompt-Guard"

// Error codes of the plugin's answers.
const (
	CodeBlocked         = "prompt_blocked"
	CodeInjection       = "prompt_injection"
	CodeTooLong         = "prompt_too_long"
	CodeTooLarge        = "request_too_large"
	CodeInvalid         = "invalid_request"
	CodeModelNotAllowed = "model_not_allowed"
	CodeForbiddenParam  = "parameter_not_allowed"
	CodeMaxTokens       = "max_tokens_too_large"
)

// Definition is the plugin without metrics.
var Definition = New(Deps{})

// Deps are what instances share with the rest of the process.
type Deps struct {
	// Metrics gets the decisions counter; nil exports nothing.
	Metrics prometheus.Registerer
}

// New returns the plugin definition.
func New(d Deps) pluginserver.Definition {
	m := decisions(d.Metrics)
	return pluginserver.Define(pluginserver.Meta{Name: Name, Version: "0.1.0", Priority: Priority},
		func(c *Config) (*handler, error) {
			h, err := compile(c)
			if h != nil {
				h.decisions = m
			}
			return h, err
		})
}

// decisions counts what the guard did by error code and action (block,
// flag, log, shadow); never the rule's text or the prompt.
func decisions(r prometheus.Registerer) *prometheus.CounterVec {
	opts := prometheus.CounterOpts{
		Name: "tollgate_prompt_guard_decisions_total",
		Help: "Prompts the guard refused or reported, by error code and action (block, flag, log, shadow).",
	}
	c, err := metrics.CounterVec(r, opts, "code", "action")
	if err != nil {
		// Another collector holds the name: count unexported rather than fail.
		c, _ = metrics.CounterVec(nil, opts, "code", "action")
	}
	return c
}

type handler struct {
	cfg   Config
	rules *guard.Rules
	det   *guard.Detector
	roles map[string]bool

	decisions *prometheus.CounterVec
}

func compile(c *Config) (*handler, error) {
	h := &handler{cfg: *c, roles: map[string]bool{}}
	for _, r := range c.Roles {
		h.roles[r] = true
	}
	rs := guard.RuleSet{CheckHistory: c.CheckHistory, Roles: c.Roles}
	for _, r := range c.Allow {
		rs.Allow = append(rs.Allow, guard.Rule(r))
	}
	for _, r := range c.Deny {
		rs.Deny = append(rs.Deny, guard.Rule(r))
	}
	rules, err := guard.Compile(rs)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	h.rules = rules
	if c.Injection.Enabled {
		d, err := guard.NewDetector(guard.DetectorConfig{ExtraPhrases: c.Injection.ExtraPhrases, Threshold: c.Injection.Threshold})
		if err != nil {
			return nil, fmt.Errorf("injection detector: %w", err)
		}
		h.det = d
	}
	return h, nil
}

// Access validates the request and answers 400/413 when it must not go on.
func (h *handler) Access(kong *pdk.PDK) error {
	req, err := reqctx.Load(kong)
	if err != nil {
		return err
	}
	if len(req.Body) > h.cfg.MaxBodyBytes {
		return h.refuse(kong, apierror.TooLarge(CodeTooLarge, fmt.Sprintf("request body is larger than %d bytes", h.cfg.MaxBodyBytes)), "max_body_bytes")
	}
	if req.ParseErr != nil {
		return req.ParseErr // 400 in the OpenAI shape, naming the JSON path
	}
	if req.LLM == nil {
		return nil
	}
	if e, rule := h.limits(req.LLM); e != nil {
		return h.refuse(kong, e, rule)
	}
	if v := h.rules.Check(req.LLM); !v.Allowed {
		if v.Rule == "" { // an allow list that nothing matched
			return h.refuse(kong, apierror.BadRequest(CodeBlocked, "the prompt matches none of the allow rules ("+h.allowNames()+")"), "allow_rules")
		}
		return h.refuse(kong, apierror.BadRequest(CodeBlocked, fmt.Sprintf("the prompt was refused by rule %q", v.Rule)), v.Rule)
	}
	if h.det != nil {
		if d, ok := h.detect(req.LLM); ok {
			rule := guard.DetectorRule
			switch h.cfg.Injection.Action {
			case "block":
				return h.refuse(kong, apierror.BadRequest(CodeInjection, "the prompt looks like a prompt-injection attempt ("+joinCategories(d.Categories)+")"), rule)
			case "flag":
				h.decisions.WithLabelValues(CodeInjection, "flag").Inc()
				return kong.Response.SetHeader(HeaderVerdict, "flagged:"+rule)
			default:
				h.decisions.WithLabelValues(CodeInjection, "log").Inc()
				kong.Log.Notice("tollgate-prompt-guard: injection detected (not blocked) categories=", joinCategories(d.Categories))
			}
		}
	}
	return nil
}

func (h *handler) allowNames() string {
	names := make([]string, len(h.cfg.Allow))
	for i, r := range h.cfg.Allow {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// refuse answers with e, or in shadow mode only reports it.
func (h *handler) refuse(kong *pdk.PDK, e *apierror.Error, rule string) error {
	if h.cfg.Shadow {
		h.decisions.WithLabelValues(e.Code, "shadow").Inc()
		kong.Log.Notice("tollgate-prompt-guard: shadow, would refuse rule=", rule, " code=", e.Code)
		return kong.Response.SetHeader(HeaderVerdict, "shadow:"+rule)
	}
	h.decisions.WithLabelValues(e.Code, "block").Inc()
	return e
}

// limits checks the request's shape against the configured limits.
func (h *handler) limits(r *llm.Request) (*apierror.Error, string) {
	c := h.cfg
	if len(r.Messages) > c.MaxMessages {
		return apierror.BadRequest(CodeTooLong, fmt.Sprintf("the request has %d messages, more than %d", len(r.Messages), c.MaxMessages)), "max_messages"
	}
	for i, m := range r.Messages {
		if n := utf8.RuneCountInString(m.Text()); n > c.MaxMessageChars {
			return apierror.BadRequest(CodeTooLong, fmt.Sprintf("message %d has %d characters, more than %d", i, n, c.MaxMessageChars)), "max_message_chars"
		}
	}
	if len(c.AllowedModels) > 0 && !modelAllowed(c.AllowedModels, r.Model) {
		return apierror.Forbidden(CodeModelNotAllowed, "the model is not allowed on this route"), "allowed_models"
	}
	if c.MaxTokens > 0 && r.MaxTokens != nil && *r.MaxTokens > c.MaxTokens {
		return apierror.BadRequest(CodeMaxTokens, fmt.Sprintf("max_tokens may be at most %d", c.MaxTokens)), "max_tokens"
	}
	if c.ForbidTools && len(r.Tools) > 0 {
		return apierror.BadRequest(CodeForbiddenParam, "tools are not allowed on this route"), "forbid_tools"
	}
	for _, p := range c.ForbiddenParams {
		if hasParam(r, p) {
			return apierror.BadRequest(CodeForbiddenParam, fmt.Sprintf("parameter %q is not allowed on this route", p)), "forbidden_params"
		}
	}
	if c.MaxPromptTokens > 0 {
		if n := tokens.Count(r.Model, r.Text()); n > c.MaxPromptTokens {
			return apierror.BadRequest(CodeTooLong, fmt.Sprintf("the prompt has %d tokens, more than %d", n, c.MaxPromptTokens)), "max_prompt_tokens"
		}
	}
	return nil, ""
}

func modelAllowed(globs []string, model string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, model); ok {
			return true
		}
	}
	return false
}

func hasParam(r *llm.Request, p string) bool {
	switch p {
	case "temperature":
		return r.Temperature != nil
	case "top_p":
		return r.TopP != nil
	case "n":
		return r.N != nil
	case "seed":
		return r.Seed != nil
	case "stop":
		return len(r.Stop) > 0
	case "user":
		return r.User != ""
	case "response_format":
		return len(r.ResponseFormat) > 0
	case "tools":
		return len(r.Tools) > 0
	case "tool_choice":
		return len(r.ToolChoice) > 0
	case "stream":
		return r.Stream
	}
	return false
}

// detect scores the checked messages; it reports the first flagged one.
func (h *handler) detect(r *llm.Request) (guard.Detection, bool) {
	last := -1
	for i, m := range r.Messages {
		if h.roles[string(m.Role)] {
			last = i
		}
	}
	for i, m := range r.Messages {
		if !h.roles[string(m.Role)] || (!h.cfg.CheckHistory && i != last) {
			continue
		}
		if d := h.det.Score(m.Text()); d.Flagged {
			return d, true
		}
	}
	return guard.Detection{}, false
}

func joinCategories(cs []guard.Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
