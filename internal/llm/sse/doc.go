// Package sse reads and writes Server-Sent Events, the text/event-stream
// format LLM providers stream their answers in.
//
// # Reading
//
// [Reader] parses a stream as the WHATWG HTML standard's "event stream
// interpretation" says: a leading byte order mark is skipped; lines end in
// CRLF, LF or CR; a line starting with a colon is a comment; a field without
// a colon has the empty string as its value; one space after the colon is
// dropped; data lines are joined with LF; id values containing NUL are
// ignored; retry takes only ASCII digits; a blank line dispatches the event,
// unless no data line came since the last one; a stream that ends before
// the blank line discards the pending event. Invalid UTF-8 becomes U+FFFD,
// as a browser's decoder makes it.
//
// [Reader.Next] returns as soon as the blank line ending an event has
// arrived: it never waits for more input than the current event needs, even
// for CR line ends (where it cannot know yet whether LF follows). Each
// event's [Event.Raw] holds its bytes as read, so a proxy can forward events
// unchanged. An event larger than [Reader.MaxEventSize] stops the reader
// with [ErrEventTooLarge], so a broken upstream cannot make it buffer
// without bound.
//
// # Writing
//
// [Write] and [WriteData] write one event in a single Write call and flush
// the writer if it can flush (an http.ResponseWriter), so the event leaves
// at once. [AppendEvent], [AppendData] and [AppendComment] build the same
// bytes into a buffer.
package sse
