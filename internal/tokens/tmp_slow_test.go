package tokens_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTmpCache(t *testing.T) {
	dir := "/root/.cache/go-build/fuzz/github.com/tollgate-ai/tollgate/internal/tokens/FuzzEncodeMatchesReference"
	files, _ := filepath.Glob(dir + "/*")
	t.Log(len(files))
	for _, name := range encodings {
		ref, enc := reference(t, name), fast(t, name)
		for _, f := range files {
			b, _ := os.ReadFile(f)
			lines := strings.SplitN(string(b), "\n", 3)
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
			if err != nil {
				continue
			}
			st := time.Now()
			enc.Encode(s)
			d1 := time.Since(st)
			st = time.Now()
			ref.EncodeOrdinary(s)
			d2 := time.Since(st)
			if d1 > 20*time.Millisecond || d2 > 20*time.Millisecond {
				t.Log(name, filepath.Base(f), len(s), d1, d2)
			}
			requireSame(t, ref, enc, s)
		}
	}
}
