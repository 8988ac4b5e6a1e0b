package unmask

import (
	"strings"
	"testing"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// BenchmarkStream measures what the stream rewriter adds to a 100-chunk
// chat answer (one op = the whole stream). The copy arm only copies the
// events, the baseline of passing them through.
func BenchmarkStream(b *testing.B) {
	text := strings.Repeat("Sure, I wrote to <EMAIL_1> about the invoice for order 1234 and ", 8)
	evs := chatStream(text, len(text)/98, true)
	if len(evs) < 100 {
		b.Fatalf("only %d events", len(evs))
	}
	b.Run("copy", func(b *testing.B) {
		for b.Loop() {
			var out []byte
			for _, e := range evs {
				out = append(out, e...)
			}
			_ = out
		}
	})
	for _, arm := range []struct {
		name string
		h    *HandOff
	}{
		{"restore", &HandOff{Restore: restoreMap}},
		{"restore+redact", &HandOff{Restore: restoreMap, Redact: &Redact{}}},
	} {
		b.Run(arm.name, func(b *testing.B) {
			scanners := NewScanners(0)
			for b.Loop() {
				r, err := New(arm.h, scanners)
				if err != nil {
					b.Fatal(err)
				}
				s, err := r.Stream(llm.FormatChat)
				if err != nil {
					b.Fatal(err)
				}
				var out []byte
				for _, e := range evs {
					o, err := s.Event(e)
					if err != nil {
						b.Fatal(err)
					}
					out = append(out, o...)
				}
				_ = append(out, s.Close()...)
			}
			b.ReportMetric(float64(len(evs)), "chunks/op")
		})
	}
}
