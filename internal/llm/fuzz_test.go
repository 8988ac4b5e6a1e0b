package llm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm"
)

// FuzzParse takes a body and a route path (which picks the format, or
// leaves it to detection). Invariants: Parse never panics; an error is a
// RequestError answering 400 or 413; a parsed body comes back unchanged
// without edits, and with every text segment set to "X" (and model, token
// cap and usage option set) it is valid JSON that parses to the edited
// model; so it is after a second round of edits.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		format, _ := llm.FormatForPath(path)
		r, err := llm.Parse(format, body)
		if err != nil {
			re, ok := errors.AsType[*llm.RequestError](err)
			require.True(t, ok, "%T %v", err, err)
			require.NotEmpty(t, re.Message)
			ae := apierror.As(err)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, ae.Status)
			return
		}
		require.True(t, r.Format.Valid())
		require.False(t, r.Changed())
		require.Equal(t, body, r.Bytes())
		again, err := llm.Parse(r.Format, r.Bytes())
		require.NoError(t, err)
		require.Equal(t, llm.Model(r), llm.Model(again))

		parts := r.TextParts()
		for _, tp := range parts {
			require.NoError(t, r.SetText(tp.Path, "X"))
		}
		r.SetModel("m")
		if err := r.SetMaxTokens(7); err != nil {
			require.ErrorIs(t, err, llm.ErrUnsupported)
		}
		if err := r.SetIncludeUsage(true); err != nil {
			require.ErrorIs(t, err, llm.ErrUnsupported)
		}
		out := r.Bytes()
		require.True(t, json.Valid(out), "%q", out)
		edited, err := llm.Parse(r.Format, out)
		require.NoError(t, err, "%q", out)
		require.Equal(t, llm.Model(r), llm.Model(edited))
		require.Equal(t, "m", edited.Model)
		requireTexts(t, edited, parts, "X")

		// A second round of edits, after Bytes, undoes or redoes the first.
		for _, tp := range parts {
			require.NoError(t, r.SetText(tp.Path, "Y"))
		}
		r.SetModel("")
		if err := r.SetIncludeUsage(false); err != nil {
			require.ErrorIs(t, err, llm.ErrUnsupported)
		}
		out = r.Bytes()
		edited, err = llm.Parse(r.Format, out)
		require.NoError(t, err, "%q", out)
		require.Equal(t, llm.Model(r), llm.Model(edited))
		require.Empty(t, edited.Model)
		if edited.Stream && (r.Format == llm.FormatChat || r.Format == llm.FormatCompletions) {
			require.False(t, edited.IncludeUsage)
		}
		requireTexts(t, edited, parts, "Y")
	})
}

func requireTexts(t *testing.T, r *llm.Request, parts []llm.TextPart, text string) {
	t.Helper()
	got := r.TextParts()
	require.Len(t, got, len(parts))
	for i, tp := range got {
		require.Equal(t, parts[i].Path, tp.Path)
		require.Equal(t, text, tp.Text)
	}
}

// fuzzSeeds are near misses and oddities beyond the bodies of
// testdata/requests, with the path each is sent to.
var fuzzSeeds = map[string]struct{ body, path string }{
	"empty":              {``, "/v1/chat/completions"},
	"not_object":         {`[1,2]`, "/v1/messages"},
	"detect_chat":        {`{"messages":[{"role":"user","content":"hi"}]}`, "/unknown"},
	"detect_anthropic":   {`{"system":"s","messages":[{"role":"user","content":[{"type":"text","text":"t"}]}]}`, ""},
	"detect_embeddings":  {`{"input":[[1,2],[3]]}`, "/x"},
	"duplicate_key":      {`{"messages":[{"role":"user","content":"a","content":"b"}]}`, "/v1/chat/completions"},
	"escaped_keys":       {`{"mod\u0065l":"m","messages":[{"role":"user","\u0063ontent":"\ud83d\ude00\u0000"}]}`, "/v1/chat/completions"},
	"invalid_utf8":       {"{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", "/v1/chat/completions"},
	"nulls":              {`{"model":null,"stream":null,"stream_options":null,"messages":[{"role":"assistant","content":null}]}`, "/v1/chat/completions"},
	"stream_options":     {`{"stream":true,"stream_options":{"include_usage":false,"x":1},"prompt":["a","b"]}`, "/v1/completions"},
	"deep":               {`{"messages":[{"role":"user","content":"a","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}`, "/v1/chat/completions"},
	"tool_result_nested": {`{"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"tool_result","content":"x"},{"type":"text","text":"y"}]}]}]}`, "/v1/messages"},
	"responses_output":   {`{"input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"a"},{"type":"input_image"}]}]}`, "/v1/responses"},
	"pretty_whitespace":  {"\r\n {\t\"prompt\" :\n\"p\" ,\"suffix\"\t:\t\"s\"\n}\n", "/v1/completions"},
	"wide_object":        {`{"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0,"j":0,"k":0,"l":0,"m":0,"n":0,"o":0,"p":0,"q":0,"input":"x"}`, "/v1/embeddings"},
	"numbers":            {`{"max_tokens":1e2,"temperature":-0.0,"seed":9223372036854775808,"messages":[{"role":"user","content":"x"}]}`, "/v1/chat/completions"},
}

// TestUpdateFuzzSeeds checks that testdata/fuzz/FuzzParse holds every body
// of testdata/requests sent to its format's path, and fuzzSeeds; -update
// rewrites them. Corpus entries the fuzzer found (named by their hash) are
// kept either way.
func TestUpdateFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	paths := map[llm.Format]string{
		llm.FormatChat:        "/v1/chat/completions",
		llm.FormatResponses:   "/v1/responses",
		llm.FormatCompletions: "/v1/completions",
		llm.FormatEmbeddings:  "/v1/embeddings",
		llm.FormatAnthropic:   "/v1/messages",
	}
	write := func(name string, body []byte, path string) {
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nstring(%q)\n", body, path)
		file := filepath.Join(dir, name)
		if *update {
			require.NoError(t, os.WriteFile(file, []byte(seed), 0o644))
			return
		}
		got, err := os.ReadFile(file)
		require.NoError(t, err, "seed %s is missing: go test -run TestUpdateFuzzSeeds -update", name)
		require.True(t, string(got) == seed, "seed %s is stale: go test -run TestUpdateFuzzSeeds -update", name)
	}
	for _, rq := range loadRequests(t) {
		write(rq.name, rq.body, paths[rq.format])
	}
	for name, s := range fuzzSeeds {
		write(name, []byte(s.body), s.path)
	}
}
