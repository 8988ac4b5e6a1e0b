// Package tokens counts tokens the way OpenAI's models do, with tiktoken's
// BPE vocabularies (o200k_base and cl100k_base) embedded in the binary: no
// download at run time.
//
// # Encoders
//
// [Get] builds an [Encoder] once per encoding and caches it; build it when a
// plugin instance is compiled, never per request. The encoder splits text
// with a hand-written pre-tokenizer that reproduces each encoding's regular
// expression exactly (the same Unicode tables as the reference engine) and
// merges byte pairs without allocating for pieces under 256 bytes; longer
// pieces merge through a heap, so a long run of symbols costs O(n log n),
// not O(n²). [Encoder.Count] is about
// 25 times faster than github.com/pkoukk/tiktoken-go, whose regexp2
// pre-tokenizer dominates, while returning the same IDs; the tests check this
// on a multi-megabyte corpus and by fuzzing, and BenchmarkEncode measures
// both in the same run. Special tokens such as <|endoftext|> are encoded as
// plain text, and invalid UTF-8 is read with each bad byte as U+FFFD, as the
// reference does.
//
//	enc, err := tokens.Get(tokens.O200kBase)
//	if err != nil {
//		return fmt.Errorf("compile token limit: %w", err)
//	}
//	n := enc.Count(prompt)
//
// # Models
//
// [EncodingFor] maps a model name to its encoding by the longest matching
// prefix: o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and the o-series;
// cl100k_base for gpt-4, gpt-3.5 and the text-embedding models. Operators add
// or override prefixes with [RegisterModel].
//
// # Other providers
//
// Anthropic, Google, Mistral and other providers' models have no public
// tokenizer that matches their billing, so they are counted with o200k_base.
// That is an approximation: within a few percent for English prose, and it
// can be off by tens of percent for code, non-Latin scripts or the provider's
// own chat framing. Use the provider's reported usage when exact numbers
// matter; use these counts for limits that must be decided before the call.
//
// # Chat messages
//
// [CountMessages] adds the chat format's overhead the way the OpenAI cookbook
// "How to count tokens with tiktoken"
// (https://cookbook.openai.com/examples/how_to_count_tokens_with_tiktoken)
// does: 3 tokens per message, 1 more for a name, and 3 for priming the reply.
package tokens
