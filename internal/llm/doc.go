// Package llm is Tollgate's request model: it parses an LLM API request body
// once, normalizes it into one [Request] whatever the API, and writes the
// body back after edits without losing what it does not understand.
//
// Every plugin reads the same Request: OPA takes the model from it, the
// prompt guard scans [Request.Text], PII masking rewrites
// [Request.TextParts], the token rate limiter counts the text and caps the
// output with [Request.SetMaxTokens], and egress asks for usage with
// [Request.SetIncludeUsage].
//
// # Formats
//
// [Parse] takes the [Format] the route serves ([FormatForPath] maps the
// usual paths, Azure's included) or [FormatUnknown] to [Detect] it from the
// body:
//
//   - [FormatChat], OpenAI chat/completions: messages with roles system,
//     developer, user, assistant, tool and function; content as a string
//     or parts (text, image_url, input_audio, file, refusal); assistant
//     refusal, tool_calls and function_call; tools and functions.
//   - [FormatResponses], OpenAI Responses: instructions (a system
//     message), input as a string or items (messages whose content is a
//     string or input_text, output_text, refusal, input_image, input_file
//     parts; function_call; function_call_output).
//   - [FormatCompletions], legacy completions: prompt as a string, strings,
//     tokens or token lists; suffix.
//   - [FormatEmbeddings]: input as a string, strings, tokens or token
//     lists.
//   - [FormatAnthropic], Anthropic Messages: system as a string or text
//     blocks (a system message); content as a string or blocks (text,
//     image, document, tool_use, tool_result with string or block content,
//     thinking, redacted_thinking).
//
// Each part is a [Part] of some [PartKind]; types this package does not
// know become [PartOther] and are kept as written.
//
// # Editing
//
// The body is held as a tree of raw JSON values, decoded only where the
// model needs to look (the top level, messages, content parts) and opaque
// everywhere else. Each decoded member keeps the bytes around it (its key
// as written, whitespace, comma). An edit ([Request.SetText],
// [Request.SetArguments], [Request.SetModel], [Request.SetMaxTokens],
// [Request.SetIncludeUsage]) replaces one value and marks its ancestors; [Request.Bytes] rebuilds only
// those ancestors, from their members' own bytes, and copies everything
// else verbatim. So only the edited values change: unknown members, member
// order, numbers as written and whitespace all survive, and a body without
// edits comes back as the very same bytes. A member an edit adds
// (max_completion_tokens, stream_options) goes last, laid out like the one
// before it.
//
// Text segments are addressed by their JSON path
// ("messages[1].content[0].text", "system", "input[2].output"), which stays
// valid across edits; [Request.ArgumentParts] lists tool call arguments
// the same way ("messages[1].tool_calls[0].function.arguments",
// "messages[0].content[1].input"). The exported fields of Request describe
// the body as parsed and as changed by those methods; assigning them
// changes nothing.
//
// # Errors
//
// Parse returns a [*RequestError] naming the JSON path and what is wrong
// ("messages[2].content: must be a string or an array of content parts, not
// a number"). It converts to a 400 invalid_request_error in the OpenAI
// error shape (413 when the body is over [MaxBodyBytes]) through
// [apierror.As], so a handler can return it as is. Messages name types and
// paths, never the body's content.
//
// These are errors:
//
//   - an empty body, invalid JSON, a body that is not an object, a body
//     over [MaxBodyBytes] or nested deeper than [MaxDepth];
//   - a key given twice in an object the parser reads (providers use the
//     last, a scanner might read the first);
//   - a known member of the wrong JSON type (model not a string, stream not
//     a boolean, max_tokens not an integer, content neither a string nor an
//     array, …), and a negative token cap, dimension or token id;
//   - a missing or unknown role (Anthropic messages: only user and
//     assistant; Responses messages: system, developer, user, assistant);
//   - missing messages (chat, Anthropic), or an empty list of them; missing
//     prompt (completions) or input (embeddings); missing content, except
//     on chat assistant and function messages; a content part without a
//     type, or a text part without its text;
//   - a body with none of messages, input and prompt when the format is
//     to be detected.
//
// These are tolerated, and forwarded unchanged:
//
//   - members this package does not know, at any level;
//   - part, block and item types it does not know ([PartOther]);
//   - null for any optional member, which reads as absent;
//   - a missing model (Azure and Kong's ai-proxy supply it) and, in
//     Anthropic requests, a missing max_tokens (a plugin may set one;
//     Anthropic rejects the request otherwise);
//   - a Responses request without input (it may continue a stored
//     conversation);
//   - values out of a provider's range (temperature 7, n 0): that is the
//     provider's to judge, and ranges differ between providers.
//
// Callers that must not let unknown content through (a strict prompt
// guard) can reject requests with [PartOther] parts.
//
// # Example
//
//	req, err := llm.Parse(llm.FormatChat, body)
//	if err != nil {
//		return err // a 400 through apierror.Write
//	}
//	for _, tp := range req.TextParts() {
//		_ = req.SetText(tp.Path, mask(tp.Text))
//	}
//	body = req.Bytes()
package llm
