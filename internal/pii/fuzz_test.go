package pii

import (
	"testing"
)

func FuzzScan(f *testing.F) {
	for _, seed := range []string{"", "a@b.co", "4111 1111 1111 1111", densePiece, cleanParagraph,
		"-----BEGIN RSA PRIVATE KEY-----\nAAAA", "::", "1.2.3.4.5", "+(((((1", "eyJ.eyJ.", "x://a:b@"} {
		f.Add(seed)
	}
	s, err := New(Config{Custom: []CustomEntity{{Name: "WORD", Words: []string{"secret"}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		prev := 0
		for i, fd := range s.Scan(text) {
			if fd.Start < 0 || fd.End > len(text) || fd.Start >= fd.End {
				t.Fatalf("finding %d out of bounds: %+v (len %d)", i, fd, len(text))
			}
			if fd.Start < prev {
				t.Fatalf("finding %d overlaps or is unsorted: %+v after end %d", i, fd, prev)
			}
			prev = fd.End
		}
	})
}
