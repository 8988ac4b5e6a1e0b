package kongemu

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// uuid is a parsed RFC 4122 UUID; its byte order is the order the ATC
// router (Rust's uuid crate) uses to break priority ties.
type uuid [16]byte

// entitiesNamespace is the namespace Kong's declarative loader derives
// every per-entity namespace from (declarative_config.lua uuid_generators).
var entitiesNamespace = mustParseUUID("fd02801f-0957-4a15-a55a-c8d9606f30b5")

// splitRouteNamespace is the namespace kong/router/transform.lua uses for
// the ids of routes split by path group.
var splitRouteNamespace = mustParseUUID("7f145bf9-0dce-4f91-98eb-debbce4b9f6b")

func mustParseUUID(s string) uuid {
	u, ok := parseUUID(s)
	if !ok {
		panic("kongemu: bad uuid literal " + s)
	}
	return u
}

// parseUUID parses the canonical 8-4-4-4-12 hex form, in either case.
func parseUUID(s string) (uuid, bool) {
	var u uuid
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	raw := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(raw)); err != nil {
		return u, false
	}
	return u, true
}

func (u uuid) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// uuidV5 is RFC 4122 name-based UUID version 5 (SHA-1), as resty.jit-uuid's
// factory_v5 computes it.
func uuidV5(namespace uuid, name string) uuid {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u uuid
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

// entityID is the id Kong's declarative loader generates for an entity of
// kind (the table name, e.g. "services") from key.
func entityID(kind, key string) string {
	return uuidV5(uuidV5(entitiesNamespace, kind), key).String()
}

func isUUID(s string) bool {
	_, ok := parseUUID(s)
	return ok
}

// sameID compares ids case-insensitively, as UUIDs.
func sameID(a, b string) bool { return strings.EqualFold(a, b) }
