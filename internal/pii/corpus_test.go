package pii_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/pii"
)

// loadCorpus reads testdata/corpus.txt, where each labelled span is written
// [[TYPE|value]], and returns the plain text with the gold findings.
func loadCorpus(t *testing.T) (string, []pii.Finding) {
	t.Helper()
	raw, err := os.ReadFile("testdata/corpus.txt")
	require.NoError(t, err)
	src := string(raw)
	var b strings.Builder
	var gold []pii.Finding
	for {
		i := strings.Index(src, "[[")
		if i < 0 {
			b.WriteString(src)
			break
		}
		b.WriteString(src[:i])
		j := strings.Index(src[i:], "]]")
		require.Positive(t, j, "unterminated label")
		label := src[i+2 : i+j]
		typ, val, ok := strings.Cut(label, "|")
		require.True(t, ok, "label without '|'")
		start := b.Len()
		b.WriteString(val)
		gold = append(gold, pii.Finding{Type: pii.Type(typ), Start: start, End: b.Len()})
		src = src[i+j+2:]
	}
	return b.String(), gold
}

func TestCorpus(t *testing.T) {
	text, gold := loadCorpus(t)
	s, err := pii.New(pii.Config{})
	require.NoError(t, err)
	got := s.Scan(text)

	type key struct {
		typ        pii.Type
		start, end int
	}
	want := map[key]bool{}
	for _, g := range gold {
		want[key{g.Type, g.Start, g.End}] = true
	}
	tp, fp, fn := map[pii.Type]int{}, map[pii.Type]int{}, map[pii.Type]int{}
	found := map[key]bool{}
	for _, f := range got {
		k := key{f.Type, f.Start, f.End}
		found[k] = true
		if want[k] {
			tp[f.Type]++
		} else {
			fp[f.Type]++
			t.Logf("false positive %s at %d: %q", f.Type, f.Start, context(text, f.Start, f.End))
		}
	}
	for k := range want {
		if !found[k] {
			fn[k.typ]++
			t.Logf("missed %s at %d: %q", k.typ, k.start, context(text, k.start, k.end))
		}
	}
	types := pii.Types()
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	var TP, FP, FN int
	for _, typ := range types {
		p, r, f1 := prf(tp[typ], fp[typ], fn[typ])
		t.Logf("%-16s tp=%3d fp=%2d fn=%2d precision=%.3f recall=%.3f f1=%.3f", typ, tp[typ], fp[typ], fn[typ], p, r, f1)
		TP, FP, FN = TP+tp[typ], FP+fp[typ], FN+fn[typ]
	}
	p, r, f1 := prf(TP, FP, FN)
	t.Logf("%-16s tp=%3d fp=%2d fn=%2d precision=%.3f recall=%.3f f1=%.3f", "OVERALL", TP, FP, FN, p, r, f1)
	require.GreaterOrEqual(t, p, 0.98, "overall precision")
	require.GreaterOrEqual(t, r, 0.97, "overall recall")
}

func prf(tp, fp, fn int) (p, r, f1 float64) {
	p, r = 1, 1
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return p, r, f1
}

// context returns the line around a span, for failure logs of the synthetic
// corpus only.
func context(text string, s, e int) string {
	ls := strings.LastIndexByte(text[:s], '\n') + 1
	le := strings.IndexByte(text[e:], '\n')
	if le < 0 {
		le = len(text)
	} else {
		le += e
	}
	return text[ls:s] + ">>" + text[s:e] + "<<" + text[e:le]
}
