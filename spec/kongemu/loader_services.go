package kongemu

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// service reads a service with its nested routes and plugins.
func (l *loader) service(n *yaml.Node, path string) {
	var d deckService
	where, ok := l.decodeEntity(n, "service", path, &d, "")
	if !ok {
		return
	}
	s := &Service{
		Protocol: "http", Port: 80, Retries: 5,
		ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000,
		Enabled: true, Tags: d.Tags, TLSVerify: d.TLSVerify,
	}
	if d.Name != nil {
		s.Name = *d.Name
		l.check(where, "name", checkName(s.Name))
	}
	setString(&s.Protocol, d.Protocol)
	setString(&s.Host, d.Host)
	setInt(&s.Port, d.Port)
	setString(&s.Path, d.Path)
	if d.URL != nil {
		l.applyURL(s, *d.URL, where)
	}
	setInt(&s.Retries, d.Retries)
	setInt(&s.ConnectTimeout, d.ConnectTimeout)
	setInt(&s.WriteTimeout, d.WriteTimeout)
	setInt(&s.ReadTimeout, d.ReadTimeout)
	setBool(&s.Enabled, d.Enabled)
	s.CreatedAt, s.UpdatedAt = l.timestamps(d.CreatedAt, d.UpdatedAt)

	if msg := oneOf(s.Protocol, kongProtocols); msg != "" {
		l.check(where, "protocol", msg)
	} else if s.Protocol != "http" && s.Protocol != "https" {
		l.fail(where, "protocol: %q is not supported by the emulator", s.Protocol)
	}
	if s.Host == "" {
		l.fail(where, "host: required field missing")
	} else {
		l.check(where, "host", checkHost(s.Host))
	}
	l.check(where, "port", between(s.Port, 0, 65535))
	if s.Path != "" {
		l.check(where, "path", checkServicePath(s.Path))
	}
	l.check(where, "retries", between(s.Retries, 0, 32767))
	l.check(where, "connect_timeout", between(s.ConnectTimeout, 1, 1<<31-2))
	l.check(where, "write_timeout", between(s.WriteTimeout, 1, 1<<31-2))
	l.check(where, "read_timeout", between(s.ReadTimeout, 1, 1<<31-2))
	if s.Protocol != "https" && (d.TLSVerify != nil || d.TLSVerifyDepth != nil) {
		l.fail(where, "tls_verify: value must be null")
	}
	if d.TLSVerifyDepth != nil {
		l.check(where, "tls_verify_depth", between(*d.TLSVerifyDepth, 0, 64))
	}

	s.ID = l.identify("services", d.ID, s.Name, path, where)
	l.unique("services", "name", s.Name, where)
	l.cfg.Services = append(l.cfg.Services, s)

	for i, rn := range nodes(d.Routes) {
		l.route(rn, fmt.Sprintf("%s.routes[%d]", path, i), s)
	}
	for i, pn := range nodes(d.Plugins) {
		l.plugin(pn, fmt.Sprintf("%s.plugins[%d]", path, i), "service", s.ID)
	}
}

// applyURL expands the url shorthand as the services schema does: it
// overrides protocol, host, port and path.
func (l *loader) applyURL(s *Service, raw, where string) {
	u, err := url.Parse(raw)
	if err != nil {
		l.wrap(where+": url", err)
		return
	}
	port := 0
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil {
			l.fail(where, "url: invalid port %q", p)
		}
	}
	switch {
	case u.Scheme != "":
		s.Protocol = u.Scheme
	case port == 443:
		s.Protocol = "https"
	default:
		s.Protocol = "http"
	}
	s.Host = u.Hostname()
	switch {
	case port != 0:
		s.Port = port
	case s.Protocol == "https":
		s.Port = 443
	default:
		s.Port = 80
	}
	s.Path = u.EscapedPath()
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// route reads a route, nested in parent or at the top level (nil).
func (l *loader) route(n *yaml.Node, path string, parent *Service) {
	var d deckRoute
	exclude := ""
	if parent != nil {
		exclude = "service"
	}
	where, ok := l.decodeEntity(n, "route", path, &d, exclude)
	if !ok {
		return
	}
	r := &Route{
		Protocols: []string{"http", "https"}, StripPath: true, PathHandling: "v0",
		HTTPSRedirectStatusCode: 426, RequestBuffering: true, ResponseBuffering: true,
		Methods: d.Methods, Hosts: d.Hosts, Paths: d.Paths, Headers: d.Headers, Tags: d.Tags,
	}
	if d.Name != nil {
		r.Name = *d.Name
		l.check(where, "name", checkName(r.Name))
	}
	if d.Protocols != nil {
		r.Protocols = d.Protocols
	}
	setBool(&r.StripPath, d.StripPath)
	setBool(&r.PreserveHost, d.PreserveHost)
	setInt(&r.RegexPriority, d.RegexPriority)
	setString(&r.PathHandling, d.PathHandling)
	setInt(&r.HTTPSRedirectStatusCode, d.HTTPSRedirectStatusCode)
	setBool(&r.RequestBuffering, d.RequestBuffering)
	setBool(&r.ResponseBuffering, d.ResponseBuffering)
	r.CreatedAt, r.UpdatedAt = l.timestamps(d.CreatedAt, d.UpdatedAt)
	l.checkRoute(r, &d, where)

	r.ID = l.identify("routes", d.ID, r.Name, path, where)
	l.unique("routes", "name", r.Name, where)
	switch {
	case parent != nil:
		r.ServiceID = parent.ID
	case d.Service.Set:
		l.routes = append(l.routes, pending[*Route]{r, d.Service, where})
	}
	l.cfg.Routes = append(l.cfg.Routes, r)
	for i, pn := range nodes(d.Plugins) {
		l.plugin(pn, fmt.Sprintf("%s.plugins[%d]", path, i), "route", r.ID)
	}
}

// checkRoute applies the routes schema and its http subschema.
func (l *loader) checkRoute(r *Route, d *deckRoute, where string) {
	if len(r.Protocols) == 0 {
		l.fail(where, "protocols: length must be at least 1")
	}
	for i, p := range r.Protocols {
		if msg := oneOf(p, kongProtocols); msg != "" {
			l.fail(where, "protocols[%d]: %s", i, msg)
		} else if p != "http" && p != "https" {
			l.fail(where, "protocols[%d]: %q is not supported by the emulator", i, p)
		}
	}
	for i, m := range r.Methods {
		l.check(where, fmt.Sprintf("methods[%d]", i), checkMethod(m))
	}
	for i, h := range r.Hosts {
		l.check(where, fmt.Sprintf("hosts[%d]", i), checkRouteHost(h))
	}
	for i, p := range r.Paths {
		l.check(where, fmt.Sprintf("paths[%d]", i), checkRouterPath(p))
	}
	for _, name := range sortedKeys(r.Headers) {
		l.check(where, "headers", checkHeaderName(name))
		if strings.EqualFold(name, "host") {
			l.fail(where, "headers: cannot contain 'host' header, which must be specified in the 'hosts' attribute")
		}
		for _, v := range r.Headers[name] {
			if re, ok := strings.CutPrefix(v, "~*"); ok {
				if _, err := compileHeaderRegex(re); err != nil {
					l.fail(where, "headers.%s: invalid regex: '%s' (%v)", name, re, err)
				}
			}
		}
	}
	if len(d.SNIs) > 0 {
		l.fail(where, "snis: not supported by the emulator (no TLS listener)")
	}
	if len(d.Sources) > 0 {
		l.fail(where, "sources: cannot set 'sources' when 'protocols' is 'http' or 'https'")
	}
	if len(d.Destinations) > 0 {
		l.fail(where, "destinations: cannot set 'destinations' when 'protocols' is 'http' or 'https'")
	}
	l.check(where, "path_handling", oneOf(r.PathHandling, []string{"v0", "v1"}))
	switch r.HTTPSRedirectStatusCode {
	case 426, 301, 302, 307, 308:
	default:
		l.fail(where, "https_redirect_status_code: expected one of: 426, 301, 302, 307, 308")
	}
	if len(r.Methods) == 0 && len(r.Hosts) == 0 && len(r.Headers) == 0 && len(r.Paths) == 0 {
		if slices.Contains(r.Protocols, "https") {
			l.fail(where, "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'")
		} else {
			l.fail(where, "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'")
		}
	}
}
