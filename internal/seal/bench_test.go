package seal_test

import (
	"testing"
	"time"

	"github.com/tollgate-ai/tollgate/internal/seal"
)

func BenchmarkSeal(b *testing.B) {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 1<<10)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Seal(purpose, binding, payload, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 1<<10)
	v, err := kr.Seal(purpose, binding, payload, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(purpose, binding, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplayGuardCheck measures one Check per request with a steady
// population of ids expiring as new ones arrive.
func BenchmarkReplayGuardCheck(b *testing.B) {
	g := seal.NewReplayGuard(1 << 20)
	now := time.Unix(0, 0)
	g.Now = func() time.Time { return now }
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = "req-" + time.Duration(i).String()
	}
	i := 0
	for b.Loop() {
		now = now.Add(time.Microsecond)
		// Ids are reused only after they expired (ttl < len(ids) µs).
		if err := g.Check(ids[i%len(ids)], now.Add(time.Duration(len(ids)/2)*time.Microsecond)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
