package unmask

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tollgate-ai/tollgate/internal/pii"
)

// Counts is what a Rewriter changed, for metrics and logs: numbers only.
type Counts struct {
	// Restored counts placeholders put back, by the type they name.
	Restored map[pii.Type]int
	// Redacted counts values the model wrote, by type.
	Redacted map[pii.Type]int
}

// Rewriter rewrites the text of one answer: it redacts the personal data
// the model wrote itself and puts back the values the placeholders stand
// for, in that order, so that a restored value is never redacted. It is
// not safe for concurrent use: make one per request.
type Rewriter struct {
	restore    map[string]string
	scanner    *pii.Scanner
	pem        bool // redacting secrets: hold private-key blocks whole
	lookBehind int
	counts     Counts
}

// New returns the Rewriter of a hand-off, with its answer scanner from
// scanners (compiled once per distinct configuration).
func New(h *HandOff, scanners *Scanners) (*Rewriter, error) {
	r := &Rewriter{restore: h.Restore, lookBehind: h.LookBehind}
	if r.lookBehind == 0 {
		r.lookBehind = DefaultLookBehind
	}
	if h.Redact != nil {
		s, err := scanners.Get(h.Redact)
		if err != nil {
			return nil, err
		}
		r.scanner = s
		r.pem = len(h.Redact.Types) == 0 || slices.Contains(h.Redact.Types, pii.Secret)
	}
	return r, nil
}

// Counts returns what the Rewriter has changed so far.
func (r *Rewriter) Counts() Counts { return r.counts }

// Text rewrites a whole text and counts what it changed.
func (r *Rewriter) Text(s string) string { return r.text(s, false, true) }

// text rewrites s. In JSON mode s is JSON text (tool-call arguments), so a
// restored value is written JSON-escaped.
func (r *Rewriter) text(s string, inJSON, count bool) string {
	if r.scanner != nil {
		if fs := r.scanner.Scan(s); len(fs) > 0 {
			var b strings.Builder
			b.Grow(len(s))
			prev := 0
			for _, f := range fs {
				b.WriteString(s[prev:f.Start])
				b.WriteString("[" + string(f.Type) + "]")
				prev = f.End
				if count {
					if r.counts.Redacted == nil {
						r.counts.Redacted = map[pii.Type]int{}
					}
					r.counts.Redacted[f.Type]++
				}
			}
			b.WriteString(s[prev:])
			s = b.String()
		}
	}
	if len(r.restore) == 0 || strings.IndexByte(s, '<') < 0 {
		return s
	}
	var b strings.Builder
	prev := 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		i += j
		end := strings.IndexByte(s[i:min(len(s), i+MaxPlaceholder)], '>')
		if end < 0 {
			i++
			continue
		}
		v, ok := r.restore[s[i:i+end+1]]
		if !ok {
			i++
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s) + len(v))
		}
		b.WriteString(s[prev:i])
		if inJSON {
			v = jsonEscape(v)
		}
		b.WriteString(v)
		i += end + 1
		prev = i
		if count {
			if r.counts.Restored == nil {
				r.counts.Restored = map[pii.Type]int{}
			}
			r.counts.Restored[placeholderType(s[i-end-1:i])]++
		}
	}
	if prev == 0 {
		return s
	}
	b.WriteString(s[prev:])
	return b.String()
}

// placeholderType is the type a placeholder names: EMAIL for <EMAIL_1>.
func placeholderType(p string) pii.Type {
	body := p[1 : len(p)-1]
	if u := strings.LastIndexByte(body, '_'); u > 0 {
		body = body[:u]
	}
	return pii.Type(body)
}

// Scanners compiles answer scanners once per distinct configuration and
// keeps the most recent ones, so that egress does not compile detectors
// for every request. It is safe for concurrent use.
type Scanners struct {
	mu    sync.Mutex
	max   int
	m     map[string]*pii.Scanner
	order []string
}

// NewScanners keeps up to max compiled scanners (64 when max ≤ 0).
func NewScanners(max int) *Scanners {
	if max <= 0 {
		max = 64
	}
	return &Scanners{max: max, m: map[string]*pii.Scanner{}}
}

// Get returns the scanner of a redaction configuration.
func (c *Scanners) Get(r *Redact) (*pii.Scanner, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode redaction config: %w", err)
	}
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	s := c.m[key]
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err = pii.New(r.config())
	if err != nil {
		return nil, fmt.Errorf("answer redaction: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		if len(c.order) >= c.max {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
		c.m[key] = s
		c.order = append(c.order, key)
	}
	return s, nil
}
