package seal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/seal"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestKeyringFromEnv(t *testing.T) {
	const a = "a-long-enough-random-secret-for-tests-0001"
	const b = "b-long-enough-random-secret-for-tests-0002"

	_, err := seal.KeyringFromEnv(env(nil), false)
	require.ErrorIs(t, err, seal.ErrNoSecret, "managed mode needs a shared secret")

	side1, err := seal.KeyringFromEnv(env(nil), true)
	require.NoError(t, err)
	side2, err := seal.KeyringFromEnv(env(nil), true)
	require.NoError(t, err)
	require.NotEqual(t, side1.CurrentKeyID(), side2.CurrentKeyID(), "each sidecar process has its own random key")

	plugin, err := seal.KeyringFromEnv(env(map[string]string{seal.EnvSecret: a}), false)
	require.NoError(t, err)
	egress, err := seal.KeyringFromEnv(env(map[string]string{seal.EnvSecret: a}), true)
	require.NoError(t, err)
	v, err := plugin.Seal("x-tollgate-test", "req-1", []byte("plan"), time.Minute)
	require.NoError(t, err)
	got, err := egress.Open("x-tollgate-test", "req-1", v)
	require.NoError(t, err, "processes sharing the secret open each other's values")
	require.Equal(t, "plan", string(got))

	// Rotation: the new secret with the old one as previous still opens old values.
	rotated, err := seal.KeyringFromEnv(env(map[string]string{seal.EnvSecret: b, seal.EnvPreviousSecrets: a}), true)
	require.NoError(t, err)
	_, err = rotated.Open("x-tollgate-test", "req-1", v)
	require.NoError(t, err)

	_, err = seal.KeyringFromEnv(env(map[string]string{seal.EnvSecret: "short"}), true)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "short", "the secret is never echoed")
	_, err = seal.KeyringFromEnv(env(map[string]string{seal.EnvSecret: a, seal.EnvPreviousSecrets: "tiny"}), true)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "tiny")
}
