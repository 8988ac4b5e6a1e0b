package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPIIScanPrintsSpansNotValues(t *testing.T) {
	text := "Mail jane.doe@example.com, card 4111 1111 1111 1111, order 1234-5678."
	var out, errb bytes.Buffer
	code := piiCmd{strings.NewReader(text), &out, &errb}.main(context.Background(), []string{"scan"})
	require.Equal(t, 0, code, errb.String())
	require.NotContains(t, out.String(), "jane.doe", "values are never printed")
	var got struct {
		Findings []struct {
			Type       string
			Start, End int
		}
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got.Findings, 2, "the order number is not PII")
	require.Equal(t, "EMAIL", got.Findings[0].Type)
	require.Equal(t, "jane.doe@example.com", text[got.Findings[0].Start:got.Findings[0].End])
	require.Equal(t, "CREDIT_CARD", got.Findings[1].Type)

	out.Reset()
	code = piiCmd{strings.NewReader(text), &out, &errb}.main(context.Background(), []string{"scan", "--types", "credit_card"})
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got.Findings, 1)
	require.Equal(t, 2, piiCmd{strings.NewReader(""), &out, &errb}.main(context.Background(), nil))
}
