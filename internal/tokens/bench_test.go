package tokens_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-ai/tollgate/internal/tokens"
)

var english = []string{
	"You are a helpful assistant. Answer the user's questions concisely and cite your sources when you can. ",
	"Can you explain why the following function returns the wrong result when the input slice is empty? I've tried adding a check, but it still panics in production. ",
	"The quarterly report shows that revenue grew by 12.5% year over year, while operating costs decreased slightly; we'll discuss the details in Monday's meeting.\n\n",
	"Here is the stack trace I'm seeing:\n\npanic: runtime error: index out of range [0] with length 0\n\ngoroutine 1 [running]:\nmain.first(...)\n\t/app/main.go:12 +0x1d\n\n",
	"Summarize the text below in three bullet points, keeping the tone neutral and avoiding jargon. Don't include personal opinions.\n",
}

// prompt returns a realistic English-and-code prompt of at least n tokens.
func prompt(n int) string {
	enc, err := tokens.Get(tokens.O200kBase)
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	for i := 0; enc.Count(b.String()) < n; i++ {
		b.WriteString(english[i%len(english)])
		if i%3 == 2 {
			b.WriteString("```\n" + code[i%len(code)] + "```\n")
		}
	}
	return b.String()
}

func BenchmarkEncode(b *testing.B) {
	for _, size := range []int{100, 2000, 30000} {
		text := prompt(size)
		enc := fast(b, tokens.O200kBase)
		ref := reference(b, tokens.O200kBase)
		n := enc.Count(text)
		run := func(b *testing.B, encode func(string) int) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				encode(text)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		}
		b.Run(fmt.Sprintf("fast/%d", size), func(b *testing.B) {
			run(b, func(s string) int { return len(enc.Encode(s)) })
		})
		b.Run(fmt.Sprintf("count/%d", size), func(b *testing.B) {
			run(b, enc.Count)
		})
		b.Run(fmt.Sprintf("reference/%d", size), func(b *testing.B) {
			run(b, func(s string) int { return len(ref.EncodeOrdinary(s)) })
		})
	}
}
