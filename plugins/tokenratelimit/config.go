package tokenratelimit

import (
	"errors"
	"fmt"
	"path"

	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

// Config is tollgate-token-rate-limit's Kong schema.
type Config struct {
	// scope is where Kong attached the instance: counters of instances on
	// different routes or services are kept apart, as in Kong's
	// rate-limiting.
	scope pluginserver.Scope

	Windows             []Window           `json:"windows" kong:"required,len_min=1,len_max=8" desc:"Token windows checked on every request; a request must fit in all of them."`
	Models              []ModelLimit       `json:"models" kong:"len_max=32" desc:"Per-model windows: the first entry whose glob matches the request's model is used instead of windows, with counters of its own."`
	Budgets             []Budget           `json:"budgets" kong:"len_max=8" desc:"Spend windows in US dollars, priced with prices; a request must fit in them as in the token windows."`
	Prices              []Price            `json:"prices" kong:"len_max=64" desc:"Price per million tokens by model glob, first match wins; a model without a price is not charged to budgets."`
	LimitBy             string             `json:"limit_by" kong:"default=consumer,one_of=consumer|credential|consumer_group|ip|header|path|service|route" desc:"Whom the limits count for; consumer_group shares one count among the consumers of the group the instance is scoped to; without a consumer or credential Kong's rule applies and the client IP is used."`
	HeaderName          string             `json:"header_name" kong:"len_min=1" desc:"Request header whose value is the subject when limit_by is header."`
	ExpectedCompletion  int                `json:"expected_completion" kong:"default=256,between=0:1000000" desc:"Completion tokens reserved when the request sets no max_tokens; reconciled with the real usage."`
	Policy              string             `json:"policy" kong:"default=memory,one_of=memory|redis" desc:"Where the counters live: memory (this node) or redis (every node)."`
	Redis               *state.RedisConfig `json:"redis" desc:"Redis server used when policy is redis."`
	FaultTolerant       bool               `json:"fault_tolerant" kong:"default=true" desc:"When Redis is down, let requests through (flagged by a header) instead of answering 503."`
	HideClientHeaders   bool               `json:"hide_client_headers" kong:"default=false" desc:"Do not send the rate-limit headers to the client."`
	EnforceDuringStream bool               `json:"enforce_during_stream" kong:"default=false" desc:"Egress ends a streamed answer with an OpenAI-shaped SSE error once it would use more tokens than the windows had left."`
	HonorObligations    bool               `json:"honor_obligations" kong:"default=false" desc:"Scale the token windows by the token_limit_scale obligation an authorization plugin (tollgate-opa) left for the request."`
	Shadow              bool               `json:"shadow" kong:"default=false" desc:"Count and report, but never refuse a request."`
	ErrorMessage        string             `json:"error_message" kong:"default='Token rate limit exceeded',len_min=1,len_max=256" desc:"Message of the 429 answer."`
}

// ModelLimit is the windows of the models a glob matches.
type ModelLimit struct {
	Model   string   `json:"model" kong:"required,len_min=1,len_max=128" desc:"Glob of model names (path.Match syntax), such as gpt-4o* or claude-*."`
	Windows []Window `json:"windows" kong:"required,len_min=1,len_max=8" desc:"Token windows for the models the glob matches."`
}

// Budget is one spend window.
type Budget struct {
	Name  string  `json:"name" kong:"len_max=32,match=^[%a][%w_]*$" desc:"Name of the budget in headers; default as for windows."`
	Size  int     `json:"size" kong:"required,between=1:31536000" desc:"Length of the budget window in seconds (2592000 for 30 days)."`
	Limit float64 `json:"limit" kong:"required,gt=0" desc:"US dollars that may be spent per window."`
}

// Price is what a model's tokens cost.
type Price struct {
	Model  string  `json:"model" kong:"required,len_min=1,len_max=128" desc:"Glob of model names (path.Match syntax) the price applies to."`
	Input  float64 `json:"input" kong:"required,between=0:1000000" desc:"US dollars per million prompt tokens."`
	Output float64 `json:"output" kong:"required,between=0:1000000" desc:"US dollars per million completion tokens."`
}

// Window is one token window.
type Window struct {
	Name  string `json:"name" kong:"len_max=32,match=^[%a][%w_]*$" desc:"Name of the window in headers; default second, minute, hour, day, month or <seconds>s."`
	Size  int    `json:"size" kong:"required,between=1:31536000" desc:"Length of the window in seconds."`
	Limit int    `json:"limit" kong:"required,between=1:9007199254740991" desc:"Tokens (prompt and completion) allowed per window."`
}

// windowName is the window's name, or the one Kong would give its size.
func (w Window) windowName() string {
	if w.Name != "" {
		return w.Name
	}
	switch w.Size {
	case 1:
		return "second"
	case 60:
		return "minute"
	case 3600:
		return "hour"
	case 86400:
		return "day"
	case 2592000:
		return "month"
	}
	return fmt.Sprintf("%ds", w.Size)
}

// SetScope implements pluginserver.Scoped.
func (c *Config) SetScope(s pluginserver.Scope) { c.scope = s }

// Validate checks what the schema cannot express.
func (c *Config) Validate() error {
	var errs []error
	if c.LimitBy == "header" && c.HeaderName == "" {
		errs = append(errs, errors.New("config.header_name: required when limit_by is header"))
	}
	if c.Policy == "redis" {
		if c.Redis == nil {
			errs = append(errs, errors.New("config.redis: required when policy is redis"))
		} else if err := c.Redis.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("config.redis: %w", err))
		}
	}
	errs = append(errs, checkWindows("config.windows", c.Windows)...)
	budgets := make([]Window, len(c.Budgets))
	for i, b := range c.Budgets {
		budgets[i] = Window{Name: b.Name, Size: b.Size}
	}
	errs = append(errs, checkWindows("config.budgets", budgets)...)
	if len(c.Budgets) > 0 && len(c.Prices) == 0 {
		errs = append(errs, errors.New("config.prices: required when budgets are set"))
	}
	for i, p := range c.Prices {
		if _, err := path.Match(p.Model, ""); err != nil {
			errs = append(errs, fmt.Errorf("config.prices[%d].model: bad glob", i))
		}
	}
	for i, m := range c.Models {
		if _, err := path.Match(m.Model, ""); err != nil {
			errs = append(errs, fmt.Errorf("config.models[%d].model: bad glob", i))
		}
		errs = append(errs, checkWindows(fmt.Sprintf("config.models[%d].windows", i), m.Windows)...)
	}
	return errors.Join(errs...)
}

func checkWindows(at string, ws []Window) []error {
	var errs []error
	names := map[string]bool{}
	for i, w := range ws {
		n := w.windowName()
		if names[n] {
			errs = append(errs, fmt.Errorf("%s[%d].name: %q is used by another window", at, i, n))
		}
		names[n] = true
	}
	return errs
}
