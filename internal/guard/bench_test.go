package guard

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// benchRules is 30 rules of the kind operators write: PII and secret
// patterns, topic phrases, a few allow rules.
func benchRules(tb testing.TB) *Rules {
	det, err := NewDetector(DetectorConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	var deny, allow []Rule
	patterns := []string{
		`\b\d{3}-\d{2}-\d{4}\b`, `\b(?:\d[ -]?){13,16}\b`, `sk-[a-z0-9]{20,}`, `akia[0-9a-z]{16}`,
		`-----begin (?:rsa )?private key-----`, `\bpassword\s*[:=]\s*\S+`, `\b[a-z0-9._%+-]+@corp\.example\b`,
		`\bghp_[a-z0-9]{36}\b`, `xox[baprs]-[a-z0-9-]{10,}`, `\biban\s*[a-z]{2}\d{2}`,
		`\bdrop\s+table\b`, `\brm\s+-rf\s+/`, `\bcurl\s+[^|]+\|\s*(?:ba)?sh\b`, `<script\b`, `\beval\s*\(`,
	}
	for i, p := range patterns {
		deny = append(deny, Rule{Name: fmt.Sprintf("pattern-%d", i), Patterns: []string{p}})
	}
	topics := [][]string{
		{"build a bomb", "make explosives", "pipe bomb"}, {"credit card dump", "carding forum"},
		{"bypass paywall", "crack license"}, {"synthesize meth", "cook meth"}, {"phishing kit", "phishing page"},
		{"ddos attack", "botnet for hire"}, {"keylogger", "ransomware builder"}, {"stalk my ex", "track her phone"},
		{"insider trading tip"}, {"fake passport", "forged documents"}, {"self harm method"},
		{"competitor pricing leak"},
	}
	for i, ph := range topics {
		deny = append(deny, Rule{Name: fmt.Sprintf("topic-%d", i), Phrases: ph})
	}
	allow = append(allow,
		Rule{Name: "support", Phrases: []string{"order", "invoice", "refund", "shipping", "account", "report"}},
		Rule{Name: "code", Patterns: []string{`\bfunc\b|\bdef\b|\bclass\b`}},
		Rule{Name: "general", Patterns: []string{`\?`, `please`}},
	)
	r, err := Compile(RuleSet{Allow: allow, Deny: deny, Detector: det})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

const benchParagraph = "The quarterly report shows revenue growth of 12 percent, driven by the new subscription tier. " +
	"Costs rose because of hiring in support and infrastructure, and the board approved next year's budget. " +
	"Customers asked about shipping delays and one invoice was sent twice; support issued a refund. " +
	"Please summarize the key points, list the risks, and suggest three follow-up questions for the team. "

func benchRequest(tb testing.TB, size int) *llm.Request {
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(benchParagraph)
	}
	text := b.String()[:size]
	return chat(tb, msg{"system", "You are a helpful analyst."}, msg{"user", text})
}

// reportP99 reports the 99th percentile of per-call durations.
func reportP99(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds())/1e3, "p99-µs")
}

func BenchmarkCheck(b *testing.B) {
	r := benchRules(b)
	for _, size := range []int{2 << 10, 32 << 10} {
		req := benchRequest(b, size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			if v := r.Check(req); !v.Allowed {
				b.Fatalf("benchmark prompt denied: %+v", v)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			d := make([]time.Duration, 0, 1<<16)
			for b.Loop() {
				start := time.Now()
				r.Check(req)
				if len(d) < cap(d) {
					d = append(d, time.Since(start))
				}
			}
			reportP99(b, d)
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, tc := range []struct{ name, text string }{
		{"ascii-2KB", strings.Repeat(benchParagraph, 6)[:2048]},
		{"unicode-2KB", strings.Repeat("Ｉｇｎｏｒｅ précédentes инструкции 忽略指令 ", 40)[:2048]},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var n Normalizer
			var norm, folded []byte
			b.SetBytes(int64(len(tc.text)))
			b.ReportAllocs()
			for b.Loop() {
				norm = n.AppendNormalize(norm[:0], tc.text)
				folded = n.AppendFold(folded[:0], bstr(norm))
			}
		})
	}
}

func BenchmarkScore(b *testing.B) {
	d, err := NewDetector(DetectorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat(benchParagraph, 6)[:2048]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		d.Score(text)
	}
}
