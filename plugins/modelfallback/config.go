package modelfallback

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Config is tollgate-model-fallback's Kong schema.
type Config struct {
	Targets     []Target `json:"targets" kong:"required,len_min=1,len_max=16" desc:"Provider targets, tried in order (by tier, then by weight within a tier)."`
	RetryOn     []string `json:"retry_on" kong:"type=set,default=[\"429\",\"5xx\",\"timeout\",\"connection\"],elements.one_of=429|5xx|timeout|connection|context_length" desc:"Errors that move on to the next target: 429, 5xx, timeout, connection, context_length."`
	MaxAttempts int      `json:"max_attempts" kong:"default=3,between=1:16" desc:"Most attempts per request, over all targets."`
	Deadline    int      `json:"deadline" kong:"default=120000,between=100:600000" desc:"Time in milliseconds the whole fallback loop may take until the first byte is sent."`
	Breaker     Breaker  `json:"circuit_breaker" desc:"Circuit breaker per target, shared by every node when the state is in Redis."`
	Egress      Egress   `json:"egress" desc:"Where Tollgate's egress proxy listens; Kong sends the request there."`
}

// Target is one provider endpoint.
type Target struct {
	Name       string `json:"name" kong:"len_max=64,match=^[%w%.%-_:/@]+$" desc:"Name of the target in headers, metrics and breaker state; default provider@host/model."`
	Provider   string `json:"provider" kong:"required,one_of=openai|azure|anthropic|openai_compatible" desc:"API of the provider: openai, azure, anthropic, or openai_compatible (Ollama, vLLM, Mistral, Groq, LM Studio)."`
	URL        string `json:"url" kong:"required,match=^https?://" desc:"Base URL of the provider, for example https://api.openai.com."`
	Model      string `json:"model" kong:"len_max=256" desc:"Model to ask for; empty keeps the model the client asked for."`
	Deployment string `json:"deployment" kong:"len_max=256" desc:"Azure OpenAI deployment name (azure only)."`
	APIVersion string `json:"api_version" kong:"len_max=32" desc:"Azure OpenAI api-version query parameter (azure only)."`
	APIKey     string `json:"api_key" kong:"referenceable,encrypted" desc:"Credential of the provider; may be a Kong vault reference. Never logged."`
	Timeout    int    `json:"timeout" kong:"default=60000,between=1:600000" desc:"Time in milliseconds one attempt may take until the provider's first byte."`
	Tier       *int   `json:"tier" kong:"between=0:100" desc:"Targets with the same tier share a place in the order, picked by weight; default is the target's position."`
	Weight     int    `json:"weight" kong:"default=1,between=1:1000" desc:"Relative share of traffic among the targets of one tier."`
}

// Breaker is the circuit breaker of every target.
type Breaker struct {
	Enabled          bool `json:"enabled" kong:"default=true" desc:"Whether targets that keep failing are skipped for a cool-down."`
	FailureThreshold int  `json:"failure_threshold" kong:"default=5,between=1:1000" desc:"Consecutive failures (429, 5xx, timeouts, connection errors) that open the breaker."`
	CoolDown         int  `json:"cool_down" kong:"default=30,between=1:3600" desc:"Seconds an open breaker skips its target before half-open probes."`
	HalfOpenProbes   int  `json:"half_open_probes" kong:"default=1,between=1:100" desc:"Requests let through at once to probe a half-open target."`
}

// Egress is where the egress proxy listens.
type Egress struct {
	Host string `json:"host" kong:"default=127.0.0.1" desc:"Host of Tollgate's egress proxy (the sidecar), as Kong reaches it."`
	Port int    `json:"port" kong:"default=8765,between=1:65535" desc:"Port of Tollgate's egress proxy."`
}

// Validate checks what the schema cannot express.
func (c *Config) Validate() error {
	var errs []error
	names := map[string]int{}
	for i, t := range c.Targets {
		at := fmt.Sprintf("config.targets[%d]", i)
		u, err := url.Parse(t.URL)
		if err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s.url: not an absolute http(s) URL", at))
		}
		if t.Provider == "azure" && t.Deployment == "" {
			errs = append(errs, fmt.Errorf("%s.deployment: required for provider azure", at))
		}
		if t.Provider != "azure" && (t.Deployment != "" || t.APIVersion != "") {
			errs = append(errs, fmt.Errorf("%s: deployment and api_version are for provider azure only", at))
		}
		n := c.targetName(i)
		if j, dup := names[n]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is also the name of targets[%d]; give each target a distinct name", at, n, j))
		}
		names[n] = i
	}
	return errors.Join(errs...)
}

func (c *Config) targetName(i int) string {
	t := c.Targets[i]
	if t.Name != "" {
		return t.Name
	}
	return strings.TrimSpace(defaultName(t))
}
