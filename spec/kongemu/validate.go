package kongemu

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field checks with Kong 3.9's messages (kong/db/schema/typedefs.lua and
// the routes, services and consumers entity schemas). Each returns "" when
// the value is valid.

// kongProtocols is constants.PROTOCOLS, sorted.
var kongProtocols = []string{"grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"}

// httpProtocols are the protocols of Kong's http subsystem, sorted: the
// default of a plugin's protocols.
var httpProtocols = []string{"grpc", "grpcs", "http", "https"}

func oneOf(v string, allowed []string) string {
	for _, a := range allowed {
		if v == a {
			return ""
		}
	}
	return "expected one of: " + strings.Join(allowed, ", ")
}

// checkName is typedefs.utf8_name.
func checkName(name string) string {
	if !utf8.ValidString(name) {
		return "invalid utf-8 character sequence"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || c == '.' || c == '-' || c == '_' || c == '~' || isAlnum(c) {
			continue
		}
		return fmt.Sprintf("invalid value '%s': the only accepted ascii characters are alphanumerics or ., -, _, and ~", name)
	}
	if name == "" {
		return "length must be at least 1"
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkHeaderName is kong.tools.http.validate_header_name.
func checkHeaderName(name string) string {
	if name == "" {
		return "no header name provided"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '-' && c != '_' {
			return fmt.Sprintf("bad header name '%s', allowed characters are A-Z, a-z, 0-9, '_', and '-'", name)
		}
	}
	return ""
}

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$`)

// checkHost is typedefs.host (a name or an IP, no port).
func checkHost(host string) string {
	if net.ParseIP(strings.Trim(host, "[]")) != nil || hostnameRE.MatchString(host) {
		return ""
	}
	return fmt.Sprintf("invalid hostname: %s", host)
}

// checkRouteHost is the element check of typedefs.hosts: at most one
// wildcard, as the leftmost or rightmost label, and an optional port.
func checkRouteHost(h string) string {
	if strings.Count(h, "*") > 1 {
		return "invalid wildcard: must have at most one wildcard"
	}
	if strings.Contains(h, "*") && !strings.HasPrefix(h, "*.") && !strings.HasSuffix(h, ".*") {
		return "invalid wildcard: must be placed at leftmost or rightmost label"
	}
	host := strings.ReplaceAll(h, "*", "abc")
	if hp, port, ok := strings.Cut(host, ":"); ok && !strings.Contains(port, ":") {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return fmt.Sprintf("invalid port number: %s", port)
		}
		host = hp
	}
	if checkHost(host) != "" {
		return fmt.Sprintf("invalid hostname: %s", h)
	}
	return ""
}

// checkPercent reports a '%' not followed by two hex digits.
func checkPercent(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			continue
		}
		if i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			i += 2
			continue
		}
		end := min(i+3, len(p))
		return fmt.Sprintf("invalid url-encoded value: '%s'", p[i:end])
	}
	return ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkServicePath is typedefs.path.
func checkServicePath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "should start with: /"
	}
	if strings.Contains(p, "//") {
		return "must not have empty segments"
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !isAlnum(c) && !strings.ContainsRune(".-_~/%:@!$&'()*+,;=", rune(c)) {
			return fmt.Sprintf("invalid path: '%s' (characters outside of the reserved list of RFC 3986 found)", p)
		}
	}
	return checkPercent(p)
}

// checkRouterPath is typedefs.router_path: a normalised prefix or a "~"
// regex that compiles.
func checkRouterPath(p string) string {
	if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") {
		return "should start with: / (fixed path) or ~/ (regex path)"
	}
	if strings.Contains(p, "//") {
		return "must not have empty segments"
	}
	if msg := checkPercent(p); msg != "" {
		return msg
	}
	if !isRegexPath(p) {
		if n := NormalizePath(p); n != p {
			return fmt.Sprintf("non-normalized path, consider use '%s' instead", n)
		}
		return ""
	}
	if _, err := compilePathRegex(p); err != nil {
		return fmt.Sprintf("invalid regex: '%s' (%v)", p[1:], err)
	}
	return ""
}

func isRegexPath(p string) bool { return strings.HasPrefix(p, "~") }

// compilePathRegex compiles a "~" path as kong/router/transform.lua hands
// it to the ATC router: "^" prepended, so only the start is anchored (and,
// as in Kong, only the first branch of a top-level alternation).
func compilePathRegex(p string) (*regexp.Regexp, error) {
	return regexp.Compile("^" + p[1:])
}

// checkMethod is typedefs.http_method.
func checkMethod(m string) string {
	if m == "" {
		return "invalid value: " + m
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return "invalid value: " + m
		}
	}
	return ""
}

func between(v, lo, hi int) string {
	if v < lo || v > hi {
		return fmt.Sprintf("value should be between %d and %d", lo, hi)
	}
	return ""
}
