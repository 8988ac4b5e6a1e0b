// Package fakellm serves fake LLM provider APIs over real HTTP for tests.
//
// It is, with the Kong emulator in spec/, the only fake Tollgate's tests may
// use. It speaks the public wire formats of the providers the egress proxy
// talks to, closely enough that the official OpenAI and Anthropic SDKs parse
// every answer, and its answers are checked against the recorded provider
// payloads in spec/fixtures.
//
// # Routes
//
//   - OpenAI and OpenAI-compatible servers (Ollama, vLLM, …):
//     POST /v1/chat/completions, POST /v1/completions, POST /v1/embeddings,
//     POST /v1/responses and GET /v1/models, authenticated with
//     "Authorization: Bearer <key>".
//   - Azure OpenAI: POST /openai/deployments/{deployment}/chat/completions
//     (and /completions, /embeddings) with an "api-key" header and a
//     mandatory api-version query parameter.
//   - Anthropic: POST /v1/messages with "x-api-key" and "anthropic-version"
//     headers, and GET /v1/models when those headers are present.
//
// Streams are Server-Sent Events split into one chunk per word, in each
// provider's event sequence: OpenAI's role chunk, content chunks, finish
// chunk, optional usage chunk (stream_options.include_usage) and
// "data: [DONE]"; Anthropic's message_start, content_block_start, ping,
// content_block_delta…, content_block_stop, message_delta and message_stop.
//
// # Replies and tokens
//
// A reply is "echo: " followed by the last user message unless
// [Options.Reply] or [Behavior.Reply] says otherwise. Token counts are
// [CountTokens] of the prompt texts and of the reply, so a test can compute
// the usage it expects. Embeddings are hashed bags of words, L2-normalised:
// equal texts give equal vectors and texts sharing words are close.
//
// # Faults and timing
//
// [Server.Enqueue] queues one-shot [Behavior] values (each used by the next
// matching request) and [Server.Always] installs persistent ones. A behaviour
// can answer with a provider-shaped error ([ErrorKind]) or a raw body, delay
// the headers or every stream event, gate every stream event on a channel
// (so a test decides when each chunk leaves), cut or stall a stream after n
// events, or hang until the client goes away.
//
// # Recording
//
// Every request is recorded ([Server.Requests], [Server.WaitRequests]) with
// its headers and body, so a test can assert what reached the provider.
//
// # Example
//
//	srv := fakellm.New(fakellm.Options{APIKey: "sk-test"})
//	defer srv.Close()
//	srv.Enqueue(fakellm.Behavior{Error: fakellm.ErrorRateLimit, RetryAfter: 2 * time.Second})
//	client := openai.NewClient(option.WithBaseURL(srv.OpenAIBaseURL()), option.WithAPIKey("sk-test"))
package fakellm
