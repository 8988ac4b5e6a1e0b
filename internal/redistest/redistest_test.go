package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/redistest"
)

func TestStart(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	require.Same(t, c, srv.Client())
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	require.Equal(t, "v", c.Get(ctx, "k").Val())

	cfg := c.ConfigGet(ctx, "save").Val()
	require.Equal(t, "", cfg["save"], "no RDB snapshots")
	require.Equal(t, "no", c.ConfigGet(ctx, "appendonly").Val()["appendonly"])
}

func TestStopAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	addr := srv.Addr()

	srv.Stop()
	srv.Stop() // idempotent
	probe := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer probe.Close()
	require.Error(t, probe.Ping(ctx).Err())

	srv.Restart()
	require.Equal(t, addr, srv.Addr(), "same port")
	require.Eventually(t, func() bool { return c.Ping(ctx).Err() == nil }, 5*time.Second, 10*time.Millisecond)
	require.ErrorIs(t, c.Get(ctx, "k").Err(), redis.Nil, "no persistence across restarts")
}

func TestPassword(t *testing.T) {
	srv := redistest.Start(t, redistest.WithPassword("s3cret"))
	ctx := context.Background()
	require.NoError(t, srv.Client().Ping(ctx).Err())
	require.Equal(t, "s3cret", srv.Password())

	anon := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	defer anon.Close()
	require.ErrorContains(t, anon.Ping(ctx).Err(), "NOAUTH")
}

func TestWithArgs(t *testing.T) {
	srv := redistest.Start(t, redistest.WithArgs("--maxmemory", "7mb"))
	got := srv.Client().ConfigGet(context.Background(), "maxmemory").Val()
	require.Equal(t, "7340032", got["maxmemory"])
}

func TestServersAreIndependent(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	require.NotEqual(t, a.Addr(), b.Addr())
	ctx := context.Background()
	require.NoError(t, a.Client().Set(ctx, "k", "a", 0).Err())
	require.ErrorIs(t, b.Client().Get(ctx, "k").Err(), redis.Nil)
}
