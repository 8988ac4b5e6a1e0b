// Package unmask is the response side of PII masking: it puts back the
// values tollgate-pii-mask replaced with placeholders in the prompt, and
// redacts personal data the model wrote itself, in whole answers and
// inside Server-Sent Event streams. Egress runs it; the request side hands
// it a HandOff, sealed, which holds the placeholder map and the redaction
// configuration and is never stored or logged.
//
// # Order
//
// Redaction runs first and restoration second, on the same text, so a
// value the client itself sent (and the model only saw as <EMAIL_1>) is
// restored and never redacted, while an address the model made up is.
//
// # Streams
//
// A placeholder or a value can be split across chunks ("<EMA", "IL_1>").
// Each text channel of a stream (a choice's content, a tool call's
// arguments, an Anthropic content block, a Responses output part) has a
// filter that emits at once what can no longer change and holds back only
// the tail that might:
//
//   - restoring only: a trailing '<' followed by placeholder characters;
//   - redacting: the last word, which may still grow (an e-mail address,
//     a key), plus the digit groups joined to it by one or two spaces (a
//     card, a phone number, an IBAN), and an open private-key block.
//
// The held tail never grows past the look-behind (HandOff.LookBehind,
// default 1024 bytes): past it, half of it is released, the cut moved
// past any value found across it; a private-key block too long to hold is
// replaced by [SECRET] and dropped until its END line. So memory per
// stream is bounded and ordinary prose leaves word by word: the time to
// the first token barely changes.
//
// Held text leaves with the channel's last event: in OpenAI chunks that
// carry finish_reason, or in a synthetic chunk (copied from the stream's
// last one) before a usage chunk or [DONE]; in a synthetic
// content_block_delta before Anthropic's content_block_stop; in a
// synthetic delta before a Responses done event.
//
// # Failing closed
//
// An event or body that is not the JSON the format promises cannot be
// checked, so Stream.Event and Rewriter.Body return an error wrapping
// ErrUnreadable; egress then ends the stream with an SSE error event (or
// answers 502) rather than pass on what it could not check.
package unmask
