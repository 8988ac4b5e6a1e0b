// Package seal protects the hand-off headers that Tollgate's Kong plugins
// (request side) add to the upstream request for the egress proxy (response
// side). A sealed value is confidential, authentic, short-lived and bound both
// to a purpose (which header or plugin it was made for) and to one request.
//
// # Format
//
// A sealed value is an ASCII header value:
//
//	v1.<keyid>.<base64url-no-padding(nonce || ciphertext)>
//
// The plaintext is issued-at and expiry (unix milliseconds, big-endian int64)
// followed by the payload. The AEAD additional data binds the format version,
// the key id, the purpose and the request binding (the Tollgate request id),
// each length-prefixed so that no two (purpose, binding) pairs share an
// encoding. A value sealed for the PII header therefore cannot be presented as
// the fallback plan, and a value captured from request A does not open for
// request B.
//
// # Algorithm
//
// The AEAD is XChaCha20-Poly1305. Its 192-bit nonce can be drawn at random for
// every value with no practical risk of collision, even when many plugin
// processes seal under the same long-lived key; AES-256-GCM's 96-bit random
// nonce would cap the number of values per key (about 2^32) and make key
// rotation a safety requirement rather than hygiene. It is also constant time
// without AES hardware. In a build that enforces FIPS 140 mode the x/crypto
// implementation refuses to run and [NewKeyring] reports an error.
//
// # Keys
//
// [KeyFromSecret] derives a key from TOLLGATE_SECRET with HKDF-SHA256 (every
// Kong node and egress instance sharing the secret derives the same key);
// [NewRandomKey] makes one for sidecar mode, where plugins and egress live in
// one process. A [Keyring] seals with its current key and opens with the current
// or any previous key, so a secret can be rotated without failing requests in
// flight. Every key has a public key id, a truncated hash of the key, carried
// in the sealed value to pick the key to open with.
//
// # Replay
//
// Binding stops a value from being reused for another request. A [ReplayGuard]
// stops the same request id, and so the same set of values, from being accepted
// twice while it is still valid. It implements [ReplayChecker], the interface
// egress depends on, so a shared store can replace it in a cluster.
//
// # Errors
//
// Every failure wraps one of the sentinels ([ErrMalformed], [ErrVersion],
// [ErrUnknownKey], [ErrAuth], [ErrExpired], [ErrTooLarge], [ErrReplay],
// [ErrGuardFull]); test with [errors.Is]. Error text never contains a secret, a
// key or a payload.
//
// # Example
//
//	kr, err := seal.NewKeyring(key)
//	v, err := kr.Seal("x-tollgate-pii", requestID, payload, 30*time.Second)
//	req.Header.Set("X-Tollgate-PII", v)
//	// … in egress:
//	payload, err := kr.Open("x-tollgate-pii", requestID, req.Header.Get("X-Tollgate-PII"))
package seal

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one.
var (
	// ErrMalformed: the value is not a well-formed sealed value (too long,
	// wrong structure, bad encoding, too short) or an argument is invalid.
	ErrMalformed = errors.New("malformed sealed value")
	// ErrVersion: the value names a format version this build cannot open.
	ErrVersion = errors.New("unsupported sealed value version")
	// ErrUnknownKey: the value's key id is not in the keyring.
	ErrUnknownKey = errors.New("unknown seal key id")
	// ErrAuth: authentication failed: tampered value, wrong key, or wrong
	// purpose or binding (which includes replay across requests).
	ErrAuth = errors.New("sealed value authentication failed")
	// ErrExpired: the value is past its expiry or issued too far in the future.
	ErrExpired = errors.New("sealed value expired")
	// ErrTooLarge: the payload would not fit in [MaxValueLen] once sealed.
	ErrTooLarge = errors.New("sealed value too large")
	// ErrReplay: the request id was already presented and has not expired.
	ErrReplay = errors.New("sealed value replayed")
	// ErrGuardFull: a [ReplayGuard] is at capacity with unexpired entries.
	ErrGuardFull = errors.New("replay guard full")
)
