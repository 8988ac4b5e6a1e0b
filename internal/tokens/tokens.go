package tokens

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Encoding names.
const (
	O200kBase  = "o200k_base"
	Cl100kBase = "cl100k_base"
)

// ErrUnknownEncoding is returned by Get for an encoding without a vocabulary.
var ErrUnknownEncoding = errors.New("unknown encoding")

// modelPrefix maps models whose lower-case name starts with prefix.
type modelPrefix struct{ prefix, encoding string }

var (
	// registerMu serialises RegisterModel; readers load models without a
	// lock. The slice is replaced, never changed, and sorted longest prefix
	// first so the first match is the longest, "gpt-4o" before "gpt-4".
	registerMu sync.Mutex
	models     atomic.Pointer[[]modelPrefix]
)

func init() {
	for _, m := range []modelPrefix{
		{"gpt-4o", O200kBase}, {"gpt-4.1", O200kBase}, {"gpt-4.5", O200kBase}, {"gpt-5", O200kBase},
		{"o1", O200kBase}, {"o3", O200kBase}, {"o4", O200kBase}, {"chatgpt-4o", O200kBase},
		{"gpt-4", Cl100kBase}, {"gpt-3.5", Cl100kBase}, {"gpt-35", Cl100kBase}, {"text-embedding-", Cl100kBase},
	} {
		RegisterModel(m.prefix, m.encoding)
	}
}

// RegisterModel maps the models whose lower-cased name starts with prefix to
// encoding (O200kBase or Cl100kBase), replacing an earlier mapping of the
// same prefix. The longest matching prefix wins. An encoding Get does not
// know makes Count fall back to its estimate. It is safe to call
// concurrently with counting.
func RegisterModel(prefix, encoding string) {
	prefix = strings.ToLower(prefix)
	registerMu.Lock()
	defer registerMu.Unlock()
	var list []modelPrefix
	if old := models.Load(); old != nil {
		list = slices.DeleteFunc(slices.Clone(*old), func(m modelPrefix) bool { return m.prefix == prefix })
	}
	list = append(list, modelPrefix{prefix, encoding})
	slices.SortStableFunc(list, func(a, b modelPrefix) int { return len(b.prefix) - len(a.prefix) })
	models.Store(&list)
}

// EncodingFor returns the encoding a model uses (o200k_base when unknown).
// A provider prefix ("openai/gpt-4o", as OpenRouter names models) is ignored.
func EncodingFor(model string) string {
	m := strings.ToLower(model)
	if i := strings.LastIndex(m, "/"); i >= 0 {
		m = m[i+1:]
	}
	for _, p := range *models.Load() {
		if strings.HasPrefix(m, p.prefix) {
			return p.encoding
		}
	}
	return O200kBase
}

// Count returns the number of tokens of text for model. If the vocabulary
// cannot be loaded it falls back to four bytes a token.
func Count(model, text string) int {
	if text == "" {
		return 0
	}
	e, err := Get(EncodingFor(model))
	if err != nil {
		return (len(text) + 3) / 4
	}
	return e.Count(text)
}

// Message is one chat message as counted by CountMessages.
type Message struct {
	Role, Name, Content string
}

// Chat-format overhead, from the OpenAI cookbook "How to count tokens with
// tiktoken" (num_tokens_from_messages, for gpt-3.5-turbo-0613, gpt-4 and
// later): every message is wrapped in <|start|>{role/name}\n{content}<|end|>\n.
const (
	tokensPerMessage = 3 // the wrapper around each message
	tokensPerName    = 1 // a name field costs one more
	tokensPerReply   = 3 // every reply is primed with <|start|>assistant<|message|>
)

// CountMessages returns the prompt tokens of a chat request for model: the
// tokens of every role, name and content plus the chat format's overhead, as
// the OpenAI cookbook "How to count tokens with tiktoken" counts them.
func CountMessages(model string, msgs []Message) int {
	n := tokensPerReply
	for _, m := range msgs {
		n += tokensPerMessage + Count(model, m.Role) + Count(model, m.Content)
		if m.Name != "" {
			n += tokensPerName + Count(model, m.Name)
		}
	}
	return n
}
