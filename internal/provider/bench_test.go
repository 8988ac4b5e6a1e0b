package provider_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

// The benchmarks stream 500 text deltas of a few words, as a real answer
// of about 1500 tokens does. Each reports ns/event; BenchmarkSSEReader, the
// cost of only reading the same events, is the baseline of both.

const benchDeltas = 500

func anthropicBenchStream() []byte {
	var b strings.Builder
	b.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n")
	b.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	b.WriteString("event: ping\ndata: {\"type\": \"ping\"}\n\n")
	for i := range benchDeltas {
		fmt.Fprintf(&b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" word%d and \\\"more\\\"\"}}\n\n", i)
	}
	b.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	b.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":1500}}\n\n")
	b.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	return []byte(b.String())
}

func openAIBenchStream() []byte {
	var b strings.Builder
	head := `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[`
	fmt.Fprintf(&b, "data: %s{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n", head)
	for i := range benchDeltas {
		fmt.Fprintf(&b, "data: %s{\"index\":0,\"delta\":{\"content\":\" word%d and \\\"more\\\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n", head, i)
	}
	fmt.Fprintf(&b, "data: %s{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n", head)
	fmt.Fprintf(&b, "data: %s],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":1500,\"total_tokens\":1519}}\n\n", head)
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

func countEvents(b []byte) int {
	return bytes.Count(b, []byte("\n\n"))
}

func benchStream(b *testing.B, in []byte, newStream func(io.Reader) provider.Stream) {
	n := countEvents(in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s := newStream(bytes.NewReader(in))
		for {
			if _, err := s.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
		if s.Err() != nil || !s.Usage().Known {
			b.Fatal("stream failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

func BenchmarkAnthropicStream(b *testing.B) {
	a := adapter(b, provider.KindAnthropic)
	c := newCall(b, llm.FormatChat, chatStreamBody)
	benchStream(b, anthropicBenchStream(), func(r io.Reader) provider.Stream { return a.Stream(c, r) })
}

func BenchmarkAnthropicStreamPassthrough(b *testing.B) {
	a := adapter(b, provider.KindAnthropic)
	c := newCall(b, llm.FormatAnthropic, messagesBody)
	benchStream(b, anthropicBenchStream(), func(r io.Reader) provider.Stream { return a.Stream(c, r) })
}

func BenchmarkOpenAIStreamPassthrough(b *testing.B) {
	a := adapter(b, provider.KindOpenAI)
	c := newCall(b, llm.FormatChat, chatStreamBody)
	benchStream(b, openAIBenchStream(), func(r io.Reader) provider.Stream { return a.Stream(c, r) })
}

// BenchmarkSSEReader is the baseline: reading the OpenAI benchmark stream's
// events and nothing else.
func BenchmarkSSEReader(b *testing.B) {
	in := openAIBenchStream()
	n := countEvents(in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := sse.NewReader(bytes.NewReader(in))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

func BenchmarkChatToMessagesRequest(b *testing.B) {
	a := adapter(b, provider.KindAnthropic)
	c := newCall(b, llm.FormatChat, testdata(b, "kong/tool-conversation.json"))
	target := provider.Target{Provider: provider.KindAnthropic, Model: "claude-sonnet-4-5", APIKey: testKey}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Request(b.Context(), target, c); err != nil {
			b.Fatal(err)
		}
	}
}
