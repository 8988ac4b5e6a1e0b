package kongemu

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// RouteRequest is what Kong's router reads from a request.
type RouteRequest struct {
	Method string
	Scheme string // "http" or "https"
	// Host is the Host header as sent, with an optional port.
	Host string
	// Path is the request target (nginx's request_uri); a "?query" part
	// is ignored.
	Path    string
	Headers http.Header
	// Port is the listener port, matched by route hosts with a port when
	// Host has none (Kong's net.dst.port). Optional.
	Port int
}

// Match is a routing result.
type Match struct {
	Route *Route
	// Service is nil for a route without a service: Kong then runs the
	// access phase and answers 503 "no Service found with those values".
	Service *Service
	// Path is the normalised request path the router matched.
	Path string
	// Prefix is the part of Path that strip_path removed ("" when
	// strip_path is off or the route has no paths); Kong sends it as
	// X-Forwarded-Prefix.
	Prefix string
	// UpstreamPath is the upstream URI without the query, escaped, as
	// Kong's get_upstream_uri_v0 builds it.
	UpstreamPath string
	// UpstreamHost is the client's Host header when preserve_host is on,
	// "" otherwise (the service host is used).
	UpstreamHost string
	// Captures are the regex captures (kong.request.get_uri_captures);
	// nil when there are none.
	Captures *Captures
	// Exit is set when the route only allows https and the request is
	// http: Kong answers it itself before the access phase.
	Exit *ErrorResponse
}

// Captures are a regex path's captures, shaped like Kong's uri_captures.
type Captures struct {
	// Unnamed holds the groups by number; index 0 is the whole match and
	// a group that did not participate is "" (a hole in Kong's table).
	Unnamed []string
	// Named holds the named groups that matched.
	Named map[string]string
}

// routeEntry is one ATC matcher: a route, or one path group of a route
// whose paths kong/router/transform.lua splits by regex/prefix length.
type routeEntry struct {
	route    *Route
	service  *Service
	id       uuid
	priority uint64
	methods  []string
	hosts    []hostMatcher
	paths    []pathMatcher
	headers  []headerMatcher
}

type hostMatcher struct {
	op    byte // '=' equal, '^' prefix (example.*), '$' suffix (*.example.com)
	value string
	port  int // 0: any
}

type pathMatcher struct {
	prefix string
	re     *regexp.Regexp
}

type headerMatcher struct {
	name   string // lower case with '_' for '-', as in http.headers.<name>
	equals []string
	res    []*regexp.Regexp
}

func compileRouter(c *Config) ([]routeEntry, error) {
	var entries []routeEntry
	for _, r := range c.Routes {
		var svc *Service
		if r.ServiceID != "" {
			svc = c.servicesByID[strings.ToLower(r.ServiceID)]
			if svc != nil && !svc.Enabled {
				continue // Kong leaves routes of disabled services out of the router
			}
		}
		groups := groupPaths(r.Paths)
		if len(groups) <= 1 {
			e, err := newEntry(r, svc, mustParseUUID(r.ID), r.Paths)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
			continue
		}
		for i, g := range groups {
			e, err := newEntry(r, svc, uuidV5(splitRouteNamespace, r.ID+"#"+strconv.Itoa(i+1)), g)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		}
	}
	// The ATC router walks its (priority, uuid) keys from the top.
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].priority != entries[j].priority {
			return entries[i].priority > entries[j].priority
		}
		return bytes.Compare(entries[i].id[:], entries[j].id[:]) > 0
	})
	return entries, nil
}

// groupPaths groups paths as group_by_regex_or_length: all regexes
// together, prefixes by length, in order of first appearance.
func groupPaths(paths []string) [][]string {
	var groups [][]string
	index := map[int]int{}
	for _, p := range paths {
		k := len(p)
		if isRegexPath(p) {
			k = -1
		}
		if i, ok := index[k]; ok {
			groups[i] = append(groups[i], p)
			continue
		}
		index[k] = len(groups)
		groups = append(groups, []string{p})
	}
	return groups
}

func newEntry(r *Route, svc *Service, id uuid, paths []string) (routeEntry, error) {
	e := routeEntry{route: r, service: svc, id: id, methods: r.Methods, priority: priority(r, paths)}
	for _, h := range r.Hosts {
		host, port := splitHostPort(h)
		m := hostMatcher{op: '=', value: host, port: port}
		switch {
		case strings.HasPrefix(host, "*"):
			m.op, m.value = '$', host[1:]
		case strings.HasSuffix(host, "*"):
			m.op, m.value = '^', host[:len(host)-1]
		}
		e.hosts = append(e.hosts, m)
	}
	for _, p := range paths {
		if !isRegexPath(p) {
			e.paths = append(e.paths, pathMatcher{prefix: p})
			continue
		}
		re, err := compilePathRegex(p)
		if err != nil {
			return e, err
		}
		e.paths = append(e.paths, pathMatcher{re: re})
	}
	for _, name := range sortedKeys(r.Headers) {
		m := headerMatcher{name: strings.ReplaceAll(strings.ToLower(name), "-", "_")}
		for _, v := range r.Headers[name] {
			if re, ok := strings.CutPrefix(v, "~*"); ok {
				compiled, err := compileHeaderRegex(re)
				if err != nil {
					return e, err
				}
				m.res = append(m.res, compiled)
				continue
			}
			m.equals = append(m.equals, strings.ToLower(v))
		}
		e.headers = append(e.headers, m)
	}
	return e, nil
}

// compileHeaderRegex compiles a "~*" header value: Kong lower-cases the
// pattern itself (so \D reads as \d) and matches it unanchored against the
// lower-cased header value.
func compileHeaderRegex(re string) (*regexp.Regexp, error) {
	return regexp.Compile(strings.ToLower(re))
}

// Bits of transform.lua get_priority that are uint64 cdata in Kong.
const (
	plainHostOnlyBit = uint64(1) << 60
	regexURLBit      = uint64(1) << 51
)

// priority is kong/router/transform.lua get_priority for an http route as
// LuaJIT evaluates it, not as its comment lays it out. lshift_uint64
// rebinds its cdata local instead of converting its argument, so the
// shifts of Lua numbers (match weight by 61, header count by 52,
// regex_priority by 19) are 32-bit with the count taken modulo 32 (29, 20
// and 19). Only the plain-host (1<<60) and regex (1<<51) bits are 64-bit,
// so they outrank a match weight below 4. Checked against LuaJIT 2.1.
//
// When the 32-bit part has its top bit set (match weight 4 or more, or a
// negative or very large regex_priority) Kong's value depends on how its
// LuaJIT build converts a negative number to uint64, which C leaves
// undefined (Debian's LuaJIT 2.1 gives 1<<63). The emulator sign-extends;
// either way such a route ranks above every route of weight 3 or less.
func priority(r *Route, paths []string) uint64 {
	weight := 0
	for _, set := range []bool{len(r.Methods) > 0, len(r.Hosts) > 0, len(r.Headers) > 0, len(paths) > 0} {
		if set {
			weight++
		}
	}
	headers := min(len(r.Headers), 255)
	// Kong tests type(hosts) == "table": an empty list counts as plain.
	plainHostOnly := r.Hosts != nil
	for _, h := range r.Hosts {
		if strings.Contains(h, "*") {
			plainHostOnly = false
		}
	}
	regexURL, uriLength := false, 0
	if len(paths) > 0 {
		if isRegexPath(paths[0]) {
			regexURL = true
		} else {
			uriLength = len(paths[0])
		}
	}
	regexPriority := 0
	if regexURL {
		regexPriority = r.RegexPriority
	}
	low := shl32(weight, 61) | shl32(headers, 52) | shl32(regexPriority, 19) | uint32(uriLength&0x7FFFF)
	p := uint64(int64(int32(low)))
	if plainHostOnly {
		p |= plainHostOnlyBit
	}
	if regexURL {
		p |= regexURLBit
	}
	return p
}

// shl32 is LuaJIT's bit.lshift on a Lua number: 32-bit, count mod 32.
func shl32(v, n int) uint32 { return uint32(v) << (n & 31) }

// splitHostPort is transform.lua split_host_port: a port after the first
// ':' when it is a number.
func splitHostPort(h string) (string, int) {
	host, port, ok := strings.Cut(h, ":")
	if !ok {
		return h, 0
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 {
		return h, 0
	}
	return host, n
}

// Match routes a request as Kong 3.9's traditional_compatible router: the
// highest-priority route whose every field matches. It returns false when
// none does (Kong: 404 "no Route matched with those values").
func (c *Config) Match(req RouteRequest) (*Match, bool) {
	path := req.Path
	if i := strings.IndexByte(path, '?'); i > 0 {
		path = path[:i]
	}
	path = NormalizePath(path)
	host, port := splitHostPort(req.Host)
	if port == 0 {
		port = req.Port
	}
	for i := range c.router {
		e := &c.router[i]
		matched, captures, ok := e.match(req, host, port, path)
		if !ok {
			continue
		}
		return e.result(req, path, matched, captures), true
	}
	return nil, false
}

// match evaluates the entry's expression in transform.lua's order
// (methods, hosts, paths, headers). It returns the matched path value (the
// prefix, or the whole regex match) and the captures.
func (e *routeEntry) match(req RouteRequest, host string, port int, path string) (string, map[string]string, bool) {
	if len(e.methods) > 0 && !slices.Contains(e.methods, req.Method) {
		return "", nil, false
	}
	if len(e.hosts) > 0 && !e.matchHost(host, port, req.Host != "") {
		return "", nil, false
	}
	captures := map[string]string{}
	matched := ""
	if len(e.paths) > 0 {
		ok := false
		for _, p := range e.paths {
			if p.re == nil {
				if strings.HasPrefix(path, p.prefix) {
					matched, ok = p.prefix, true
					break
				}
				continue
			}
			if m := p.re.FindStringSubmatchIndex(path); m != nil {
				matched, ok = path[m[0]:m[1]], true
				addCaptures(captures, p.re, path, m)
				break
			}
		}
		if !ok {
			return "", nil, false
		}
	}
	for _, h := range e.headers {
		if !h.match(req.Headers, captures) {
			return "", nil, false
		}
	}
	return matched, captures, true
}

func (e *routeEntry) matchHost(host string, port int, present bool) bool {
	if !present {
		return false
	}
	for _, h := range e.hosts {
		if h.port != 0 && h.port != port {
			continue
		}
		switch {
		case h.op == '=' && host == h.value,
			h.op == '^' && strings.HasPrefix(host, h.value),
			h.op == '$' && strings.HasSuffix(host, h.value):
			return true
		}
	}
	return false
}

// addCaptures records a regex match as atc-router does: every
// participating group by number, then the named ones.
func addCaptures(dst map[string]string, re *regexp.Regexp, s string, m []int) {
	for i := 0; 2*i+1 < len(m); i++ {
		if m[2*i] >= 0 {
			dst[strconv.Itoa(i)] = s[m[2*i]:m[2*i+1]]
		}
	}
	for i, name := range re.SubexpNames() {
		if name != "" && m[2*i] >= 0 {
			dst[name] = s[m[2*i]:m[2*i+1]]
		}
	}
}

// match is `any(lower(http.headers.<name>)) == v || … ~ re`: some value of
// the header, lower-cased, equals a value or matches a regex.
func (h *headerMatcher) match(headers http.Header, captures map[string]string) bool {
	for _, v := range headerValues(headers, h.name) {
		v = strings.ToLower(v)
		if slices.Contains(h.equals, v) {
			return true
		}
		for _, re := range h.res {
			if m := re.FindStringSubmatchIndex(v); m != nil {
				addCaptures(captures, re, v, m)
				return true
			}
		}
	}
	return false
}

// headerValues reads http.headers.<name> as ngx.req.get_headers() serves
// it: a header sent with exactly that (underscored) name first, else the
// one whose name has dashes for the underscores.
func headerValues(headers http.Header, name string) []string {
	dashed := strings.ReplaceAll(name, "_", "-")
	var raw, normal []string
	for k, vs := range headers {
		switch strings.ToLower(k) {
		case name:
			raw = append(raw, vs...)
		case dashed:
			normal = append(normal, vs...)
		}
	}
	if len(raw) > 0 {
		return raw
	}
	return normal
}

func (e *routeEntry) result(req RouteRequest, path, matched string, captures map[string]string) *Match {
	r := e.route
	m := &Match{Route: r, Service: e.service, Path: path}
	if r.StripPath {
		m.Prefix = matched
	}
	base := "/"
	if e.service != nil && e.service.Path != "" {
		base = e.service.Path
	}
	m.UpstreamPath = EscapePath(upstreamPath(r.StripPath, m.Prefix, path, base))
	if r.PreserveHost {
		m.UpstreamHost = req.Host
	}
	if len(captures) >= 2 {
		m.Captures = shapeCaptures(captures)
	}
	if slices.Contains(r.Protocols, "https") && !slices.Contains(r.Protocols, "http") && req.Scheme != "https" {
		m.Exit = httpsRequired(r, req)
	}
	return m
}

func shapeCaptures(raw map[string]string) *Captures {
	c := &Captures{Named: map[string]string{}}
	n := -1
	for k := range raw {
		if i, err := strconv.Atoi(k); err == nil && i > n {
			n = i
		}
	}
	c.Unnamed = make([]string, n+1)
	for k, v := range raw {
		if i, err := strconv.Atoi(k); err == nil {
			c.Unnamed[i] = v
		} else {
			c.Named[k] = v
		}
	}
	return c
}

// httpsRequired is the runloop's answer to http on an https-only route.
func httpsRequired(r *Route, req RouteRequest) *ErrorResponse {
	if r.HTTPSRedirectStatusCode == 426 {
		return &ErrorResponse{
			Status:  426,
			Message: "Please use HTTPS protocol",
			Headers: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"TLS/1.2, HTTP/1.1"}},
		}
	}
	host, _ := splitHostPort(req.Host)
	return &ErrorResponse{
		Status:  r.HTTPSRedirectStatusCode,
		Headers: http.Header{"Location": {"https://" + strings.ToLower(host) + req.Path}},
	}
}
