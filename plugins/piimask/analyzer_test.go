package piimask_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/presidio/presidiotest"
	"github.com/tollgate-ai/tollgate/plugins/piimask"
)

func TestAnalyzerFindingsAreMerged(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	e := newEnv(t)
	inst := e.start(t, map[string]any{
		"analyzer":     map[string]any{"url": srv.URL},
		"entities":     []any{map[string]any{"type": "LOCATION", "action": "redact"}},
		"allow_values": []any{"Maria"},
		"audit_header": true,
	})
	r := post(chat("system", "Be brief.", "user", "I am Jane Doe from Paris, mail "+email+", ask Maria"))
	require.False(t, inst.Access(t, r).Exited())
	got := contents(t, sent(t, r))
	require.Equal(t, "I am <PERSON_1> <PERSON_2> from [LOCATION], mail <EMAIL_1>, ask Maria", got[1])
	require.Equal(t, "EMAIL=1,LOCATION=1,PERSON=2", r.Response.Headers.Get(piimask.HeaderFound))
	h := e.handOff(t, r)
	require.Equal(t, map[string]string{"<PERSON_1>": "Jane", "<PERSON_2>": "Doe", "<EMAIL_1>": email}, h.Restore)
	require.Equal(t, 1, srv.Requests(), "one batch call per request")
}

func TestAnalyzerDownFailsClosed(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	srv.SetStatus(http.StatusInternalServerError)
	e := newEnv(t)
	inst := e.start(t, map[string]any{"analyzer": map[string]any{"url": srv.URL}})
	res := inst.Access(t, post(chat("user", "I am Jane, mail "+email)))
	require.True(t, res.Exited())
	require.Equal(t, http.StatusServiceUnavailable, res.Exit.Status)
	ae, ok := apierror.Parse(res.Exit.Body)
	require.True(t, ok)
	require.Equal(t, piimask.CodeUnavailable, ae.Code)
	require.NotContains(t, string(res.Exit.Body), "Jane")

	// A slow analyzer is a failing one, after the timeout.
	srv.SetStatus(0)
	srv.SetDelay(2 * time.Second)
	inst = e.start(t, map[string]any{"analyzer": map[string]any{"url": srv.URL, "timeout": 50}})
	start := time.Now()
	res = inst.Access(t, post(chat("user", "I am Jane")))
	require.True(t, res.Exited())
	require.Equal(t, http.StatusServiceUnavailable, res.Exit.Status)
	require.Less(t, time.Since(start), 1500*time.Millisecond)
}

func TestAnalyzerDownWithFaultTolerance(t *testing.T) {
	srv := presidiotest.New()
	defer srv.Close()
	srv.SetStatus(http.StatusInternalServerError)
	e := newEnv(t)
	inst := e.start(t, map[string]any{"analyzer": map[string]any{"url": srv.URL, "fault_tolerant": true}})
	r := post(chat("user", "I am Jane, mail "+email))
	require.False(t, inst.Access(t, r).Exited())
	require.Equal(t, "I am Jane, mail <EMAIL_1>", contents(t, sent(t, r))[0], "built-in detectors still ran")
	require.Equal(t, "analyzer", r.Response.Headers.Get(piimask.HeaderDegraded))
}
