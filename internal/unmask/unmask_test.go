package unmask

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/pii"
	"github.com/tollgate-ai/tollgate/internal/seal"
)

func rewriter(t testing.TB, h *HandOff) *Rewriter {
	t.Helper()
	r, err := New(h, NewScanners(0))
	require.NoError(t, err)
	return r
}

var restoreMap = map[string]string{
	"<EMAIL_1>":       "jane.doe@example.com",
	"<EMAIL_2>":       "bob@corp.example",
	"<CREDIT_CARD_1>": "4111 1111 1111 1111",
	"<PROJECT_X_1>":   `Project "Falcon"`,
}

func TestIsPlaceholder(t *testing.T) {
	for s, want := range map[string]bool{
		"<EMAIL_1>": true, "<CREDIT_CARD_12>": true, "<A_1>": true, "<PROJECT_X9_3>": true,
		"<EMAIL_0>": false, "<EMAIL_01>": false, "<EMAIL_>": false, "<email_1>": false, "<_1>": false,
		"EMAIL_1": false, "<EMAIL_1": false, "<EMAIL-1>": false, "<1_1>": false, "<EMAIL_1x>": false,
		"<" + strings.Repeat("A", 70) + "_1>": false,
	} {
		require.Equal(t, want, IsPlaceholder(s), s)
	}
	require.True(t, IsPlaceholder(Placeholder(pii.CreditCard, 3)))
}

func TestSealOpen(t *testing.T) {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	h := &HandOff{Restore: restoreMap, Redact: &Redact{Types: []pii.Type{pii.Email}}, LookBehind: 256}
	v, err := Seal(kr, "req-1", h, time.Minute)
	require.NoError(t, err)
	require.NotContains(t, v, "jane")
	got, err := Open(kr, "req-1", v)
	require.NoError(t, err)
	require.Equal(t, restoreMap, got.Restore)
	require.Equal(t, 256, got.LookBehind)
	_, err = Open(kr, "req-2", v)
	require.Error(t, err, "bound to the request")
	bad, err := kr.Seal(Purpose, "req-1", []byte(`{"v":1,"restore":{"jane":"x"}}`), time.Minute)
	require.NoError(t, err)
	_, err = Open(kr, "req-1", bad)
	require.ErrorContains(t, err, "malformed placeholder")
	bad, err = kr.Seal(Purpose, "req-1", []byte(`{"v":1,"look_behind":10}`), time.Minute)
	require.NoError(t, err)
	_, err = Open(kr, "req-1", bad)
	require.ErrorContains(t, err, "look-behind")
}

func TestText(t *testing.T) {
	r := rewriter(t, &HandOff{Restore: restoreMap, Redact: &Redact{}})
	got := r.Text("Mail <EMAIL_1> or <EMAIL_3>; the model says call +1 415-555-0132 or write to made.up@evil.example, card 4111 1111 1111 1111. <CREDIT_CARD_1>")
	require.Equal(t, "Mail jane.doe@example.com or <EMAIL_3>; the model says call [PHONE] or write to [EMAIL], card [CREDIT_CARD]. 4111 1111 1111 1111", got)
	c := r.Counts()
	require.Equal(t, map[pii.Type]int{pii.Email: 1, pii.CreditCard: 1}, c.Restored)
	require.Equal(t, map[pii.Type]int{pii.Phone: 1, pii.Email: 1, pii.CreditCard: 1}, c.Redacted)

	restoreOnly := rewriter(t, &HandOff{Restore: restoreMap})
	require.Equal(t, "write to made.up@evil.example", restoreOnly.Text("write to made.up@evil.example"))
	require.Equal(t, `{"to":"Project \"Falcon\""}`, restoreOnly.text(`{"to":"<PROJECT_X_1>"}`, true, true), "JSON text gets the value escaped")
}

// chunked feeds s to a fresh filter in pieces cut at the given offsets.
func chunked(r *Rewriter, s string, cuts []int) (string, int) {
	f := &filter{r: r}
	var b strings.Builder
	prev, maxHeld := 0, 0
	for _, c := range cuts {
		b.WriteString(f.push(s[prev:c]))
		maxHeld = max(maxHeld, len(f.held))
		prev = c
	}
	b.WriteString(f.push(s[prev:]))
	b.WriteString(f.flush())
	return b.String(), maxHeld
}

var streamTexts = []string{
	"Sure! I have written to <EMAIL_1> and copied <EMAIL_2>.",
	"Your card <CREDIT_CARD_1> is on file; <EMAIL_9> is not a known placeholder, nor is <email_1>.",
	"Call me at +1 (415) 555-0132 or 415-555-0198, or mail made.up@evil.example today.",
	"IBAN DE89 3704 0044 0532 0130 00 and card 5500 0000 0000 0004 and ssn 123-45-6789.",
	"Nothing here but words, numbers like 42 and 2024-05-01, version 1.2.3 and a < sign.",
	"Key AKIAIOSFODNN7EXAMPLE and token ghp_" + strings.Repeat("a1B2", 9) + " and host 10.0.0.1.",
	"unicode: héllo wörld 日本語 <EMAIL_1> ✓ and émail zoë@example.com",
	"a <EMAIL_1><EMAIL_2> b <<EMAIL_1>> c <EMAIL_1",
}

func TestFilterEveryCut(t *testing.T) {
	for _, h := range []*HandOff{{Restore: restoreMap}, {Restore: restoreMap, Redact: &Redact{}}} {
		for _, s := range streamTexts {
			want := rewriter(t, h).Text(s)
			// Every single cut, then every pair of cuts 7 bytes apart.
			for i := 0; i <= len(s); i++ {
				got, _ := chunked(rewriter(t, h), s, []int{i})
				require.Equal(t, want, got, "cut at %d of %q", i, s)
				if j := i + 7; j <= len(s) {
					got, _ = chunked(rewriter(t, h), s, []int{i, j})
					require.Equal(t, want, got, "cuts at %d,%d of %q", i, j, s)
				}
			}
			// Byte by byte.
			all := make([]int, 0, len(s))
			for i := 1; i < len(s); i++ {
				all = append(all, i)
			}
			got, _ := chunked(rewriter(t, h), s, all)
			require.Equal(t, want, got, "byte by byte %q", s)
		}
	}
}

func TestFilterHoldsLittle(t *testing.T) {
	// Restoring only, prose leaves as it comes: nothing is held but a '<'
	// run.
	r := rewriter(t, &HandOff{Restore: restoreMap})
	f := &filter{r: r}
	require.Equal(t, "Hello", f.push("Hello"))
	require.Equal(t, " there ", f.push(" there <EM"))
	require.Equal(t, "<EM", f.held)
	require.Equal(t, "jane.doe@example.com!", f.push("AIL_1>!"))
	// Redacting, only the last word is held.
	r = rewriter(t, &HandOff{Redact: &Redact{}})
	f = &filter{r: r}
	require.Equal(t, "", f.push("Hello"))
	require.Equal(t, "Hello ", f.push(" wor"))
	require.Equal(t, "world ", f.push("ld made.up@ev"))
	require.Equal(t, "[EMAIL] ", f.push("il.example "))
	require.Equal(t, "", f.flush())
}

func TestFilterBounded(t *testing.T) {
	r := rewriter(t, &HandOff{Redact: &Redact{}, LookBehind: 64})
	long := strings.Repeat("x", 1000) + " tail"
	cuts := []int{}
	for i := 10; i < len(long); i += 10 {
		cuts = append(cuts, i)
	}
	got, maxHeld := chunked(r, long, cuts)
	require.Equal(t, long, got)
	require.LessOrEqual(t, maxHeld, 64)

	// A private key longer than the look-behind is dropped whole.
	key := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIEowIBAAKCAQEA7xQ0kPZ3\n", 20) + "-----END RSA PRIVATE KEY-----"
	text := "here: " + key + " done"
	cuts = cuts[:0]
	for i := 5; i < len(text); i += 5 {
		cuts = append(cuts, i)
	}
	got, maxHeld = chunked(rewriter(t, &HandOff{Redact: &Redact{}, LookBehind: 64}), text, cuts)
	require.Equal(t, "here: [SECRET] done", got)
	require.LessOrEqual(t, maxHeld, 64+5)
	// Held whole when it fits.
	got, _ = chunked(rewriter(t, &HandOff{Redact: &Redact{}}), text, cuts)
	require.Equal(t, "here: [SECRET] done", got)
}

func TestFilterRandomSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := &HandOff{Restore: restoreMap, Redact: &Redact{}}
	for n := 0; n < 300; n++ {
		var b strings.Builder
		for w := 0; w < 30; w++ {
			s := streamTexts[rng.IntN(len(streamTexts))]
			b.WriteString(s[:rng.IntN(len(s)+1)])
			b.WriteString(" ")
		}
		s := b.String()
		var cuts []int
		for i := rng.IntN(6) + 1; i < len(s); i += rng.IntN(12) + 1 {
			cuts = append(cuts, i)
		}
		want := rewriter(t, h).Text(s)
		got, maxHeld := chunked(rewriter(t, h), s, cuts)
		require.Equal(t, want, got, "%q %v", s, cuts)
		require.LessOrEqual(t, maxHeld, DefaultLookBehind)
	}
}
