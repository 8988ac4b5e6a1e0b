package unmask

import (
	"fmt"
	"slices"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// Body rewrites a whole answer (not streamed) written in format f: the
// text of choices and content blocks, refusals, and tool-call arguments.
// Ids, model names and every other member are left as they are.
func (r *Rewriter) Body(f llm.Format, body []byte) ([]byte, error) {
	switch f {
	case llm.FormatChat, llm.FormatCompletions, llm.FormatAnthropic, llm.FormatResponses:
	default:
		return nil, fmt.Errorf("%w: no answer rewriting for the %q API", ErrUnreadable, f)
	}
	out, err := rewriteStrings(body, func(path []string, v string) (string, bool) { return r.at(path, v, true) })
	if err != nil {
		return nil, fmt.Errorf("%w: the answer is not JSON", ErrUnreadable)
	}
	return out, nil
}

// whole rewrites a full text repeated in a stream's closing events, which
// the deltas already counted.
func (r *Rewriter) whole(path []string, v string) (string, bool) { return r.at(path, v, false) }

// at rewrites the string v at path when path is answer text.
func (r *Rewriter) at(path []string, v string, count bool) (string, bool) {
	if len(path) == 0 {
		return "", false
	}
	switch path[len(path)-1] {
	case "text", "content", "refusal", "instructions":
		return r.text(v, false, count), true
	case "arguments", "partial_json":
		return r.text(v, true, count), true
	}
	// Anthropic tool_use input is an object: every string in it.
	if len(path) >= 3 && (path[0] == "content" || path[0] == "content_block") && slices.Contains(path, "input") {
		return r.text(v, false, count), true
	}
	return "", false
}
