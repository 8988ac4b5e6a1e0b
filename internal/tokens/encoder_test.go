package tokens_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/tokens"
)

// The reference oracle is github.com/pkoukk/tiktoken-go as shipped, on the
// same embedded vocabularies.
func init() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) }

var encodings = []string{tokens.O200kBase, tokens.Cl100kBase}

func reference(t testing.TB, encoding string) *tiktoken.Tiktoken {
	t.Helper()
	ref, err := tiktoken.GetEncoding(encoding)
	require.NoError(t, err)
	return ref
}

func fast(t testing.TB, encoding string) *tokens.Encoder {
	t.Helper()
	enc, err := tokens.Get(encoding)
	require.NoError(t, err)
	return enc
}

// requireSame fails with the first differing token and its context.
func requireSame(t testing.TB, ref *tiktoken.Tiktoken, enc *tokens.Encoder, text string) {
	t.Helper()
	want := ref.EncodeOrdinary(text)
	got := enc.Encode(text)
	if n := enc.Count(text); n != len(want) {
		t.Fatalf("%s: Count = %d, reference has %d tokens, text %q", enc.Name(), n, len(want), clip(text))
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			lo, hi := max(0, i-3), min(len(want), i+4)
			t.Fatalf("%s: token %d differs\nreference %q\nfast      %q\ntext %q", enc.Name(), i,
				pieces(ref, want[lo:hi]), pieces(ref, got[lo:min(len(got), hi)]), clip(text))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d tokens, reference has %d, text %q", enc.Name(), len(got), len(want), clip(text))
	}
}

func pieces(ref *tiktoken.Tiktoken, ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = ref.Decode([]int{id})
	}
	return out
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func TestEncodeMatchesReferenceOnCorpus(t *testing.T) {
	size := 2_200_000
	if testing.Short() {
		size = 200_000
	}
	docs := corpus(1, size)
	total := 0
	for _, d := range docs {
		total += len(d)
	}
	t.Logf("corpus: %d documents, %d bytes", len(docs), total)
	for _, name := range encodings {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ref, enc := reference(t, name), fast(t, name)
			ids := 0
			for _, d := range docs {
				requireSame(t, ref, enc, d)
				ids += enc.Count(d)
			}
			t.Logf("%s: %d tokens identical", name, ids)
		})
	}
}

func TestEncodeMatchesReferenceOnEdges(t *testing.T) {
	cases := []string{
		"", " ", "  ", "\n", "\r\n", " \n", "\n ", "a ", "a  ", "a  b", "a \n b", "a\t\tb", " \t\n x",
		"'s", "'S", "x'S", "X'S", "'ll", "'LL'S", "''s", "HELLO's", "HeLLo'Re", "ǅ'Ve", "\u0301", " \u0301",
		"a\u0301\u0301", "A\u0301B", "ÀB", "ʰA", "Aʰb", "ABc", "ABʰ", "1234567", "١٢٣٤", "x1", "!\n/\n/", " !/",
		"<|endoftext|>", "\xff", "a\xffb", "\xe2\x82", "\u00a0x", "\u00a0\u00a0x", "\u3000中", "\u0085\n",
		"😀😀", "👨‍👩‍👧‍👦", "🏳️‍🌈", strings.Repeat("a", 5000), strings.Repeat(" ", 300) + "x", strings.Repeat("🙂", 100),
		strings.Repeat("=", 1000), strings.Repeat("\xff", 700), strings.Repeat("ภาษาไทย", 100), strings.Repeat("SGVsbG8gV29ybGQ", 80),
		strings.Repeat("日本語", 300), strings.Repeat("ab", 999) + "'s", strings.Repeat("1", 1000),
	}
	for _, name := range encodings {
		ref, enc := reference(t, name), fast(t, name)
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%q", name, clip(c)), func(t *testing.T) { requireSame(t, ref, enc, c) })
		}
	}
}

func FuzzEncodeMatchesReference(f *testing.F) {
	f.Add("Hello, world! It's 2024.\n\n")
	refs := map[string]*tiktoken.Tiktoken{}
	encs := map[string]*tokens.Encoder{}
	for _, name := range encodings {
		refs[name], encs[name] = reference(f, name), fast(f, name)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1024 {
			// The reference merges in quadratic time; long inputs only
			// slow the search down. Long pieces are covered by the edge
			// cases and the corpus.
			return
		}
		for _, name := range encodings {
			requireSame(t, refs[name], encs[name], text)
		}
	})
}

func TestCountDoesNotAllocate(t *testing.T) {
	enc := fast(t, tokens.O200kBase)
	text := strings.Join(prose, " ") + code[0]
	require.Zero(t, testing.AllocsPerRun(20, func() { enc.Count(text) }))
}

func TestGetCachesAndRejectsUnknown(t *testing.T) {
	a, b := fast(t, tokens.O200kBase), fast(t, tokens.O200kBase)
	require.Same(t, a, b)
	_, err := tokens.Get("p50k_base")
	require.ErrorIs(t, err, tokens.ErrUnknownEncoding)
}

func TestRegisterModel(t *testing.T) {
	require.Equal(t, tokens.O200kBase, tokens.EncodingFor("acme-legacy-7b"))
	tokens.RegisterModel("ACME-legacy", tokens.Cl100kBase)
	require.Equal(t, tokens.Cl100kBase, tokens.EncodingFor("acme-legacy-7b"))
	require.Equal(t, tokens.Cl100kBase, tokens.EncodingFor("vendor/ACME-LEGACY-13b"))
	// Longest prefix wins over a shorter registration.
	tokens.RegisterModel("acme-legacy-13", tokens.O200kBase)
	require.Equal(t, tokens.O200kBase, tokens.EncodingFor("acme-legacy-13b"))
	require.Equal(t, tokens.Cl100kBase, tokens.EncodingFor("acme-legacy-7b"))
}

func TestRegisterModelConcurrently(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			tokens.RegisterModel(fmt.Sprintf("concurrent-%d", i), tokens.Cl100kBase)
		}
	}()
	for range 200 {
		tokens.Count("concurrent-1", "hello")
	}
	<-done
	require.Equal(t, tokens.Cl100kBase, tokens.EncodingFor("concurrent-199"))
}

func TestCountMessages(t *testing.T) {
	// The worked example of the OpenAI cookbook "How to count tokens with
	// tiktoken": these messages are 129 prompt tokens for gpt-4 and gpt-4o
	// (as the API reported there).
	msgs := []tokens.Message{
		{Role: "system", Content: "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
		{Role: "system", Name: "example_user", Content: "New synergies will help drive top-line growth."},
		{Role: "system", Name: "example_assistant", Content: "Things working well together will increase revenue."},
		{Role: "system", Name: "example_user", Content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
		{Role: "system", Name: "example_assistant", Content: "Let's talk later when we're less busy about how to do better."},
		{Role: "user", Content: "This late pivot means we don't have time to boil the ocean for the client deliverable."},
	}
	require.Equal(t, 129, tokens.CountMessages("gpt-4", msgs))
	require.Equal(t, 124, tokens.CountMessages("gpt-4o", msgs))
	require.Equal(t, 3, tokens.CountMessages("gpt-4o", nil))
	require.Equal(t, 3+3+1+2, tokens.CountMessages("gpt-4o", []tokens.Message{{Role: "user", Content: "Hello world"}}))
}

func ExampleEncoder_Count() {
	enc, err := tokens.Get(tokens.Cl100kBase)
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Count("tiktoken is great!"), enc.Encode("tiktoken is great!"))
	// Output: 6 [83 1609 5963 374 2294 0]
}

func TestUTF8Assumption(t *testing.T) {
	// Invalid bytes are read as U+FFFD, one per byte, as the reference does.
	enc := fast(t, tokens.O200kBase)
	require.Equal(t, enc.Encode("a\uFFFD\uFFFDb"), enc.Encode("a\xff\xfeb"))
	require.False(t, utf8.ValidString("a\xff\xfeb"))
}

func ExampleCountMessages() {
	n := tokens.CountMessages("gpt-4o", []tokens.Message{
		{Role: "system", Content: "You are terse."},
		{Role: "user", Name: "ada", Content: "Hello world"},
	})
	fmt.Println(n)
	// Output: 19
}
