package unmask

import (
	"strings"
	"testing"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

func FuzzFilter(f *testing.F) {
	for _, s := range streamTexts {
		f.Add(s, uint64(7), true)
		f.Add(s, uint64(1), false)
	}
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY----- x", uint64(3), true)
	f.Fuzz(func(t *testing.T, s string, seed uint64, redact bool) {
		if len(s) > 4096 {
			return
		}
		h := &HandOff{Restore: restoreMap, LookBehind: 128}
		if redact {
			h.Redact = &Redact{}
		}
		var cuts []int
		for i, x := 0, seed|1; i < len(s); {
			i += int(x%9) + 1
			x = x*6364136223846793005 + 1442695040888963407
			if i < len(s) {
				cuts = append(cuts, i)
			}
		}
		got, maxHeld := chunked(rewriter(t, h), s, cuts)
		if maxHeld > h.LookBehind {
			t.Fatalf("held %d bytes, more than the look-behind %d", maxHeld, h.LookBehind)
		}
		// Without a word longer than the look-behind and without a key
		// block, pieces make no difference.
		long := false
		for _, w := range strings.Fields(s) {
			long = long || len(w) > h.LookBehind/4
		}
		if !long && len(s) < h.LookBehind/2 && !strings.Contains(s, pemBegin) {
			if want := rewriter(t, h).Text(s); got != want {
				t.Fatalf("pieces %v: %q, whole: %q", cuts, got, want)
			}
		}
		if !redact {
			for p := range restoreMap {
				if strings.Contains(s, p) && !strings.Contains(got, restoreMap[p]) {
					t.Fatalf("%s was not restored", p)
				}
			}
		}
	})
}

func FuzzStreamEvent(f *testing.F) {
	for _, e := range chatStream("hi <EMAIL_1> there", 3, true) {
		f.Add(string(e), uint8(0))
	}
	for _, e := range anthropicStream("hi <EMAIL_1>", 3) {
		f.Add(string(e), uint8(1))
	}
	f.Add("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"<EMA\"}\n\n", uint8(2))
	formats := []llm.Format{llm.FormatChat, llm.FormatAnthropic, llm.FormatResponses, llm.FormatCompletions}
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		r := rewriter(t, &HandOff{Restore: restoreMap, Redact: &Redact{}})
		s, err := r.Stream(formats[int(which)%len(formats)])
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			_, _ = s.Event([]byte(raw))
		}
		_ = s.Close()
		_, _ = r.Body(llm.FormatChat, []byte(raw))
	})
}
