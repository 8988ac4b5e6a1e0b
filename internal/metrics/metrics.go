// Package metrics holds what Tollgate's plugins share about Prometheus
// series: registering a collector once per registry however many plugin
// instances (and definitions in tests) ask for it.
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// CounterVec returns a counter vector registered with r, or the one
// already registered there under the same name and labels. With a nil r
// it returns an unregistered vector, so callers need no nil checks.
func CounterVec(r prometheus.Registerer, opts prometheus.CounterOpts, labels ...string) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(opts, labels)
	if r == nil {
		return c, nil
	}
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing, nil
			}
		}
		return nil, err
	}
	return c, nil
}
