package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Get implements KV with GET. Expiry follows the Redis server's clock.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, fmt.Errorf("redis kv get: %w", err)
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	val, err := r.client.Get(ctx, r.kvKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("redis kv get", err)
	}
	return val, true, nil
}

// Set implements KV with SET PX.
func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := checkKV(key, ttl); err != nil {
		return fmt.Errorf("redis kv set: %w", err)
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	return wrap("redis kv set", r.client.Set(ctx, r.kvKey(key), val, ttl).Err())
}

// Delete implements KV with DEL.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("redis kv delete: %w", err)
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	return wrap("redis kv delete", r.client.Del(ctx, r.kvKey(key)).Err())
}
