package egress

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOrderKeepsTiersAndSharesATierByWeight(t *testing.T) {
	targets := []PlanTarget{
		{Name: "heavy", Tier: 0, Weight: 3},
		{Name: "light", Tier: 0, Weight: 1},
		{Name: "backup", Tier: 1, Weight: 100},
	}
	const draws = 4000
	heavyFirst := 0
	for range draws {
		o := order(targets)
		require.Equal(t, "backup", o[2].Name, "a later tier never comes first, whatever its weight")
		if o[0].Name == "heavy" {
			heavyFirst++
		}
	}
	share := float64(heavyFirst) / draws
	// Expected 0.75; 4000 draws put the sample within ±0.03 of it with
	// overwhelming probability.
	require.InDelta(t, 0.75, share, 0.05, "weight 3 against 1")
}

func TestAnswerText(t *testing.T) {
	require.Equal(t, "hi there", answerText([]byte(`{"choices":[{"message":{"content":"hi "}},{"message":{"content":"there"}}]}`)))
	require.Equal(t, "done", answerText([]byte(`{"choices":[{"text":"done"}]}`)))
	require.Empty(t, answerText([]byte(`not json`)))
}
