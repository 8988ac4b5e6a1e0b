package state

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	"github.com/redis/go-redis/v9"
)

// luaScript is a script with its source and digest boxed once, so that a
// call does not box them again: go-redis's Script boxes each argument
// of every call separately, which is most of the client's allocations in
// the hot path.
type luaScript struct {
	src, sha any // string
}

func newLuaScript(src string) luaScript {
	sum := sha1.Sum([]byte(src))
	return luaScript{src: src, sha: hex.EncodeToString(sum[:])}
}

// scriptArgs is the command line of one script run, built in a single
// allocation: EVALSHA, digest, numkeys, the keys, then the arguments. The
// keys and integers are passed as *string and *int64 into the arrays
// beside it, which go-redis writes as it writes string and int64 values
// but which fit in an interface without allocating.
type scriptArgs struct {
	line [3 + MaxWindows + 1 + 2*MaxWindows]any
	keys [MaxWindows]string
	nums [1 + 2*MaxWindows]int64
	nk   int // keys set
	nn   int // integers set
}

func (a *scriptArgs) key(k string) {
	a.keys[a.nk] = k
	a.line[3+a.nk] = &a.keys[a.nk]
	a.nk++
}

// arg appends an integer argument; call it after the last key.
func (a *scriptArgs) arg(v int64) {
	a.nums[a.nn] = v
	a.line[3+a.nk+a.nn] = &a.nums[a.nn]
	a.nn++
}

// run sends EVALSHA and, when the server does not know the script (after
// a restart or SCRIPT FLUSH), EVAL with its source: one round trip in the
// steady state, without go-redis's Script, which would box every key and
// argument again.
func (r *Redis) run(ctx context.Context, s luaScript, a *scriptArgs) *redis.Cmd {
	line := a.line[:3+a.nk+a.nn]
	line[0], line[1], line[2] = "evalsha", s.sha, a.nk
	cmd := r.process(ctx, line, a.nk > 0)
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		line[0], line[1] = "eval", s.src
		cmd = r.process(ctx, line, a.nk > 0)
	}
	return cmd
}

func (r *Redis) process(ctx context.Context, line []any, keyed bool) *redis.Cmd {
	cmd := redis.NewCmd(ctx, line...)
	if keyed {
		cmd.SetFirstKeyPos(3) // Cluster routes by the first key
	}
	_ = r.client.Process(ctx, cmd)
	return cmd
}
