package version

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		version string
		commit  string
		want    string
	}{
		{name: "default version", version: "0.1.0", commit: "abc1234", want: "tollgate 0.1.0 (commit abc1234, "},
		{name: "release", version: "1.2.3", commit: "deadbeef", want: "tollgate 1.2.3 (commit deadbeef, "},
		{name: "no commit", version: "0.1.0", commit: "", want: "tollgate 0.1.0 (commit "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldV, oldC := Version, Commit
			t.Cleanup(func() { Version, Commit = oldV, oldC })
			Version, Commit = tt.version, tt.commit

			got := String()
			require.True(t, strings.HasPrefix(got, tt.want), got)
			require.True(t, strings.HasSuffix(got, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+")"), got)
			require.NotContains(t, got, "commit ,")
		})
	}
}

func TestDefaultVersion(t *testing.T) {
	require.Equal(t, "0.1.0", Version)
}
