package state

import (
	"context"
	"errors"
	"time"
)

// KV is a byte store with expiry, for caches.
type KV interface {
	// Get returns the value of key, and false when it is absent or expired.
	// The returned slice belongs to the caller.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores a copy of val under key for ttl (at least a millisecond).
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

func checkKey(key string) error {
	if key == "" {
		return errors.New("key must not be empty")
	}
	return nil
}

func checkKV(key string, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if ttl < time.Millisecond {
		return errors.New("ttl must be at least 1ms")
	}
	return nil
}
