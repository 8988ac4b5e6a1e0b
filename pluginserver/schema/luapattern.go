package schema

import (
	"errors"
	"fmt"
)

// Kong's match, not_match, match_all, match_none and match_any validators
// call Lua's string.match, so their patterns are Lua patterns, not regular
// expressions. This is a port of the matcher of Lua 5.1's lstrlib.c (which
// LuaJIT follows) over bytes: classes %a %c %d %g %l %p %s %u %w %x %z and
// their upper-case complements in the C locale, '.', sets with ranges and
// classes, the quantifiers * + - ?, anchors ^ and $, captures with
// back-references %1-%9, %b and %f.
//
// Unlike Lua, a pattern is checked completely before matching (Lua reports
// a malformed pattern only when the matcher reaches the bad part), and a
// match that needs more than luaMaxSteps steps fails with an error instead
// of running for minutes.

const (
	luaMaxCaptures = 32
	luaMaxSteps    = 5_000_000
	capUnfinished  = -1
	capPosition    = -2
)

var errPatternTooComplex = errors.New("pattern too complex")

// luaPatternError is a malformed pattern, with Lua's message.
type luaPatternError struct{ msg string }

func (e *luaPatternError) Error() string { return e.msg }

// checkLuaPattern reports whether pat is a well-formed Lua pattern.
func checkLuaPattern(pat string) error {
	n := len(pat)
	p := 0
	if p < n && pat[p] == '^' {
		p++
	}
	var open []int // capture numbers still open
	closed := map[int]bool{}
	level := 0
	for p < n {
		switch c := pat[p]; {
		case c == 0:
			return &luaPatternError{"malformed pattern (contains a zero byte; use %z)"}
		case c == '(':
			if level == luaMaxCaptures {
				return &luaPatternError{"too many captures"}
			}
			level++
			if p+1 < n && pat[p+1] == ')' {
				closed[level] = true
				p += 2
				continue
			}
			open = append(open, level)
			p++
			continue
		case c == ')':
			if len(open) == 0 {
				return &luaPatternError{"invalid pattern capture"}
			}
			closed[open[len(open)-1]] = true
			open = open[:len(open)-1]
			p++
			continue
		case c == '%' && p+1 < n && pat[p+1] == 'b':
			if p+3 >= n {
				return &luaPatternError{"missing arguments to '%b'"}
			}
			p += 4
			continue
		case c == '%' && p+1 < n && pat[p+1] == 'f':
			p += 2
			if p >= n || pat[p] != '[' {
				return &luaPatternError{"missing '[' after '%f' in pattern"}
			}
			ep, err := luaClassEnd(pat, p)
			if err != nil {
				return err
			}
			p = ep
			continue
		case c == '%' && p+1 < n && isDigit(pat[p+1]):
			l := int(pat[p+1] - '0')
			if l == 0 || !closed[l] {
				return &luaPatternError{fmt.Sprintf("invalid capture index %%%d", l)}
			}
			p += 2
			continue
		case c == '$' && p+1 == n:
			p++
			continue
		}
		ep, err := luaClassEnd(pat, p)
		if err != nil {
			return err
		}
		p = ep
		if p < n && (pat[p] == '*' || pat[p] == '+' || pat[p] == '-' || pat[p] == '?') {
			p++
		}
	}
	if len(open) > 0 {
		return &luaPatternError{"unfinished capture"}
	}
	return nil
}

// luaClassEnd returns the index just past the single-character class at p.
func luaClassEnd(pat string, p int) (int, error) {
	n := len(pat)
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= n {
			return 0, &luaPatternError{"malformed pattern (ends with '%')"}
		}
		return p + 1, nil
	case '[':
		if p < n && pat[p] == '^' {
			p++
		}
		for {
			if p >= n {
				return 0, &luaPatternError{"malformed pattern (missing ']')"}
			}
			c := pat[p]
			p++
			if c == '%' {
				if p >= n {
					return 0, &luaPatternError{"malformed pattern (missing ']')"}
				}
				p++
			}
			if p >= n {
				return 0, &luaPatternError{"malformed pattern (missing ']')"}
			}
			if pat[p] == ']' {
				return p + 1, nil
			}
		}
	}
	return p, nil
}

// luaMatch reports whether string.match(s, pat) would find a match.
func luaMatch(s, pat string) (bool, error) {
	if err := checkLuaPattern(pat); err != nil {
		return false, err
	}
	return luaMatchChecked(s, pat)
}

// luaMatchChecked is luaMatch for a pattern checkLuaPattern accepted.
func luaMatchChecked(s, pat string) (matched bool, err error) {
	m := &luaMatcher{src: s, pat: pat}
	defer func() {
		if r := recover(); r != nil {
			if r != errPatternTooComplex {
				panic(r)
			}
			matched, err = false, errPatternTooComplex
		}
	}()
	p := 0
	anchor := len(pat) > 0 && pat[0] == '^'
	if anchor {
		p = 1
	}
	for init := 0; init <= len(s); init++ {
		m.level = 0
		if m.do(init, p) != -1 {
			return true, nil
		}
		if anchor {
			break
		}
	}
	return false, nil
}

type luaCapture struct{ init, len int }

type luaMatcher struct {
	src, pat string
	level    int
	capture  [luaMaxCaptures]luaCapture
	steps    int
}

func (m *luaMatcher) step() {
	m.steps++
	if m.steps > luaMaxSteps {
		panic(errPatternTooComplex)
	}
}

// do is lstrlib's do_match: it returns the end of the match of pat[p:]
// at src[s:], or -1.
func (m *luaMatcher) do(s, p int) int {
	pat, src := m.pat, m.src
	for {
		m.step()
		if p == len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '%':
			if p+1 < len(pat) {
				switch c := pat[p+1]; {
				case c == 'b':
					s = m.matchBalance(s, p+2)
					if s == -1 {
						return -1
					}
					p += 4
					continue
				case c == 'f':
					p += 2
					ep, _ := luaClassEnd(pat, p)
					var prev, cur byte
					if s > 0 {
						prev = src[s-1]
					}
					if s < len(src) {
						cur = src[s]
					}
					if !m.matchBracketClass(prev, p, ep-1) && m.matchBracketClass(cur, p, ep-1) {
						p = ep
						continue
					}
					return -1
				case isDigit(c):
					s = m.matchCapture(s, int(c-'1'))
					if s == -1 {
						return -1
					}
					p += 2
					continue
				}
			}
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		}
		ep, _ := luaClassEnd(pat, p)
		matched := s < len(src) && m.singleMatch(src[s], p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if matched {
					if r := m.do(s+1, ep+1); r != -1 {
						return r
					}
				}
				p = ep + 1
				continue
			case '*':
				return m.maxExpand(s, p, ep)
			case '+':
				if !matched {
					return -1
				}
				return m.maxExpand(s+1, p, ep)
			case '-':
				return m.minExpand(s, p, ep)
			}
		}
		if !matched {
			return -1
		}
		s++
		p = ep
	}
}

func (m *luaMatcher) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(m.src) && m.singleMatch(m.src[s+i], p, ep) {
		m.step()
		i++
	}
	for ; i >= 0; i-- {
		if r := m.do(s+i, ep+1); r != -1 {
			return r
		}
	}
	return -1
}

func (m *luaMatcher) minExpand(s, p, ep int) int {
	for {
		if r := m.do(s, ep+1); r != -1 {
			return r
		}
		if s < len(m.src) && m.singleMatch(m.src[s], p, ep) {
			s++
			continue
		}
		return -1
	}
}

func (m *luaMatcher) startCapture(s, p, what int) int {
	m.capture[m.level] = luaCapture{init: s, len: what}
	m.level++
	r := m.do(s, p)
	if r == -1 {
		m.level--
	}
	return r
}

func (m *luaMatcher) endCapture(s, p int) int {
	l := -1
	for i := m.level - 1; i >= 0; i-- {
		if m.capture[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 { // checkLuaPattern rules this out
		return -1
	}
	m.capture[l].len = s - m.capture[l].init
	r := m.do(s, p)
	if r == -1 {
		m.capture[l].len = capUnfinished
	}
	return r
}

func (m *luaMatcher) matchBalance(s, p int) int {
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	b, e := m.pat[p], m.pat[p+1]
	cont := 1
	for s++; s < len(m.src); s++ {
		m.step()
		switch m.src[s] {
		case e:
			cont--
			if cont == 0 {
				return s + 1
			}
		case b:
			cont++
		}
	}
	return -1
}

func (m *luaMatcher) matchCapture(s, l int) int {
	if l < 0 || l >= m.level || m.capture[l].len == capUnfinished {
		return -1 // checkLuaPattern rules this out
	}
	c := m.capture[l]
	if c.len < 0 { // a position capture never matches as text
		return -1
	}
	if len(m.src)-s >= c.len && m.src[c.init:c.init+c.len] == m.src[s:s+c.len] {
		return s + c.len
	}
	return -1
}

func (m *luaMatcher) singleMatch(c byte, p, ep int) bool {
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return luaMatchClass(c, m.pat[p+1])
	case '[':
		return m.matchBracketClass(c, p, ep-1)
	default:
		return m.pat[p] == c
	}
}

// matchBracketClass matches c against the set pat[p:ec+1], where pat[p] is
// '[' and pat[ec] its ']'.
func (m *luaMatcher) matchBracketClass(c byte, p, ec int) bool {
	pat := m.pat
	sig := true
	if pat[p+1] == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if luaMatchClass(c, pat[p]) {
				return sig
			}
		case pat[p+1] == '-' && p+2 < ec:
			p += 2
			if pat[p-2] <= c && c <= pat[p] {
				return sig
			}
		case pat[p] == c:
			return sig
		}
	}
	return !sig
}

func luaMatchClass(c, cl byte) bool {
	var res bool
	switch cl | 0x20 {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = c < 0x20 || c == 0x7f
	case 'd':
		res = isDigit(c)
	case 'g':
		res = c > 0x20 && c < 0x7f
	case 'l':
		res = c >= 'a' && c <= 'z'
	case 'p':
		res = c > 0x20 && c < 0x7f && !isAlpha(c) && !isDigit(c)
	case 's':
		res = c == ' ' || (c >= '\t' && c <= '\r')
	case 'u':
		res = c >= 'A' && c <= 'Z'
	case 'w':
		res = isAlpha(c) || isDigit(c)
	case 'x':
		res = isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if cl >= 'A' && cl <= 'Z' {
		return !res
	}
	return res
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
