package sse_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

func ExampleReader() {
	stream := "event: delta\r\ndata: Hel\r\ndata: lo\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n"
	r := sse.NewReader(strings.NewReader(stream))
	for {
		ev, err := r.Next()
		if err != nil {
			break // io.EOF at the end
		}
		fmt.Printf("%q %q\n", ev.Event, ev.Data)
	}
	// Output:
	// "delta" "Hel\nlo"
	// "" "[DONE]"
}

func ExampleWrite() {
	_ = sse.Write(os.Stdout, sse.Event{Event: "delta", Data: "Hel\nlo"})
	_ = sse.WriteData(os.Stdout, []byte("[DONE]"))
	// Output:
	// event: delta
	// data: Hel
	// data: lo
	//
	// data: [DONE]
}
