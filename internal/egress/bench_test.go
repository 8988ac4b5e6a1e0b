package egress_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/fakellm"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/internal/unmask"
)

// BenchmarkEgress compares egress with a bare httputil.ReverseProxy in
// front of the same fake provider on loopback, in the same run (issue 3's
// targets: throughput ≥ 0.8× bare, added p50 ≤ 0.2 ms, added TTFB ≤ 0.5 ms).
// Each egress request carries a plan sealed for it, as the plugin makes
// one; the sealing is part of the measured egress cost.
func BenchmarkEgress(b *testing.B) {
	llm := fakellm.New(fakellm.Options{APIKey: "sk-fake"})
	defer llm.Close()
	up, _ := url.Parse(llm.URL())
	bare := httputil.NewSingleHostReverseProxy(up)
	bare.FlushInterval = -1
	// The same connection pooling egress uses, so the comparison is fair.
	bare.Transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, ForceAttemptHTTP2: true}
	bareDirector := bare.Director
	bare.Director = func(r *http.Request) { bareDirector(r); r.Header.Set("Authorization", "Bearer sk-fake") }
	bareSrv := httptest.NewServer(bare)
	defer bareSrv.Close()

	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(b, err)
	e, err := egress.New(egress.Options{Keyring: kr, Breakers: state.NewMemory(), Usage: &egress.Bus{}})
	require.NoError(b, err)
	egSrv := httptest.NewServer(e)
	defer egSrv.Close()
	plan := &egress.Plan{
		Targets:     []egress.PlanTarget{{Name: "a", Provider: "openai", URL: llm.URL(), APIKey: "sk-fake", TimeoutMS: 5000}},
		RetryOn:     []string{"429", "5xx"},
		MaxAttempts: 2,
		Breaker:     egress.BreakerConfig{Enabled: true, FailureThreshold: 5, CoolDownSeconds: 30, HalfOpenProbes: 1},
	}
	var seq atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true}}

	// The PII arm also hands egress a placeholder map and asks it to redact
	// model-written PII, as tollgate-pii-mask does.
	piiHandOff := &unmask.HandOff{Restore: map[string]string{"<EMAIL_1>": "jane.doe@example.com"}, Redact: &unmask.Redact{}}
	send := func(b *testing.B, base string, sealed, pii bool, body string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sealed {
			id := fmt.Sprintf("bench-%d", seq.Add(1))
			v, err := egress.SealPlan(kr, id, plan, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set(egress.HeaderRequestID, id)
			req.Header.Set(egress.HeaderPlan, v)
			if pii {
				h, err := unmask.Seal(kr, id, piiHandOff, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set(unmask.Header, h)
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			b.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		return resp
	}
	const body = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello benchmark, tell me something."}]}`
	const stream = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello benchmark, tell me something."}]}`
	arms := []struct {
		name        string
		base        string
		sealed, pii bool
	}{{"bare", bareSrv.URL, false, false}, {"egress", egSrv.URL, true, false}, {"egress+pii", egSrv.URL, true, true}}

	for _, arm := range arms {
		b.Run("request/"+arm.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, 1024)
			for b.Loop() {
				start := time.Now()
				resp := send(b, arm.base, arm.sealed, arm.pii, body)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
			}
			reportP50(b, lat, "p50-µs")
		})
	}
	for _, arm := range arms {
		b.Run("stream-ttfb/"+arm.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, 1024)
			broken := 0
			defer func() { b.ReportMetric(float64(broken), "broken-streams") }()
			for b.Loop() {
				start := time.Now()
				resp := send(b, arm.base, arm.sealed, arm.pii, stream)
				rd := bufio.NewReader(resp.Body)
				if _, err := rd.ReadString('\n'); err != nil {
					// httputil.ReverseProxy now and then loses its upstream
					// connection mid-stream here ("use of closed network
					// connection"); egress never has. Count it, keep going.
					if arm.sealed {
						b.Fatal(err)
					}
					broken++
					resp.Body.Close()
					continue
				}
				lat = append(lat, time.Since(start))
				_, _ = io.Copy(io.Discard, rd)
				resp.Body.Close()
			}
			reportP50(b, lat, "ttfb-p50-µs")
		})
	}
	for _, arm := range arms {
		b.Run("parallel64/"+arm.name, func(b *testing.B) {
			b.SetParallelism(max(1, 64/max(1, testingProcs())))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp := send(b, arm.base, arm.sealed, arm.pii, body)
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}

func reportP50(b *testing.B, lat []time.Duration, unit string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, unit)
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
