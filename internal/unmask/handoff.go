package unmask

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgate-ai/tollgate/internal/pii"
	"github.com/tollgate-ai/tollgate/internal/seal"
)

// Header carries tollgate-pii-mask's sealed hand-off to egress; Purpose is
// its seal purpose, so that no other sealed value opens as one.
const (
	Header  = "X-Tollgate-PII"
	Purpose = "x-tollgate-pii"
)

// HandOffVersion is the version of the HandOff encoding.
const HandOffVersion = 1

// Look-behind bounds of a stream, in bytes.
const (
	DefaultLookBehind = 1024
	MinLookBehind     = 64
	MaxLookBehind     = 65536
)

// HandOff is what the request side tells the response side about one
// request. It holds the values the placeholders stand for, so it only ever
// travels sealed and is never stored or logged.
type HandOff struct {
	V int `json:"v"`
	// Restore maps each placeholder put in the prompt (such as <EMAIL_1>)
	// to the value it stands for.
	Restore map[string]string `json:"restore,omitempty"`
	// Redact, when set, redacts personal data the model wrote itself.
	Redact *Redact `json:"redact,omitempty"`
	// LookBehind bounds the text a stream holds back while it waits to see
	// whether a placeholder or a value is complete; 0 means
	// DefaultLookBehind.
	LookBehind int `json:"look_behind,omitempty"`
}

// Redact is the detector configuration for the answer: the built-in types
// to redact (all when empty), the phone region, values never to touch and
// custom entities, as in pii.Config.
type Redact struct {
	Types         []pii.Type         `json:"types,omitempty"`
	DefaultRegion string             `json:"default_region,omitempty"`
	AllowValues   []string           `json:"allow_values,omitempty"`
	Custom        []pii.CustomEntity `json:"custom,omitempty"`
}

func (r *Redact) config() pii.Config {
	return pii.Config{Types: r.Types, DefaultRegion: r.DefaultRegion, AllowValues: r.AllowValues, Custom: r.Custom}
}

// Active reports whether the hand-off asks the response side to do
// anything.
func (h *HandOff) Active() bool { return h != nil && (len(h.Restore) > 0 || h.Redact != nil) }

// Seal seals h for the request id, valid for ttl.
func Seal(kr *seal.Keyring, requestID string, h *HandOff, ttl time.Duration) (string, error) {
	h.V = HandOffVersion
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode pii hand-off: %w", err)
	}
	return kr.Seal(Purpose, requestID, b, ttl)
}

// Open opens a sealed hand-off for the request id.
func Open(kr *seal.Keyring, requestID, value string) (*HandOff, error) {
	b, err := kr.Open(Purpose, requestID, value)
	if err != nil {
		return nil, fmt.Errorf("open pii hand-off: %w", err)
	}
	var h HandOff
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("decode pii hand-off: %w", err)
	}
	if h.V != HandOffVersion {
		return nil, fmt.Errorf("pii hand-off version %d is not %d", h.V, HandOffVersion)
	}
	if h.LookBehind != 0 && (h.LookBehind < MinLookBehind || h.LookBehind > MaxLookBehind) {
		return nil, fmt.Errorf("pii hand-off look-behind %d is out of range", h.LookBehind)
	}
	for k := range h.Restore {
		if !IsPlaceholder(k) {
			return nil, fmt.Errorf("pii hand-off has a malformed placeholder")
		}
	}
	return &h, nil
}

// MaxPlaceholder is the longest placeholder, in bytes.
const MaxPlaceholder = 64

// Placeholder is the placeholder of the n-th distinct value of a type in
// one request: <EMAIL_1>, <CREDIT_CARD_2>. Types are upper-case names of
// letters, digits and underscores.
func Placeholder(t pii.Type, n int) string { return fmt.Sprintf("<%s_%d>", t, n) }

// IsPlaceholder reports whether s has the shape Placeholder makes.
func IsPlaceholder(s string) bool {
	if len(s) < 5 || len(s) > MaxPlaceholder || s[0] != '<' || s[len(s)-1] != '>' {
		return false
	}
	body := s[1 : len(s)-1]
	us := -1
	for i := len(body) - 1; i >= 0; i-- {
		if body[i] == '_' {
			us = i
			break
		}
	}
	if us < 1 || us == len(body)-1 || body[us+1] == '0' {
		return false
	}
	for i := us + 1; i < len(body); i++ {
		if body[i] < '0' || body[i] > '9' {
			return false
		}
	}
	if body[0] < 'A' || body[0] > 'Z' {
		return false
	}
	for i := 0; i < us; i++ {
		if !placeholderByte(body[i]) {
			return false
		}
	}
	return true
}

func placeholderByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
