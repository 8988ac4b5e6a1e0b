package tokens

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// Encoder turns text into the token IDs of one tiktoken encoding. It is
// immutable once built and safe for concurrent use.
type Encoder struct {
	name string
	*vocab
	next func(s string, i int) int
}

// encoders builds each encoder on first use; later calls take no lock.
var encoders = map[string]func() (*Encoder, error){
	O200kBase:  sync.OnceValues(func() (*Encoder, error) { return build(O200kBase, nextO200k) }),
	Cl100kBase: sync.OnceValues(func() (*Encoder, error) { return build(Cl100kBase, nextCl100k) }),
}

// Get returns the encoder of an encoding (O200kBase or Cl100kBase). The
// vocabulary is read from the files embedded in the binary the first time and
// cached; later calls return the same encoder.
func Get(encoding string) (*Encoder, error) {
	build, ok := encoders[encoding]
	if !ok {
		return nil, fmt.Errorf("get encoding %q: %w", encoding, ErrUnknownEncoding)
	}
	return build()
}

func build(encoding string, next func(string, int) int) (*Encoder, error) {
	ranks, err := tiktokenloader.NewOfflineLoader().LoadTiktokenBpe(encoding + ".tiktoken")
	if err != nil {
		return nil, fmt.Errorf("load encoding %q: %w", encoding, err)
	}
	initClasses()
	return &Encoder{name: encoding, vocab: newVocab(ranks), next: next}, nil
}

// Name returns the encoding's name.
func (e *Encoder) Name() string { return e.name }

// Encode returns the token IDs of text, special tokens such as
// <|endoftext|> being encoded as plain text. Invalid UTF-8 is read as the
// reference does: each invalid byte becomes U+FFFD.
func (e *Encoder) Encode(text string) []int {
	text = validUTF8(text)
	ids := make([]int, 0, len(text)/3+1) // about 3.5 bytes a token
	var buf [256]part
	for i := 0; i < len(text); {
		j := e.next(text, i)
		piece := text[i:j]
		i = j
		if id, ok := e.ranks[piece]; ok {
			ids = append(ids, id)
			continue
		}
		parts := merge(e.vocab, piece, buf[:])
		for k := 0; k+1 < len(parts); k++ {
			ids = append(ids, e.ranks[piece[parts[k].start:parts[k+1].start]])
		}
	}
	return ids
}

// Count returns len(e.Encode(text)) without building the slice of IDs.
func (e *Encoder) Count(text string) int {
	text = validUTF8(text)
	n := 0
	var buf [256]part
	for i := 0; i < len(text); {
		j := e.next(text, i)
		piece := text[i:j]
		i = j
		if _, ok := e.ranks[piece]; ok {
			n++
			continue
		}
		n += len(merge(e.vocab, piece, buf[:])) - 1
	}
	return n
}

// validUTF8 replaces each invalid byte with U+FFFD, as Go's []rune
// conversion (and so the reference tokenizer) does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
