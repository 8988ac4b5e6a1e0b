package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/tokens"
)

// tokensCmd is `tollgate tokens`: counts the prompt tokens of a request
// body (or of raw text) read from stdin, so operators can size limits.
type tokensCmd struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func (c tokensCmd) main(_ context.Context, args []string) int {
	fs := flag.NewFlagSet("tollgate tokens", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	model := fs.String("model", "", "model whose tokenizer counts (default: the body's model)")
	text := fs.Bool("text", false, "stdin is raw text, not a request body")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "Usage: tollgate tokens [--model M] [--text] < body.json\n\nCounts prompt tokens and prints JSON.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	in, err := io.ReadAll(io.LimitReader(c.stdin, llm.MaxBodyBytes+1))
	if err != nil {
		fmt.Fprintln(c.stderr, "tollgate: read stdin:", err)
		return 1
	}
	out := struct {
		Model        string     `json:"model"`
		Encoding     string     `json:"encoding"`
		Format       llm.Format `json:"format,omitempty"`
		Messages     int        `json:"messages,omitempty"`
		PromptTokens int        `json:"prompt_tokens"`
	}{Model: *model}
	if *text {
		out.Encoding = tokens.EncodingFor(out.Model)
		out.PromptTokens = tokens.Count(out.Model, string(in))
	} else {
		req, err := llm.Parse(llm.FormatUnknown, in)
		if err != nil {
			fmt.Fprintln(c.stderr, "tollgate:", err)
			return 1
		}
		if out.Model == "" {
			out.Model = req.Model
		}
		req.Model = out.Model
		out.Format, out.Messages = req.Format, len(req.Messages)
		out.Encoding = tokens.EncodingFor(out.Model)
		out.PromptTokens = tokens.Prompt(req)
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(c.stderr, "tollgate:", err)
		return 1
	}
	return 0
}
