package state_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/redistest"
	"github.com/tollgate-ai/tollgate/internal/state"
)

var prefixes atomic.Int64

// redisConfig points at srv with a key prefix of its own, so that tests
// sharing a server do not see each other's keys.
func redisConfig(t *testing.T, srv *redistest.Server) state.RedisConfig {
	t.Helper()
	host, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return state.RedisConfig{
		Host:      host,
		Port:      p,
		Password:  srv.Password(),
		KeyPrefix: "t" + strconv.FormatInt(prefixes.Add(1), 10),
	}
}

func newRedis(t *testing.T, cfg state.RedisConfig, opts ...state.Option) *state.Redis {
	t.Helper()
	r, err := state.NewRedis(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestRedisConformance(t *testing.T) {
	srv := redistest.Start(t)
	runConformance(t, func(t *testing.T, now func() time.Time) state.Backend {
		return newRedis(t, redisConfig(t, srv), state.WithClock(now))
	})
}

// TestRedisCluster goes through go-redis's Cluster client to a one-node
// Redis Cluster: a multi-key script whose keys were in different slots
// would fail with CROSSSLOT.
func TestRedisCluster(t *testing.T) {
	srv := startCluster(t)
	clusterConfig := func(t *testing.T) state.RedisConfig {
		cfg := redisConfig(t, srv)
		cfg.ClusterNodes = []state.RedisClusterNode{{IP: cfg.Host, Port: cfg.Port}}
		cfg.Host = ""
		return cfg
	}
	t.Run("Conformance", func(t *testing.T) {
		runConformance(t, func(t *testing.T, now func() time.Time) state.Backend {
			return newRedis(t, clusterConfig(t), state.WithClock(now))
		})
	})
	t.Run("HashTags", func(t *testing.T) {
		cfg := clusterConfig(t)
		r := newRedis(t, cfg)
		for _, subject := range []string{"a}b", "}", "{", "{}", "#x", strings.Repeat("z", 300)} {
			_, err := r.Reserve(ctx, subject, three, 1)
			require.NoError(t, err, "%q", subject)
		}
		keys, err := srv.Client().Keys(ctx, cfg.KeyPrefix+":*").Result()
		require.NoError(t, err)
		require.Len(t, keys, 18)
	})
}

func startCluster(t *testing.T) *redistest.Server {
	t.Helper()
	srv := redistest.Start(t, redistest.WithArgs("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"))
	c := srv.Client()
	require.NoError(t, c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", "0", "16383").Err())
	require.Eventually(t, func() bool {
		info, err := c.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, 10*time.Second, 10*time.Millisecond)
	return srv
}

func TestRedisKeysHaveTTL(t *testing.T) {
	srv := redistest.Start(t)
	cfg := redisConfig(t, srv)
	clk := newClock()
	clk.Advance(20 * time.Second)
	r := newRedis(t, cfg, state.WithClock(clk.Now))
	cb := state.BreakerConfig{FailureThreshold: 1, CoolDown: 10 * time.Second, HalfOpenProbes: 1}

	_, err := r.Reserve(ctx, "alice", three, 5)
	require.NoError(t, err)
	require.NoError(t, r.Adjust(ctx, "bob", three, 5, clk.Now()))
	_, err = r.Record(ctx, "openai", cb, false)
	require.NoError(t, err)
	require.NoError(t, r.Set(ctx, "cache", []byte("v"), time.Minute))

	c := srv.Client()
	keys, err := c.Keys(ctx, cfg.KeyPrefix+":*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 8, "%v", keys)
	slack := 5 * time.Second
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		require.Positive(t, ttl, "key %s must expire", k)
		var limit time.Duration
		switch {
		case strings.Contains(k, ":rl:") && strings.Contains(k, ":minute:"):
			limit = 40*time.Second + slack // rest of the minute
		case strings.Contains(k, ":rl:") && strings.Contains(k, ":hour:"):
			limit = time.Hour - 20*time.Second + slack
		case strings.Contains(k, ":rl:"):
			limit = 24*time.Hour - 20*time.Second + slack
		case strings.Contains(k, ":cb:"):
			limit = 2*cb.CoolDown + time.Minute
		default:
			limit = time.Minute
		}
		require.LessOrEqual(t, ttl, limit, k)
	}
	require.Contains(t, keys, cfg.KeyPrefix+":rl:{alice}:minute:60000:"+strconv.FormatInt(epoch2030.UnixMilli(), 10))
}

func TestRedisPassword(t *testing.T) {
	srv := redistest.Start(t, redistest.WithPassword("hunter2-secret"))
	cfg := redisConfig(t, srv)
	require.NoError(t, newRedis(t, cfg).Ping(ctx))

	cfg.Password = "wrong-secret-value"
	err := newRedis(t, cfg).Ping(ctx)
	require.ErrorIs(t, err, state.ErrUnavailable)
	require.NotContains(t, err.Error(), "wrong-secret-value")
	require.NotContains(t, err.Error(), "hunter2-secret")

	cfg.Password = ""
	_, err = newRedis(t, cfg).Reserve(ctx, "s", three, 1)
	require.ErrorIs(t, err, state.ErrUnavailable, "NOAUTH")
}

// TestRedisOutage stops Redis: every operation fails fast with
// ErrUnavailable; after a restart the backend recovers by itself.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	cfg := redisConfig(t, srv)
	cfg.Timeout = 500
	r := newRedis(t, cfg)
	cb := state.BreakerConfig{FailureThreshold: 1, CoolDown: time.Second, HalfOpenProbes: 1}
	_, err := r.Reserve(ctx, "s", three, 1)
	require.NoError(t, err)

	srv.Stop()
	ops := map[string]func() error{
		"ping":    func() error { return r.Ping(ctx) },
		"reserve": func() error { _, err := r.Reserve(ctx, "s", three, 1); return err },
		"adjust":  func() error { return r.Adjust(ctx, "s", three, -1, time.Now()) },
		"allow":   func() error { _, err := r.Allow(ctx, "k", cb); return err },
		"record":  func() error { _, err := r.Record(ctx, "k", cb, true); return err },
		"status":  func() error { _, err := r.Status(ctx, []string{"k"}); return err },
		"get":     func() error { _, _, err := r.Get(ctx, "k"); return err },
		"set":     func() error { return r.Set(ctx, "k", nil, time.Second) },
		"delete":  func() error { return r.Delete(ctx, "k") },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		require.ErrorIs(t, err, state.ErrUnavailable, name)
		require.Less(t, time.Since(start), 2*time.Second, "%s must fail within the timeout, not hang", name)
	}

	srv.Restart()
	require.Eventually(t, func() bool { return r.Ping(ctx) == nil }, 10*time.Second, 10*time.Millisecond)
	for name, op := range ops {
		require.NoError(t, op(), name)
	}
	d, err := r.Reserve(ctx, "s", three, 1)
	require.NoError(t, err)
	require.True(t, d.Allowed)
}

// TestRedisTimeout talks to a server that accepts connections and never
// answers: the operation gives up after the configured timeout.
func TestRedisTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	addr := l.Addr().(*net.TCPAddr)
	r := newRedis(t, state.RedisConfig{Host: "127.0.0.1", Port: addr.Port, Timeout: 200})

	start := time.Now()
	_, err = r.Reserve(ctx, "s", three, 1)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, state.ErrUnavailable)
	require.GreaterOrEqual(t, elapsed, 150*time.Millisecond, "waited for the timeout")
	require.Less(t, elapsed, 2*time.Second, "and not much longer")

	// A sooner caller deadline wins.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, _, err = r.Get(short, "k")
	require.ErrorIs(t, err, state.ErrUnavailable)
	require.Less(t, time.Since(start), 150*time.Millisecond)

	// A caller that gives up is not an outage.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_, err = r.Reserve(gone, "s", three, 1)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, state.ErrUnavailable))
}

func TestRedisScriptCacheFlushed(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedis(t, redisConfig(t, srv))
	_, err := r.Reserve(ctx, "s", three, 1)
	require.NoError(t, err)
	require.NoError(t, srv.Client().ScriptFlush(ctx).Err())
	d, err := r.Reserve(ctx, "s", three, 1)
	require.NoError(t, err, "EVAL after NOSCRIPT")
	require.EqualValues(t, 2, d.Windows()[0].Used)
}

func TestNewRedisRejectsBadConfig(t *testing.T) {
	_, err := state.NewRedis(state.RedisConfig{Password: "do-not-print"})
	require.ErrorContains(t, err, "host")
	require.NotContains(t, err.Error(), "do-not-print")
}
