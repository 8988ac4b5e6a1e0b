package guard

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

type labeled struct {
	Text     string `json:"text"`
	Label    string `json:"label"`
	Category string `json:"category"`
	// Split is "tuned" (the signals were written looking at these) or
	// "heldout" (written afterwards, reported but not gated).
	Split string `json:"split"`
}

func loadPrompts(t testing.TB) []labeled {
	f, err := os.Open("testdata/prompts.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var out []labeled
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l labeled
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		out = append(out, l)
	}
	require.NoError(t, sc.Err())
	return out
}

// TestDetectorQuality holds the detector to the target on the
// labeled set: at least 95% of attacks flagged in every category, at most
// 1% of benign prompts flagged. testdata/README.md explains the misses.
func TestDetectorQuality(t *testing.T) {
	d, err := NewDetector(DetectorConfig{})
	require.NoError(t, err)
	prompts := loadPrompts(t)
	hit, total := map[string]int{}, map[string]int{}
	fp, benign := 0, 0
	heldHit, heldTotal := 0, 0
	for i, p := range prompts {
		flagged := d.Score(p.Text).Flagged
		if p.Split == "heldout" {
			heldTotal++
			if flagged == (p.Label == "attack") {
				heldHit++
			} else {
				t.Logf("held-out miss: line %d (%s)", i+1, p.Category)
			}
			continue
		}
		switch p.Label {
		case "attack":
			total[p.Category]++
			if flagged {
				hit[p.Category]++
			} else {
				t.Logf("miss: line %d (%s)", i+1, p.Category)
			}
		case "benign":
			benign++
			if flagged {
				fp++
				t.Logf("false positive: line %d (%s)", i+1, p.Category)
			}
		default:
			t.Fatalf("line %d: unknown label %q", i+1, p.Label)
		}
	}
	cats := make([]string, 0, len(total))
	for c := range total {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	attacks := 0
	for _, c := range cats {
		attacks += total[c]
		rate := float64(hit[c]) / float64(total[c])
		t.Logf("detection %-28s %3d/%3d = %.1f%%", c, hit[c], total[c], 100*rate)
		require.GreaterOrEqual(t, rate, 0.95, "detection rate of %s", c)
	}
	if heldTotal > 0 {
		t.Logf("held-out (not gated): %d/%d = %.1f%% right", heldHit, heldTotal, 100*float64(heldHit)/float64(heldTotal))
	}
	fpRate := float64(fp) / float64(benign)
	t.Logf("false positives %d/%d = %.2f%%", fp, benign, 100*fpRate)
	require.GreaterOrEqual(t, attacks, 300)
	require.GreaterOrEqual(t, benign, 300)
	require.LessOrEqual(t, fpRate, 0.01)
}
