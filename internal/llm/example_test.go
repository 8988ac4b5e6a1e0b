package llm_test

import (
	"fmt"
	"regexp"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm"
)

func ExampleParse() {
	body := []byte(`{"model":"gpt-4o","messages":[` +
		`{"role":"system","content":"You are terse."},` +
		`{"role":"user","content":[{"type":"text","text":"Mail bob@example.com the plan."}],"x_trace":"t1"}` +
		`],"stream":true,"x_custom":{"kept":true}}`)

	format, _ := llm.FormatForPath("/openai/deployments/gpt-4o/chat/completions")
	req, err := llm.Parse(format, body)
	if err != nil {
		fmt.Println(apierror.As(err).Status, err)
		return
	}
	fmt.Println(req.Format, req.Model, req.Stream, len(req.Messages))

	// Mask e-mail addresses wherever the prompt has text.
	email := regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.]+`)
	for _, tp := range req.TextParts() {
		if masked := email.ReplaceAllString(tp.Text, "<EMAIL_1>"); masked != tp.Text {
			_ = req.SetText(tp.Path, masked)
		}
	}
	_ = req.SetIncludeUsage(true)
	fmt.Println(req.Text())
	fmt.Println(string(req.Bytes()))

	_, err = llm.Parse(llm.FormatChat, []byte(`{"messages":[{"role":"user","content":42}]}`))
	fmt.Println(apierror.As(err).Status, err)
	// Output:
	// chat gpt-4o true 2
	// You are terse.
	// Mail <EMAIL_1> the plan.
	// {"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":[{"type":"text","text":"Mail <EMAIL_1> the plan."}],"x_trace":"t1"}],"stream":true,"x_custom":{"kept":true},"stream_options":{"include_usage":true}}
	// 400 messages[0].content: must be a string or an array of content parts, not a number
}
