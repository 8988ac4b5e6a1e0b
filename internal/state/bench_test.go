package state

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

var benchWindows = []Window{
	{Name: "minute", Size: time.Minute, Limit: 1 << 50},
	{Name: "hour", Size: time.Hour, Limit: 1 << 50},
	{Name: "day", Size: 24 * time.Hour, Limit: 1 << 50},
}

func benchSubjects(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("consumer-%04d", i)
	}
	return s
}

// BenchmarkMemoryReserve is a 3-window reservation on one core, over 1024
// subjects; the target is ≥ 1M/s (≤ 1000 ns/op) without allocating.
func BenchmarkMemoryReserve(b *testing.B) {
	m := NewMemory()
	ctx := context.Background()
	subjects := benchSubjects(1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Reserve(ctx, subjects[i&1023], benchWindows, 1); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMemoryReserveParallel is the same from every core at once.
func BenchmarkMemoryReserveParallel(b *testing.B) {
	m := NewMemory()
	ctx := context.Background()
	subjects := benchSubjects(1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Reserve(ctx, subjects[i&1023], benchWindows, 1); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
}

// BenchmarkRedisPing is the baseline of BenchmarkRedisReserve: a bare PING
// on the same client, so the difference is the script's work.
func BenchmarkRedisPing(b *testing.B) {
	_, r := startRedis(b)
	ctx := context.Background()
	benchLatency(b, func() error { return r.client.Ping(ctx).Err() })
}

// BenchmarkRedisReserve is a 3-window reservation, one EVALSHA; the target
// is a p50 within twice BenchmarkRedisPing's, which it also measures as
// ping-p50-ns for a ratio in the same process.
func BenchmarkRedisReserve(b *testing.B) {
	_, r := startRedis(b)
	ctx := context.Background()
	subjects := benchSubjects(1024)
	if _, err := r.Reserve(ctx, subjects[0], benchWindows, 1); err != nil { // load the script
		b.Fatal(err)
	}
	// PING and Reserve alternate, each timed on its own, so that both see
	// the same machine: on a shared two-core VM a ping series measured
	// before or after drifts from the reserve series.
	ping := make([]time.Duration, 0, 1<<16)
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := r.client.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := r.Reserve(ctx, subjects[i&1023], benchWindows, 1); err != nil {
			b.Fatal(err)
		}
		ping = append(ping, mid.Sub(start))
		lat = append(lat, time.Since(mid))
	}
	b.StopTimer()
	slices.Sort(ping)
	slices.Sort(lat)
	p50, pingP50 := lat[len(lat)/2], ping[len(ping)/2]
	b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(pingP50.Nanoseconds()), "ping-p50-ns")
	b.ReportMetric(float64(p50)/float64(pingP50), "p50/ping")
}

// benchLatency runs op b.N times and reports its p50 and p99.
func benchLatency(b *testing.B, op func() error) time.Duration {
	b.Helper()
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	p50 := lat[len(lat)/2]
	b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	return p50
}
