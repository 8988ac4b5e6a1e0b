package pii_test

import (
	"fmt"

	"github.com/tollgate-ai/tollgate/internal/pii"
)

func Example() {
	s, err := pii.New(pii.Config{DefaultRegion: "US"})
	if err != nil {
		panic(err)
	}
	text := "Mail jane@example.com or call (415) 555-2671, card 4111 1111 1111 1111."
	for _, f := range s.Scan(text) {
		fmt.Println(f.Type, f.Start, f.End)
	}
	// Output:
	// EMAIL 5 21
	// PHONE 30 44
	// CREDIT_CARD 51 70
}
