package unmask

import (
	"github.com/tollgate-ai/tollgate/internal/pii"

	"strings"
	"unicode/utf8"
)

// filter rewrites one text channel of a stream (one choice's content, one
// tool call's arguments) as its pieces arrive. It emits at once what can no
// longer change and holds back the tail that might still become a
// placeholder or a value to redact, never more than the look-behind.
type filter struct {
	r      *Rewriter
	inJSON bool
	held   string
	// suppress drops a private-key block too long to hold whole, until
	// its END line; tail keeps the last bytes to find that line across
	// pieces.
	suppress bool
	tail     string
}

const (
	pemBegin = "-----BEGIN "
	pemEnd   = "-----END "
)

// push takes the next piece and returns the text to emit now.
func (f *filter) push(s string) string {
	if f.suppress {
		return f.suppressing(s)
	}
	buf := f.held + s
	cut := f.cut(buf)
	if len(buf)-cut > f.r.lookBehind {
		if f.r.pem {
			if b := strings.LastIndex(buf, pemBegin); b >= 0 && strings.Contains(buf[b:], "PRIVATE KEY") && pemOpen(buf[b:]) {
				out := f.r.text(buf[:b], f.inJSON, true) + "[SECRET]"
				f.count("SECRET")
				f.held, f.suppress, f.tail = "", true, ""
				return out + f.suppressing(buf[b+len(pemBegin):])
			}
		}
		cut = f.forced(buf)
	}
	f.held = buf[cut:]
	if cut == 0 {
		return ""
	}
	return f.r.text(buf[:cut], f.inJSON, true)
}

// flush returns what is held at the end of the channel.
func (f *filter) flush() string {
	if f.suppress {
		f.suppress, f.tail = false, ""
		return ""
	}
	s := f.held
	f.held = ""
	if s == "" {
		return ""
	}
	return f.r.text(s, f.inJSON, true)
}

func (f *filter) count(t string) {
	if f.r.counts.Redacted == nil {
		f.r.counts.Redacted = map[pii.Type]int{}
	}
	f.r.counts.Redacted[pii.Type(t)]++
}

// cut is where the held tail of buf starts: everything before it is final.
func (f *filter) cut(buf string) int {
	if f.r.scanner == nil {
		// Restoring only: hold a trailing '<' that may open a placeholder.
		lt := strings.LastIndexByte(buf, '<')
		if lt < 0 || len(buf)-lt >= MaxPlaceholder {
			return len(buf)
		}
		for i := lt + 1; i < len(buf); i++ {
			if !placeholderByte(buf[i]) {
				return len(buf)
			}
		}
		return lt
	}
	// Redacting: the last word may still grow, and digit groups joined by
	// one or two spaces (cards, phones, IBANs) may be one value.
	cut := lastBreak(buf, len(buf)) + 1
	for {
		j, n := cut, 0
		for j > 0 && n < 3 && (buf[j-1] == ' ' || buf[j-1] == '\t') {
			j--
			n++
		}
		if n == 0 || n > 2 || j == 0 || isBreak(buf[j-1]) {
			break
		}
		start := lastBreak(buf, j) + 1
		if !hasDigit(buf[start:j]) {
			break
		}
		cut = start
	}
	if f.r.pem {
		// A private-key block is one value across lines: hold it from its
		// BEGIN line until its END line is in.
		if b := strings.LastIndex(buf, pemBegin); b >= 0 && b < cut && pemOpen(buf[b:]) {
			cut = b
		}
	}
	return cut
}

// forced picks a cut when the held tail would pass the look-behind: half
// of it is released, moved past any value that straddles the cut.
func (f *filter) forced(buf string) int {
	cut := len(buf) - f.r.lookBehind/2
	for cut > 0 && !utf8.RuneStart(buf[cut]) {
		cut--
	}
	for _, fd := range f.r.scanner.Scan(buf) {
		if fd.Start < cut && fd.End > cut {
			cut = fd.End
		}
	}
	return cut
}

// suppressing drops text until the END line of a private-key block.
func (f *filter) suppressing(s string) string {
	buf := f.tail + s
	e := strings.Index(buf, pemEnd)
	if e >= 0 {
		if d := strings.Index(buf[e+len(pemEnd):], "-----"); d >= 0 {
			rest := buf[e+len(pemEnd)+d+5:]
			f.suppress, f.tail = false, ""
			return f.push(rest)
		}
		if len(buf)-e < 128 {
			f.tail = buf[e:]
			return ""
		}
	}
	keep := min(len(buf), len(pemEnd)+64)
	f.tail = buf[len(buf)-keep:]
	return ""
}

// pemOpen reports whether the block starting s has no complete END line.
func pemOpen(s string) bool {
	e := strings.Index(s, pemEnd)
	return e < 0 || !strings.Contains(s[e+len(pemEnd):], "-----")
}

func lastBreak(s string, end int) int {
	for i := end - 1; i >= 0; i-- {
		if isBreak(s[i]) {
			return i
		}
	}
	return -1
}

// isBreak reports whether c ends a word: whitespace, or a quote (JSON
// strings inside tool arguments, quoted values in prose).
func isBreak(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"'
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}
