package guard

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// Rule is one allow or deny rule.
type Rule struct {
	// Name identifies the rule in verdicts and errors; it is required and
	// unique within a RuleSet.
	Name string
	// Patterns are RE2 expressions ([regexp] syntax). They match the
	// normalized view, case-insensitively, unless CaseSensitive.
	Patterns []string
	// Phrases are literals matched on the folded view at word boundaries
	// (so "ignore the rules" also catches "IGN0RE  the ru1es").
	Phrases []string
	// Roles limits the rule to messages of these roles (within the set's
	// checked roles); empty means every checked role.
	Roles []string
	// CaseSensitive makes Patterns match the raw text, unnormalized and
	// case-sensitive. Phrases are always folded.
	CaseSensitive bool
}

// RuleSet is the configuration [Compile] takes.
type RuleSet struct {
	Allow, Deny []Rule
	// CheckHistory checks every message of the checked roles; false
	// checks only the last of them (Kong ai-prompt-guard's
	// match_all_conversation_history = false).
	CheckHistory bool
	// Roles are the roles whose messages are checked; empty means user.
	Roles []string
	// Detector, when set, scores each checked message; a flagged one is
	// denied after the deny rules and before the allow rules.
	Detector *Detector
}

// Verdict is the result of [Rules.Check]. It never holds prompt text.
type Verdict struct {
	Allowed bool
	// Rule names the rule that decided: a deny rule, an allow rule,
	// DetectorRule, or "" when no rule matched.
	Rule string
	// Reason is a short fixed explanation fit for a client error.
	Reason string
	// Score and Categories are the detector's finding on the message that
	// was denied, when the detector decided.
	Score      float64
	Categories []Category
}

// DetectorRule is the Verdict.Rule of a denial by the detector.
const DetectorRule = "injection_detector"

// Rules is a compiled RuleSet. It is safe for concurrent use.
type Rules struct {
	rules        []compiledRule // deny rules first, then allow rules
	nDeny        int
	phrases      *phraseSet // owners index rules
	lits         *acMatcher // pattern literals, then the detector's triggers
	litOwner     []int      // by literal id below len: index in the flat list of patterns
	nPatterns    int
	roles        roleMask
	checkHistory bool
	det          *Detector
	pool         sync.Pool // *scratch
}

type compiledRule struct {
	name     string
	res      []*regexp.Regexp
	pfs      []prefilter // per pattern
	first    int         // index of its first pattern in the flat list
	raw      bool
	roles    roleMask
	hasPhras bool
}

type roleMask uint8

var roleBits = map[llm.Role]roleMask{
	llm.RoleSystem: 1, llm.RoleDeveloper: 2, llm.RoleUser: 4,
	llm.RoleAssistant: 8, llm.RoleTool: 16, llm.RoleFunction: 32,
}

func parseRoles(roles []string, def roleMask) (roleMask, error) {
	if len(roles) == 0 {
		return def, nil
	}
	var m roleMask
	for _, r := range roles {
		b, ok := roleBits[llm.Role(r)]
		if !ok {
			return 0, fmt.Errorf("unknown role %q", r)
		}
		m |= b
	}
	return m, nil
}

// Compile validates and compiles a RuleSet. Errors name the rule and the
// index of the pattern or phrase at fault, all of them joined.
func Compile(rs RuleSet) (*Rules, error) {
	roles, err := parseRoles(rs.Roles, roleBits[llm.RoleUser])
	if err != nil {
		return nil, fmt.Errorf("compile rules: roles: %w", err)
	}
	r := &Rules{roles: roles, checkHistory: rs.CheckHistory, det: rs.Detector, nDeny: len(rs.Deny)}
	var errs []error
	var n Normalizer
	var folded []string
	var owners []int32
	seen := map[string]bool{}
	var lits []string
	for i, rule := range append(append([]Rule(nil), rs.Deny...), rs.Allow...) {
		where := fmt.Sprintf("deny[%d]", i)
		if i >= len(rs.Deny) {
			where = fmt.Sprintf("allow[%d]", i-len(rs.Deny))
		}
		if rule.Name != "" {
			where = fmt.Sprintf("rule %q", rule.Name)
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("compile rules: "+where+": "+format, args...))
		}
		switch {
		case rule.Name == "":
			bad("name is required")
		case seen[rule.Name]:
			bad("name is used twice")
		}
		seen[rule.Name] = true
		if len(rule.Patterns) == 0 && len(rule.Phrases) == 0 {
			bad("has no patterns and no phrases")
		}
		cr := compiledRule{name: rule.Name, raw: rule.CaseSensitive, hasPhras: len(rule.Phrases) > 0, first: r.nPatterns}
		if cr.roles, err = parseRoles(rule.Roles, roles); err != nil {
			bad("roles: %w", err)
		}
		for k, p := range rule.Patterns {
			if p == "" {
				bad("pattern %d: is empty", k)
				continue
			}
			src := p
			if !rule.CaseSensitive {
				src, err = lowerPattern(p)
				if err != nil {
					bad("pattern %d: %w", k, err)
					continue
				}
			}
			re, err := regexp.Compile(src)
			if err != nil {
				bad("pattern %d: %w", k, err)
				continue
			}
			cr.res = append(cr.res, re)
			pf := newPrefilter(src)
			if pf.lit != nil && !rule.CaseSensitive {
				lits = append(lits, string(pf.lit))
				r.litOwner = append(r.litOwner, r.nPatterns)
			} else {
				pf.lit = nil
			}
			cr.pfs = append(cr.pfs, pf)
			r.nPatterns++
		}
		for k, p := range rule.Phrases {
			f := foldPhrase(&n, p)
			if f == "" {
				bad("phrase %d: has no letters or digits (use a pattern)", k)
				continue
			}
			folded = append(folded, f)
			owners = append(owners, int32(i))
		}
		r.rules = append(r.rules, cr)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r.phrases = newPhraseSet(folded, owners)
	// The detector's triggers are looked for on the same view: one pass
	// finds both.
	if r.det != nil {
		lits = append(lits, r.det.trigLits...)
	}
	r.lits = newACMatcher(lits)
	return r, nil
}

// lowerPattern rewrites a pattern to match lower-case text as if it were
// case-insensitive: its literals are lower-cased and its classes get both
// cases. Unlike a "(?i)" flag this keeps literal prefixes, which Go's
// regexp scans for quickly; the normalized view is lower case already.
func lowerPattern(p string) (string, error) {
	re, err := syntax.Parse(p, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return "", err
	}
	var walk func(*syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase != 0 {
			for i, r := range re.Rune {
				re.Rune[i] = unicode.ToLower(r)
			}
			re.Flags &^= syntax.FoldCase
		}
		for _, sub := range re.Sub {
			walk(sub)
		}
	}
	walk(re)
	return re.String(), nil
}

func (r *Rules) get() *scratch {
	if s, ok := r.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{sigs: map[int32]signal{}}
}

// Check decides on a request, with Kong ai-prompt-guard's semantics: the
// checked messages are those of the checked roles (only the last of them
// unless CheckHistory); any deny match denies; then the detector, if
// any; then, when there are allow rules, some checked message must match
// one of them. A request with nothing to check is allowed unless there
// are allow rules.
func (r *Rules) Check(req *llm.Request) Verdict {
	s := r.get()
	defer r.pool.Put(s)
	if cap(s.matched) < len(r.rules) {
		s.matched = make([]bool, len(r.rules))
	}
	s.matched = s.matched[:len(r.rules)]
	clear(s.matched)

	var msgs []llm.Message
	if req != nil {
		msgs = req.Messages
	}
	first := 0
	if !r.checkHistory {
		first = len(msgs)
		for i := len(msgs) - 1; i >= 0; i-- {
			if roleBits[msgs[i].Role]&r.roles != 0 {
				first = i
				msgs = msgs[:i+1]
				break
			}
		}
	}
	checked := 0
	var det Detection
	detRule := false
	for _, m := range msgs[first:] {
		bit := roleBits[m.Role]
		if bit&r.roles == 0 {
			continue
		}
		checked++
		raw := messageText(m)
		r.match(s, raw, bit)
		if r.det != nil && !detRule {
			if d := r.det.score(s, raw, s.norm, s.folded, s.marks); d.Flagged {
				det, detRule = d, true
			}
		}
	}
	for i := range r.nDeny {
		if s.matched[i] {
			return Verdict{Rule: r.rules[i].name, Reason: "prompt matches a deny rule"}
		}
	}
	if detRule {
		return Verdict{Rule: DetectorRule, Reason: "prompt looks like a prompt injection", Score: det.Score, Categories: det.Categories}
	}
	if r.nDeny == len(r.rules) {
		return Verdict{Allowed: true}
	}
	for i := r.nDeny; i < len(r.rules); i++ {
		if s.matched[i] {
			return Verdict{Allowed: true, Rule: r.rules[i].name}
		}
	}
	if checked == 0 {
		return Verdict{Reason: "no message to check against the allow rules"}
	}
	return Verdict{Reason: "prompt matches no allow rule"}
}

// messageText joins a message's texts. It is the message's only text in
// the common case, without copying.
func messageText(m llm.Message) string {
	var parts []string
	for _, p := range m.Parts {
		if p.Text != "" {
			parts = append(parts, p.Text)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, "\n")
}

// match marks in s.matched the rules that match one message, and leaves
// its views in s.norm and s.folded.
func (r *Rules) match(s *scratch, raw string, bit roleMask) {
	s.norm, s.folded = s.n.appendViews(s.norm[:0], s.folded[:0], raw)
	s.hits = r.phrases.matches(s.hits[:0], s.folded)
	for _, h := range s.hits {
		if i := r.phrases.owner[h.id]; r.rules[i].roles&bit != 0 {
			s.matched[i] = true
		}
	}
	if cap(s.fired) < r.nPatterns {
		s.fired = make([]bool, r.nPatterns)
	}
	s.fired = s.fired[:r.nPatterns]
	clear(s.fired)
	var nMarks int
	if r.det != nil {
		nMarks = len(r.det.markers)
	}
	if cap(s.marks) < nMarks {
		s.marks = make([]bool, nMarks)
	}
	s.marks = s.marks[:nMarks]
	clear(s.marks)
	s.hits = r.lits.appendHits(s.hits[:0], s.norm)
	for _, h := range s.hits {
		if k := int(h.id) - len(r.litOwner); k < 0 {
			s.fired[r.litOwner[h.id]] = true
		} else {
			s.marks[r.det.trigOwner[k]] = true
		}
	}
	for i := range r.rules {
		cr := &r.rules[i]
		if s.matched[i] || cr.roles&bit == 0 || (i >= r.nDeny && r.anyAllow(s)) {
			continue
		}
		for k, re := range cr.res {
			var ok bool
			if cr.raw {
				ok = cr.pfs[k].may(sbytes(raw)) && re.MatchString(raw)
			} else {
				pf := &cr.pfs[k]
				ok = (pf.lit == nil || s.fired[cr.first+k]) && pf.may(s.norm) && re.Match(s.norm)
			}
			if ok {
				s.matched[i] = true
				break
			}
		}
	}
}

// anyAllow reports whether an allow rule already matched, which settles
// the allow side.
func (r *Rules) anyAllow(s *scratch) bool {
	for i := r.nDeny; i < len(r.rules); i++ {
		if s.matched[i] {
			return true
		}
	}
	return false
}
