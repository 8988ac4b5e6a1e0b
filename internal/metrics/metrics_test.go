package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/metrics"
)

func TestCounterVecIsRegisteredOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "tollgate_test_total", Help: "test"}
	a, err := metrics.CounterVec(reg, opts, "outcome")
	require.NoError(t, err)
	b, err := metrics.CounterVec(reg, opts, "outcome")
	require.NoError(t, err)
	require.Same(t, a, b)
	b.WithLabelValues("x").Inc()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 1)
	require.Equal(t, 1.0, mfs[0].GetMetric()[0].GetCounter().GetValue())

	_, err = metrics.CounterVec(reg, opts, "other_label")
	require.Error(t, err, "same name, other labels")
	c, err := metrics.CounterVec(nil, opts, "outcome")
	require.NoError(t, err)
	c.WithLabelValues("y").Inc()
}
