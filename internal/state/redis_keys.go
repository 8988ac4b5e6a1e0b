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

// counterKeys adds the key of each window's span to a, all cut from one
// string: one allocation for every key of a call.
func (r *Redis) counterKeys(a *scriptArgs, tag string, windows []Window, spans []span) {
	buf := make([]byte, 0, 512)
	var ends [MaxWindows]int
	for i, w := range windows {
		buf = append(buf, r.prefix...)
		buf = append(buf, ":rl:{"...)
		buf = append(buf, tag...)
		buf = append(buf, "}:"...)
		buf = append(buf, w.Name...)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, w.Size.Milliseconds(), 10)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, spans[i].start, 10)
		ends[i] = len(buf)
	}
	all := string(buf)
	start := 0
	for i := range windows {
		a.key(all[start:ends[i]])
		start = ends[i]
	}
}

// counterTTL is the TTL, in ms, of a counter of span sp at now: at most
// the window's size plus counterSlack.
func counterTTL(sp span, now int64) int64 {
	return sp.end - now + counterSlack.Milliseconds()
}

func (r *Redis) breakerKey(key string) string { return r.prefix + ":cb:" + key }

func (r *Redis) kvKey(key string) string { return r.prefix + ":kv:" + key }
