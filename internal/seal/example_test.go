package seal_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-ai/tollgate/internal/seal"
)

func ExampleKeyring_Seal() {
	// In production the secret comes from TOLLGATE_SECRET.
	key, err := seal.KeyFromSecret("an-example-secret-of-at-least-32-characters")
	if err != nil {
		panic(err)
	}
	kr, err := seal.NewKeyring(key)
	if err != nil {
		panic(err)
	}

	// Request side (a plugin): seal for this header and this request.
	const header, requestID = "X-Tollgate-PII", "7f3c2a9e-request-id"
	v, err := kr.Seal(header, requestID, []byte(`{"<EMAIL_1>":"ada@example.com"}`), 30*time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(v, "v1."+key.ID()+"."))

	// Response side (egress): open with the same purpose and binding.
	payload, err := kr.Open(header, requestID, v)
	fmt.Println(string(payload), err)

	// The same value presented for another request does not open.
	_, err = kr.Open(header, "another-request", v)
	fmt.Println(err)
	// Output:
	// true
	// {"<EMAIL_1>":"ada@example.com"} <nil>
	// open sealed "X-Tollgate-PII": sealed value authentication failed
}
