package presidio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/pii"
	"github.com/tollgate-ai/tollgate/internal/presidio"
	"github.com/tollgate-ai/tollgate/internal/presidio/presidiotest"
)

func client(t *testing.T, url string, opts ...func(*presidio.Options)) *presidio.Client {
	t.Helper()
	o := presidio.Options{URL: url, Timeout: time.Second}
	for _, f := range opts {
		f(&o)
	}
	c, err := presidio.New(o)
	require.NoError(t, err)
	return c
}

func TestAnalyzeConvertsCodePointOffsets(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	c := client(t, srv.URL)
	for _, text := range []string{
		"Jane Doe lives in Paris.",
		"Zoë, née 日本 🎉, met Jane in Berlin",
		"😀😀😀 Smith",
	} {
		fs, err := c.Analyze(context.Background(), text)
		require.NoError(t, err)
		require.NotEmpty(t, fs)
		for _, f := range fs {
			span := text[f.Start:f.End]
			require.Contains(t, append(presidiotest.DefaultNames, presidiotest.DefaultCities...), span, "byte offsets point at the word in %q", text)
			want := pii.Type("PERSON")
			if span == "Paris" || span == "Berlin" {
				want = "LOCATION"
			}
			require.Equal(t, want, f.Type)
			require.Equal(t, presidiotest.Score, f.Score)
		}
	}
}

func TestAnalyzeBatch(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	got, err := client(t, srv.URL).AnalyzeBatch(context.Background(), []string{"Jane", "", "to Paris", "nobody"})
	require.NoError(t, err)
	require.Equal(t, [][]pii.Finding{
		{{Type: "PERSON", Start: 0, End: 4, Score: presidiotest.Score}},
		nil,
		{{Type: "LOCATION", Start: 3, End: 8, Score: presidiotest.Score}},
		nil,
	}, got)
	require.Equal(t, 1, srv.Requests(), "one call for the batch")
}

func TestOptionsAreSent(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	c := client(t, srv.URL, func(o *presidio.Options) {
		o.Entities = []string{"LOCATION"}
		o.ScoreThreshold = 0.5
		o.Header = http.Header{"X-Api-Key": {"k"}}
	})
	fs, err := c.Analyze(context.Background(), "Jane went to Paris")
	require.NoError(t, err)
	require.Equal(t, []pii.Finding{{Type: "LOCATION", Start: 13, End: 18, Score: presidiotest.Score}}, fs)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(srv.LastRequest(), &sent))
	require.Equal(t, map[string]any{"text": "Jane went to Paris", "language": "en", "entities": []any{"LOCATION"}, "score_threshold": 0.5}, sent)
	// A threshold above the fake's score drops everything on its side.
	c = client(t, srv.URL, func(o *presidio.Options) { o.ScoreThreshold = 0.9 })
	fs, err = c.Analyze(context.Background(), "Jane went to Paris")
	require.NoError(t, err)
	require.Empty(t, fs)
}

func TestFailures(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	srv.SetStatus(http.StatusInternalServerError)
	_, err := client(t, srv.URL).Analyze(context.Background(), "Jane")
	var se *presidio.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 500, se.Status)
	require.ErrorIs(t, err, presidio.ErrUnavailable)

	srv.SetStatus(0)
	_, err = client(t, srv.URL, func(o *presidio.Options) { o.Language = "xx" }).Analyze(context.Background(), "Jane")
	require.ErrorAs(t, err, &se, "an unsupported language is Presidio's 500")

	srv.SetDelay(500 * time.Millisecond)
	start := time.Now()
	_, err = client(t, srv.URL, func(o *presidio.Options) { o.Timeout = 50 * time.Millisecond }).Analyze(context.Background(), "Jane")
	require.ErrorIs(t, err, presidio.ErrUnavailable)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 400*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = client(t, srv.URL).Analyze(ctx, "Jane")
	require.ErrorIs(t, err, context.Canceled)

	_, err = client(t, "http://127.0.0.1:1").Analyze(context.Background(), "Jane")
	require.ErrorIs(t, err, presidio.ErrUnavailable)
	require.NotContains(t, err.Error(), "Jane")

	_, err = presidio.New(presidio.Options{URL: "ftp://x"})
	require.Error(t, err)
	fs, err := client(t, "http://127.0.0.1:1").Analyze(context.Background(), "")
	require.NoError(t, err, "an empty text needs no call")
	require.Empty(t, fs)
}

func TestBadAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `<html>`,
		"object":        `{"error":"x"}`,
		"out of range":  `[{"entity_type":"PERSON","start":0,"end":99,"score":0.9}]`,
		"empty span":    `[{"entity_type":"PERSON","start":2,"end":2,"score":0.9}]`,
		"missing score": `[{"entity_type":"PERSON","start":0,"end":2}]`,
		"negative":      `[{"entity_type":"PERSON","start":-1,"end":2,"score":1}]`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
			defer srv.Close()
			_, err := client(t, srv.URL).Analyze(context.Background(), "Jane Doe")
			require.ErrorIs(t, err, presidio.ErrUnavailable)
			require.NotContains(t, err.Error(), "Jane")
		})
	}
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("[" + strings.Repeat(" ", presidio.MaxResponse) + "]"))
	}))
	defer big.Close()
	_, err := client(t, big.URL).Analyze(context.Background(), "Jane")
	require.ErrorIs(t, err, presidio.ErrUnavailable)
}

func TestDecodeResolvesOverlapsAndCanonicalTypes(t *testing.T) {
	text := "mail jane@example.com from 10.0.0.1 or ::1"
	fs, err := presidio.Decode([]byte(`[
		{"entity_type":"PERSON","start":5,"end":9,"score":0.6},
		{"entity_type":"EMAIL_ADDRESS","start":5,"end":21,"score":1.0},
		{"entity_type":"IP_ADDRESS","start":27,"end":35,"score":0.9},
		{"entity_type":"IP_ADDRESS","start":39,"end":42,"score":0.9}]`), text)
	require.NoError(t, err)
	require.Equal(t, []pii.Finding{
		{Type: pii.Email, Start: 5, End: 21, Score: 1},
		{Type: pii.IPv4, Start: 27, End: 35, Score: 0.9},
		{Type: pii.IPv6, Start: 39, End: 42, Score: 0.9},
	}, fs)
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`[{"entity_type":"PERSON","start":0,"end":4,"score":0.85}]`), "Jane Doe")
	f.Add([]byte(`[{"entity_type":"PERSON","start":1,"end":2,"score":0.85}]`), "😀é")
	f.Add([]byte(`[]`), "")
	f.Fuzz(func(t *testing.T, b []byte, text string) {
		fs, err := presidio.Decode(b, text)
		if err != nil {
			if !errors.Is(err, presidio.ErrUnavailable) {
				t.Fatalf("error %v is not ErrUnavailable", err)
			}
			return
		}
		prev := -1
		for _, f := range fs {
			if f.Start < 0 || f.Start >= f.End || f.End > len(text) || f.Start < prev {
				t.Fatalf("bad finding %+v in %d bytes", f, len(text))
			}
			if !validBoundary(text, f.Start) || !validBoundary(text, f.End) {
				t.Fatalf("finding %+v splits a character", f)
			}
			prev = f.End
		}
	})
}

// validBoundary reports whether i is where a character (as range reads
// them: invalid bytes are one each) starts, or the end.
func validBoundary(s string, i int) bool {
	if i == len(s) {
		return true
	}
	for j := range s {
		if j == i {
			return true
		}
	}
	return false
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/analyze", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	_, err := client(t, redirect.URL).Analyze(context.Background(), "Jane")
	var se *presidio.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusTemporaryRedirect, se.Status)
	require.Zero(t, srv.Requests(), "the text went nowhere else")
}
