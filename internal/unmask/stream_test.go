package unmask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/llm/sse"
	"github.com/tollgate-ai/tollgate/internal/pii"
)

// pieces splits s into n-byte pieces (on rune boundaries).
func pieces(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		k := min(n, len(s))
		for k < len(s) && (s[k]&0xC0) == 0x80 {
			k++
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

func chatStream(text string, n int, usage bool) [][]byte {
	var evs [][]byte
	ev := func(data string) { evs = append(evs, []byte("data: "+data+"\n\n")) }
	head := `"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1"`
	ev(`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`)
	for _, p := range pieces(text, n) {
		q, _ := json.Marshal(p)
		ev(`{` + head + `,"choices":[{"index":0,"delta":{"content":` + string(q) + `},"logprobs":null,"finish_reason":null}]}`)
	}
	ev(`{` + head + `,"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`)
	if usage {
		ev(`{` + head + `,"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`)
	}
	ev("[DONE]")
	return evs
}

// run passes evs through a Stream and returns what the client gets.
func run(t *testing.T, s *Stream, evs [][]byte) []byte {
	t.Helper()
	var out []byte
	for _, e := range evs {
		b, err := s.Event(e)
		require.NoError(t, err)
		out = append(out, b...)
	}
	return append(out, s.Close()...)
}

func events(t *testing.T, b []byte) []sse.Event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(b))
	var out []sse.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, ev)
	}
}

// chatText reassembles the content of choice 0 the way an SDK does, and
// checks that every chunk is valid JSON.
func chatText(t *testing.T, b []byte) (text string, finishedLast bool) {
	var sb strings.Builder
	evs := events(t, b)
	for i, ev := range evs {
		if ev.Data == "[DONE]" {
			require.Equal(t, len(evs)-1, i, "[DONE] is last")
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
				Text         string  `json:"text"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &c), ev.Data)
		for _, ch := range c.Choices {
			require.False(t, finishedLast, "no content after the finish chunk")
			sb.WriteString(ch.Delta.Content + ch.Text)
			if ch.FinishReason != nil {
				finishedLast = true
			}
		}
	}
	return sb.String(), finishedLast
}

func TestStreamChat(t *testing.T) {
	for _, h := range []*HandOff{{Restore: restoreMap}, {Restore: restoreMap, Redact: &Redact{}}} {
		for _, text := range streamTexts {
			want := rewriter(t, h).Text(text)
			for _, n := range []int{1, 2, 3, 5, 8, 13} {
				for _, usage := range []bool{false, true} {
					r := rewriter(t, h)
					s, err := r.Stream(llm.FormatChat)
					require.NoError(t, err)
					out := run(t, s, chatStream(text, n, usage))
					got, finished := chatText(t, out)
					require.Equal(t, want, got, "pieces of %d", n)
					require.True(t, finished)
				}
			}
		}
	}
}

func TestStreamUntouchedEventsKeepTheirBytes(t *testing.T) {
	s, err := rewriter(t, &HandOff{Restore: restoreMap}).Stream(llm.FormatChat)
	require.NoError(t, err)
	for _, e := range chatStream("no placeholders at all here", 4, true) {
		b, err := s.Event(e)
		require.NoError(t, err)
		require.Equal(t, string(e), string(b))
	}
}

func TestStreamChatCutOff(t *testing.T) {
	// The provider stops without a finish chunk: Close still delivers the
	// held text, in a chunk like the others.
	r := rewriter(t, &HandOff{Restore: restoreMap})
	s, err := r.Stream(llm.FormatChat)
	require.NoError(t, err)
	evs := chatStream("write to <EMAIL_1>", 3, false)
	out := run(t, s, evs[:len(evs)-2])
	got, _ := chatText(t, out)
	require.Equal(t, "write to jane.doe@example.com", got)
	last := events(t, out)
	require.Contains(t, last[len(last)-1].Data, `"id":"chatcmpl-1"`)
	require.Equal(t, map[pii.Type]int{pii.Email: 1}, r.Counts().Restored)
}

func TestStreamChatToolArguments(t *testing.T) {
	r := rewriter(t, &HandOff{Restore: restoreMap})
	s, err := r.Stream(llm.FormatChat)
	require.NoError(t, err)
	args := `{"to":"<EMAIL_1>","subject":"<PROJECT_X_1>"}`
	head := `"id":"c","object":"chat.completion.chunk","created":1,"model":"m"`
	evs := [][]byte{[]byte(`data: {` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"send","arguments":""}}]},"finish_reason":null}]}` + "\n\n")}
	for _, p := range pieces(args, 4) {
		q, _ := json.Marshal(p)
		evs = append(evs, []byte(`data: {`+head+`,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":`+string(q)+`}}]},"finish_reason":null}]}`+"\n\n"))
	}
	evs = append(evs, []byte(`data: {`+head+`,"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`+"\n\n"), []byte("data: [DONE]\n\n"))
	var got strings.Builder
	for _, ev := range events(t, run(t, s, evs)) {
		var c struct {
			Choices []struct {
				Delta struct {
					ToolCalls []struct {
						Function struct {
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if ev.Data != "[DONE]" {
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &c))
			for _, ch := range c.Choices {
				for _, tc := range ch.Delta.ToolCalls {
					got.WriteString(tc.Function.Arguments)
				}
			}
		}
	}
	require.JSONEq(t, `{"to":"jane.doe@example.com","subject":"Project \"Falcon\""}`, got.String())
}

func TestStreamCompletions(t *testing.T) {
	r := rewriter(t, &HandOff{Restore: restoreMap, Redact: &Redact{}})
	s, err := r.Stream(llm.FormatCompletions)
	require.NoError(t, err)
	text := "Dear <EMAIL_1>, your card 5500 0000 0000 0004 expired."
	var evs [][]byte
	for _, p := range pieces(text, 3) {
		q, _ := json.Marshal(p)
		evs = append(evs, []byte(`data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct","choices":[{"text":`+string(q)+`,"index":0,"logprobs":null,"finish_reason":null}]}`+"\n\n"))
	}
	evs = append(evs, []byte(`data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct","choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]}`+"\n\n"), []byte("data: [DONE]\n\n"))
	got, _ := chatText(t, run(t, s, evs))
	require.Equal(t, "Dear jane.doe@example.com, your card [CREDIT_CARD] expired.", got)
}

func anthropicStream(text string, n int) [][]byte {
	var evs [][]byte
	ev := func(name, data string) { evs = append(evs, []byte("event: "+name+"\ndata: "+data+"\n\n")) }
	ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}`)
	ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	ev("ping", `{"type": "ping"}`)
	for _, p := range pieces(text, n) {
		q, _ := json.Marshal(p)
		ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(q)+`}}`)
	}
	ev("content_block_stop", `{"type":"content_block_stop","index":0}`)
	ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`)
	ev("message_stop", `{"type":"message_stop"}`)
	return evs
}

func TestStreamAnthropic(t *testing.T) {
	h := &HandOff{Restore: restoreMap, Redact: &Redact{}}
	for _, text := range streamTexts {
		want := rewriter(t, h).Text(text)
		for _, n := range []int{1, 4, 9} {
			s, err := rewriter(t, h).Stream(llm.FormatAnthropic)
			require.NoError(t, err)
			var got strings.Builder
			stopped := false
			for _, ev := range events(t, run(t, s, anthropicStream(text, n))) {
				var d struct {
					Type  string `json:"type"`
					Delta struct {
						Text string `json:"text"`
					} `json:"delta"`
				}
				require.NoError(t, json.Unmarshal([]byte(ev.Data), &d))
				require.Equal(t, ev.Event, d.Type)
				if d.Type == "content_block_delta" {
					require.False(t, stopped, "no delta after content_block_stop")
					got.WriteString(d.Delta.Text)
				}
				stopped = stopped || d.Type == "content_block_stop"
			}
			require.Equal(t, want, got.String())
		}
	}
}

func TestStreamResponses(t *testing.T) {
	h := &HandOff{Restore: restoreMap}
	text := "Sent to <EMAIL_1> and <EMAIL_2>."
	var evs [][]byte
	ev := func(name, data string) { evs = append(evs, []byte("event: "+name+"\ndata: "+data+"\n\n")) }
	ev("response.created", `{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}`)
	for i, p := range pieces(text, 4) {
		q, _ := json.Marshal(p)
		ev("response.output_text.delta", fmt.Sprintf(`{"type":"response.output_text.delta","sequence_number":%d,"item_id":"msg_1","output_index":0,"content_index":0,"delta":%s}`, i+1, q))
	}
	q, _ := json.Marshal(text)
	ev("response.output_text.done", `{"type":"response.output_text.done","sequence_number":90,"item_id":"msg_1","output_index":0,"content_index":0,"text":`+string(q)+`}`)
	ev("response.completed", `{"type":"response.completed","sequence_number":91,"response":{"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":`+string(q)+`,"annotations":[]}]}]}}`)
	r := rewriter(t, h)
	s, err := r.Stream(llm.FormatResponses)
	require.NoError(t, err)
	want := "Sent to jane.doe@example.com and bob@corp.example."
	var deltas strings.Builder
	for _, e := range events(t, run(t, s, evs)) {
		var d struct {
			Type     string `json:"type"`
			Delta    string `json:"delta"`
			Text     string `json:"text"`
			Response struct {
				Output []struct {
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
				} `json:"output"`
			} `json:"response"`
		}
		require.NoError(t, json.Unmarshal([]byte(e.Data), &d))
		switch d.Type {
		case "response.output_text.delta":
			deltas.WriteString(d.Delta)
		case "response.output_text.done":
			require.Equal(t, want, deltas.String(), "deltas are complete before done")
			require.Equal(t, want, d.Text)
		case "response.completed":
			require.Equal(t, want, d.Response.Output[0].Content[0].Text)
		}
	}
	require.Equal(t, map[pii.Type]int{pii.Email: 2}, r.Counts().Restored, "the done texts are not counted again")
}

func TestStreamFailsClosed(t *testing.T) {
	s, err := rewriter(t, &HandOff{Restore: restoreMap}).Stream(llm.FormatChat)
	require.NoError(t, err)
	_, err = s.Event([]byte("data: {not json <\n\n"))
	require.ErrorIs(t, err, ErrUnreadable)
	_, err = rewriter(t, &HandOff{Restore: restoreMap}).Stream(llm.FormatEmbeddings)
	require.ErrorIs(t, err, ErrUnreadable)
	_, err = rewriter(t, &HandOff{Restore: restoreMap}).Body(llm.FormatChat, []byte(`{"choices":[`))
	require.ErrorIs(t, err, ErrUnreadable)
}

func TestBody(t *testing.T) {
	h := &HandOff{Restore: restoreMap, Redact: &Redact{}}
	for _, tc := range []struct {
		name   string
		format llm.Format
		in     string
		want   string
	}{
		{"chat", llm.FormatChat,
			`{"id":"chatcmpl-<EMAIL_1>","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Mail <EMAIL_1>, not made.up@evil.example.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"send","arguments":"{\"to\":\"<PROJECT_X_1>\"}"}}],"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1.0e1,"completion_tokens":5,"total_tokens":15}}`,
			`{"id":"chatcmpl-<EMAIL_1>","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Mail jane.doe@example.com, not [EMAIL].","tool_calls":[{"id":"call_1","type":"function","function":{"name":"send","arguments":"{\"to\":\"Project \\\"Falcon\\\"\"}"}}],"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1.0e1,"completion_tokens":5,"total_tokens":15}}`},
		{"anthropic", llm.FormatAnthropic,
			`{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Hi <EMAIL_2>"},{"type":"tool_use","id":"toolu_1","name":"send","input":{"to":"<EMAIL_1>","cc":["<EMAIL_2>"]}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}`,
			`{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Hi bob@corp.example"},{"type":"tool_use","id":"toolu_1","name":"send","input":{"to":"jane.doe@example.com","cc":["bob@corp.example"]}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}`},
		{"completions", llm.FormatCompletions,
			`{"id":"cmpl-1","object":"text_completion","choices":[{"text":" card 4111 1111 1111 1111 is <CREDIT_CARD_1>","index":0}]}`,
			`{"id":"cmpl-1","object":"text_completion","choices":[{"text":" card [CREDIT_CARD] is 4111 1111 1111 1111","index":0}]}`},
		{"responses", llm.FormatResponses,
			`{"id":"resp_1","object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"to <EMAIL_1>","annotations":[]}]},{"type":"function_call","name":"f","arguments":"{\"a\":\"<EMAIL_2>\"}","call_id":"c1"}]}`,
			`{"id":"resp_1","object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"to jane.doe@example.com","annotations":[]}]},{"type":"function_call","name":"f","arguments":"{\"a\":\"bob@corp.example\"}","call_id":"c1"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rewriter(t, h).Body(tc.format, []byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
	same := []byte(`{"choices":[{"message":{"content":"nothing to do"}}]}`)
	got, err := rewriter(t, h).Body(llm.FormatChat, same)
	require.NoError(t, err)
	require.Equal(t, &same[0], &got[0], "an answer without changes is passed on as is")
}
