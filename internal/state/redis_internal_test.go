package state

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/redistest"
)

// roundTrips counts the commands and pipelines the client sends: each is
// one round trip to a standalone server.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

func startRedis(t testing.TB) (*redistest.Server, *Redis) {
	t.Helper()
	srv := redistest.Start(t)
	host, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	r, err := NewRedis(RedisConfig{Host: host, Port: p})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return srv, r
}

func TestRedisOneRoundTripPerOperation(t *testing.T) {
	srv, r := startRedis(t)
	ctx := context.Background()
	rt := &roundTrips{}
	r.client.AddHook(rt)
	windows := []Window{
		{Name: "minute", Size: time.Minute, Limit: 1000},
		{Name: "hour", Size: time.Hour, Limit: 1000},
		{Name: "day", Size: 24 * time.Hour, Limit: 1000},
	}
	cb := BreakerConfig{FailureThreshold: 1, CoolDown: time.Second, HalfOpenProbes: 1}

	// The first connection's handshake (HELLO, CLIENT SETNAME) goes
	// through the hooks too; connect before counting.
	require.NoError(t, r.Ping(ctx))
	require.NoError(t, srv.Client().ScriptFlush(ctx).Err())
	rt.n.Store(0)
	_, err := r.Reserve(ctx, "s", windows, 1)
	require.NoError(t, err)
	require.EqualValues(t, 2, rt.n.Swap(0), "EVALSHA answered NOSCRIPT, then EVAL")

	ops := []struct {
		name string
		op   func() error
	}{
		{"reserve", func() error { _, err := r.Reserve(ctx, "s", windows, 1); return err }},
		{"reserve denied", func() error { _, err := r.Reserve(ctx, "s", windows, 5000); return err }},
		{"adjust", func() error { return r.Adjust(ctx, "s", windows, -1, time.Now()) }},
		{"allow", func() error { _, err := r.Allow(ctx, "k", cb); return err }},
		{"record", func() error { _, err := r.Record(ctx, "k", cb, false); return err }},
		{"allow open", func() error { _, err := r.Allow(ctx, "k", cb); return err }},
		{"status of 3", func() error { _, err := r.Status(ctx, []string{"k", "x", "y"}); return err }},
		{"set", func() error { return r.Set(ctx, "k", []byte("v"), time.Minute) }},
		{"get", func() error { _, _, err := r.Get(ctx, "k"); return err }},
		{"delete", func() error { return r.Delete(ctx, "k") }},
		{"ping", func() error { return r.Ping(ctx) }},
	}
	for _, o := range ops {
		require.NoError(t, o.op(), o.name) // loads the script, if any
		rt.n.Store(0)
		require.NoError(t, o.op(), o.name)
		require.EqualValues(t, 1, rt.n.Swap(0), o.name)
	}
	require.NoError(t, r.Adjust(ctx, "s", windows, -1, time.Now().Add(-48*time.Hour)))
	require.EqualValues(t, 0, rt.n.Load(), "no round trip when every window has ended")
}

func TestUniversalOptions(t *testing.T) {
	base := RedisConfig{Host: "redis.local", Username: "u", Password: "p", Database: 3}.withDefaults()
	o := base.universalOptions()
	require.Equal(t, []string{"redis.local:6379"}, o.Addrs)
	require.Equal(t, 2*time.Second, o.DialTimeout)
	require.Equal(t, 2*time.Second, o.ReadTimeout)
	require.Equal(t, 3, o.DB)
	require.Equal(t, "u", o.Username)
	require.Equal(t, "p", o.Password)
	require.Nil(t, o.TLSConfig)
	require.Equal(t, -1, o.MaxRetries)
	require.True(t, o.ContextTimeoutEnabled)
	require.IsType(t, &redis.Client{}, redis.NewUniversalClient(o))

	tlsCfg := base
	tlsCfg.SSL, tlsCfg.ServerName = true, "sni.example"
	o = tlsCfg.universalOptions()
	require.NotNil(t, o.TLSConfig)
	require.True(t, o.TLSConfig.InsecureSkipVerify, "ssl_verify defaults to false, as in Kong")
	require.Equal(t, "sni.example", o.TLSConfig.ServerName)
	tlsCfg.SSLVerify = true
	require.False(t, tlsCfg.universalOptions().TLSConfig.InsecureSkipVerify)

	sentinel := RedisConfig{SentinelMaster: "mymaster", SentinelNodes: []RedisNode{{Host: "s1"}, {Host: "s2", Port: 26379}}}.withDefaults()
	o = sentinel.universalOptions()
	require.Equal(t, "mymaster", o.MasterName)
	require.Equal(t, []string{"s1:6379", "s2:26379"}, o.Addrs)

	cluster := RedisConfig{ClusterNodes: []RedisClusterNode{{IP: "10.0.0.1"}, {IP: "::1", Port: 7000}}}.withDefaults()
	o = cluster.universalOptions()
	require.True(t, o.IsClusterMode)
	require.Equal(t, []string{"10.0.0.1:6379", "[::1]:7000"}, o.Addrs)
	require.IsType(t, &redis.ClusterClient{}, redis.NewUniversalClient(o))
}

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, true},
		{&net.OpError{Op: "dial", Err: context.DeadlineExceeded}, true},
		{redis.ErrClosed, true},
		{redis.ErrPoolTimeout, true},
		{context.Canceled, false},
		{redisError("LOADING Redis is loading the dataset in memory"), true},
		{redisError("READONLY You can't write against a read only replica."), true},
		{redisError("NOAUTH Authentication required."), true},
		{redisError("WRONGPASS invalid username-password pair"), true},
		{redisError("OOM command not allowed when used memory > 'maxmemory'."), true},
		{redisError("CLUSTERDOWN The cluster is down"), true},
		{redisError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{redisError("ERR user_script:1: Script attempted to access nonexistent global variable"), false},
	} {
		require.Equal(t, tc.want, unavailable(tc.err), "%v", tc.err)
	}
}

type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

func TestHashTag(t *testing.T) {
	require.Equal(t, "alice", hashTag("alice"))
	require.Equal(t, "a:b c", hashTag("a:b c"))
	for _, s := range []string{"a{b", "a}b", "{}", "#alice"} {
		tag := hashTag(s)
		require.Regexp(t, `^#[0-9a-f]{32}$`, tag, s)
	}
	require.NotEqual(t, hashTag("a{b"), hashTag("a}b"))
}

func TestLuaScriptDigest(t *testing.T) {
	for _, src := range []string{reserveSrc, adjustSrc} {
		s := newLuaScript(src)
		require.Equal(t, redis.NewScript(src).Hash(), s.sha, "EVALSHA digest")
		require.Equal(t, src, s.src)
	}
}
