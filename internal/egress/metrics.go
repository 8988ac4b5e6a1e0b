package egress

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are egress's Prometheus series. Labels are bounded: provider,
// target (operator-named), model and outcome; no prompt text, no consumer.
type metrics struct {
	requests  *prometheus.CounterVec   // outcome: ok, upstream_error, exhausted, refused, client_gone, stream_error
	tokens    *prometheus.CounterVec   // direction: prompt, completion
	attempts  *prometheus.CounterVec   // per target and outcome
	fallbacks prometheus.Counter       // requests answered by a later target than the first tried
	latency   *prometheus.HistogramVec // upstream response headers, per target
	ttft      *prometheus.HistogramVec // first streamed byte to the client, per target
	breaker   *prometheus.GaugeVec     // 0 closed, 1 open, 2 half-open
	pii       *prometheus.CounterVec   // answer values restored or redacted, by type
}

var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_egress_requests_total",
			Help: "Requests egress answered, by provider, model and outcome.",
		}, []string{"provider", "model", "outcome"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_egress_tokens_total",
			Help: "Tokens used, by direction (prompt, completion), provider and model.",
		}, []string{"direction", "provider", "model"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_egress_attempts_total",
			Help: "Attempts on provider targets, by target and outcome (ok or an error class).",
		}, []string{"target", "outcome"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tollgate_egress_fallbacks_total",
			Help: "Requests answered by a target other than the first one tried.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_egress_upstream_latency_seconds",
			Help:    "Time from sending a request to a provider to its response headers, by target.",
			Buckets: latencyBuckets,
		}, []string{"target"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_egress_time_to_first_token_seconds",
			Help:    "Time from the request reaching egress to the first streamed event sent to the client, by target.",
			Buckets: latencyBuckets,
		}, []string{"target"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tollgate_egress_breaker_state",
			Help: "Circuit breaker state per target: 0 closed, 1 open, 2 half-open.",
		}, []string{"target"}),
		pii: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_egress_pii_total",
			Help: "Personal data handled in answers: by type and action: restore (a placeholder put back) or redact (a value the model wrote).",
		}, []string{"type", "action"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.tokens, m.attempts, m.fallbacks, m.latency, m.ttft, m.breaker, m.pii)
	}
	return m
}
