package fakellm_test

import (
	"context"
	"fmt"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/tollgate-ai/tollgate/internal/fakellm"
)

func ExampleNew() {
	srv := fakellm.New(fakellm.Options{APIKey: "sk-test"})
	defer srv.Close()
	// The first request is rate limited, the SDK retries it.
	srv.Enqueue(fakellm.RateLimited(0))

	client := openai.NewClient(option.WithBaseURL(srv.OpenAIBaseURL()), option.WithAPIKey("sk-test"))
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello Tollgate")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Choices[0].Message.Content, resp.Usage.TotalTokens, len(srv.Requests()))
	// Output: echo: Hello Tollgate 5 2
}
