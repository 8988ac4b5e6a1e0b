// Package presidio is a client for Microsoft Presidio Analyzer's REST API
// (POST /analyze), which finds names, places and other entities that need
// a language model rather than a pattern. tollgate-pii-mask merges its
// findings with the built-in detectors of package pii.
//
// Presidio reports offsets as Python string indices, that is in Unicode
// code points; Analyze converts them to byte offsets of the Go string and
// rejects results that fall outside the text. Errors name the status or
// the cause, never the text or the analyzer's reply.
package presidio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tollgate-ai/tollgate/internal/pii"
)

// ErrUnavailable is wrapped by errors that mean the analyzer could not do
// its job (unreachable, timed out, failing or answering nonsense), so that
// a caller can fail open or closed.
var ErrUnavailable = errors.New("presidio analyzer unavailable")

// StatusError is an answer with a status other than 200.
type StatusError struct{ Status int }

func (e *StatusError) Error() string { return fmt.Sprintf("presidio analyzer answered %d", e.Status) }

// Unwrap makes every StatusError an ErrUnavailable.
func (e *StatusError) Unwrap() error { return ErrUnavailable }

// MaxResponse bounds the answer read, in bytes.
const MaxResponse = 8 << 20

// Options configure a Client.
type Options struct {
	// URL is the analyzer's base URL, such as http://presidio:3000.
	URL string
	// Timeout bounds one call (default 2 s).
	Timeout time.Duration
	// Language is the text's language (default "en").
	Language string
	// ScoreThreshold drops weaker results on the analyzer's side when > 0.
	ScoreThreshold float64
	// Entities limits the entity types asked for; empty asks for all.
	Entities []string
	// Header is added to every call (an authorization header, say).
	Header http.Header
	// HTTPClient makes the calls (default: one with pooled connections).
	HTTPClient *http.Client
}

// Client calls one analyzer. It is safe for concurrent use.
type Client struct {
	endpoint string
	opts     Options
	hc       *http.Client
}

// New returns a Client.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("presidio: url must be an http or https URL")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Language == "" {
		opts.Language = "en"
	}
	hc := opts.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		// No redirects: a redirect must not send the text anywhere else.
		hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Client{endpoint: strings.TrimRight(opts.URL, "/") + "/analyze", opts: opts, hc: hc}, nil
}

type request struct {
	Text           any      `json:"text"` // a string, or a list of strings for a batch
	Language       string   `json:"language"`
	Entities       []string `json:"entities,omitempty"`
	ScoreThreshold float64  `json:"score_threshold,omitempty"`
}

// result is one recognizer result as Presidio writes it.
type result struct {
	EntityType string   `json:"entity_type"`
	Start      *int     `json:"start"`
	End        *int     `json:"end"`
	Score      *float64 `json:"score"`
}

// Analyze returns the analyzer's findings in text, with byte offsets,
// sorted by start and without overlaps (the longest wins, then the higher
// score). Types are Presidio's names, those Tollgate has built in mapped
// onto Tollgate's (Canonical).
func (c *Client) Analyze(ctx context.Context, text string) ([]pii.Finding, error) {
	if text == "" {
		return nil, nil // Presidio refuses an empty text; there is nothing to find
	}
	b, err := c.call(ctx, text)
	if err != nil {
		return nil, err
	}
	return Decode(b, text)
}

// AnalyzeBatch analyzes several texts in one call (Presidio's batch form,
// text as a list) and returns the findings of each, as Analyze would.
func (c *Client) AnalyzeBatch(ctx context.Context, texts []string) ([][]pii.Finding, error) {
	out := make([][]pii.Finding, len(texts))
	var ask []string
	var at []int
	for i, t := range texts {
		if t != "" {
			ask = append(ask, t)
			at = append(at, i)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	b, err := c.call(ctx, ask)
	if err != nil {
		return nil, err
	}
	var lists []json.RawMessage
	if err := json.Unmarshal(b, &lists); err != nil || len(lists) != len(ask) {
		return nil, fmt.Errorf("%w: batch answer is not one list per text", ErrUnavailable)
	}
	for k, raw := range lists {
		fs, err := Decode(raw, ask[k])
		if err != nil {
			return nil, err
		}
		out[at[k]] = fs
	}
	return out, nil
}

// call posts text (a string or a list) and returns the 200 answer's body.
func (c *Client) call(ctx context.Context, text any) ([]byte, error) {
	body, err := json.Marshal(request{Text: text, Language: c.opts.Language, Entities: c.opts.Entities, ScoreThreshold: c.opts.ScoreThreshold})
	if err != nil {
		return nil, fmt.Errorf("presidio: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("presidio: build request: %w", err)
	}
	for k, v := range c.opts.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, callError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read answer: %w", ErrUnavailable, callError(err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Status: resp.StatusCode}
	}
	if len(b) > MaxResponse {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrUnavailable, MaxResponse)
	}
	return b, nil
}

// callError keeps the cause of a failed call without its URL.
func callError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Decode reads an /analyze answer for text.
func Decode(b []byte, text string) ([]pii.Finding, error) {
	var rs []result
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%w: answer is not a list of results", ErrUnavailable)
	}
	// Code point offsets to byte offsets, in one pass over the text.
	n := utf8.RuneCountInString(text)
	var byteAt []int
	if n != len(text) {
		byteAt = make([]int, 0, n+1)
		for i := range text {
			byteAt = append(byteAt, i)
		}
		byteAt = append(byteAt, len(text))
	}
	out := make([]pii.Finding, 0, len(rs))
	for i, r := range rs {
		if r.EntityType == "" || r.Start == nil || r.End == nil || r.Score == nil {
			return nil, fmt.Errorf("%w: result %d lacks entity_type, start, end or score", ErrUnavailable, i)
		}
		s, e := *r.Start, *r.End
		if s < 0 || e > n || s >= e {
			return nil, fmt.Errorf("%w: result %d is outside the text", ErrUnavailable, i)
		}
		if byteAt != nil {
			s, e = byteAt[s], byteAt[e]
		}
		out = append(out, pii.Finding{Type: Canonical(r.EntityType, text[s:e]), Start: s, End: e, Score: *r.Score})
	}
	return Resolve(out), nil
}

// Resolve sorts findings by start and drops overlaps: of overlapping
// findings the longest wins, then the higher score, as pii.Scanner does.
func Resolve(fs []pii.Finding) []pii.Finding {
	slices.SortStableFunc(fs, func(a, b pii.Finding) int {
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return lb - la
		}
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return a.Start - b.Start
	})
	var kept []pii.Finding
	for _, f := range fs {
		overlaps := false
		for _, k := range kept {
			if f.Start < k.End && k.Start < f.End {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, f)
		}
	}
	slices.SortFunc(kept, func(a, b pii.Finding) int { return a.Start - b.Start })
	return kept
}

// Canonical maps Presidio's names of the types Tollgate has built in onto
// Tollgate's (EMAIL_ADDRESS is EMAIL, IP_ADDRESS is IPV4 or IPV6 by its
// span), so that one action applies whoever found the value. Other names
// (PERSON, LOCATION, …) stay as they are.
func Canonical(entityType, span string) pii.Type {
	switch entityType {
	case "EMAIL_ADDRESS":
		return pii.Email
	case "PHONE_NUMBER":
		return pii.Phone
	case "IBAN_CODE":
		return pii.IBAN
	case "IP_ADDRESS":
		if strings.Contains(span, ":") {
			return pii.IPv6
		}
		return pii.IPv4
	}
	return pii.Type(entityType)
}
