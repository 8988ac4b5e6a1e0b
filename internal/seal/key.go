package seal

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
)

const (
	// KeySize is the size of a seal key in bytes.
	KeySize = 32
	// MinSecretLen is the shortest secret [KeyFromSecret] accepts.
	MinSecretLen = 32
	// KeyIDLen is the length of a key id in characters.
	KeyIDLen = 8

	hkdfInfo  = "tollgate seal v1 key"
	keyIDInfo = "tollgate seal v1 key id\x00"
)

// Key is a 32-byte seal key. Its zero value is not a usable key. Formatting a
// Key prints only its id, so a Key can't leak through a log line.
type Key struct {
	b [KeySize]byte
}

// KeyFromSecret derives a key from a shared secret (TOLLGATE_SECRET) with
// HKDF-SHA256 and a fixed info label. Every process given the same secret gets
// the same key. The secret must be at least [MinSecretLen] characters; it
// should be random (for example `openssl rand -base64 48`), because HKDF does
// not make a guessable secret strong.
func KeyFromSecret(secret string) (Key, error) {
	if len(secret) < MinSecretLen {
		return Key{}, fmt.Errorf("derive seal key: secret is %d characters, need at least %d", len(secret), MinSecretLen)
	}
	b, err := hkdf.Key(sha256.New, []byte(secret), nil, hkdfInfo, KeySize)
	if err != nil {
		return Key{}, fmt.Errorf("derive seal key: %w", err)
	}
	var k Key
	copy(k.b[:], b)
	return k, nil
}

// NewRandomKey returns a fresh random key, for sidecar mode where plugins and
// egress share one process and nothing else needs the key.
func NewRandomKey() Key {
	var k Key
	// crypto/rand.Read never returns an error (it crashes the program if the
	// system's randomness is unavailable).
	_, _ = rand.Read(k.b[:])
	return k
}

// KeyFromBytes returns the key made of exactly [KeySize] raw bytes.
func KeyFromBytes(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("seal key: got %d bytes, need %d", len(b), KeySize)
	}
	var k Key
	copy(k.b[:], b)
	return k, nil
}

// ID returns the key's public id: the base64url encoding of the first 6 bytes
// of a SHA-256 over a fixed label and the key. It identifies the key without
// revealing anything usable about it.
func (k Key) ID() string {
	h := sha256.New()
	h.Write([]byte(keyIDInfo))
	h.Write(k.b[:])
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:KeyIDLen*6/8])
}

// IsZero reports whether k is the zero (unset) key.
func (k Key) IsZero() bool {
	var zero [KeySize]byte
	return subtle.ConstantTimeCompare(k.b[:], zero[:]) == 1
}

// String returns a redacted form naming only the key id.
func (k Key) String() string { return "seal.Key(" + k.ID() + ")" }

// Format prints the redacted form for every verb, so that neither %x nor %d
// nor %#v reveals the key bytes.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }
