package llm_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// request is one body of testdata/requests, its format taken from the file
// name's prefix.
type request struct {
	name   string
	format llm.Format
	body   []byte
}

func loadRequests(tb testing.TB) []request {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	require.NoError(tb, err)
	require.NotEmpty(tb, paths)
	var out []request
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		prefix, _, _ := strings.Cut(name, "_")
		f := llm.Format(prefix)
		require.True(tb, f.Valid(), "%s: file name must start with a format", p)
		body, err := os.ReadFile(p)
		require.NoError(tb, err)
		out = append(out, request{name: name, format: f, body: body})
	}
	return out
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update", t.Name())
	require.Equal(t, string(want), string(got))
}

// dump renders the model and its text parts as indented JSON, leaving out
// zero values so that the golden files show what was parsed.
func dump(t *testing.T, r *llm.Request) []byte {
	t.Helper()
	b, err := json.Marshal(struct {
		Request   llm.Request
		Text      string
		TextParts []llm.TextPart
	}{llm.Model(r), r.Text(), r.TextParts()})
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(prune(v)))
	return buf.Bytes()
}

func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			e = prune(e)
			if isZero(e) {
				delete(v, k)
				continue
			}
			v[k] = e
		}
	case []any:
		for i, e := range v {
			v[i] = prune(e)
		}
	}
	return v
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	}
	return false
}

// mask is the edit of the golden edit test: it must change every segment.
func mask(i int, tp llm.TextPart) string {
	return fmt.Sprintf("<%s %d: %d bytes>", tp.Kind, i, len(tp.Text))
}

func TestGoldenParse(t *testing.T) {
	for _, rq := range loadRequests(t) {
		t.Run(rq.name, func(t *testing.T) {
			r, err := llm.Parse(rq.format, rq.body)
			require.NoError(t, err)
			require.Equal(t, rq.format, r.Format)
			golden(t, rq.name+".model.json", dump(t, r))

			// No edits: the very same bytes.
			require.False(t, r.Changed())
			require.Equal(t, string(rq.body), string(r.Bytes()))

			// The shape alone gives the same format.
			f, ok := llm.Detect(rq.body)
			require.True(t, ok)
			require.Equal(t, rq.format, f)
			d, err := llm.Parse(llm.FormatUnknown, rq.body)
			require.NoError(t, err)
			require.Equal(t, llm.Model(r), llm.Model(d))
		})
	}
}

func TestGoldenEdit(t *testing.T) {
	for _, rq := range loadRequests(t) {
		t.Run(rq.name, func(t *testing.T) {
			r, err := llm.Parse(rq.format, rq.body)
			require.NoError(t, err)
			parts := r.TextParts()
			for i, tp := range parts {
				require.NoError(t, r.SetText(tp.Path, mask(i, tp)))
			}
			r.SetModel("tollgate-test-model")
			if rq.format != llm.FormatEmbeddings {
				require.NoError(t, r.SetMaxTokens(100))
			}
			if rq.format == llm.FormatChat || rq.format == llm.FormatCompletions {
				require.NoError(t, r.SetIncludeUsage(true))
			}
			out := r.Bytes()
			require.True(t, json.Valid(out), "%s", out)
			golden(t, rq.name+".edited.json", out)

			// The edited body parses to the edited model.
			again, err := llm.Parse(rq.format, out)
			require.NoError(t, err)
			require.Equal(t, llm.Model(r), llm.Model(again))
			require.Equal(t, "tollgate-test-model", again.Model)
			gotParts := again.TextParts()
			require.Len(t, gotParts, len(parts))
			for i, tp := range gotParts {
				require.Equal(t, parts[i].Path, tp.Path)
				require.Equal(t, mask(i, parts[i]), tp.Text)
			}

			// Apart from the edited values, the body means what it meant.
			require.Equal(t, withoutEdits(t, rq.body, parts), withoutEdits(t, out, parts))
		})
	}
}

// withoutEdits decodes body and blanks the values the golden edit changes,
// so that what is left must be equal before and after.
func withoutEdits(t *testing.T, body []byte, parts []llm.TextPart) any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v))
	for _, k := range []string{"model", "max_tokens", "max_completion_tokens", "max_output_tokens", "stream_options"} {
		delete(v, k)
	}
	for _, tp := range parts {
		setPath(t, v, tp.Path, "")
	}
	return v
}

// setPath sets the value at a TextPart path such as "messages[1].content[0].text".
func setPath(t *testing.T, root map[string]any, path string, val any) {
	t.Helper()
	var cur any = root
	var parentSet func(any)
	for _, seg := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		m, ok := cur.(map[string]any)
		require.True(t, ok, path)
		cur = m[name]
		parentSet = func(v any) { m[name] = v }
		for rest != "" {
			var idx int
			_, err := fmt.Sscanf(rest, "%d]", &idx)
			require.NoError(t, err, path)
			arr, ok := cur.([]any)
			require.True(t, ok, path)
			cur = arr[idx]
			parentSet = func(v any) { arr[idx] = v }
			_, rest, _ = strings.Cut(rest, "[")
		}
	}
	parentSet(val)
}
