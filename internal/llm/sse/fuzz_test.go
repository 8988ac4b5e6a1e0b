package sse_test

import (
	"bytes"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/llm/sse"
)

// FuzzReader reads any input. Invariants: Next never panics and ends with
// io.EOF or ErrEventTooLarge; event fields are valid UTF-8 and Event has no
// line break; reading one byte per Read gives the same events; each Raw
// reads back alone as its event; and writing the events with AppendEvent
// and reading them back gives the same events (IDs and retry times persist
// across events on both sides).
func FuzzReader(f *testing.F) {
	const limit = 512
	f.Fuzz(func(t *testing.T, in []byte) {
		r := sse.NewReader(bytes.NewReader(in))
		r.MaxEventSize = limit
		events, err := readAll(r)
		if err != nil {
			require.ErrorIs(t, err, sse.ErrEventTooLarge)
		}
		for _, e := range events {
			require.True(t, utf8.ValidString(e.Data) && utf8.ValidString(e.Event) && utf8.ValidString(e.ID))
			require.NotContains(t, e.Event, "\n")
			require.NotContains(t, e.Event, "\r")
			require.NotContains(t, e.ID, "\x00")
			require.LessOrEqual(t, len(e.Raw), limit)
			require.GreaterOrEqual(t, e.Retry, 0)

			back, err := readAll(sse.NewReader(bytes.NewReader(e.Raw)))
			require.NoError(t, err)
			require.Len(t, back, 1, "%q", e.Raw)
			require.Equal(t, e.Event, back[0].Event)
			require.Equal(t, e.Data, back[0].Data)
		}

		slow := sse.NewReader(iotest.OneByteReader(bytes.NewReader(in)))
		slow.MaxEventSize = limit
		slowEvents, slowErr := readAll(slow)
		if err == nil && slowErr == nil {
			require.Equal(t, strip(events), strip(slowEvents))
		} else {
			// A CRLF split across reads may count its LF in another block,
			// so the limit can cut the stream one event apart.
			n := min(len(events), len(slowEvents))
			require.Equal(t, strip(events[:n]), strip(slowEvents[:n]))
			require.LessOrEqual(t, len(events)-n+len(slowEvents)-n, 1)
		}

		var wire []byte
		for _, e := range events {
			wire, err = sse.AppendEvent(wire, e)
			require.NoError(t, err)
		}
		back, err := readAll(sse.NewReader(bytes.NewReader(wire)))
		require.NoError(t, err)
		require.Len(t, back, len(events), "%q", wire)
		id, retry := "", 0
		for i, e := range events {
			if e.ID != "" {
				id = e.ID
			}
			if e.Retry > 0 {
				retry = e.Retry
			}
			require.Equal(t, e.Event, back[i].Event)
			require.Equal(t, e.Data, back[i].Data)
			require.Equal(t, id, back[i].ID)
			require.Equal(t, retry, back[i].Retry)
		}
		if len(events) > 0 {
			require.True(t, bytes.HasSuffix(wire, []byte("\n\n")))
		}
	})
}
