package llm_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// chatBody is a typical chat request of about 2 KB: a system prompt, a few
// turns, one tool and the usual options.
var chatBody = func() []byte {
	turn := strings.Repeat("Please summarize the quarterly report for the team. ", 5)
	msgs := []map[string]any{{"role": "system", "content": "You are a helpful assistant for the finance team. Answer briefly."}}
	for i := range 3 {
		msgs = append(msgs,
			map[string]any{"role": "user", "content": turn},
			map[string]any{"role": "assistant", "content": []map[string]any{{"type": "text", "text": turn[:100+i]}}})
	}
	msgs = append(msgs, map[string]any{"role": "user", "content": "And what about the risks? My email is jane.doe@example.com."})
	b, err := json.Marshal(map[string]any{
		"model":          "gpt-4o",
		"messages":       msgs,
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
		"temperature":    0.3,
		"max_tokens":     512,
		"user":           "user-42",
		"tools": []map[string]any{{"type": "function", "function": map[string]any{
			"name": "lookup", "description": "Look a figure up.",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}},
		}}},
	})
	if err != nil {
		panic(err)
	}
	return b
}()

func TestChatBodySize(t *testing.T) {
	if n := len(chatBody); n < 1800 || n > 2400 {
		t.Fatalf("benchmark body is %d bytes, want about 2 KB", n)
	}
}

// BenchmarkParse compares Parse with the baseline of decoding the same body
// into generic values with encoding/json, in the same run.
func BenchmarkParse(b *testing.B) {
	b.Run("llm", func(b *testing.B) {
		b.SetBytes(int64(len(chatBody)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := llm.Parse(llm.FormatChat, chatBody); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline_json_any", func(b *testing.B) {
		b.SetBytes(int64(len(chatBody)))
		b.ReportAllocs()
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(chatBody, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEditReserialize parses, rewrites every text segment and the
// model, and serializes; the baseline decodes into generic values, edits
// them and marshals.
func BenchmarkEditReserialize(b *testing.B) {
	b.Run("llm", func(b *testing.B) {
		b.SetBytes(int64(len(chatBody)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := llm.Parse(llm.FormatChat, chatBody)
			if err != nil {
				b.Fatal(err)
			}
			for _, tp := range r.TextParts() {
				if err := r.SetText(tp.Path, "<masked>"); err != nil {
					b.Fatal(err)
				}
			}
			r.SetModel("gpt-4o-mini")
			if len(r.Bytes()) == 0 {
				b.Fatal("empty body")
			}
		}
	})
	b.Run("baseline_json_any", func(b *testing.B) {
		b.SetBytes(int64(len(chatBody)))
		b.ReportAllocs()
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(chatBody, &v); err != nil {
				b.Fatal(err)
			}
			for _, m := range v["messages"].([]any) {
				m := m.(map[string]any)
				switch c := m["content"].(type) {
				case string:
					m["content"] = "<masked>"
				case []any:
					for _, p := range c {
						p.(map[string]any)["text"] = "<masked>"
					}
				}
			}
			v["model"] = "gpt-4o-mini"
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
