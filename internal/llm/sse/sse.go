package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// DefaultMaxEventSize is the largest event a [Reader] accepts unless told
// otherwise. It is large enough for the biggest events providers send (the
// final response.completed event of a long OpenAI Responses answer).
const DefaultMaxEventSize = 8 << 20

// ErrEventTooLarge is returned (wrapped) by [Reader.Next] when an event's
// block, comments and line ends included, is over the reader's limit.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one dispatched event.
type Event struct {
	// Event is the event type, "" when the block had no event field
	// (browsers then dispatch it as "message").
	Event string
	// Data is the data lines joined by LF.
	Data string
	// ID is the stream's last event ID when the event was dispatched: set by
	// an id field of this block or of an earlier one, as a browser's
	// MessageEvent.lastEventId.
	ID string
	// Retry is the stream's reconnection time in milliseconds, as last set
	// by a retry field of this block or an earlier one; 0 when none did.
	Retry int
	// Raw is the event's block as read, from its first line through the
	// blank line that ended it, comments and line ends as they were. It is
	// valid SSE that reads back as the same event. The byte order mark and
	// blocks that dispatched nothing are not part of any event's Raw.
	Raw []byte
}

// Reader reads events from a stream. It is not safe for concurrent use.
type Reader struct {
	// MaxEventSize is the largest block, in bytes, Next accepts; 0 means
	// [DefaultMaxEventSize]. Set it before the first call to Next.
	MaxEventSize int

	br      *bufio.Reader
	started bool // the byte order mark has been checked
	skipLF  bool // the last line ended in CR: an LF right after it belongs to it
	raw     []byte
	event   []byte
	data    []byte
	hasData bool
	lastID  string
	retry   int
	err     error
}

// NewReader returns a Reader of r. It reads r through a bufio.Reader, which
// asks r only for what r has ready, so no event waits for later input.
func NewReader(r io.Reader) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 16<<10)
	}
	return &Reader{br: br}
}

// LastEventID returns the stream's last event ID so far (what a client would
// send as Last-Event-ID when reconnecting).
func (r *Reader) LastEventID() string { return r.lastID }

// Next returns the next event. At the end of the stream it returns io.EOF
// (an unfinished event is discarded, as the standard says); a read error of
// the underlying reader is returned as is, and an event over MaxEventSize
// gives an error wrapping [ErrEventTooLarge]. After an error every call
// returns the same error.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	if !r.started {
		r.started = true
		r.skipBOM()
	}
	for {
		line, err := r.readLine()
		if err != nil {
			r.err = err
			r.raw, r.data = nil, nil
			return Event{}, err
		}
		if len(line) > 0 {
			r.field(line)
			continue
		}
		if !r.hasData {
			r.reset()
			continue
		}
		data := r.data[:len(r.data)-1] // the LF after the last data line
		ev := Event{
			Event: string(r.event),
			Data:  string(data),
			ID:    r.lastID,
			Retry: r.retry,
			Raw:   bytes.Clone(r.raw),
		}
		r.reset()
		return ev, nil
	}
}

func (r *Reader) reset() {
	r.raw = r.raw[:0]
	r.event = r.event[:0]
	r.data = r.data[:0]
	r.hasData = false
}

func (r *Reader) max() int {
	if r.MaxEventSize > 0 {
		return r.MaxEventSize
	}
	return DefaultMaxEventSize
}

// skipBOM drops a UTF-8 byte order mark at the start of the stream. It
// peeks one byte at a time, so it waits only for bytes an event needs anyway.
func (r *Reader) skipBOM() {
	const bom = "\xEF\xBB\xBF"
	for n := 1; n <= len(bom); n++ {
		b, err := r.br.Peek(n)
		if err != nil || b[n-1] != bom[n-1] {
			return
		}
	}
	_, _ = r.br.Discard(len(bom))
}

// readLine reads one line into r.raw and returns it without its line end.
// The result is only valid until the next call.
func (r *Reader) readLine() ([]byte, error) {
	if r.skipLF {
		r.skipLF = false
		b, err := r.br.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] == '\n' {
			_, _ = r.br.Discard(1)
			// It completes the CRLF of the block's last line; after a
			// dispatched event it ended that event's Raw, which stays valid
			// without it.
			if len(r.raw) > 0 {
				if err := r.grow(1); err != nil {
					return nil, err
				}
				r.raw = append(r.raw, '\n')
			}
		}
	}
	start := len(r.raw)
	for {
		buf, _ := r.br.Peek(r.br.Buffered())
		if len(buf) == 0 {
			// Wait for the underlying reader; bufio fills with what one
			// Read returns, however little.
			if _, err := r.br.Peek(1); err != nil {
				return nil, err
			}
			continue
		}
		end := lineEnd(buf)
		if end < 0 {
			if err := r.grow(len(buf)); err != nil {
				return nil, err
			}
			r.raw = append(r.raw, buf...)
			_, _ = r.br.Discard(len(buf))
			continue
		}
		n := end + 1
		if buf[end] == '\r' {
			switch {
			case n < len(buf) && buf[n] == '\n':
				n++
			case n == len(buf):
				// Whether LF follows is not known yet; do not wait for it.
				r.skipLF = true
			}
		}
		if err := r.grow(n); err != nil {
			return nil, err
		}
		r.raw = append(r.raw, buf[:n]...)
		_, _ = r.br.Discard(n)
		return r.raw[start : len(r.raw)-n+end], nil
	}
}

func (r *Reader) grow(n int) error {
	if len(r.raw)+n > r.max() {
		return fmt.Errorf("sse: event larger than %d bytes: %w", r.max(), ErrEventTooLarge)
	}
	return nil
}

// lineEnd returns the index of the first CR or LF in b, or -1.
func lineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	limit := b
	if i >= 0 {
		limit = b[:i]
	}
	if j := bytes.IndexByte(limit, '\r'); j >= 0 {
		return j
	}
	return i
}

// field processes one non-blank line.
func (r *Reader) field(line []byte) {
	if !utf8.Valid(line) {
		line = toValidUTF8(line)
	}
	if line[0] == ':' {
		return
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "event":
		r.event = append(r.event[:0], value...)
	case "data":
		r.data = append(r.data, value...)
		r.data = append(r.data, '\n')
		r.hasData = true
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			r.lastID = string(value)
		}
	case "retry":
		if digits(value) {
			if n, err := strconv.Atoi(string(value)); err == nil {
				r.retry = n
			}
		}
	}
}

func digits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// toValidUTF8 replaces each maximal subpart of an ill-formed sequence with
// U+FFFD, as the WHATWG UTF-8 decoder does.
func toValidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		i += maximalSubpart(b[i:])
		out = append(out, "\uFFFD"...)
	}
	return out
}

// maximalSubpart returns the length of the ill-formed sequence at the start
// of b: its lead byte and the continuation bytes that were still acceptable.
func maximalSubpart(b []byte) int {
	var need int
	lower, upper := byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lower = 2, 0xA0
	case c == 0xED:
		need, upper = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lower = 3, 0x90
	case c == 0xF4:
		need, upper = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lower || b[n] > upper {
			break
		}
		lower, upper = 0x80, 0xBF
	}
	return n
}
