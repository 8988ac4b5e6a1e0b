package kongemu

import (
	"strings"
	"testing"
	"time"
)

func TestZZBomb(t *testing.T) {
	deck := "_format_version: \"3.0\"\nservices:\n  - &s {name: a, url: 'http://x.test', routes: [&r {paths: [/], plugins: [&p {name: tollgate-x}" + strings.Repeat(", *p", 300) + "]}" + strings.Repeat(", *r", 300) + "]}\n" + "  " + strings.Repeat("- *s\n  ", 300) + "\n"
	start := time.Now()
	_, err := LoadDeck([]byte(deck))
	t.Log(time.Since(start), len(deck), err != nil)
	if err != nil {
		t.Log(err.Error()[:200])
	}
}
