package pii

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Type names a kind of personal or secret data.
type Type string

// Built-in detector types.
const (
	Email          Type = "EMAIL"
	Phone          Type = "PHONE"
	CreditCard     Type = "CREDIT_CARD"
	USSSN          Type = "US_SSN"
	IBAN           Type = "IBAN"
	IPv4           Type = "IPV4"
	IPv6           Type = "IPV6"
	MAC            Type = "MAC"
	AWSAccessKey   Type = "AWS_ACCESS_KEY"
	Secret         Type = "SECRET"
	JWT            Type = "JWT"
	URLCredentials Type = "URL_CREDENTIALS"
)

// Types lists every built-in type in a stable order.
func Types() []Type {
	return []Type{Email, Phone, CreditCard, USSSN, IBAN, IPv4, IPv6, MAC, AWSAccessKey, Secret, JWT, URLCredentials}
}

// Finding is one detected span. It never carries the matched text: callers
// slice their own input with Start and End (byte offsets, End exclusive).
type Finding struct {
	Type  Type
	Start int
	End   int
	Score float64
}

// CustomEntity is a user-defined detector: a RE2 pattern, a list of words
// matched case-insensitively on word boundaries, or both.
type CustomEntity struct {
	Name    string
	Pattern string
	Words   []string
}

// Config selects and tunes detectors.
type Config struct {
	// Types enables built-in detectors; empty enables all. Custom entities are
	// always enabled.
	Types []Type
	// DefaultRegion is the CLDR region used to parse phone numbers written
	// without a leading '+'; empty means "US".
	DefaultRegion string
	// AllowValues are never reported (compared exactly and case-insensitively).
	AllowValues []string
	// Custom adds user-defined detectors.
	Custom []CustomEntity
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("pii config")

type custom struct {
	typ Type
	re  *regexp.Regexp
}

// Scanner holds compiled detectors. It is safe for concurrent use.
type Scanner struct {
	enabled [numTypes]bool
	region  string
	allow   map[string]struct{}
	// natLen[n] is true when n digits can be a national number of region,
	// with or without its trunk prefix: a cheap filter before libphonenumber.
	natLen [20]bool
	nanp   bool
	// phonePlan is the default region's compiled phone metadata.
	phonePlan *phonePlan
	custom    []custom
}

const numTypes = 12

func typeIndex(t Type) int {
	for i, b := range Types() {
		if b == t {
			return i
		}
	}
	return -1
}

const (
	idxEmail = iota
	idxPhone
	idxCard
	idxSSN
	idxIBAN
	idxIPv4
	idxIPv6
	idxMAC
	idxAWS
	idxSecret
	idxJWT
	idxURLCred
)

// New validates cfg and compiles a Scanner. Errors name the offending field
// but never echo configured allow-list values.
func New(cfg Config) (*Scanner, error) {
	var errs []error
	s := &Scanner{region: strings.ToUpper(strings.TrimSpace(cfg.DefaultRegion))}
	if s.region == "" {
		s.region = "US"
	}
	if phonenumbers.GetCountryCodeForRegion(s.region) == 0 {
		errs = append(errs, fmt.Errorf("%w: default_region: unknown region %q", ErrConfig, s.region))
	}
	// libphonenumber keeps its length tables private; NANP is the one plan
	// common enough to be worth a hand-written filter.
	s.nanp = phonenumbers.GetCountryCodeForRegion(s.region) == 1
	s.phonePlan = regionPlan(s.region)
	for n := 6; n <= 15; n++ {
		s.natLen[n] = phonenumbers.GetCountryCodeForRegion(s.region) != 1 || n == 10 || n == 11
	}
	if len(cfg.Types) == 0 {
		for i := range s.enabled {
			s.enabled[i] = true
		}
	}
	for i, t := range cfg.Types {
		idx := typeIndex(t)
		if idx < 0 {
			errs = append(errs, fmt.Errorf("%w: types[%d]: unknown type %q", ErrConfig, i, t))
			continue
		}
		s.enabled[idx] = true
	}
	if len(cfg.AllowValues) > 0 {
		s.allow = make(map[string]struct{}, 2*len(cfg.AllowValues))
		for _, v := range cfg.AllowValues {
			s.allow[v] = struct{}{}
			s.allow[strings.ToLower(v)] = struct{}{}
		}
	}
	seen := map[string]bool{}
	for i, c := range cfg.Custom {
		name := strings.TrimSpace(c.Name)
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("%w: custom[%d].name: must not be empty", ErrConfig, i))
			continue
		case typeIndex(Type(name)) >= 0:
			errs = append(errs, fmt.Errorf("%w: custom[%d].name: %q is a built-in type", ErrConfig, i, name))
			continue
		case seen[name]:
			errs = append(errs, fmt.Errorf("%w: custom[%d].name: duplicate %q", ErrConfig, i, name))
			continue
		}
		seen[name] = true
		if c.Pattern == "" && len(c.Words) == 0 {
			errs = append(errs, fmt.Errorf("%w: custom[%d]: needs a pattern or words", ErrConfig, i))
			continue
		}
		if c.Pattern != "" {
			re, err := regexp.Compile(c.Pattern)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: custom[%d].pattern: %w", ErrConfig, i, err))
			} else {
				s.custom = append(s.custom, custom{typ: Type(name), re: re})
			}
		}
		if len(c.Words) > 0 {
			alts := make([]string, 0, len(c.Words))
			for j, w := range c.Words {
				if strings.TrimSpace(w) == "" {
					errs = append(errs, fmt.Errorf("%w: custom[%d].words[%d]: must not be empty", ErrConfig, i, j))
					continue
				}
				alts = append(alts, regexp.QuoteMeta(w))
			}
			// Longest first so the alternation prefers "acme corp" over "acme".
			slices.SortFunc(alts, func(a, b string) int { return len(b) - len(a) })
			if len(alts) > 0 {
				re, err := regexp.Compile(`(?i)(?:^|\b)(?:` + strings.Join(alts, "|") + `)(?:\b|$)`)
				if err != nil {
					errs = append(errs, fmt.Errorf("%w: custom[%d].words: %w", ErrConfig, i, err))
				} else {
					s.custom = append(s.custom, custom{typ: Type(name), re: re})
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Scan reports findings in text sorted by Start. Findings never overlap: of
// overlapping candidates the longest wins, then the highest score.
func (s *Scanner) Scan(text string) []Finding {
	st := scanState{s: s, text: text}
	st.run()
	for _, c := range s.custom {
		score := 0.85
		for _, m := range c.re.FindAllStringIndex(text, -1) {
			if m[1] > m[0] {
				st.add(c.typ, m[0], m[1], score)
			}
		}
	}
	return resolve(st.cands)
}

func (s *Scanner) nationalLength(n int) bool { return n >= 0 && n < len(s.natLen) && s.natLen[n] }

// resolve drops overlapping candidates in one sweep over them sorted by
// start: a candidate that overlaps the last kept one replaces it when it is
// longer, or as long with a higher score. Kept spans are disjoint, so the
// replacement cannot collide with anything kept earlier.
func resolve(c []Finding) []Finding {
	if len(c) <= 1 {
		return c
	}
	slices.SortFunc(c, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return (b.End - b.Start) - (a.End - a.Start)
	})
	out := c[:1]
	for _, f := range c[1:] {
		last := &out[len(out)-1]
		if f.Start >= last.End {
			out = append(out, f)
			continue
		}
		if lf, ll := f.End-f.Start, last.End-last.Start; lf > ll || lf == ll && f.Score > last.Score {
			*last = f
		}
	}
	return out
}
