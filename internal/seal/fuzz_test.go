package seal_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/seal"
)

var update = flag.Bool("update", false, "rewrite the FuzzOpen seed corpus in testdata/fuzz")

// fuzzKeyring is fixed (secret and clock) so that the stored seeds, sealed
// under it, exercise the later stages of Open.
func fuzzKeyring(tb testing.TB) *seal.Keyring {
	tb.Helper()
	c := &clock{t: t0}
	kr, err := seal.NewKeyring(mustKey(tb, testSecret), mustKey(tb, otherSecret))
	require.NoError(tb, err)
	kr.Now = c.Now
	return kr
}

func FuzzOpen(f *testing.F) {
	kr := fuzzKeyring(f)
	// The only values allowed to open are the stored valid_* seeds, sealed
	// under the fuzz key and valid at the fixed clock. They are read from disk
	// rather than sealed here because fuzz workers are separate processes and
	// a fresh Seal draws a fresh nonce in each.
	valid := loadValidSeeds(f)
	require.NotEmpty(f, valid, "run go test -run TestUpdateFuzzSeeds -update")
	f.Fuzz(func(t *testing.T, value string) {
		got, err := kr.Open(purpose, binding, value)
		if _, ok := valid[value]; ok {
			require.NoError(t, err)
			require.Equal(t, valid[value], string(got))
			return
		}
		require.Error(t, err)
		require.Nil(t, got)
		require.NotContains(t, err.Error(), testSecret)
	})
}

// validSeedPayload is what the valid_* seeds hold, by seed name.
var validSeedPayload = map[string]string{
	"valid_empty": "",
	"valid_json":  `{"<EMAIL_1>":"a@b.c"}`,
	"valid_300":   strings.Repeat("x", 300),
}

func loadValidSeeds(tb testing.TB) map[string]string {
	tb.Helper()
	valid := make(map[string]string, len(validSeedPayload))
	for name, payload := range validSeedPayload {
		b, err := os.ReadFile(filepath.Join(seedDir, name))
		require.NoError(tb, err)
		_, lit, ok := strings.Cut(strings.TrimSpace(string(b)), "\nstring(")
		require.True(tb, ok, name)
		v, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		require.NoError(tb, err, name)
		valid[v] = payload
	}
	return valid
}

var seedDir = filepath.Join("testdata", "fuzz", "FuzzOpen")

// TestUpdateFuzzSeeds rewrites testdata/fuzz/FuzzOpen with -update. The seeds
// are near misses: right key, but wrong binding, purpose, version, expiry or
// shape, so the fuzzer starts close to the code paths that matter.
//
// Without -update it checks that the corpus has every seed (their bytes
// differ per run: nonces are random).
func TestUpdateFuzzSeeds(t *testing.T) {
	kr := fuzzKeyring(t)
	c := &clock{t: t0}
	kr.Now = c.Now
	mustSeal := func(purpose, binding, payload string, ttl time.Duration) string {
		v, err := kr.Seal(purpose, binding, []byte(payload), ttl)
		require.NoError(t, err)
		return v
	}
	good := mustSeal(purpose, binding, validSeedPayload["valid_json"], time.Minute)
	c.Advance(-time.Hour)
	expired := mustSeal(purpose, binding, "expired", time.Minute)
	c.Advance(2 * time.Hour)
	future := mustSeal(purpose, binding, "future", time.Minute)
	seeds := map[string]string{
		"wrong_binding": mustSeal(purpose, "req-0002", "x", time.Minute),
		"wrong_purpose": mustSeal("x-tollgate-plan", binding, "x", time.Minute),
		"expired":       expired,
		"future":        future,
		"version2":      "v2" + good[2:],
		"unknown_key":   "v1.AAAAAAAA" + good[11:],
		"flipped_tag":   good[:len(good)-2] + string(good[len(good)-2]^1) + good[len(good)-1:],
		"truncated":     good[:len(good)-5],
		"padded":        good + "==",
		"empty":         "",
		"dots":          "..",
		"non_ascii":     "v1.\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8.\x00",
		"too_long":      "v1." + strings.Repeat("A", seal.MaxValueLen),
		"valid_json":    good,
	}
	c.t = t0
	for name, payload := range validSeedPayload {
		if _, ok := seeds[name]; !ok {
			seeds[name] = mustSeal(purpose, binding, payload, time.Minute)
		}
	}
	dir := seedDir
	if !*update {
		for name := range seeds {
			_, err := os.Stat(filepath.Join(dir, name))
			require.NoError(t, err, "seed %s is missing: go test -run TestUpdateFuzzSeeds -update", name)
		}
		return
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	old, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for _, p := range old {
		require.NoError(t, os.Remove(p))
	}
	for name, v := range seeds {
		body := fmt.Sprintf("go test fuzz v1\nstring(%q)\n", v)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
}
