package pii_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/pii"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  pii.Config
		msg  string
	}{
		{"unknown type", pii.Config{Types: []pii.Type{"NOPE"}}, `types[0]: unknown type "NOPE"`},
		{"bad region", pii.Config{DefaultRegion: "XX"}, "default_region"},
		{"bad pattern", pii.Config{Custom: []pii.CustomEntity{{Name: "X", Pattern: "("}}}, "custom[0].pattern"},
		{"empty name", pii.Config{Custom: []pii.CustomEntity{{Pattern: "a"}}}, "custom[0].name"},
		{"builtin name", pii.Config{Custom: []pii.CustomEntity{{Name: "EMAIL", Pattern: "a"}}}, "built-in"},
		{"nothing", pii.Config{Custom: []pii.CustomEntity{{Name: "X"}}}, "needs a pattern or words"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pii.New(tc.cfg)
			require.ErrorIs(t, err, pii.ErrConfig)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestNewJoinsErrors(t *testing.T) {
	_, err := pii.New(pii.Config{Types: []pii.Type{"A", "B"}, DefaultRegion: "XX"})
	require.ErrorContains(t, err, "types[0]")
	require.ErrorContains(t, err, "types[1]")
	require.ErrorContains(t, err, "default_region")
}

func TestTypesFilter(t *testing.T) {
	s, err := pii.New(pii.Config{Types: []pii.Type{pii.Email}})
	require.NoError(t, err)
	got := s.Scan("a@b.io 4111111111111111 192.168.0.1")
	require.Equal(t, []pii.Finding{{Type: pii.Email, Start: 0, End: 6, Score: got[0].Score}}, got)
}

func TestAllowValues(t *testing.T) {
	s, err := pii.New(pii.Config{AllowValues: []string{"Support@Example.com", "4111111111111111"}})
	require.NoError(t, err)
	require.Empty(t, s.Scan("write support@example.com with 4111111111111111"))
	require.Len(t, s.Scan("write sales@example.com"), 1)
}

func TestCustom(t *testing.T) {
	s, err := pii.New(pii.Config{Custom: []pii.CustomEntity{
		{Name: "EMPLOYEE_ID", Pattern: `\bEMP-\d{6}\b`},
		{Name: "PROJECT", Words: []string{"Bluebird", "Project Nightjar"}},
	}})
	require.NoError(t, err)
	text := "EMP-123456 works on project nightjar, not bluebirds."
	var got []string
	for _, f := range s.Scan(text) {
		got = append(got, string(f.Type)+"="+text[f.Start:f.End])
	}
	require.Equal(t, []string{"EMPLOYEE_ID=EMP-123456", "PROJECT=project nightjar"}, got)
}

func TestOverlapLongestWins(t *testing.T) {
	s, err := pii.New(pii.Config{})
	require.NoError(t, err)
	text := "dsn=mysql://root:hunter2@db.example.com/prod"
	got := s.Scan(text)
	require.Len(t, got, 1)
	require.Equal(t, pii.URLCredentials, got[0].Type)
	require.Equal(t, "root:hunter2@db.example.com", text[got[0].Start:got[0].End])
}

func TestRegion(t *testing.T) {
	s, err := pii.New(pii.Config{DefaultRegion: "gb", Types: []pii.Type{pii.Phone}})
	require.NoError(t, err)
	text := "ring 020 7946 0958 please"
	got := s.Scan(text)
	require.Len(t, got, 1)
	require.Equal(t, "020 7946 0958", text[got[0].Start:got[0].End])
}

func TestErrorsHideAllowValues(t *testing.T) {
	_, err := pii.New(pii.Config{AllowValues: []string{"secret-value@x.io"}, Types: []pii.Type{"BAD"}})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret-value")
}

func TestConcurrentScan(t *testing.T) {
	s, err := pii.New(pii.Config{})
	require.NoError(t, err)
	text := "jane@example.com +1 415-555-2671 4111 1111 1111 1111 10.0.0.1"
	want := s.Scan(text)
	done := make(chan []pii.Finding)
	for range 8 {
		go func() { done <- s.Scan(text) }()
	}
	for range 8 {
		require.Equal(t, want, <-done)
	}
}

func TestFindingsSortedNonOverlapping(t *testing.T) {
	s, err := pii.New(pii.Config{})
	require.NoError(t, err)
	text := "a@b.io,c@d.io 4111111111111111,5555555555554444 123-45-6789 ::1 fe80::1 00:1A:2B:3C:4D:5E"
	got := s.Scan(text)
	require.Len(t, got, 8)
	for i := 1; i < len(got); i++ {
		require.LessOrEqual(t, got[i-1].End, got[i].Start)
	}
}
