package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/tokens"
)

func runTokens(t *testing.T, stdin string, args ...string) (int, map[string]any, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := tokensCmd{strings.NewReader(stdin), &out, &errb}.main(context.Background(), args)
	var m map[string]any
	if code == 0 {
		require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	}
	return code, m, errb.String()
}

func TestTokensCountsARequestBody(t *testing.T) {
	body := `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"tiktoken is great!"}]}`
	code, m, _ := runTokens(t, body)
	require.Equal(t, 0, code)
	require.Equal(t, "gpt-4o-mini", m["model"])
	require.Equal(t, tokens.O200kBase, m["encoding"])
	require.Equal(t, "chat", m["format"])
	require.EqualValues(t, 2, m["messages"])
	want := tokens.CountMessages("gpt-4o-mini", []tokens.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "tiktoken is great!"}})
	require.EqualValues(t, want, m["prompt_tokens"], "what the token rate limiter charges")
}

func TestTokensCountsRawText(t *testing.T) {
	code, m, _ := runTokens(t, "tiktoken is great!", "--model", "gpt-4", "--text")
	require.Equal(t, 0, code)
	require.EqualValues(t, 6, m["prompt_tokens"], "tiktoken's README example")
	require.Equal(t, tokens.Cl100kBase, m["encoding"])
}

func TestTokensRejectsABadBody(t *testing.T) {
	code, _, stderr := runTokens(t, `{"messages":"secret text"}`)
	require.Equal(t, 1, code)
	require.NotContains(t, stderr, "secret text")
}
