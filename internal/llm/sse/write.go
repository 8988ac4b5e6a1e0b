package sse

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ErrInvalidEvent is wrapped by [AppendEvent] and [Write] when an event's
// type or ID has a line break, its ID has a NUL (a reader would ignore it) or
// its Retry is negative.
var ErrInvalidEvent = errors.New("sse: event cannot be written")

// AppendEvent appends e in wire form to dst: an event line when e.Event is
// set, an id line when e.ID is, a retry line when e.Retry is positive, one
// data line per line of e.Data (split at CRLF, LF and CR) and the blank
// line. Raw is ignored. A reader reads the bytes back as e, save that a
// reader's ID and Retry persist from earlier events.
func AppendEvent(dst []byte, e Event) ([]byte, error) {
	if indexLineEnd(e.Event) >= 0 {
		return dst, fmt.Errorf("%w: event type contains a line break", ErrInvalidEvent)
	}
	if indexLineEnd(e.ID) >= 0 || strings.IndexByte(e.ID, 0) >= 0 {
		return dst, fmt.Errorf("%w: id contains a line break or NUL", ErrInvalidEvent)
	}
	if e.Retry < 0 {
		return dst, fmt.Errorf("%w: retry is negative", ErrInvalidEvent)
	}
	if e.Event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, e.Event...)
		dst = append(dst, '\n')
	}
	if e.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, e.ID...)
		dst = append(dst, '\n')
	}
	if e.Retry > 0 {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, int64(e.Retry), 10)
		dst = append(dst, '\n')
	}
	return appendDataLines(dst, e.Data), nil
}

// AppendData appends an event with only data to dst: one data line per line
// of data, then the blank line. "data: [DONE]" is AppendData(dst,
// []byte("[DONE]")).
func AppendData(dst, data []byte) []byte {
	return appendDataLines(dst, data)
}

// AppendComment appends a comment block (": text" and a blank line), which
// readers ignore and proxies forward: a keep-alive. Line breaks in text
// start further comment lines.
func AppendComment(dst []byte, text string) []byte {
	for {
		i := indexLineEnd(text)
		line := text
		if i >= 0 {
			line = text[:i]
		}
		dst = append(dst, ':')
		if line != "" {
			dst = append(dst, ' ')
			dst = append(dst, line...)
		}
		dst = append(dst, '\n')
		if i < 0 {
			return append(dst, '\n')
		}
		text = text[skipLineEnd(text, i):]
	}
}

func appendDataLines[T string | []byte](dst []byte, data T) []byte {
	for {
		i := indexLineEnd(data)
		line := data
		if i >= 0 {
			line = data[:i]
		}
		if len(line) == 0 {
			dst = append(dst, "data:\n"...)
		} else {
			dst = append(dst, "data: "...)
			dst = append(dst, line...)
			dst = append(dst, '\n')
		}
		if i < 0 {
			return append(dst, '\n')
		}
		data = data[skipLineEnd(data, i):]
	}
}

// indexLineEnd returns the index of the first CR or LF in s, or -1.
func indexLineEnd[T string | []byte](s T) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return i
		}
	}
	return -1
}

// skipLineEnd returns the index after the line end at s[i].
func skipLineEnd[T string | []byte](s T, i int) int {
	if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
		return i + 2
	}
	return i + 1
}

// Write writes e (see [AppendEvent]) in one Write call and flushes w if it
// can flush.
func Write(w io.Writer, e Event) error {
	b, err := AppendEvent(nil, e)
	if err != nil {
		return err
	}
	return writeFlush(w, b)
}

// WriteData writes an event with only data (see [AppendData]) in one Write
// call and flushes w if it can flush.
func WriteData(w io.Writer, data []byte) error {
	return writeFlush(w, AppendData(make([]byte, 0, len(data)+16), data))
}

// Flush flushes w if it is an http.Flusher or has a FlushError method (as
// http.ResponseController finds on a ResponseWriter), and does nothing
// otherwise.
func Flush(w io.Writer) error {
	switch f := w.(type) {
	case interface{ FlushError() error }:
		return f.FlushError()
	case http.Flusher:
		f.Flush()
	}
	return nil
}

func writeFlush(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	return Flush(w)
}
