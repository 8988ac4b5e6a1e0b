package seal

import (
	"errors"
	"fmt"
	"strings"
)

// Environment variables that carry the shared secret.
const (
	// EnvSecret is the secret every plugin process and egress share.
	EnvSecret = "TOLLGATE_SECRET"
	// EnvPreviousSecrets lists retired secrets, comma-separated, that still
	// open values during a rotation.
	EnvPreviousSecrets = "TOLLGATE_SECRET_PREVIOUS"
)

// ErrNoSecret is returned by [KeyringFromEnv] when plugins and egress run in
// separate processes and no shared secret is configured.
var ErrNoSecret = errors.New(EnvSecret + " is not set; it is required when plugins and egress run in separate processes")

// KeyringFromEnv builds the keyring of a process from its environment
// (lookup is os.LookupEnv in production). With TOLLGATE_SECRET set, every
// process derives the same key, and TOLLGATE_SECRET_PREVIOUS adds keys that
// still open values. Without it, a sidecar (plugins and egress in one
// process) gets a random key of its own; any other process gets ErrNoSecret,
// because egress could not open what it seals.
func KeyringFromEnv(lookup func(string) (string, bool), sidecar bool) (*Keyring, error) {
	secret, ok := lookup(EnvSecret)
	if !ok || secret == "" {
		if !sidecar {
			return nil, ErrNoSecret
		}
		return NewKeyring(NewRandomKey())
	}
	current, err := KeyFromSecret(secret)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvSecret, err)
	}
	var previous []Key
	if list, ok := lookup(EnvPreviousSecrets); ok {
		for i, s := range strings.Split(list, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			k, err := KeyFromSecret(s)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", EnvPreviousSecrets, i, err)
			}
			previous = append(previous, k)
		}
	}
	return NewKeyring(current, previous...)
}
