package tokenratelimit

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
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

// decisions counts access checks by outcome; nil when the process exports
// no metrics.
func decisions(r prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_token_rate_limit_decisions_total",
		Help: "Token rate limit checks by outcome: allowed, limited, budget, shadow, degraded (counters down, let through), unavailable (counters down, refused), too_large.",
	}, []string{"outcome"})
	if r == nil {
		return c
	}
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
	}
	return c
}
