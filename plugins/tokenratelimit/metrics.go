package tokenratelimit

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-ai/tollgate/internal/metrics"
)

// Outcomes of an access check, the label of the decisions counter.
const (
	outcomeAllowed     = "allowed"
	outcomeLimited     = "limited"     // 429 on a token window
	outcomeBudget      = "budget"      // 429 on the money budget
	outcomeShadow      = "shadow"      // would have been refused
	outcomeDegraded    = "degraded"    // counters down, let through (fault_tolerant)
	outcomeUnavailable = "unavailable" // counters down, refused with 503
	outcomeTooLarge    = "too_large"   // needs more than a window holds
)

// decisions counts access checks by outcome.
func decisions(r prometheus.Registerer) *prometheus.CounterVec {
	opts := prometheus.CounterOpts{
		Name: "tollgate_token_rate_limit_decisions_total",
		Help: "Token rate limit checks by outcome: allowed, limited, budget, shadow, degraded (counters down, let through), unavailable (counters down, refused), too_large.",
	}
	c, err := metrics.CounterVec(r, opts, "outcome")
	if err != nil {
		// Another collector holds the name: count unexported rather than fail.
		c, _ = metrics.CounterVec(nil, opts, "outcome")
	}
	return c
}
