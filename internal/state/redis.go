package state

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the backend shared by every Kong node: go-redis v9 against a
// standalone server, Sentinel or Cluster. Each operation is one round trip:
// an EVALSHA of an atomic Lua script (EVAL when the server does not know
// it yet), or one plain command.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

var _ Backend = (*Redis)(nil)

// The scripts; lua/*.lua document their keys, arguments and replies.
var (
	//go:embed lua/reserve.lua
	reserveSrc string
	reserveLua = newLuaScript(reserveSrc)
	//go:embed lua/adjust.lua
	adjustSrc string
	adjustLua = newLuaScript(adjustSrc)
	//go:embed lua/allow.lua
	allowSrc    string
	allowScript = redis.NewScript(allowSrc)
	//go:embed lua/record.lua
	recordSrc    string
	recordScript = redis.NewScript(recordSrc)
)

// NewRedis validates cfg and returns a backend with a connection pool. It
// does not connect: the first operation, or Ping, does.
func NewRedis(cfg RedisConfig, opts ...Option) (*Redis, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("redis config: %w", err)
	}
	cfg = cfg.withDefaults()
	o := buildOptions(opts)
	return &Redis{
		client:  redis.NewUniversalClient(cfg.universalOptions()),
		prefix:  cfg.KeyPrefix,
		timeout: time.Duration(cfg.Timeout) * time.Millisecond,
		now:     o.now,
	}, nil
}

// Ping sends PING.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	return wrap("redis ping", r.client.Ping(ctx).Err())
}

// Close closes the connection pool.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}

// withTimeout bounds one operation by the configured timeout, unless the
// caller's deadline is sooner.
func (r *Redis) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= r.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// wrap adds the operation to err and marks outages with ErrUnavailable.
// go-redis errors name the address at most, never the password.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// serverBusy are the prefixes of the replies by which a server that is
// reachable says it cannot serve now.
var serverBusy = []string{
	"LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY",
	"NOREPLICAS", "MISCONF", "OOM", "NOAUTH", "WRONGPASS", "NOPERM",
}

func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up; Redis did nothing wrong
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true // network errors, timeouts, pool exhaustion, closed client
	}
	for _, p := range serverBusy {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}
