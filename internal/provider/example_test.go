package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/provider"
)

// An OpenAI chat request for an Anthropic target.
func Example_request() {
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"stop":"END","user":"u1"}`)
	req, _ := llm.Parse(llm.FormatChat, body)
	call := &provider.Call{Format: llm.FormatChat, Body: body, Req: req}

	a, _ := provider.For(provider.KindAnthropic)
	target := provider.Target{Provider: provider.KindAnthropic, Model: "claude-sonnet-4-5", APIKey: "sk-ant-…"}
	up, err := a.Request(context.Background(), target, call)
	if err != nil {
		fmt.Println(err) // an *UpstreamError
		return
	}
	out, _ := io.ReadAll(up.Body)
	fmt.Println(up.URL, up.Header.Get("anthropic-version"))
	fmt.Println(string(out))
	// Output:
	// https://api.anthropic.com/v1/messages 2023-06-01
	// {"model":"claude-sonnet-4-5","system":"Be brief.","messages":[{"role":"user","content":"Hi"}],"max_tokens":4096,"metadata":{"user_id":"u1"},"stop_sequences":["END"],"stream":false}
}

// An Anthropic stream, translated for an OpenAI chat client.
func Example_stream() {
	body := []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hi"}]}`)
	req, _ := llm.Parse(llm.FormatChat, body)
	call := &provider.Call{Format: llm.FormatChat, Body: body, Req: req}
	upstream := strings.NewReader(`event: message_start
data: {"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":8,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}

event: message_stop
data: {"type":"message_stop"}

`)
	a, _ := provider.For(provider.KindAnthropic)
	s := a.Stream(call, upstream)
	for {
		b, err := s.Next()
		if err != nil {
			break // io.EOF
		}
		for _, line := range strings.Split(string(b), "\n") {
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			var chunk struct {
				ID      string `json:"id"`
				Choices []struct {
					Delta        map[string]any `json:"delta"`
					FinishReason *string        `json:"finish_reason"`
				} `json:"choices"`
			}
			if json.Unmarshal([]byte(data), &chunk) != nil {
				fmt.Println(data)
				continue
			}
			c := chunk.Choices[0]
			fmt.Println(chunk.ID, c.Delta, c.FinishReason != nil)
		}
	}
	fmt.Printf("%+v\n", s.Usage())
	// Output:
	// msg_1 map[content:Hello role:assistant] false
	// msg_1 map[] true
	// [DONE]
	// {PromptTokens:8 CompletionTokens:2 TotalTokens:10 CachedTokens:0 CacheWriteTokens:0 Known:true}
}
