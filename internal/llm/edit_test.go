package llm_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

func TestSetText(t *testing.T) {
	tests := []struct {
		name   string
		format llm.Format
		body   string
		path   string
		text   string
		want   string
	}{
		{
			name:   "chat string content",
			format: llm.FormatChat,
			body:   `{"model":"m","messages":[{"role":"user","content":"call 555-0100","x-extra":{"keep":[1, 2]}}],"logit_bias":{"1":-1}}`,
			path:   "messages[0].content",
			text:   "call <PHONE_1>",
			want:   `{"model":"m","messages":[{"role":"user","content":"call <PHONE_1>","x-extra":{"keep":[1, 2]}}],"logit_bias":{"1":-1}}`,
		},
		{
			name:   "chat text part",
			format: llm.FormatChat,
			body:   `{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"u"}},{"type":"text","text":"mail a@b.c","extra":true}]}]}`,
			path:   "messages[1].content[1].text",
			text:   "mail <EMAIL_1>",
			want:   `{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"u"}},{"type":"text","text":"mail <EMAIL_1>","extra":true}]}]}`,
		},
		{
			name:   "chat text needing escapes",
			format: llm.FormatChat,
			body:   `{"messages":[{"role":"user","content":"x"}]}`,
			path:   "messages[0].content",
			text:   "a \"quote\", a <tag> & a\nnewline \u2028",
			want:   `{"messages":[{"role":"user","content":"a \"quote\", a <tag> & a\nnewline \u2028"}]}`,
		},
		{
			name:   "responses instructions",
			format: llm.FormatResponses,
			body:   `{"instructions":"You are Bob","input":"hi"}`,
			path:   "instructions",
			text:   "You are <NAME_1>",
			want:   `{"instructions":"You are <NAME_1>","input":"hi"}`,
		},
		{
			name:   "responses function output",
			format: llm.FormatResponses,
			body:   `{"input":[{"type":"function_call_output","call_id":"c","output":"secret"}]}`,
			path:   "input[0].output",
			text:   "masked",
			want:   `{"input":[{"type":"function_call_output","call_id":"c","output":"masked"}]}`,
		},
		{
			name:   "completions prompt list",
			format: llm.FormatCompletions,
			body:   `{"prompt": ["one", "two"], "suffix": "end"}`,
			path:   "prompt[1]",
			text:   "TWO",
			want:   `{"prompt": ["one", "TWO"], "suffix": "end"}`,
		},
		{
			name:   "completions suffix",
			format: llm.FormatCompletions,
			body:   `{"prompt":"p","suffix":"end"}`,
			path:   "suffix",
			text:   "END",
			want:   `{"prompt":"p","suffix":"END"}`,
		},
		{
			name:   "embeddings input",
			format: llm.FormatEmbeddings,
			body:   `{"input":"Jane Doe lives here","model":"text-embedding-3-small"}`,
			path:   "input",
			text:   "<NAME_1> lives here",
			want:   `{"input":"<NAME_1> lives here","model":"text-embedding-3-small"}`,
		},
		{
			name:   "anthropic system block",
			format: llm.FormatAnthropic,
			body:   `{"system":[{"type":"text","text":"I am Ann","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}],"max_tokens":9}`,
			path:   "system[0].text",
			text:   "I am <NAME_1>",
			want:   `{"system":[{"type":"text","text":"I am <NAME_1>","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}],"max_tokens":9}`,
		},
		{
			name:   "anthropic tool result block",
			format: llm.FormatAnthropic,
			body:   `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}]}`,
			path:   "messages[0].content[0].content[1].text",
			text:   "B",
			want:   `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a"},{"type":"text","text":"B"}]}]}]}`,
		},
		{
			name:   "pretty body keeps its layout",
			format: llm.FormatChat,
			body:   "{\n  \"messages\": [\n    {\n      \"role\": \"user\",\n      \"content\": \"hello\"\n    }\n  ]\n}\n",
			path:   "messages[0].content",
			text:   "bye",
			want:   "{\n  \"messages\": [\n    {\n      \"role\": \"user\",\n      \"content\": \"bye\"\n    }\n  ]\n}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.format, tt.body)
			require.NoError(t, r.SetText(tt.path, tt.text))
			require.True(t, r.Changed())
			require.Equal(t, tt.want, string(r.Bytes()))
			// Bytes is stable, and the model follows the edit.
			require.Equal(t, tt.want, string(r.Bytes()))
			again := mustParse(t, tt.format, tt.want)
			require.Equal(t, llm.Model(again), llm.Model(r))
		})
	}
}

func TestSetTextModel(t *testing.T) {
	r := mustParse(t, llm.FormatAnthropic, `{"messages":[{"role":"user","content":[
		{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}]}`)
	require.NoError(t, r.SetText("messages[0].content[0].content[0].text", "A"))
	p := r.Messages[0].Parts[0]
	require.Equal(t, "A\nb", p.Text)
	require.Equal(t, "A", p.Content[0].Text)
	require.Equal(t, "A\nb", r.Text())
	require.Equal(t, "A", r.TextParts()[0].Text)
}

func TestSetTextErrors(t *testing.T) {
	r := mustParse(t, llm.FormatChat, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	for _, path := range []string{"", "model", "messages[0]", "messages[0].role", "messages[1].content"} {
		require.Error(t, r.SetText(path, "x"), path)
	}
	require.False(t, r.Changed())
}

func TestSetTextUnchanged(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user","content":"hi"}]}`)
	r, err := llm.Parse(llm.FormatChat, body)
	require.NoError(t, err)
	require.NoError(t, r.SetText("messages[0].content", "hi"))
	require.False(t, r.Changed())
	require.Same(t, &body[0], &r.Bytes()[0])
}

// Many edits to one body, in any order, each land where they belong.
func TestSetTextEverySegment(t *testing.T) {
	for _, rq := range loadRequests(t) {
		t.Run(rq.name, func(t *testing.T) {
			r, err := llm.Parse(rq.format, rq.body)
			require.NoError(t, err)
			parts := r.TextParts()
			for i := len(parts) - 1; i >= 0; i-- {
				require.NoError(t, r.SetText(parts[i].Path, strings.ToUpper(parts[i].Text)+"!"))
			}
			again, err := llm.Parse(rq.format, r.Bytes())
			require.NoError(t, err)
			for i, tp := range again.TextParts() {
				require.Equal(t, strings.ToUpper(parts[i].Text)+"!", tp.Text)
			}
		})
	}
}

func TestSetModel(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		model string
		want  string
	}{
		{"replace", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, "gpt-4o-mini", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`},
		{"add", `{"messages":[{"role":"user","content":"hi"}]}`, "gpt-4o", `{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}`},
		{"replace null", `{"model":null,"messages":[{"role":"user","content":"hi"}]}`, "m", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{"clear", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, "", `{"messages":[{"role":"user","content":"hi"}]}`},
		{"clear last", `{"messages":[{"role":"user","content":"hi"}], "model":"gpt-4o"}`, "", `{"messages":[{"role":"user","content":"hi"}]}`},
		{"clear null", `{"model":null,"messages":[{"role":"user","content":"hi"}]}`, "", `{"messages":[{"role":"user","content":"hi"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, llm.FormatChat, tt.body)
			r.SetModel(tt.model)
			require.Equal(t, tt.model, r.Model)
			require.Equal(t, tt.want, string(r.Bytes()))
			require.Equal(t, tt.model, mustParse(t, llm.FormatChat, tt.want).Model)
		})
	}
	t.Run("no-ops", func(t *testing.T) {
		r := mustParse(t, llm.FormatChat, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		r.SetModel("m")
		require.False(t, r.Changed())
		r = mustParse(t, llm.FormatChat, `{"messages":[{"role":"user","content":"hi"}]}`)
		r.SetModel("")
		require.False(t, r.Changed())
	})
}

func TestSetMaxTokens(t *testing.T) {
	tests := []struct {
		name   string
		format llm.Format
		body   string
		want   string
	}{
		{"chat adds max_completion_tokens", llm.FormatChat, `{"messages":[{"role":"user","content":"hi"}]}`, `{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":64}`},
		{"chat keeps max_tokens", llm.FormatChat, `{"max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`, `{"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`},
		{"chat sets both", llm.FormatChat, `{"max_tokens":4096,"max_completion_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`, `{"max_tokens":64,"max_completion_tokens":64,"messages":[{"role":"user","content":"hi"}]}`},
		{"chat null max_tokens", llm.FormatChat, `{"max_tokens":null,"messages":[{"role":"user","content":"hi"}]}`, `{"max_tokens":null,"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":64}`},
		{"responses", llm.FormatResponses, `{"input":"hi","max_output_tokens":1000}`, `{"input":"hi","max_output_tokens":64}`},
		{"completions", llm.FormatCompletions, `{"prompt":"hi"}`, `{"prompt":"hi","max_tokens":64}`},
		{"anthropic", llm.FormatAnthropic, "{\n  \"max_tokens\": 1024,\n  \"messages\": [{\"role\":\"user\",\"content\":\"hi\"}]\n}", "{\n  \"max_tokens\": 64,\n  \"messages\": [{\"role\":\"user\",\"content\":\"hi\"}]\n}"},
		{"anthropic adds", llm.FormatAnthropic, "{\n  \"model\": \"claude\",\n  \"messages\": [{\"role\":\"user\",\"content\":\"hi\"}]\n}", "{\n  \"model\": \"claude\",\n  \"messages\": [{\"role\":\"user\",\"content\":\"hi\"}],\n  \"max_tokens\": 64\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.format, tt.body)
			require.NoError(t, r.SetMaxTokens(64))
			require.Equal(t, ptr(64), r.MaxTokens)
			require.Equal(t, tt.want, string(r.Bytes()))
			require.Equal(t, ptr(64), mustParse(t, tt.format, tt.want).MaxTokens)
		})
	}
	t.Run("unchanged", func(t *testing.T) {
		r := mustParse(t, llm.FormatChat, `{"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`)
		require.NoError(t, r.SetMaxTokens(64))
		require.False(t, r.Changed())
	})
	t.Run("embeddings", func(t *testing.T) {
		r := mustParse(t, llm.FormatEmbeddings, `{"input":"hi"}`)
		require.ErrorIs(t, r.SetMaxTokens(64), llm.ErrUnsupported)
		require.False(t, r.Changed())
	})
	t.Run("negative", func(t *testing.T) {
		r := mustParse(t, llm.FormatChat, `{"messages":[{"role":"user","content":"hi"}]}`)
		require.Error(t, r.SetMaxTokens(-1))
		require.False(t, r.Changed())
	})
}

func TestSetIncludeUsage(t *testing.T) {
	tests := []struct {
		name    string
		format  llm.Format
		body    string
		include bool
		want    string
	}{
		{"adds stream_options", llm.FormatChat, `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`, true, `{"stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`},
		{"keeps other options", llm.FormatChat, `{"stream":true,"stream_options":{"include_obfuscation":false},"messages":[{"role":"user","content":"hi"}]}`, true, `{"stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`},
		{"replaces", llm.FormatCompletions, `{"stream":true,"stream_options":{"include_usage":false},"prompt":"hi"}`, true, `{"stream":true,"stream_options":{"include_usage":true},"prompt":"hi"}`},
		{"replaces null", llm.FormatChat, `{"stream":true,"stream_options":null,"messages":[{"role":"user","content":"hi"}]}`, true, `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`},
		{"clears", llm.FormatChat, `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, false, `{"stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}`},
		{"not streaming", llm.FormatChat, `{"messages":[{"role":"user","content":"hi"}]}`, true, `{"messages":[{"role":"user","content":"hi"}]}`},
		{"already set", llm.FormatChat, `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, true, `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.format, tt.body)
			require.NoError(t, r.SetIncludeUsage(tt.include))
			require.Equal(t, tt.want, string(r.Bytes()))
			require.Equal(t, tt.body != tt.want, r.Changed())
			require.Equal(t, llm.Model(mustParse(t, tt.format, tt.want)), llm.Model(r))
		})
	}
	for _, f := range []llm.Format{llm.FormatResponses, llm.FormatAnthropic, llm.FormatEmbeddings} {
		t.Run("unsupported "+string(f), func(t *testing.T) {
			body := map[llm.Format]string{
				llm.FormatResponses:  `{"stream":true,"input":"hi"}`,
				llm.FormatAnthropic:  `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
				llm.FormatEmbeddings: `{"input":"hi"}`,
			}[f]
			r := mustParse(t, f, body)
			require.ErrorIs(t, r.SetIncludeUsage(true), llm.ErrUnsupported)
			require.Equal(t, body, string(r.Bytes()))
		})
	}
}

func TestSetIncludeUsageToggle(t *testing.T) {
	r := mustParse(t, llm.FormatChat, `{"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	require.NoError(t, r.SetIncludeUsage(true))
	require.NoError(t, r.SetIncludeUsage(false))
	require.NoError(t, r.SetIncludeUsage(true))
	_ = r.Bytes()
	require.NoError(t, r.SetIncludeUsage(false))
	require.Equal(t, `{"stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":false}}`, string(r.Bytes()))
	require.False(t, r.IncludeUsage)
}

// Edits at several levels of one body compose.
func TestEditsCompose(t *testing.T) {
	body := "{\n\t\"model\": \"gpt-4o\",\n\t\"stream\": true,\n\t\"messages\": [\n\t\t{\"role\": \"system\", \"content\": \"S\"},\n\t\t{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"U\"}], \"z\": 1}\n\t],\n\t\"x\": {\"y\": [1, 2.50, 1e3]}\n}"
	r := mustParse(t, llm.FormatChat, body)
	require.NoError(t, r.SetText("messages[1].content[0].text", "u2"))
	require.NoError(t, r.SetText("messages[0].content", "s2"))
	r.SetModel("gpt-4o-mini")
	require.NoError(t, r.SetMaxTokens(10))
	require.NoError(t, r.SetIncludeUsage(true))
	first := string(r.Bytes())
	require.Equal(t, "{\n\t\"model\": \"gpt-4o-mini\",\n\t\"stream\": true,\n\t\"messages\": [\n\t\t{\"role\": \"system\", \"content\": \"s2\"},\n\t\t{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"u2\"}], \"z\": 1}\n\t],\n\t\"x\": {\"y\": [1, 2.50, 1e3]},\n\t\"max_completion_tokens\": 10,\n\t\"stream_options\": {\"include_usage\":true}\n}", first)

	// Edits after a Bytes call still apply.
	require.NoError(t, r.SetText("messages[0].content", "s3"))
	require.Contains(t, string(r.Bytes()), `"content": "s3"`)
	require.Contains(t, string(r.Bytes()), `"text": "u2"`)
}
