package egress

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/tollgate-ai/tollgate/internal/seal"
)

// Hand-off headers from the plugins. Egress requires both, opens and checks
// them, and strips every X-Tollgate-* header before a provider sees the
// request.
const (
	// HeaderRequestID is the Tollgate request id every sealed value is bound to.
	HeaderRequestID = "X-Tollgate-Request-Id"
	// HeaderPlan carries the sealed fallback plan of tollgate-model-fallback.
	HeaderPlan = "X-Tollgate-Plan"
	// PurposePlan is the seal purpose of HeaderPlan.
	PurposePlan = "x-tollgate-plan"
)

// PlanVersion is the version of the Plan encoding.
const PlanVersion = 1

// Plan is what tollgate-model-fallback hands to egress: where to send the
// request, in which order, and how to fall back. It travels sealed, so the
// credentials in it are never in clear text on the wire.
type Plan struct {
	V           int          `json:"v"`
	Targets     []PlanTarget `json:"targets"`
	RetryOn     []string     `json:"retry_on"`
	MaxAttempts int          `json:"max_attempts"`
	// DeadlineMS bounds the whole fallback loop until the first byte is sent.
	DeadlineMS int `json:"deadline_ms"`
	// Breaker configures the circuit breaker of every target.
	Breaker BreakerConfig `json:"breaker"`
	// Who and where, for usage events and metrics.
	Consumer string `json:"consumer,omitempty"`
	Route    string `json:"route,omitempty"`
	Service  string `json:"service,omitempty"`
}

// PlanTarget is one provider endpoint of a plan.
type PlanTarget struct {
	// Name identifies the target in metrics, headers and breaker state.
	Name       string `json:"name"`
	Provider   string `json:"provider"`
	URL        string `json:"url"`
	Model      string `json:"model,omitempty"`
	Deployment string `json:"deployment,omitempty"`
	APIVersion string `json:"api_version,omitempty"`
	APIKey     string `json:"api_key,omitempty"`
	// TimeoutMS bounds one attempt until the provider's response headers.
	TimeoutMS int `json:"timeout_ms"`
	// Tier groups targets that share a place in the order; within a tier
	// the weights pick the order.
	Tier   int `json:"tier"`
	Weight int `json:"weight"`
}

// BreakerConfig is the circuit breaker of a plan's targets.
type BreakerConfig struct {
	Enabled          bool `json:"enabled"`
	FailureThreshold int  `json:"failure_threshold"`
	CoolDownSeconds  int  `json:"cool_down"`
	HalfOpenProbes   int  `json:"half_open_probes"`
}

// TargetName is a target's default name: provider, host and model, with no
// secret in it.
func TargetName(provider, rawURL, model, deployment string) string {
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		host = u.Host
	}
	m := model
	if deployment != "" {
		m = deployment
	}
	if m == "" {
		return provider + "@" + host
	}
	return provider + "@" + host + "/" + m
}

// SealPlan seals p for the request id, valid for ttl.
func SealPlan(kr *seal.Keyring, requestID string, p *Plan, ttl time.Duration) (string, error) {
	p.V = PlanVersion
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode plan: %w", err)
	}
	return kr.Seal(PurposePlan, requestID, b, ttl)
}

// OpenPlan opens a sealed plan for the request id.
func OpenPlan(kr *seal.Keyring, requestID, value string) (*Plan, seal.Envelope, error) {
	env, err := kr.OpenEnvelope(PurposePlan, requestID, value)
	if err != nil {
		return nil, env, err
	}
	var p Plan
	if err := json.Unmarshal(env.Payload, &p); err != nil {
		return nil, env, fmt.Errorf("decode plan: %w", err)
	}
	if p.V != PlanVersion {
		return nil, env, fmt.Errorf("plan version %d is not %d", p.V, PlanVersion)
	}
	if len(p.Targets) == 0 {
		return nil, env, fmt.Errorf("plan has no targets")
	}
	return &p, env, nil
}
