package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tollgate-ai/tollgate/internal/pii"
)

// piiCmd is `tollgate pii scan`: the findings of the PII detectors on
// text from stdin, as JSON spans (type, start, end, score), never values.
type piiCmd struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (c piiCmd) main(_ context.Context, args []string) int {
	if len(args) == 0 || args[0] != "scan" {
		fmt.Fprintln(c.stderr, "Usage: tollgate pii scan [--types EMAIL,PHONE,…] [--region US] < text")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return 0
		}
		return 2
	}
	fs := flag.NewFlagSet("tollgate pii scan", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	types := fs.String("types", "", "comma-separated entity types (default: all)")
	region := fs.String("region", "US", "default region for phone numbers without a country code")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := pii.Config{DefaultRegion: *region}
	for _, t := range strings.Split(*types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.Types = append(cfg.Types, pii.Type(strings.ToUpper(t)))
		}
	}
	sc, err := pii.New(cfg)
	if err != nil {
		fmt.Fprintln(c.stderr, "tollgate:", err)
		return 1
	}
	text, err := io.ReadAll(io.LimitReader(c.stdin, 64<<20))
	if err != nil {
		fmt.Fprintln(c.stderr, "tollgate: read stdin:", err)
		return 1
	}
	type span struct {
		Type  pii.Type `json:"type"`
		Start int      `json:"start"`
		End   int      `json:"end"`
		Score float64  `json:"score"`
	}
	out := struct {
		Findings []span `json:"findings"`
	}{Findings: []span{}}
	for _, f := range sc.Scan(string(text)) {
		out.Findings = append(out.Findings, span{f.Type, f.Start, f.End, f.Score})
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(c.stderr, "tollgate:", err)
		return 1
	}
	return 0
}
