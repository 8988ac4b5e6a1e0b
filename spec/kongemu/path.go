package kongemu

import (
	"fmt"
	"strings"
)

// reserved are RFC 3986's reserved characters plus '%': kong/tools/uri.lua
// leaves their percent-encoded triplets encoded (upper-cased) and decodes
// every other triplet.
const reserved = "!*'();:@&=+$,/?%#[]"

// NormalizePath normalises a request path as Kong's router and
// kong.request.get_path do (kong/tools/uri.lua normalize with
// merge_slashes): percent-decode every triplet except reserved characters
// (which are upper-cased), remove dot segments, merge slashes.
func NormalizePath(p string) string {
	if p == "" || p == "/" {
		return p
	}
	if strings.Contains(p, "%") {
		p = decodeUnreserved(p)
	}
	if !strings.Contains(p, ".") && !strings.Contains(p, "//") {
		return p
	}
	var out []string
	pop := func() {
		if len(out) > 0 {
			out = out[:len(out)-1]
		}
	}
	for p != "" {
		switch {
		case p == "/.":
			p = "/"
		case p == "/..":
			p = "/"
			pop()
		case p == "." || p == "..":
			p = ""
		case strings.HasPrefix(p, "../"):
			p = p[3:]
		case strings.HasPrefix(p, "./"):
			p = p[2:]
		case strings.HasPrefix(p, "/./"):
			p = p[2:]
		case strings.HasPrefix(p, "/../"):
			p = p[3:]
			pop()
		case strings.HasPrefix(p, "//"):
			p = p[1:]
		default:
			i := strings.IndexByte(p[1:], '/')
			if i < 0 {
				out = append(out, p)
				p = ""
			} else {
				out = append(out, p[:i+1])
				p = p[i+1:]
			}
		}
	}
	return strings.Join(out, "")
}

func decodeUnreserved(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if strings.IndexByte(reserved, c) >= 0 {
				b.WriteString(strings.ToUpper(p[i : i+3]))
			} else {
				b.WriteByte(c)
			}
			i += 2
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	default:
		return c - '0'
	}
}

// EscapePath percent-encodes what is not safe in a request line, as Kong
// does to the upstream URI (kong/tools/uri.lua escape): everything except
// letters, digits, "-_.~", '%' and the reserved characters.
func EscapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if isAlnum(c) || strings.IndexByte("-_.~%!#$&'()*+,/:;=?@[]", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// sanitizePostfix is kong/router/utils.lua sanitize_uri_postfix.
func sanitizePostfix(p string) string {
	switch {
	case p == "." || p == "..":
		return ""
	case strings.HasPrefix(p, "./"):
		return p[2:]
	case strings.HasPrefix(p, "../"):
		return p[3:]
	}
	return p
}

// upstreamPath joins the service path and the request path as
// get_upstream_uri_v0 does. reqPath is the normalised request path, prefix
// the part of it the route matched when strip_path is on ("" otherwise) and
// base the service path ("/" when it has none).
func upstreamPath(stripPath bool, prefix, reqPath, base string) string {
	if prefix == "" {
		prefix = "/"
	}
	postfix := ""
	if len(prefix) <= len(reqPath) {
		postfix = sanitizePostfix(reqPath[len(prefix):])
	}
	if strings.HasSuffix(base, "/") {
		if !stripPath {
			return base + reqPath[min(1, len(reqPath)):]
		}
		switch {
		case postfix == "" && base == "/":
			return "/"
		case postfix == "" && strings.HasSuffix(reqPath, "/"):
			return base
		case postfix == "":
			return base[:len(base)-1]
		case strings.HasPrefix(postfix, "/"):
			return base[:len(base)-1] + postfix
		default:
			return base + postfix
		}
	}
	if !stripPath {
		if reqPath == "/" {
			return base
		}
		return base + reqPath
	}
	switch {
	case postfix == "" && len(reqPath) > 1 && strings.HasSuffix(reqPath, "/"):
		return base + "/"
	case postfix == "":
		return base
	case strings.HasPrefix(postfix, "/"):
		return base + postfix
	default:
		return base + "/" + postfix
	}
}
