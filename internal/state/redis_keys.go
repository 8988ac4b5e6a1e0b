package state

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Key layout, under the configured prefix (default "tollgate"):
//
//	<prefix>:rl:{<subject>}:<window name>:<size ms>:<span start ms>   counter
//	<prefix>:cb:<key>                                                 breaker hash
//	<prefix>:kv:<key>                                                 KV value
//
// The braces are a Cluster hash tag: all windows of a subject hash to one
// slot, so reserve.lua may touch them in one call. A subject that contains
// a brace, or starts with '#', is replaced in the tag by '#' and a hash of
// it, so that the tag stays whole and distinct.

// counterSlack keeps a counter a little past the end of its span, for
// nodes whose clock lags; Adjust ignores ended spans anyway.
const counterSlack = 5 * time.Second

func hashTag(subject string) string {
	if subject[0] != '#' && !strings.ContainsAny(subject, "{}") {
		return subject
	}
	sum := sha256.Sum256([]byte(subject))
	return "#" + hex.EncodeToString(sum[:16])
}

func (r *Redis) counterKey(tag string, w Window, start int64) string {
	var b strings.Builder
	b.Grow(len(r.prefix) + len(tag) + len(w.Name) + 40)
	b.WriteString(r.prefix)
	b.WriteString(":rl:{")
	b.WriteString(tag)
	b.WriteString("}:")
	b.WriteString(w.Name)
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(w.Size.Milliseconds(), 10))
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(start, 10))
	return b.String()
}

// counterTTL is the TTL, in ms, of a counter of span sp at now: at most
// the window's size plus counterSlack.
func counterTTL(sp span, now int64) int64 {
	return sp.end - now + counterSlack.Milliseconds()
}

func (r *Redis) breakerKey(key string) string { return r.prefix + ":cb:" + key }

func (r *Redis) kvKey(key string) string { return r.prefix + ":kv:" + key }
