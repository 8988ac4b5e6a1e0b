package pii

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

const cleanParagraph = `The quarterly review covered onboarding, the new caching layer and how we plan to
reduce latency for customers in Europe. Anna asked whether the migration can finish before
the holidays; Tom thinks it needs two more sprints, mostly because the legacy importer still
writes to the old tables. We agreed to ship the feature flag first, measure error rates for a
week, and then decide. Please read the design notes, leave comments by Friday, and remember
that version 2.4 of the client library changes the retry defaults to 3 attempts. `

const densePiece = `Hi, I'm Jane (jane.doe@example.com, +1 415-555-2671). Card 4111 1111 1111 1111, SSN 123-45-6789,
IBAN DE89370400440532013000, server 192.168.10.20 / 2001:db8::8a2e:370:7334, mac 00:1A:2B:3C:4D:5E.
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE; token ghp_16C7e42F292c6912E7710c838347Ae178B4a
Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U
DATABASE_URL=postgres://app:Pa55word@db.internal:5432/main and the order 2024-05-01 #88231 shipped. `

func makeText(piece string, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(piece)
	}
	return b.String()[:n]
}

// naive is the baseline the issue compares against: one regexp per detector,
// each run over the whole text, then the same validation.
type naive struct{ res []*regexp.Regexp }

func newNaive() *naive {
	pats := []string{
		`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`,
		`(?:\+\d{1,3}[ .\-]?)?\(?\d{2,4}\)?[ .\-]?\d{3,4}[ .\-]?\d{3,4}`,
		`\b(?:\d[ \-]?){12,18}\d\b`,
		`\b\d{3}-\d{2}-\d{4}\b`,
		`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`,
		`\b(?:\d{1,3}\.){3}\d{1,3}\b`,
		`(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}`,
		`\b[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}\b`,
		`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
		`\b(?:sk-[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22,}|xox[abprse]-[A-Za-z0-9\-]{10,})|-----BEGIN [A-Z ]*PRIVATE KEY-----`,
		`\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`,
		`[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]+:[^\s/@]+@[^\s/]+`,
	}
	n := &naive{}
	for _, p := range pats {
		n.res = append(n.res, regexp.MustCompile(p))
	}
	return n
}

func (n *naive) scan(text string) int {
	c := 0
	for _, re := range n.res {
		c += len(re.FindAllStringIndex(text, -1))
	}
	return c
}

var benchSizes = []struct {
	name string
	n    int
}{{"1KB", 1 << 10}, {"16KB", 16 << 10}, {"256KB", 256 << 10}}

var benchKinds = []struct{ name, piece string }{{"clean", cleanParagraph}, {"dense", densePiece}}

func BenchmarkScan(b *testing.B) {
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range benchKinds {
		for _, sz := range benchSizes {
			text := makeText(k.piece, sz.n)
			b.Run(fmt.Sprintf("%s/%s", k.name, sz.name), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				for b.Loop() {
					_ = s.Scan(text)
				}
			})
		}
	}
}

func BenchmarkNaive(b *testing.B) {
	n := newNaive()
	for _, k := range benchKinds {
		for _, sz := range benchSizes {
			text := makeText(k.piece, sz.n)
			b.Run(fmt.Sprintf("%s/%s", k.name, sz.name), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					_ = n.scan(text)
				}
			})
		}
	}
}

// BenchmarkScanNoPhone shows how much of the dense cost is libphonenumber.
func BenchmarkScanNoPhone(b *testing.B) {
	var types []Type
	for _, t := range Types() {
		if t != Phone {
			types = append(types, t)
		}
	}
	s, err := New(Config{Types: types})
	if err != nil {
		b.Fatal(err)
	}
	for _, sz := range benchSizes {
		text := makeText(densePiece, sz.n)
		b.Run("dense/"+sz.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				_ = s.Scan(text)
			}
		})
	}
}
