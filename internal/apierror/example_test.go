package apierror_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/tollgate-ai/tollgate/internal/apierror"
)

func ExampleWrite() {
	rec := httptest.NewRecorder()
	apierror.Write(rec, apierror.RateLimited("token limit of 1000 per minute reached", 1200*time.Millisecond))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))
	fmt.Println(rec.Body.String())
	// Output:
	// 429 2
	// {"error":{"message":"token limit of 1000 per minute reached","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}
}
