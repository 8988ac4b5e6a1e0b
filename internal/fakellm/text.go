package fakellm

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CountTokens is the fake's tokenizer: one token per whitespace-separated
// word. Prompt usage is the sum over the prompt's texts, completion usage the
// count of the reply, and streams send one chunk per token.
func CountTokens(s string) int { return len(strings.Fields(s)) }

// splitTokens splits s into stream pieces, one per word, each keeping the
// whitespace that precedes it, so that joining them gives s back.
func splitTokens(s string) []string {
	var out []string
	start := 0
	inWord := false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if space && inWord {
			out = append(out, s[start:i])
			start = i
		}
		inWord = !space
	}
	switch rest := s[start:]; {
	case rest == "":
	case strings.TrimSpace(rest) == "" && len(out) > 0:
		out[len(out)-1] += rest
	default:
		out = append(out, rest)
	}
	return out
}

// streamPieces are the pieces a stream sends for the reply pieces: the same
// pieces, or with Behavior.ChunkBytes the joined text re-cut into pieces of
// that many bytes, never inside a character.
func (ex *exchange) streamPieces(pieces []string) []string {
	n := ex.behavior.ChunkBytes
	if n <= 0 {
		return pieces
	}
	s := strings.Join(pieces, "")
	var out []string
	for len(s) > 0 {
		k := min(n, len(s))
		for k < len(s) && !utf8.RuneStart(s[k]) {
			k++
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

// truncateTokens keeps the first max tokens of pieces; max <= 0 keeps all.
func truncateTokens(pieces []string, max int) ([]string, bool) {
	if max <= 0 || len(pieces) <= max {
		return pieces, false
	}
	return pieces[:max], true
}

// reply computes the reply for a prompt.
func (ex *exchange) reply(p Prompt) string {
	if ex.behavior.Reply != "" {
		return ex.behavior.Reply
	}
	if ex.s.opts.Reply != nil {
		return ex.s.opts.Reply(p)
	}
	return "echo: " + p.LastUser
}

func promptTokens(p Prompt) int {
	n := 0
	for _, t := range p.Texts {
		n += CountTokens(t)
	}
	return n
}

// contentText extracts the text of a message content that is either a string
// or an array of parts with "text" fields (OpenAI and Anthropic alike).
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	texts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.Text != "" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// Embed is the fake's embedding: a hashed bag of lower-cased words, each word
// adding ±1 to one of dim coordinates, L2-normalised. Equal texts give equal
// vectors and the cosine similarity of two texts grows with the words they
// share. An empty text gives the zero vector.
func Embed(text string, dim int) []float64 {
	v := make([]float64, dim)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		h := fnv.New64a()
		_, _ = h.Write([]byte(w))
		x := h.Sum64()
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		v[x%uint64(dim)] += sign
	}
	var norm float64
	for _, f := range v {
		norm += f * f
	}
	if norm == 0 {
		return v
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] /= norm
	}
	return v
}
