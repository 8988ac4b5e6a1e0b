package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// MaxValueLen caps a sealed value's length in bytes. Longer values are
	// rejected with [ErrMalformed] before any decoding or cryptography.
	MaxValueLen = 16 << 10
	// MaxTTL is the longest lifetime a value may be sealed for. It also bounds
	// how long a [ReplayGuard] has to remember a request id.
	MaxTTL = 10 * time.Minute
	// MaxClockSkew is how far in the future a value's issued-at may lie, to
	// tolerate clocks that differ between the sealing and opening hosts.
	MaxClockSkew = 30 * time.Second

	version   = "v1"
	timesLen  = 16 // issued-at and expiry, unix ms, big-endian int64 each
	adLabel   = "tollgate seal v1\x00"
	prefixLen = len(version) + 1 + KeyIDLen + 1
	minRawLen = chacha20poly1305.NonceSizeX + timesLen + chacha20poly1305.Overhead
	maxRawLen = (MaxValueLen - prefixLen) * 6 / 8
)

// MaxPayloadLen is the largest payload whose sealed value fits in
// [MaxValueLen]; Seal rejects larger payloads with [ErrTooLarge].
const MaxPayloadLen = maxRawLen - minRawLen

// Envelope is an opened value with its validity window.
type Envelope struct {
	Payload   []byte
	IssuedAt  time.Time
	ExpiresAt time.Time
	KeyID     string
}

type keyEntry struct {
	id   string
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with the current or a previous
// key. It is safe for concurrent use once built; rotate by building a new one.
type Keyring struct {
	// Now is the clock; nil means [time.Now]. Set it before first use.
	Now func() time.Time

	current keyEntry
	byID    map[string]keyEntry
}

// NewKeyring returns a keyring that seals with current and opens values sealed
// with current or any of previous. Zero keys and distinct keys that share an id
// are rejected; a previous key equal to current is ignored.
func NewKeyring(current Key, previous ...Key) (*Keyring, error) {
	kr := &Keyring{byID: make(map[string]keyEntry, 1+len(previous))}
	seen := make(map[string]Key, 1+len(previous))
	for i, k := range append([]Key{current}, previous...) {
		if k.IsZero() {
			return nil, fmt.Errorf("new keyring: key %d is the zero key", i)
		}
		id := k.ID()
		if other, ok := seen[id]; ok {
			if other == k {
				continue
			}
			return nil, fmt.Errorf("new keyring: key %d: id %s collides with another key", i, id)
		}
		seen[id] = k
		aead, err := chacha20poly1305.NewX(k.b[:])
		if err != nil {
			return nil, fmt.Errorf("new keyring: key %s: %w", id, err)
		}
		e := keyEntry{id: id, aead: aead}
		if i == 0 {
			kr.current = e
		}
		kr.byID[id] = e
	}
	return kr, nil
}

// CurrentKeyID returns the id of the key that Seal uses.
func (k *Keyring) CurrentKeyID() string { return k.current.id }

func (k *Keyring) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Seal encrypts and authenticates payload for purpose (the header or plugin
// name) and binding (the Tollgate request id), valid for ttl (1ms to
// [MaxTTL]). Both purpose and binding must be non-empty.
func (k *Keyring) Seal(purpose, binding string, payload []byte, ttl time.Duration) (string, error) {
	if k == nil || k.current.aead == nil {
		return "", fmt.Errorf("seal %q: keyring has no key: %w", purpose, ErrMalformed)
	}
	if err := checkArgs(purpose, binding); err != nil {
		return "", fmt.Errorf("seal %q: %w", purpose, err)
	}
	// Times travel in milliseconds, so a shorter ttl would expire on issue.
	if ttl < time.Millisecond || ttl > MaxTTL {
		return "", fmt.Errorf("seal %q: ttl %s outside [1ms, %s]: %w", purpose, ttl, MaxTTL, ErrMalformed)
	}
	if len(payload) > MaxPayloadLen {
		return "", fmt.Errorf("seal %q: payload of %d bytes exceeds %d: %w", purpose, len(payload), MaxPayloadLen, ErrTooLarge)
	}
	now := k.now()
	e := k.current

	// nonce || issued-at || expiry || payload, then sealed in place: the
	// ciphertext overwrites the plaintext, so no clear copy outlives Seal.
	const n = chacha20poly1305.NonceSizeX
	raw := make([]byte, n+timesLen+len(payload), minRawLen+len(payload))
	_, _ = rand.Read(raw[:n]) // never fails, see crypto/rand.Read
	binary.BigEndian.PutUint64(raw[n:n+8], uint64(now.UnixMilli()))
	binary.BigEndian.PutUint64(raw[n+8:n+16], uint64(now.Add(ttl).UnixMilli()))
	copy(raw[n+timesLen:], payload)
	raw = e.aead.Seal(raw[:n], raw[:n], raw[n:], additionalData(e.id, purpose, binding))

	out := make([]byte, prefixLen+base64.RawURLEncoding.EncodedLen(len(raw)))
	copy(out, version+".")
	copy(out[len(version)+1:], e.id)
	out[prefixLen-1] = '.'
	base64.RawURLEncoding.Encode(out[prefixLen:], raw)
	return string(out), nil
}

// Open verifies and decrypts value for purpose and binding and returns the
// payload. See [Keyring.OpenEnvelope] for the checks.
func (k *Keyring) Open(purpose, binding, value string) ([]byte, error) {
	env, err := k.OpenEnvelope(purpose, binding, value)
	if err != nil {
		return nil, err
	}
	return env.Payload, nil
}

// OpenEnvelope is Open that also returns the validity window, which egress
// passes to a [ReplayChecker]. In order, it rejects: values over
// [MaxValueLen] or not shaped like a sealed value ([ErrMalformed]); other
// format versions ([ErrVersion]); key ids not in the keyring
// ([ErrUnknownKey]); values that fail authentication for this purpose and
// binding ([ErrAuth]); values past expiry or issued more than [MaxClockSkew]
// in the future ([ErrExpired]).
func (k *Keyring) OpenEnvelope(purpose, binding, value string) (Envelope, error) {
	fail := func(format string, args ...any) (Envelope, error) {
		return Envelope{}, fmt.Errorf("open sealed %q: "+format, append([]any{purpose}, args...)...)
	}
	if len(value) > MaxValueLen {
		return fail("value of %d bytes exceeds %d: %w", len(value), MaxValueLen, ErrMalformed)
	}
	if k == nil || len(k.byID) == 0 {
		return fail("keyring has no key: %w", ErrUnknownKey)
	}
	if err := checkArgs(purpose, binding); err != nil {
		return fail("%w", err)
	}
	ver, rest, ok := strings.Cut(value, ".")
	if !ok {
		return fail("no version: %w", ErrMalformed)
	}
	if ver != version {
		if isVersion(ver) {
			return fail("version %q: %w", ver, ErrVersion)
		}
		return fail("bad version field: %w", ErrMalformed)
	}
	id, body, ok := strings.Cut(rest, ".")
	if !ok || len(id) != KeyIDLen || !isBase64URL(id) {
		return fail("bad key id field: %w", ErrMalformed)
	}
	// Strict decoding plus an alphabet check makes the encoding canonical:
	// the decoder would otherwise skip CR/LF and ignore non-zero trailing
	// bits, so distinct strings could open to the same value.
	if !isBase64URL(body) {
		return fail("bad body encoding: %w", ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return fail("bad body encoding: %w", ErrMalformed)
	}
	if len(raw) < minRawLen {
		return fail("body of %d bytes is shorter than %d: %w", len(raw), minRawLen, ErrMalformed)
	}
	e, ok := k.byID[id]
	if !ok {
		return fail("key id %s: %w", id, ErrUnknownKey)
	}
	nonce, ct := raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:]
	plain, err := e.aead.Open(ct[:0], nonce, ct, additionalData(id, purpose, binding))
	if err != nil {
		return fail("%w", ErrAuth)
	}
	iat := time.UnixMilli(int64(binary.BigEndian.Uint64(plain[0:8])))
	exp := time.UnixMilli(int64(binary.BigEndian.Uint64(plain[8:16])))
	now := k.now()
	switch {
	case !exp.After(iat) || exp.Sub(iat) > MaxTTL:
		// Authentic but not something Seal produces.
		return fail("validity window invalid: %w", ErrMalformed)
	case iat.After(now.Add(MaxClockSkew)):
		return fail("issued %s in the future: %w", iat.Sub(now).Round(time.Millisecond), ErrExpired)
	case !now.Before(exp):
		return fail("expired %s ago: %w", now.Sub(exp).Round(time.Millisecond), ErrExpired)
	}
	return Envelope{Payload: plain[timesLen:], IssuedAt: iat, ExpiresAt: exp, KeyID: id}, nil
}

// SealJSON seals the JSON encoding of v.
func (k *Keyring) SealJSON(purpose, binding string, v any, ttl time.Duration) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %q: encode json: %w", purpose, err)
	}
	return k.Seal(purpose, binding, b, ttl)
}

// OpenJSON opens value and decodes its JSON payload into v. A payload that is
// not valid JSON for v (which only a buggy sealer can produce, since the value
// authenticated) is reported without quoting the payload.
func (k *Keyring) OpenJSON(purpose, binding, value string, v any) error {
	b, err := k.Open(purpose, binding, value)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		// json errors can quote payload bytes; report only the type.
		return fmt.Errorf("open sealed %q: decode json into %T: %w", purpose, v, ErrMalformed)
	}
	return nil
}

func checkArgs(purpose, binding string) error {
	if purpose == "" {
		return fmt.Errorf("empty purpose: %w", ErrMalformed)
	}
	if binding == "" {
		return fmt.Errorf("empty binding: %w", ErrMalformed)
	}
	return nil
}

// additionalData encodes the label, key id, purpose and binding with length
// prefixes so that the encoding is injective.
func additionalData(id, purpose, binding string) []byte {
	ad := make([]byte, 0, len(adLabel)+3*binary.MaxVarintLen64+len(id)+len(purpose)+len(binding))
	ad = append(ad, adLabel...)
	for _, s := range [...]string{id, purpose, binding} {
		ad = binary.AppendUvarint(ad, uint64(len(s)))
		ad = append(ad, s...)
	}
	return ad
}

// isVersion reports whether s looks like a version field ("v" and digits).
func isVersion(s string) bool {
	if len(s) < 2 || len(s) > 4 || s[0] != 'v' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
