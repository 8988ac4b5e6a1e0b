// Package version reports which Tollgate build is running, for
// `tollgate version`, the plugin server's version field and metrics.
//
// Release builds set the variables with the linker:
//
//	go build -ldflags "-X github.com/tollgate-ai/tollgate/internal/version.Version=1.2.3 \
//	  -X github.com/tollgate-ai/tollgate/internal/version.Commit=$(git rev-parse --short HEAD)"
//
// Without -X, Commit falls back to the VCS revision the go command stamps into
// the binary, when there is one.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release version, without a leading "v".
var Version = "0.1.0"

// Commit is the source revision; empty means unknown.
var Commit = ""

// String returns the line printed by `tollgate version`, for example
// "tollgate 0.1.0 (commit 1a2b3c4, go1.26.0 linux/amd64)".
func String() string {
	return fmt.Sprintf("tollgate %s (commit %s, %s %s/%s)", Version, commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func commit() string {
	if Commit != "" {
		return Commit
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
