package pii

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strings"
)

// Byte classes for the single pass. Only bytes flagged as triggers cost more
// than a table lookup.
const (
	clDigit = 1 << iota
	clUpper
	clLower
	clHex
	clWord // ASCII letter, digit or '_'
	clTrigger
	clB64URL
	clLocal // practical e-mail local part: letters, digits and "%+-._"
)

var classes [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		var f uint8
		switch {
		case b >= '0' && b <= '9':
			f |= clDigit | clWord | clHex | clTrigger | clB64URL | clLocal
		case b >= 'A' && b <= 'Z':
			f |= clUpper | clWord | clB64URL | clLocal
			if b <= 'F' {
				f |= clHex
			}
		case b >= 'a' && b <= 'z':
			f |= clLower | clWord | clB64URL | clLocal
			if b <= 'f' {
				f |= clHex
			}
		}
		if b == '_' {
			f |= clWord | clB64URL | clLocal
		}
		if b == '-' {
			f |= clB64URL | clLocal
		}
		if b == '%' || b == '+' || b == '.' {
			f |= clLocal
		}
		switch b {
		case '@', ':', '-', '+', '(', 'A', 's', 'g', 'x', 'e':
			f |= clTrigger
		}
		if f&clUpper != 0 {
			f |= clTrigger // IBAN country codes
		}
		classes[c] = f
	}
}

func isDigit(b byte) bool { return classes[b]&clDigit != 0 }
func isWord(b byte) bool  { return classes[b]&clWord != 0 }
func isHex(b byte) bool   { return classes[b]&clHex != 0 }
func isUpper(b byte) bool { return classes[b]&clUpper != 0 }

type scanState struct {
	s     *Scanner
	text  string
	cands []Finding
	// hexEnd is the end of the last colon/hex token examined, so a token with
	// many colons is analysed once.
	hexEnd int
}

func (st *scanState) on(idx int) bool { return st.s.enabled[idx] }

func (st *scanState) add(t Type, start, end int, score float64) {
	if st.s.allow != nil {
		v := st.text[start:end]
		if _, ok := st.s.allow[v]; ok {
			return
		}
		if _, ok := st.s.allow[strings.ToLower(v)]; ok {
			return
		}
	}
	st.cands = append(st.cands, Finding{Type: t, Start: start, End: end, Score: score})
}

// leftOK reports whether a token may start at i: the previous byte is not a
// word byte, and not a '-' or '.' glued to a word (UUID and version parts).
func (st *scanState) leftOK(i int) bool {
	if i == 0 {
		return true
	}
	p := st.text[i-1]
	if isWord(p) {
		return false
	}
	if (p == '-' || p == '.') && i >= 2 && isWord(st.text[i-2]) {
		return false
	}
	return true
}

// rightOK is leftOK mirrored for a token ending at e.
func (st *scanState) rightOK(e int) bool {
	t := st.text
	if e >= len(t) {
		return true
	}
	if isWord(t[e]) {
		return false
	}
	if (t[e] == '-' || t[e] == '.') && e+1 < len(t) && isWord(t[e+1]) {
		return false
	}
	return true
}

func (st *scanState) run() {
	t := st.text
	for i := 0; i < len(t); i++ {
		c := t[i]
		if classes[c]&clTrigger == 0 {
			continue
		}
		switch {
		case isDigit(c):
			if st.leftOK(i) {
				st.number(i)
			}
			// Skip the rest of this digit run: no token starts inside it.
			for i+1 < len(t) && isDigit(t[i+1]) {
				i++
			}
		case c == '@':
			if st.on(idxEmail) {
				st.email(i)
			}
		case c == ':':
			if i+2 < len(t) && t[i+1] == '/' && t[i+2] == '/' {
				if st.on(idxURLCred) {
					st.urlCred(i)
				}
			} else if i >= st.hexEnd && (st.on(idxIPv6) || st.on(idxMAC)) {
				st.colonToken(i)
			}
		case c == '-':
			if i+10 < len(t) && strings.HasPrefix(t[i:], "-----BEGIN ") {
				if st.on(idxSecret) {
					st.pem(i)
				}
			} else if st.on(idxMAC) && i >= 2 && isHex(t[i-1]) && isHex(t[i-2]) && (i == 2 || !isWord(t[i-3]) && t[i-3] != '-') {
				st.macAt(i-2, '-')
			}
		case c == '+' || c == '(':
			if i+1 < len(t) && isDigit(t[i+1]) && st.on(idxPhone) && (i == 0 || !isWord(t[i-1])) {
				st.phone(i)
			}
		default: // letters
			if i > 0 && isWord(t[i-1]) {
				continue
			}
			st.word(i)
		}
	}
}

// word handles tokens that start with a letter at a word start.
func (st *scanState) word(i int) {
	t := st.text[i:]
	if len(t) < 4 {
		return
	}
	switch t[0] {
	case 'A':
		if st.on(idxAWS) && (strings.HasPrefix(t, "AKIA") || strings.HasPrefix(t, "ASIA") || strings.HasPrefix(t, "AROA") || strings.HasPrefix(t, "AIDA")) {
			st.aws(i)
		}
	case 's':
		if st.on(idxSecret) && t[1] == 'k' && t[2] == '-' {
			st.runSecret(i, 3, 20, 200, func(b byte) bool { return classes[b]&clB64URL != 0 })
		}
		return
	case 'g':
		if !st.on(idxSecret) {
			return
		}
		if t[1] == 'h' && len(t) >= 4 && strings.IndexByte("pousr", t[2]) >= 0 && t[3] == '_' {
			st.runSecret(i, 4, 36, 255, isAlnum)
		} else if strings.HasPrefix(t, "github_pat_") {
			st.runSecret(i, 11, 22, 255, isWord)
		}
		return
	case 'x':
		if st.on(idxSecret) && t[1] == 'o' && t[2] == 'x' && strings.IndexByte("abprse", t[3]) >= 0 && len(t) > 4 && t[4] == '-' {
			st.runSecret(i, 5, 10, 255, func(b byte) bool { return isAlnum(b) || b == '-' })
		}
		return
	case 'e':
		if st.on(idxJWT) && t[1] == 'y' && t[2] == 'J' {
			st.jwt(i)
		}
		return
	}
	if st.on(idxIBAN) && isUpper(t[0]) && isUpper(t[1]) && isDigit(t[2]) && isDigit(t[3]) {
		st.iban(i)
	}
}

func isAlnum(b byte) bool { return classes[b]&(clDigit|clUpper|clLower) != 0 }

func (st *scanState) runSecret(i, prefix, minBody, maxBody int, ok func(byte) bool) {
	t := st.text
	e := i + prefix
	for e < len(t) && e-i-prefix <= maxBody && ok(t[e]) {
		e++
	}
	n := e - i - prefix
	if n < minBody || n > maxBody || !st.rightOK(e) {
		return
	}
	// A real key mixes digits and letters; "sk-this-is-not-a-key" does not.
	var digits, letters int
	for k := i + prefix; k < e; k++ {
		if isDigit(t[k]) {
			digits++
		} else if isAlnum(t[k]) {
			letters++
		}
	}
	if digits == 0 || letters < 4 {
		return
	}
	st.add(Secret, i, e, 0.95)
}

func (st *scanState) aws(i int) {
	t := st.text
	e := i + 4
	for e < len(t) && (isUpper(t[e]) || isDigit(t[e])) {
		e++
	}
	if e-i != 20 || !st.rightOK(e) {
		return
	}
	st.add(AWSAccessKey, i, e, 0.95)
}

func (st *scanState) pem(i int) {
	t := st.text
	lineEnd := i + 11
	for lineEnd < len(t) && lineEnd-i < 80 && (isUpper(t[lineEnd]) || t[lineEnd] == ' ') {
		lineEnd++
	}
	label := t[i+11 : lineEnd]
	if !strings.HasSuffix(label, "PRIVATE KEY") || !strings.HasPrefix(t[lineEnd:], "-----") {
		return
	}
	lineEnd += 5
	const limit = 64 << 10
	rest := t[lineEnd:min(len(t), lineEnd+limit)]
	if k := strings.Index(rest, "-----END "+label+"-----"); k >= 0 {
		st.add(Secret, i, lineEnd+k+len("-----END "+label+"-----"), 1)
		return
	}
	// Truncated block: cover the base64 body (including JSON "\n" escapes).
	e := lineEnd
	for e < len(t) && e-lineEnd < limit && (isAlnum(t[e]) || strings.IndexByte("+/=\r\n\\ ", t[e]) >= 0) {
		e++
	}
	st.add(Secret, i, e, 0.9)
}

func (st *scanState) jwt(i int) {
	t := st.text
	if i > 0 && classes[t[i-1]]&clB64URL != 0 {
		return
	}
	var dots [2]int
	nd := 0
	e := i
	for e < len(t) && e-i < 16<<10 {
		b := t[e]
		if b == '.' {
			if nd == 2 {
				break
			}
			dots[nd] = e
			nd++
		} else if classes[b]&clB64URL == 0 {
			break
		}
		e++
	}
	if nd < 2 || dots[1]-dots[0] < 2 || (e < len(t) && (classes[t[e]]&clB64URL != 0 || t[e] == '.')) {
		return
	}
	hdr := t[i:dots[0]]
	if len(hdr) > 2048 {
		return
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(hdr, "="))
	if err != nil {
		return
	}
	var h map[string]any
	if json.Unmarshal(raw, &h) != nil {
		return
	}
	if _, ok := h["alg"].(string); !ok {
		return
	}
	st.add(JWT, i, e, 1)
}

func (st *scanState) email(at int) {
	t := st.text
	s := at
	for s > 0 && at-s < 64 && classes[t[s-1]]&clLocal != 0 {
		s--
	}
	for s < at && (t[s] == '.' || t[s] == '%' || t[s] == '+' || t[s] == '-') {
		s++
	}
	if s == at || t[at-1] == '.' || strings.Contains(t[s:at], "..") {
		return
	}
	if s > 0 && classes[t[s-1]]&clLocal != 0 {
		return // local part longer than 64 bytes
	}
	if s >= 3 && t[s-3:s] == "://" {
		return // URL user info, not a mailbox
	}
	e, lastDot, labelStart := at+1, -1, at+1
	for e < len(t) && e-at <= 254 {
		b := t[e]
		if isAlnum(b) || b == '-' {
			e++
			continue
		}
		if b == '.' && e+1 < len(t) && isAlnum(t[e+1]) && e > labelStart && t[e-1] != '-' {
			lastDot = e
			e++
			labelStart = e
			continue
		}
		break
	}
	if lastDot < 0 || e-labelStart < 2 || t[labelStart] == '-' || t[e-1] == '-' || t[at+1] == '-' {
		return
	}
	for k := labelStart; k < e; k++ {
		if classes[t[k]]&(clUpper|clLower) == 0 {
			return
		}
	}
	if e < len(t) && (isWord(t[e]) || t[e] == '@') {
		return
	}
	st.add(Email, s, e, 0.95)
}

func (st *scanState) urlCred(colon int) {
	t := st.text
	s := colon
	for s > 0 && colon-s < 32 && (isAlnum(t[s-1]) || t[s-1] == '+' || t[s-1] == '.' || t[s-1] == '-') {
		s--
	}
	if colon-s < 2 || !isAlnum(t[s]) {
		return
	}
	u := colon + 3
	e, at, pw := u, -1, -1
	for e < len(t) && e-u < 512 {
		b := t[e]
		if b <= ' ' || strings.IndexByte("/?#\"'<>`[]{}\\", b) >= 0 {
			break
		}
		if b == '@' {
			at = e
		} else if b == ':' && at < 0 && pw < 0 {
			pw = e
		}
		e++
	}
	if at < 0 || pw < 0 || pw == u || pw+1 >= at {
		return
	}
	// Host: up to the authority's end.
	h := at + 1
	for h < len(t) && (isAlnum(t[h]) || t[h] == '.' || t[h] == '-' || t[h] == ':' || t[h] == '_') {
		h++
	}
	for h > at+1 && (t[h-1] == '.' || t[h-1] == ':') {
		h--
	}
	if h == at+1 {
		return
	}
	st.add(URLCredentials, u, h, 0.99)
}

// number handles a token starting with a digit at a word start.
func (st *scanState) number(i int) {
	t := st.text
	before := len(st.cands)
	if st.on(idxIPv4) {
		e := i
		for e < len(t) && (isDigit(t[e]) || t[e] == '.') && e-i < 64 {
			e++
		}
		for e > i && t[e-1] == '.' {
			e--
		}
		if e-i >= 7 && strings.Count(t[i:e], ".") == 3 && st.rightOK(e) {
			if a, err := netip.ParseAddr(t[i:e]); err == nil && a.Is4() {
				st.add(IPv4, i, e, 0.9)
			}
		}
	}
	if st.on(idxCard) || st.on(idxSSN) {
		st.digitGroups(i)
	}
	// A span already proven to be a card, SSN or address is not re-parsed
	// as a phone number: libphonenumber is the costliest validator here.
	// After '+' or '(' the trigger for that byte has already tried it.
	if st.on(idxPhone) && (len(st.cands) == before || st.cands[len(st.cands)-1].Start != i) &&
		(i == 0 || t[i-1] != '+' && t[i-1] != '(') {
		st.phone(i)
	}
	if st.on(idxMAC) && i+14 <= len(t) && t[i+4] == '.' {
		st.macAt(i, '.')
	}
}

// digitGroups finds digit runs joined by single spaces or single dashes (one
// separator kind per token) and checks them as card numbers and SSNs.
func (st *scanState) digitGroups(i int) {
	t := st.text
	var groups, ends [8]int
	ng, digits := 0, 0
	var sep byte
	e, gs := i, i
	for {
		for e < len(t) && isDigit(t[e]) {
			e++
		}
		groups[ng] = e - gs
		ends[ng] = e
		ng++
		digits += e - gs
		if digits > 19 || ng == len(groups) {
			break
		}
		if e+1 < len(t) && (t[e] == ' ' || t[e] == '-') && isDigit(t[e+1]) && (sep == 0 || sep == t[e]) {
			sep = t[e]
			e++
			gs = e
			continue
		}
		break
	}
	if st.on(idxSSN) && sep == '-' && ng == 3 && groups[0] == 3 && groups[1] == 2 && groups[2] == 4 && st.rightOK(e) {
		if validSSN(t[i:i+3], t[i+4:i+6], t[i+7:i+11]) {
			st.add(USSSN, i, e, 0.9)
		}
		return
	}
	if !st.on(idxCard) {
		return
	}
	// The greedy run may have swallowed a following number ("4111… 123");
	// try shorter prefixes of whole groups too.
	n := 0
	for k := ng; k >= 1; k-- {
		n = 0
		for g := 0; g < k; g++ {
			n += groups[g]
		}
		if n < 13 || n > 19 || !st.rightOK(ends[k-1]) {
			continue
		}
		if st.cardGroups(i, ends[k-1], groups[:k]) {
			return
		}
	}
}

func (st *scanState) cardGroups(i, e int, groups []int) bool {
	t := st.text
	if len(groups) > 1 {
		if groups[0] != 4 {
			return false
		}
		for _, g := range groups[1:] {
			if g < 3 || g > 6 {
				return false
			}
		}
	}
	var buf [19]byte
	n := 0
	for k := i; k < e; k++ {
		if isDigit(t[k]) {
			buf[n] = t[k]
			n++
		}
	}
	if !validCard(buf[:n]) {
		return false
	}
	st.add(CreditCard, i, e, 1)
	return true
}

func (st *scanState) phone(i int) {
	t := st.text
	e, digits, run, lastDigit := i, 0, 0, -1
	plus := t[i] == '+'
	if plus || t[i] == '(' {
		e++
	}
	var ends [8]int // ends of digit groups, for backing off trailing groups
	ne := 0
	for e < len(t) && e-i < 32 {
		b := t[e]
		if isDigit(b) {
			digits++
			run = 0
			lastDigit = e
			e++
			if e >= len(t) || !isDigit(t[e]) {
				if ne < len(ends) {
					ends[ne] = e
					ne++
				}
			}
			continue
		}
		if b == ' ' || b == '-' || b == '.' || b == '(' || b == ')' {
			run++
			if run > 2 {
				break
			}
			e++
			continue
		}
		break
	}
	if lastDigit < 0 || digits < 7 {
		return
	}
	// Separators are required unless the number is international: plain
	// digit runs are order numbers, timestamps and IDs far more often.
	start := i
	for k := ne - 1; k >= 0 && k >= ne-3; k-- {
		end := ends[k]
		cand := t[i:end]
		// An unclosed '(' is punctuation around the number, not part of it.
		if t[i] == '(' && strings.IndexByte(cand, ')') < 0 {
			start = i + 1
			cand = t[start:end]
		}
		nd := 0
		for j := 0; j < len(cand); j++ {
			if isDigit(cand[j]) {
				nd++
			}
		}
		if nd < 7 || nd > 15 {
			continue
		}
		if !st.rightOK(end) || (end < len(t) && (t[end] == ':' || t[end] == '/')) {
			continue
		}
		if !plus && (!phoneShapeOK(cand, st.s.nanp) || !st.s.nationalLength(nd)) {
			continue
		}
		// Validate the digits only: phoneValid answers as libphonenumber
		// would for "+digits" or "digits".
		var buf [16]byte
		n := 1
		for j := 0; j < len(cand); j++ {
			if isDigit(cand[j]) {
				buf[n] = cand[j]
				n++
			}
		}
		if !st.s.phoneValid(string(buf[1:n]), plus) {
			continue
		}
		st.add(Phone, start, end, 0.75)
		return
	}
}

// phoneShapeOK rejects national-format candidates that look like dates,
// ranges or bare IDs.
func phoneShapeOK(c string, nanp bool) bool {
	var g [8]int
	ng, cur, seps, dots := 0, 0, 0, 0
	for j := 0; j < len(c); j++ {
		if isDigit(c[j]) {
			cur++
			continue
		}
		if c[j] == '.' {
			dots++
		}
		seps++
		if cur > 0 {
			if ng == len(g) {
				return false
			}
			g[ng] = cur
			ng++
			cur = 0
		}
	}
	if cur > 0 && ng < len(g) {
		g[ng] = cur
		ng++
	}
	if seps == 0 || ng < 2 {
		return false
	}
	if g[0] == 4 && ng > 1 && g[1] <= 2 {
		return false // 2024-01-15
	}
	if dots >= 3 && dots == seps {
		return false // dotted quads belong to IPV4
	}
	if nanp { // North American national format: [1] 3-3-4 or 3-7
		switch {
		case ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4:
		case ng == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4:
		case ng == 2 && g[0] == 3 && g[1] == 7:
		default:
			return false
		}
	}
	return true
}

// colonToken analyses the hex/colon token around the ':' at i as an IPv6
// address or a colon-separated MAC.
func (st *scanState) colonToken(i int) {
	t := st.text
	s := i
	for s > 0 && i-s < 45 && (isHex(t[s-1]) || t[s-1] == ':' || t[s-1] == '.') {
		s--
	}
	e := i
	for e < len(t) && e-s < 64 && (isHex(t[e]) || t[e] == ':' || t[e] == '.') {
		e++
	}
	st.hexEnd = e
	for s < i && t[s] == '.' {
		s++
	}
	if s > 0 && (isWord(t[s-1]) || t[s-1] == '.') {
		return
	}
	tok := t[s:e]
	for len(tok) > 0 && (tok[len(tok)-1] == '.' || tok[len(tok)-1] == ':') && !strings.HasSuffix(tok, "::") {
		tok = tok[:len(tok)-1]
	}
	e = s + len(tok)
	if e < len(t) && isWord(t[e]) {
		return
	}
	if len(tok) == 17 && st.on(idxMAC) {
		if validMAC(tok, ':') {
			st.add(MAC, s, e, 0.9)
			return
		}
	}
	if !st.on(idxIPv6) || strings.Count(tok, ":") < 2 {
		return
	}
	groups, hasDigit := 0, false
	for _, part := range strings.Split(tok, ":") {
		if part != "" {
			groups++
		}
		if strings.IndexAny(part, "0123456789") >= 0 {
			hasDigit = true
		}
	}
	if !hasDigit || (groups < 3 && !strings.Contains(tok, "::")) || groups == 0 {
		return
	}
	ze := e
	if ze < len(t) && t[ze] == '%' { // zone, e.g. fe80::1%eth0
		ze++
		for ze < len(t) && isWord(t[ze]) {
			ze++
		}
	}
	a, err := netip.ParseAddr(t[s:ze])
	if err != nil || !a.Is6() {
		if ze == e {
			return
		}
		if a, err = netip.ParseAddr(tok); err != nil || !a.Is6() {
			return
		}
		ze = e
	}
	score := 0.9
	if groups < 3 {
		score = 0.7
	}
	st.add(IPv6, s, ze, score)
}

func (st *scanState) macAt(s int, sep byte) {
	t := st.text
	if s+14 > len(t) {
		return
	}
	if sep == '.' {
		if s+14 <= len(t) && validCiscoMAC(t[s:s+14]) && st.leftOK(s) && st.rightOK(s+14) {
			st.add(MAC, s, s+14, 0.85)
		}
		return
	}
	if s+17 > len(t) || !validMAC(t[s:s+17], sep) || !st.leftOK(s) || !st.rightOK(s+17) {
		return
	}
	if s+17 < len(t) && t[s+17] == sep {
		return
	}
	st.add(MAC, s, s+17, 0.9)
}

func validMAC(s string, sep byte) bool {
	if len(s) != 17 {
		return false
	}
	for k := 0; k < 17; k++ {
		if k%3 == 2 {
			if s[k] != sep {
				return false
			}
		} else if !isHex(s[k]) {
			return false
		}
	}
	return true
}

func validCiscoMAC(s string) bool {
	if len(s) != 14 || s[4] != '.' || s[9] != '.' {
		return false
	}
	for k := 0; k < 14; k++ {
		if k != 4 && k != 9 && !isHex(s[k]) {
			return false
		}
	}
	return true
}

func (st *scanState) iban(i int) {
	t := st.text
	want := ibanLength(t[i : i+2])
	if want == 0 {
		return
	}
	var buf [34]byte
	n, e, grp := 0, i, 0
	for e < len(t) && n < want {
		b := t[e]
		if isUpper(b) || isDigit(b) {
			buf[n] = b
			n++
			grp++
			e++
			continue
		}
		if b == ' ' && grp == 4 && e+1 < len(t) && (isUpper(t[e+1]) || isDigit(t[e+1])) {
			grp = 0
			e++
			continue
		}
		break
	}
	if n != want || !st.rightOK(e) {
		return
	}
	if validIBAN(buf[:n]) {
		st.add(IBAN, i, e, 1)
	}
}
