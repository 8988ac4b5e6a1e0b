package seal_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/seal"
)

const (
	testSecret  = "0123456789abcdef0123456789abcdef-test-secret"
	otherSecret = "fedcba9876543210fedcba9876543210-other-secret"
	purpose     = "x-tollgate-pii"
	binding     = "req-0001"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: t0} }
func mustKey(t testing.TB, s string) seal.Key {
	t.Helper()
	k, err := seal.KeyFromSecret(s)
	require.NoError(t, err)
	return k
}

func newKeyring(t testing.TB, c *clock, current seal.Key, previous ...seal.Key) *seal.Keyring {
	t.Helper()
	kr, err := seal.NewKeyring(current, previous...)
	require.NoError(t, err)
	kr.Now = c.Now
	return kr
}

func TestKeyFromSecret(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		wantErr string
	}{
		{name: "empty", secret: "", wantErr: "need at least 32"},
		{name: "31 chars", secret: strings.Repeat("s", 31), wantErr: "need at least 32"},
		{name: "32 chars", secret: strings.Repeat("s", 32)},
		{name: "long", secret: testSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := seal.KeyFromSecret(tt.secret)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.True(t, k.IsZero())
				if tt.secret != "" {
					require.NotContains(t, err.Error(), tt.secret)
				}
				return
			}
			require.NoError(t, err)
			require.False(t, k.IsZero())
			again, err := seal.KeyFromSecret(tt.secret)
			require.NoError(t, err)
			require.Equal(t, k.ID(), again.ID(), "derivation is deterministic")
		})
	}
	require.NotEqual(t, mustKey(t, testSecret).ID(), mustKey(t, otherSecret).ID())
}

func TestKeyFormattingRedacts(t *testing.T) {
	raw := bytes.Repeat([]byte{0xAB}, seal.KeySize)
	k, err := seal.KeyFromBytes(raw)
	require.NoError(t, err)
	require.Len(t, k.ID(), seal.KeyIDLen)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		out := fmt.Sprintf(verb, k)
		require.Equal(t, "seal.Key("+k.ID()+")", out, verb)
		require.NotContains(t, strings.ToLower(out), "abab", verb)
	}
	_, err = seal.KeyFromBytes(raw[:31])
	require.Error(t, err)
}

func TestNewKeyring(t *testing.T) {
	a, b := mustKey(t, testSecret), mustKey(t, otherSecret)
	tests := []struct {
		name     string
		current  seal.Key
		previous []seal.Key
		wantErr  bool
	}{
		{name: "current only", current: a},
		{name: "with previous", current: a, previous: []seal.Key{b}},
		{name: "previous equals current", current: a, previous: []seal.Key{a, b, b}},
		{name: "zero current", current: seal.Key{}, wantErr: true},
		{name: "zero previous", current: a, previous: []seal.Key{{}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := seal.NewKeyring(tt.current, tt.previous...)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.current.ID(), kr.CurrentKeyID())
		})
	}
}

func TestRoundTrip(t *testing.T) {
	c := newClock()
	kr := newKeyring(t, c, seal.NewRandomKey())
	maxPayload := bytes.Repeat([]byte{'x'}, seal.MaxPayloadLen)
	tests := []struct {
		name    string
		payload []byte
	}{
		{name: "nil", payload: nil},
		{name: "text", payload: []byte(`{"placeholders":{"<EMAIL_1>":"a@b.c"}}`)},
		{name: "binary", payload: []byte{0, 1, 2, 0xff, '.', '\n'}},
		{name: "largest", payload: maxPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := kr.Seal(purpose, binding, tt.payload, 30*time.Second)
			require.NoError(t, err)
			require.LessOrEqual(t, len(v), seal.MaxValueLen)
			require.True(t, strings.HasPrefix(v, "v1."+kr.CurrentKeyID()+"."), v[:min(len(v), 20)])
			for _, r := range v {
				require.True(t, r > 0x20 && r < 0x7f, "header-safe ASCII")
			}
			if len(tt.payload) > 4 {
				require.NotContains(t, v, base64.RawURLEncoding.EncodeToString(tt.payload[:4]))
			}

			env, err := kr.OpenEnvelope(purpose, binding, v)
			require.NoError(t, err)
			require.Equal(t, len(tt.payload), len(env.Payload))
			require.True(t, bytes.Equal(tt.payload, env.Payload))
			require.Equal(t, t0.UnixMilli(), env.IssuedAt.UnixMilli())
			require.Equal(t, t0.Add(30*time.Second).UnixMilli(), env.ExpiresAt.UnixMilli())
			require.Equal(t, kr.CurrentKeyID(), env.KeyID)
		})
	}

	t.Run("nonce is random", func(t *testing.T) {
		v1, err := kr.Seal(purpose, binding, []byte("same"), time.Minute)
		require.NoError(t, err)
		v2, err := kr.Seal(purpose, binding, []byte("same"), time.Minute)
		require.NoError(t, err)
		require.NotEqual(t, v1, v2)
	})
}

func TestSealRejects(t *testing.T) {
	kr := newKeyring(t, newClock(), seal.NewRandomKey())
	tests := []struct {
		name             string
		purpose, binding string
		payload          []byte
		ttl              time.Duration
		want             error
	}{
		{name: "empty purpose", binding: binding, ttl: time.Second, want: seal.ErrMalformed},
		{name: "empty binding", purpose: purpose, ttl: time.Second, want: seal.ErrMalformed},
		{name: "zero ttl", purpose: purpose, binding: binding, want: seal.ErrMalformed},
		{name: "sub-millisecond ttl", purpose: purpose, binding: binding, ttl: time.Millisecond - 1, want: seal.ErrMalformed},
		{name: "negative ttl", purpose: purpose, binding: binding, ttl: -time.Second, want: seal.ErrMalformed},
		{name: "ttl over max", purpose: purpose, binding: binding, ttl: seal.MaxTTL + time.Millisecond, want: seal.ErrMalformed},
		{name: "payload too large", purpose: purpose, binding: binding, ttl: time.Second,
			payload: make([]byte, seal.MaxPayloadLen+1), want: seal.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := kr.Seal(tt.purpose, tt.binding, tt.payload, tt.ttl)
			require.ErrorIs(t, err, tt.want)
			require.Empty(t, v)
		})
	}
	var nilKeyring *seal.Keyring
	_, err := nilKeyring.Seal(purpose, binding, nil, time.Second)
	require.Error(t, err)
	_, err = nilKeyring.Open(purpose, binding, "v1.AAAAAAAA.AAAA")
	require.Error(t, err)
}

func TestOpenRejects(t *testing.T) {
	c := newClock()
	key, other := mustKey(t, testSecret), mustKey(t, otherSecret)
	kr := newKeyring(t, c, key)
	otherKR := newKeyring(t, c, other)
	secret := []byte("the payload must never appear in an error")

	good, err := kr.Seal(purpose, binding, secret, time.Minute)
	require.NoError(t, err)
	fromOther, err := otherKR.Seal(purpose, binding, secret, time.Minute)
	require.NoError(t, err)
	_, rest, _ := strings.Cut(good, ".")
	_, body, _ := strings.Cut(rest, ".")
	// The same body under the other key's id: known id, wrong key.
	wrongKey := "v1." + other.ID() + "." + body

	tests := []struct {
		name             string
		kr               *seal.Keyring
		purpose, binding string
		value            string
		want             error
	}{
		{name: "wrong purpose", kr: kr, purpose: "x-tollgate-fallback", binding: binding, value: good, want: seal.ErrAuth},
		{name: "wrong binding (replay across requests)", kr: kr, purpose: purpose, binding: "req-0002", value: good, want: seal.ErrAuth},
		{name: "binding prefix", kr: kr, purpose: purpose, binding: binding[:len(binding)-1], value: good, want: seal.ErrAuth},
		{name: "purpose and binding shifted", kr: kr, purpose: purpose + "r", binding: binding[1:], value: good, want: seal.ErrAuth},
		{name: "wrong key, same id", kr: otherKR, purpose: purpose, binding: binding, value: wrongKey, want: seal.ErrAuth},
		{name: "unknown key id", kr: kr, purpose: purpose, binding: binding, value: fromOther, want: seal.ErrUnknownKey},
		{name: "version 2", kr: kr, purpose: purpose, binding: binding, value: "v2" + good[2:], want: seal.ErrVersion},
		{name: "version 0", kr: kr, purpose: purpose, binding: binding, value: "v0" + good[2:], want: seal.ErrVersion},
		{name: "version 10", kr: kr, purpose: purpose, binding: binding, value: "v10" + good[2:], want: seal.ErrVersion},
		{name: "not a version", kr: kr, purpose: purpose, binding: binding, value: "x1" + good[2:], want: seal.ErrMalformed},
		{name: "empty", kr: kr, purpose: purpose, binding: binding, value: "", want: seal.ErrMalformed},
		{name: "no dots", kr: kr, purpose: purpose, binding: binding, value: "v1", want: seal.ErrMalformed},
		{name: "one dot", kr: kr, purpose: purpose, binding: binding, value: "v1." + key.ID(), want: seal.ErrMalformed},
		{name: "short key id", kr: kr, purpose: purpose, binding: binding, value: "v1.abc." + body, want: seal.ErrMalformed},
		{name: "extra field", kr: kr, purpose: purpose, binding: binding, value: good + ".x", want: seal.ErrMalformed},
		{name: "padding", kr: kr, purpose: purpose, binding: binding, value: good + "==", want: seal.ErrMalformed},
		{name: "std alphabet", kr: kr, purpose: purpose, binding: binding, value: "v1." + key.ID() + ".ab+/", want: seal.ErrMalformed},
		{name: "newline in body", kr: kr, purpose: purpose, binding: binding, value: good[:30] + "\n" + good[30:], want: seal.ErrMalformed},
		{name: "body too short", kr: kr, purpose: purpose, binding: binding, value: "v1." + key.ID() + ".AAAA", want: seal.ErrMalformed},
		{name: "over max length", kr: kr, purpose: purpose, binding: binding, value: "v1." + key.ID() + "." + strings.Repeat("A", seal.MaxValueLen), want: seal.ErrMalformed},
		{name: "empty purpose", kr: kr, binding: binding, value: good, want: seal.ErrMalformed},
		{name: "empty binding", kr: kr, purpose: purpose, value: good, want: seal.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kr.Open(tt.purpose, tt.binding, tt.value)
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, got)
			requireNoLeak(t, err, secret)
		})
	}
}

func requireNoLeak(t *testing.T, err error, payload []byte) {
	t.Helper()
	msg := err.Error()
	require.NotContains(t, msg, string(payload))
	require.NotContains(t, msg, testSecret)
	require.NotContains(t, msg, otherSecret)
	require.NotContains(t, msg, binding, "the binding is not echoed either")
}

func TestTamperEveryByte(t *testing.T) {
	kr := newKeyring(t, newClock(), mustKey(t, testSecret))
	payload := []byte(`{"secret":"tamper me"}`)
	good, err := kr.Seal(purpose, binding, payload, time.Minute)
	require.NoError(t, err)
	masks := []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}
	for i := range len(good) {
		for _, m := range masks {
			b := []byte(good)
			b[i] ^= m
			got, err := kr.Open(purpose, binding, string(b))
			require.Error(t, err, "position %d mask %#x", i, m)
			require.Nil(t, got)
			requireNoLeak(t, err, payload)
		}
	}
	// Truncation and extension at every length.
	for i := range len(good) {
		_, err := kr.Open(purpose, binding, good[:i])
		require.Error(t, err, "truncated to %d", i)
	}
	for _, suffix := range []string{"A", "AA", "AAA", "AAAA", "-", "_"} {
		_, err := kr.Open(purpose, binding, good+suffix)
		require.Error(t, err, "suffix %q", suffix)
	}
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		name    string
		ttl     time.Duration
		advance time.Duration
		want    error
	}{
		{name: "fresh", ttl: 10 * time.Second, advance: 0},
		{name: "just before expiry", ttl: 10 * time.Second, advance: 10*time.Second - time.Millisecond},
		{name: "at expiry", ttl: 10 * time.Second, advance: 10 * time.Second, want: seal.ErrExpired},
		{name: "long after", ttl: 10 * time.Second, advance: time.Hour, want: seal.ErrExpired},
		{name: "opener clock behind within skew", ttl: time.Minute, advance: -seal.MaxClockSkew},
		{name: "issued beyond skew in the future", ttl: time.Minute, advance: -seal.MaxClockSkew - time.Millisecond, want: seal.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			kr := newKeyring(t, c, mustKey(t, testSecret))
			v, err := kr.Seal(purpose, binding, []byte("p"), tt.ttl)
			require.NoError(t, err)
			c.Advance(tt.advance)
			got, err := kr.Open(purpose, binding, v)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []byte("p"), got)
		})
	}
}

func TestRotation(t *testing.T) {
	c := newClock()
	oldKey, newKey := mustKey(t, otherSecret), mustKey(t, testSecret)
	before := newKeyring(t, c, oldKey)
	sealedOld, err := before.Seal(purpose, binding, []byte("old"), time.Minute)
	require.NoError(t, err)

	after := newKeyring(t, c, newKey, oldKey)
	require.Equal(t, newKey.ID(), after.CurrentKeyID())

	got, err := after.Open(purpose, binding, sealedOld)
	require.NoError(t, err, "previous key still opens")
	require.Equal(t, []byte("old"), got)

	sealedNew, err := after.Seal(purpose, binding, []byte("new"), time.Minute)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sealedNew, "v1."+newKey.ID()+"."), "seals with current key")

	_, err = before.Open(purpose, binding, sealedNew)
	require.ErrorIs(t, err, seal.ErrUnknownKey, "a node not yet rotated cannot open new values")

	retired := newKeyring(t, c, newKey)
	_, err = retired.Open(purpose, binding, sealedOld)
	require.ErrorIs(t, err, seal.ErrUnknownKey, "retired key no longer opens")
}

func TestJSON(t *testing.T) {
	type plan struct {
		Targets []string `json:"targets"`
		Retries int      `json:"retries"`
	}
	kr := newKeyring(t, newClock(), seal.NewRandomKey())
	in := plan{Targets: []string{"openai/gpt-4o", "anthropic/claude"}, Retries: 2}
	v, err := kr.SealJSON("x-tollgate-plan", binding, in, time.Minute)
	require.NoError(t, err)

	var out plan
	require.NoError(t, kr.OpenJSON("x-tollgate-plan", binding, v, &out))
	require.Equal(t, in, out)

	require.ErrorIs(t, kr.OpenJSON("x-tollgate-pii", binding, v, &out), seal.ErrAuth)

	_, err = kr.SealJSON("x-tollgate-plan", binding, func() {}, time.Minute)
	require.Error(t, err)

	notJSON, err := kr.Seal("x-tollgate-plan", binding, []byte("not json: secret"), time.Minute)
	require.NoError(t, err)
	err = kr.OpenJSON("x-tollgate-plan", binding, notJSON, &out)
	require.ErrorIs(t, err, seal.ErrMalformed)
	require.NotContains(t, err.Error(), "secret")
}

func TestConcurrentSealOpen(t *testing.T) {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	errs := make(chan error, 16)
	for g := range 16 {
		go func() {
			b := fmt.Sprintf("req-%d", g)
			for range 200 {
				v, err := kr.Seal(purpose, b, []byte(b), time.Minute)
				if err != nil {
					errs <- err
					return
				}
				got, err := kr.Open(purpose, b, v)
				if err != nil || string(got) != b {
					errs <- fmt.Errorf("open: %w (got %q)", err, got)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 16 {
		require.NoError(t, <-errs)
	}
}
