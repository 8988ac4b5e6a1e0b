// Package provider holds the egress proxy's provider adapters: for each
// provider API, how to turn a client's request into the upstream HTTP
// request, and the upstream's answer, stream or error back into what the
// client's API promises.
//
// # Adapters
//
// [For] returns the [Adapter] of a [Kind]. Which client formats each one
// serves ([Adapter.Supports]; egress skips a target that does not):
//
//	kind               chat  completions  embeddings  responses  anthropic
//	openai             yes   yes          yes         yes        -
//	openai_compatible  yes   yes          yes         yes        -
//	azure              yes   yes          yes         -          -
//	anthropic          yes   -            -           -          yes
//
// An OpenAI chat request to an Anthropic target is translated both ways
// (see Anthropic below); every other supported pair is passed through.
// Adapters are stateless; a [Call] may go to several targets in turn,
// since [Adapter.Request] edits a private copy of the request, never
// Call.Req.
//
// # Requests
//
// Request builds a POST to the client's endpoint under the target's base
// URL: OpenAI and OpenAI-compatible /v1/chat/completions, /v1/completions,
// /v1/embeddings, /v1/responses (a base URL already ending in /v1, as
// Ollama's and vLLM's often do, is not doubled); Azure
// /openai/deployments/{deployment}/{endpoint}?api-version=… with
// [DefaultAzureAPIVersion] unless the target sets one; Anthropic
// /v1/messages. Target.Model replaces the client's model. The client's
// headers are forwarded without hop-by-hop headers, Accept-Encoding (so
// Go's client decompresses), X-Tollgate-* and any credential; then come the
// adapter's defaults (anthropic-version [DefaultAnthropicVersion]),
// Target.Headers, and the key: "Authorization: Bearer" (OpenAI,
// OpenAI-compatible), "api-key" (Azure), "x-api-key" (Anthropic).
//
// Chat and completions streams get stream_options.include_usage=true, so
// the provider reports usage even when the client did not ask (Azure only
// from api-version 2024-09-01 on, as older ones reject the option).
// Responses and Anthropic streams always report usage.
//
// # Streams
//
// [Adapter.Stream] wraps the upstream body in a [Stream] whose Next
// returns client-ready SSE bytes, one upstream event at a time, as soon as
// that event has arrived (the [sse] reader never waits for more input than
// the current event needs). Passthrough streams forward each event as the
// upstream wrote it, with one exception: when the client did not ask for
// stream_options.include_usage, the usage-only chunk (choices: [] with a
// usage) that Request asked for is read and dropped, so the client sees
// the stream it asked for. (Chunks then carry "usage":null, which clients
// ignore.) Azure's own chunks, such as the leading prompt_filter_results
// chunk with empty choices and no usage, pass through. Stream.Usage is the
// usage read so far; OpenAI-compatible servers that send none leave
// Usage.Known false.
//
// A stream that fails after it started (the connection drops, an event is
// over [sse.DefaultMaxEventSize], the stream ends before it is complete,
// or the provider sends its own error event) ends with one error event in
// the client's dialect, which Next returns like any other bytes before
// io.EOF: "data: {"error":{…}}" for OpenAI clients (the OpenAI SDKs raise
// it), Anthropic's "event: error" for Anthropic clients. [Stream.Err] says
// what failed; it is set when Next returns those bytes, so egress can still
// drop them and fall back if it has written nothing yet.
//
// # Anthropic
//
// OpenAI chat → Anthropic Messages:
//
//   - system and developer messages, wherever they are, become "system"
//     (a string, or text blocks when there are several or they carry
//     cache_control);
//   - user and assistant content (a string or parts) becomes blocks: text
//     (empty texts dropped, cache_control kept), image_url with a base64
//     data: URL → an image block with a base64 source, with an http(s) URL
//     → a url source; file parts with file_data → document blocks (PDF and
//     other types as base64, text/plain as text);
//   - assistant tool_calls (and legacy function_call) → tool_use blocks
//     with the arguments parsed into "input"; tool (and function) messages
//     → tool_result blocks in a user turn; consecutive turns of one role
//     are merged, as Anthropic requires alternating turns;
//   - tools and legacy functions → tools with input_schema (an empty
//     object schema when a function has no parameters); tool_choice
//     auto/none/required/function → auto/none/any/tool (legacy
//     function_call likewise); parallel_tool_calls false →
//     disable_parallel_tool_use; tool_choice is left out without tools;
//   - max_completion_tokens, else max_tokens, else [DefaultMaxTokens] →
//     max_tokens (Anthropic requires it); stop → stop_sequences;
//     temperature, top_p (and a top_k some clients send) as they are;
//     user (or safety_identifier) → metadata.user_id; stream.
//
// Ignored, having no Anthropic equivalent: presence_penalty,
// frequency_penalty, seed, logit_bias, store, metadata, service_tier,
// reasoning_effort, stream_options, and message names. Refused as
// [ClassUnsupported] (so egress can try another target): n > 1, logprobs,
// response_format other than text, audio input or output, file_id
// references, non-text system content, tool types other than function,
// allowed_tools tool choices, and tool call arguments that are not a JSON
// object. A chat request without a model needs Target.Model.
//
// Anthropic message → OpenAI chat completion: text blocks joined into
// message.content (null when there are only tool calls); tool_use blocks →
// tool_calls with the input as the arguments string; stop_reason end_turn,
// stop_sequence, pause_turn → stop, max_tokens and
// model_context_window_exceeded → length, tool_use → tool_calls, refusal →
// content_filter; usage input + cache read + cache write tokens →
// prompt_tokens (cache reads also as prompt_tokens_details.cached_tokens),
// output → completion_tokens; id and model as Anthropic sent them, created
// the time of translation. Thinking and server-tool blocks are left out.
//
// Anthropic stream → chat.completion.chunk events with the id, model and
// created time of message_start; the role rides on the first chunk that
// has something to say (so an error before any content reaches the client
// before any byte of the answer); text_delta → content, tool_use starts and
// input_json_delta → tool_calls deltas (index, id, type, name, arguments);
// message_delta → the finish_reason chunk; message_stop → a usage chunk if
// the client asked for include_usage, then data: [DONE]; ping → a ": ping"
// comment once the answer has started (a keep-alive); error → an OpenAI
// error event and the end.
//
// Anthropic clients are passed through: the body with the target's model
// and, when missing, max_tokens [DefaultMaxTokens]; their anthropic-version
// and anthropic-beta headers are forwarded.
//
// # Errors
//
// [Adapter.Error] classifies an error answer into an [UpstreamError]: a
// [Class] (429 and 402 rate_limit, insufficient_quota included; every 5xx,
// gateway timeouts and Anthropic's 529 included, server; 408 timeout; 400 with
// context_length_exceeded or a "prompt is too long" message
// context_length; Azure's content_filter and ResponsibleAIPolicyViolation
// content_filter; 401 and 403 auth; 404 not_found; other 4xx
// bad_request), RetryAfter (retry-after-ms, Retry-After in seconds or as an
// HTTP date, else the reset time of the exhausted limit from
// x-ratelimit-reset-* or anthropic-ratelimit-*-reset), Status, the status
// to answer the client with (UpstreamStatus is the provider's), and Body,
// the body for the client, always in the OpenAI error
// shape: the provider's own body when it already is that shape and the
// client can act on it, a translation of Anthropic's, or a message written
// here for failures that are the gateway's business (rate limits,
// credentials, server errors), so that nothing identifying the gateway's
// provider account reaches the client. [TransportError] classifies a
// request that got no answer. [Retryable] and [UpstreamError.Retryable]
// apply the retry_on config values.
//
// UpstreamError.Message and Error() name the provider, the status, the
// class and the provider's error type or code, never a provider message
// (which may quote the prompt), a URL (which may carry a key) or the key.
//
// # Example
//
//	a, err := provider.For(target.Provider)
//	if err != nil {
//		return err
//	}
//	call := &provider.Call{Format: req.Format, Body: body, Req: req, Header: clean}
//	up, err := a.Request(ctx, target, call)
//	if err != nil {
//		return err // an *UpstreamError; ClassUnsupported: try the next target
//	}
//	resp, err := client.Do(up)
//	if err != nil {
//		return provider.TransportError(err)
//	}
//	defer resp.Body.Close()
//	if resp.StatusCode >= 300 {
//		body, _ := io.ReadAll(resp.Body)
//		return a.Error(resp.StatusCode, resp.Header, body)
//	}
//	s := a.Stream(call, resp.Body)
//	for {
//		b, err := s.Next()
//		if err != nil {
//			break // io.EOF; s.Err() says whether the upstream failed
//		}
//		w.Write(b)
//		flush(w)
//	}
//	usage := s.Usage()
package provider
