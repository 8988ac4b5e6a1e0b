package sse_test

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

// readAll reads every event of in, returning the error that ended the
// stream unless it is io.EOF.
func readAll(r *sse.Reader) ([]sse.Event, error) {
	var out []sse.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

// strip drops Raw, for comparing what events mean.
func strip(evs []sse.Event) []sse.Event {
	var out []sse.Event
	if len(evs) > 0 {
		out = make([]sse.Event, len(evs))
	}
	for i, e := range evs {
		e.Raw = nil
		out[i] = e
	}
	return out
}

func TestReader(t *testing.T) {
	type ev = sse.Event
	tests := []struct {
		name string
		in   string
		want []ev
	}{
		{"one event", "data: hello\n\n", []ev{{Data: "hello"}}},
		{"multi-line data", "data: YHOO\ndata: +2\ndata: 10\n\n", []ev{{Data: "YHOO\n+2\n10"}}},
		{"CRLF", "event: a\r\ndata: 1\r\ndata: 2\r\n\r\n", []ev{{Event: "a", Data: "1\n2"}}},
		{"CR", "event: a\rdata: 1\rdata: 2\r\rdata: 3\r\r", []ev{{Event: "a", Data: "1\n2"}, {Data: "3"}}},
		{"mixed line ends", "data: 1\r\ndata: 2\rdata: 3\n\r\n", []ev{{Data: "1\n2\n3"}}},
		{"byte order mark", "\xEF\xBB\xBFdata: x\n\n", []ev{{Data: "x"}}},
		{"only one byte order mark is skipped", "\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", []ev{{Data: "y"}}},
		{"byte order mark later is data", "data: \xEF\xBB\xBFx\n\n", []ev{{Data: "\uFEFFx"}}},
		{"comments", ": test stream\n\ndata: first\n: between\ndata: second\n\n", []ev{{Data: "first\nsecond"}}},
		{"comment-only block dispatches nothing", ":ping\n\n:ping\n\n", nil},
		{"field without colon", "data\n\ndata\ndata\n\ndata:", []ev{{Data: ""}, {Data: "\n"}}},
		{"one space dropped", "data:test\n\ndata: test\n\ndata:  test\n\n", []ev{{Data: "test"}, {Data: "test"}, {Data: " test"}}},
		{"empty data dispatches", "data:\n\n", []ev{{Data: ""}}},
		{"event type without data is dropped", "event: a\n\ndata: b\n\n", []ev{{Data: "b"}}},
		{"last event type wins", "event: a\nevent: b\ndata: x\n\n", []ev{{Event: "b", Data: "x"}}},
		{"event type is per event", "event: a\ndata: 1\n\ndata: 2\n\n", []ev{{Event: "a", Data: "1"}, {Data: "2"}}},
		{
			"id persists and resets",
			"data: first event\nid: 1\n\ndata:second event\n\ndata: third\nid\n\ndata: fourth\n\n",
			[]ev{{Data: "first event", ID: "1"}, {Data: "second event", ID: "1"}, {Data: "third"}, {Data: "fourth"}},
		},
		{"id set by a block without data", "id: 7\n\ndata: x\n\n", []ev{{Data: "x", ID: "7"}}},
		{"id with NUL is ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", []ev{{Data: "a", ID: "1"}, {Data: "b", ID: "1"}}},
		{
			"retry",
			"retry: 1000\ndata: a\n\nretry: 10x\ndata: b\n\nretry: -1\ndata: c\n\nretry:\ndata: d\n\nretry: 0\ndata: e\n\n",
			[]ev{{Data: "a", Retry: 1000}, {Data: "b", Retry: 1000}, {Data: "c", Retry: 1000}, {Data: "d", Retry: 1000}, {Data: "e"}},
		},
		{"retry overflow is ignored", "retry: 99999999999999999999999\ndata: a\n\n", []ev{{Data: "a"}}},
		{"unknown fields", "foo: bar\nDATA: no\ndata : no\ndata: yes\n\n", []ev{{Data: "yes"}}},
		{"colon in value", "data: a: b\n\n", []ev{{Data: "a: b"}}},
		{"unfinished event is discarded", "data: a\n\ndata: b\n", []ev{{Data: "a"}}},
		{"unfinished line is discarded", "data: a\n\ndata: b", []ev{{Data: "a"}}},
		{"blank lines between events", "\n\ndata: a\n\n\n\n\ndata: b\n\n", []ev{{Data: "a"}, {Data: "b"}}},
		{"invalid UTF-8", "data: a\xffb\xe2\x82c\xf0\x9f\n\n", []ev{{Data: "a\uFFFDb\uFFFDc\uFFFD"}}},
		{"surrogate encoding", "data: \xed\xa0\x80\n\n", []ev{{Data: "\uFFFD\uFFFD\uFFFD"}}},
		{"NUL in data", "data: a\x00b\n\n", []ev{{Data: "a\x00b"}}},
		{"OpenAI chunk and DONE", "data: {\"choices\":[]}\n\ndata: [DONE]\n\n", []ev{{Data: `{"choices":[]}`}, {Data: "[DONE]"}}},
		{
			"Anthropic events",
			"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n",
			[]ev{{Event: "message_start", Data: `{"type":"message_start"}`}, {Event: "ping", Data: `{"type": "ping"}`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(sse.NewReader(strings.NewReader(tt.in)))
			require.NoError(t, err)
			require.Equal(t, tt.want, strip(got))
			// The same, one byte per Read.
			got, err = readAll(sse.NewReader(iotest.OneByteReader(strings.NewReader(tt.in))))
			require.NoError(t, err)
			require.Equal(t, tt.want, strip(got))
		})
	}
}

func TestReaderRaw(t *testing.T) {
	in := ": hi\n\nevent: a\r\n: inside\r\ndata: 1\r\n\r\n\n\nid: 9\ndata: 2\n\n"
	got, err := readAll(sse.NewReader(strings.NewReader(in)))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "event: a\r\n: inside\r\ndata: 1\r\n\r\n", string(got[0].Raw))
	require.Equal(t, "id: 9\ndata: 2\n\n", string(got[1].Raw))
	// Raw reads back as the same event.
	for _, e := range got {
		back, err := readAll(sse.NewReader(bytes.NewReader(e.Raw)))
		require.NoError(t, err)
		require.Len(t, back, 1)
		require.Equal(t, e.Data, back[0].Data)
		require.Equal(t, e.Event, back[0].Event)
	}
}

func TestReaderMaxEventSize(t *testing.T) {
	r := sse.NewReader(strings.NewReader("data: 0123\n\ndata: 0123456789\n\ndata: x\n\n"))
	r.MaxEventSize = 12
	ev, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, "0123", ev.Data)
	_, err = r.Next()
	require.ErrorIs(t, err, sse.ErrEventTooLarge)
	require.EqualError(t, err, "sse: event larger than 12 bytes: sse: event too large")
	_, again := r.Next()
	require.Equal(t, err, again, "errors are sticky")

	// A line without an end counts as it arrives.
	r = sse.NewReader(strings.NewReader(strings.Repeat("x", 100)))
	r.MaxEventSize = 10
	_, err = r.Next()
	require.ErrorIs(t, err, sse.ErrEventTooLarge)

	// The bound is per event, not per stream; comments count.
	r = sse.NewReader(strings.NewReader(strings.Repeat("data: 0123\n\n", 1000) + ": " + strings.Repeat("c", 20) + "\ndata: x\n\n"))
	r.MaxEventSize = 20
	for range 1000 {
		_, err := r.Next()
		require.NoError(t, err)
	}
	_, err = r.Next()
	require.ErrorIs(t, err, sse.ErrEventTooLarge)
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := sse.NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom)))
	ev, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, "a", ev.Data)
	_, err = r.Next()
	require.ErrorIs(t, err, boom)
	_, err = r.Next()
	require.ErrorIs(t, err, boom)
}

// scriptReader returns its chunks one per Read and fails the test if it is
// read beyond them: Next must return each event with what it has.
type scriptReader struct {
	t      *testing.T
	chunks []string
}

func (s *scriptReader) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		s.t.Error("read beyond the event: Next waits for more input than the event needs")
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, s.chunks[0])
	if n < len(s.chunks[0]) {
		s.chunks[0] = s.chunks[0][n:]
	} else {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

func TestReaderNoReadAhead(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"LF", []string{"data: a\n\n"}, []string{"a"}},
		{"CR", []string{"data: a\r\r"}, []string{"a"}},
		{"CRLF", []string{"data: a\r\n\r\n"}, []string{"a"}},
		{"CRLF split after CR", []string{"data: a\r", "\n\r"}, []string{"a"}},
		{"byte order mark", []string{"\xEF\xBB\xBF", "data: a\n", "\n"}, []string{"a"}},
		{"split lines", []string{"da", "ta: a", "\n", "\n", "data: b\n\n"}, []string{"a", "b"}},
		{"two events in one read", []string{"data: a\n\ndata: b\n\n"}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sse.NewReader(&scriptReader{t: t, chunks: tt.chunks})
			for _, want := range tt.want {
				ev, err := r.Next()
				require.NoError(t, err)
				require.Equal(t, want, ev.Data)
			}
		})
	}
}

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   sse.Event
		want string
	}{
		{"data", sse.Event{Data: "x"}, "data: x\n\n"},
		{"empty data", sse.Event{}, "data:\n\n"},
		{"all fields", sse.Event{Event: "delta", ID: "7", Retry: 3000, Data: "a"}, "event: delta\nid: 7\nretry: 3000\ndata: a\n\n"},
		{"lines", sse.Event{Data: "a\nb\r\nc\rd\n"}, "data: a\ndata: b\ndata: c\ndata: d\ndata:\n\n"},
		{"leading space kept", sse.Event{Data: " a"}, "data:  a\n\n"},
		{"Raw is ignored", sse.Event{Data: "a", Raw: []byte("data: b\n\n")}, "data: a\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sse.AppendEvent([]byte("prefix|"), tt.ev)
			require.NoError(t, err)
			require.Equal(t, "prefix|"+tt.want, string(got))
			back, err := readAll(sse.NewReader(strings.NewReader(tt.want)))
			require.NoError(t, err)
			require.Len(t, back, 1)
			want := tt.ev
			want.Raw = nil
			want.Data = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(want.Data)
			require.Equal(t, want, strip(back)[0])
		})
	}
	for _, bad := range []sse.Event{{Event: "a\nb"}, {Event: "a\rb"}, {ID: "1\n"}, {ID: "1\x00"}, {Retry: -1}} {
		_, err := sse.AppendEvent(nil, bad)
		require.ErrorIs(t, err, sse.ErrInvalidEvent, "%+v", bad)
	}
}

func TestAppendDataAndComment(t *testing.T) {
	require.Equal(t, "data: [DONE]\n\n", string(sse.AppendData(nil, []byte("[DONE]"))))
	require.Equal(t, "data: {\ndata:   \"a\": 1\ndata: }\n\n", string(sse.AppendData(nil, []byte("{\n  \"a\": 1\n}"))))
	require.Equal(t, ": ping\n\n", string(sse.AppendComment(nil, "ping")))
	require.Equal(t, ":\n\n", string(sse.AppendComment(nil, "")))
	require.Equal(t, ": a\n: b\n\n", string(sse.AppendComment(nil, "a\r\nb")))
	got, err := readAll(sse.NewReader(strings.NewReader(": a\n: b\n\n")))
	require.NoError(t, err)
	require.Empty(t, got)
}

// flushRecorder counts writes and flushes.
type flushRecorder struct {
	bytes.Buffer
	writes, flushes int
}

func (f *flushRecorder) Write(p []byte) (int, error) {
	f.writes++
	return f.Buffer.Write(p)
}

func (f *flushRecorder) Flush() { f.flushes++ }

type flushErrorWriter struct{ bytes.Buffer }

func (*flushErrorWriter) FlushError() error { return errors.New("client gone") }

func TestWriteFlushes(t *testing.T) {
	var w flushRecorder
	require.NoError(t, sse.Write(&w, sse.Event{Event: "a", Data: "1\n2"}))
	require.NoError(t, sse.WriteData(&w, []byte("[DONE]")))
	require.Equal(t, "event: a\ndata: 1\ndata: 2\n\ndata: [DONE]\n\n", w.String())
	require.Equal(t, 2, w.writes, "one Write per event")
	require.Equal(t, 2, w.flushes)

	rec := httptest.NewRecorder()
	require.NoError(t, sse.WriteData(rec, []byte("x")))
	require.True(t, rec.Flushed)

	require.EqualError(t, sse.WriteData(&flushErrorWriter{}, []byte("x")), "client gone")
	require.ErrorIs(t, sse.Write(&w, sse.Event{ID: "a\nb"}), sse.ErrInvalidEvent)

	var plain bytes.Buffer
	require.NoError(t, sse.WriteData(&plain, []byte("x")))
	require.Equal(t, "data: x\n\n", plain.String())
}
