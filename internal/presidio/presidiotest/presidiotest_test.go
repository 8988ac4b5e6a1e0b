package presidiotest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/presidio/presidiotest"
)

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/analyze", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestFollowsPresidiosAPI checks the answers app.py gives.
func TestFollowsPresidiosAPI(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	status, body := post(t, srv.URL, `{"text":"é Jane","language":"en"}`)
	require.Equal(t, 200, status)
	require.Equal(t, `[{"analysis_explanation":null,"end":6,"entity_type":"PERSON","score":0.85,"start":2}]`, body, "code point offsets, sorted keys")
	status, body = post(t, srv.URL, `{"text":["Jane","Paris"],"language":"en"}`)
	require.Equal(t, 200, status)
	require.True(t, strings.HasPrefix(body, "[["), "a batch is answered with a list per text: %s", body)
	for req, want := range map[string]string{
		`{"language":"en"}`:              `{"error":"No text provided"}`,
		`{"text":"Jane"}`:                `{"error":"No language provided"}`,
		`{"text":"Jane","language":"x"}`: `{"error":"No matching recognizers were found to serve the request."}`,
	} {
		status, body = post(t, srv.URL, req)
		require.Equal(t, 500, status, req)
		require.Equal(t, want, body)
	}
	status, _ = post(t, srv.URL, `{not json`)
	require.Equal(t, 400, status)
	resp, err := http.Get(srv.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, 6, srv.Requests())
}
