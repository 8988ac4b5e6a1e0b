// Package tokens counts tokens the way the models do, with tiktoken's BPE
// vocabularies shipped in the binary (no download at run time).
//
// OpenAI models map to their encoding (o200k_base for gpt-4o, gpt-4.1, the
// o-series and newer; cl100k_base for gpt-4 and gpt-3.5). Other providers'
// models have no public tokenizer; they are counted with o200k_base, which
// is within a few percent for English text and documented as an estimate.
// Encoders are built once per encoding and cached.
package tokens

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

func init() {
	// Vocabularies come from the embedded files, never from the network.
	tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader())
}

// Encoding names.
const (
	O200kBase  = "o200k_base"
	Cl100kBase = "cl100k_base"
)

var (
	mu       sync.Mutex
	encoders = map[string]*tiktoken.Tiktoken{}
)

// EncodingFor returns the encoding a model uses (o200k_base when unknown).
func EncodingFor(model string) string {
	m := strings.ToLower(model)
	if i := strings.LastIndex(m, "/"); i >= 0 {
		m = m[i+1:] // openrouter-style "openai/gpt-4o"
	}
	switch {
	case strings.HasPrefix(m, "gpt-4o"), strings.HasPrefix(m, "gpt-4.1"), strings.HasPrefix(m, "gpt-4.5"),
		strings.HasPrefix(m, "gpt-5"), strings.HasPrefix(m, "o1"), strings.HasPrefix(m, "o3"), strings.HasPrefix(m, "o4"),
		strings.HasPrefix(m, "chatgpt-4o"):
		return O200kBase
	case strings.HasPrefix(m, "gpt-4"), strings.HasPrefix(m, "gpt-3.5"), strings.HasPrefix(m, "gpt-35"),
		strings.HasPrefix(m, "text-embedding-"):
		return Cl100kBase
	}
	return O200kBase
}

func encoder(name string) (*tiktoken.Tiktoken, error) {
	mu.Lock()
	defer mu.Unlock()
	if e := encoders[name]; e != nil {
		return e, nil
	}
	e, err := tiktoken.GetEncoding(name)
	if err != nil {
		return nil, fmt.Errorf("load encoding %s: %w", name, err)
	}
	encoders[name] = e
	return e, nil
}

// Count returns the number of tokens of text for model. If the vocabulary
// cannot be loaded it falls back to four bytes a token.
func Count(model, text string) int {
	if text == "" {
		return 0
	}
	e, err := encoder(EncodingFor(model))
	if err != nil {
		return (len(text) + 3) / 4
	}
	return len(e.EncodeOrdinary(text))
}
