package tokens

import "github.com/tollgate-ai/tollgate/internal/llm"

// Prompt counts a parsed request's prompt tokens for its model:
// chat-shaped requests (chat, Responses, Anthropic) with the chat format's
// per-message overhead, the others on their text. The token rate limiter
// and `tollgate tokens` count with it, so operators see what is charged.
func Prompt(r *llm.Request) int {
	switch r.Format {
	case llm.FormatChat, llm.FormatAnthropic, llm.FormatResponses:
		msgs := make([]Message, len(r.Messages))
		for i, m := range r.Messages {
			msgs[i] = Message{Role: string(m.Role), Name: m.Name, Content: m.Text()}
		}
		return CountMessages(r.Model, msgs)
	}
	return Count(r.Model, r.Text())
}
