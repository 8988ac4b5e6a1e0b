package kongemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

type routeCase struct {
	name    string
	req     RouteRequest
	want    string // route name; "" for no match
	upPath  string // optional expected UpstreamPath
	headers http.Header
}

func runRouteCases(t *testing.T, cfg *Config, cases []routeCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			if req.Method == "" {
				req.Method = http.MethodGet
			}
			if req.Scheme == "" {
				req.Scheme = "http"
			}
			req.Headers = tt.headers
			m, ok := cfg.Match(req)
			if tt.want == "" {
				require.False(t, ok, "matched %v", m)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, m.Route.Name)
			if tt.upPath != "" {
				require.Equal(t, tt.upPath, m.UpstreamPath)
			}
		})
	}
}

func TestMatchPriority(t *testing.T) {
	cfg := loadTestdata(t, "router_priority.yaml")
	runRouteCases(t, cfg, []routeCase{
		{name: "only the root prefix", req: RouteRequest{Path: "/other"}, want: "root"},
		{name: "longer prefix wins", req: RouteRequest{Path: "/v1/models"}, want: "v1"},
		{name: "longest prefix wins", req: RouteRequest{Path: "/v1/chat/completions"}, want: "v1-chat"},
		{name: "more fields beat a longer prefix", req: RouteRequest{Method: "POST", Path: "/v1/chat/completions"}, want: "v1-post"},
		{
			name: "more headers beat fewer at equal weight", req: RouteRequest{Method: "POST", Path: "/v1/chat"},
			headers: http.Header{"X-Tenant": {"ACME"}}, want: "v1-tenant",
		},
		{name: "regex beats a longer prefix, regex_priority orders regexes", req: RouteRequest{Path: "/items/42"}, want: "items-re-hi"},
		{name: "prefix when no regex matches", req: RouteRequest{Path: "/items/42/x"}, want: "items-prefix"},
		// transform.lua means match weight first, but LuaJIT shifts it in
		// 32 bits, so the 64-bit regex bit outranks a weight of 2.
		{name: "LuaJIT quirk: regex bit outranks match weight", req: RouteRequest{Method: "POST", Path: "/q/x"}, want: "q-regex"},
		{
			name: "a weight of four outranks the regex bit", req: RouteRequest{Method: "PUT", Host: "four.test", Path: "/q/x"},
			headers: http.Header{"X-Four": {"yes"}}, want: "four-fields",
		},
		{name: "split route: its long path group", req: RouteRequest{Path: "/split/deeper/path/x"}, want: "split"},
		{name: "split route: a middle route between its groups", req: RouteRequest{Path: "/split/deeper/x"}, want: "split-mid"},
		{name: "split route: its short path group", req: RouteRequest{Path: "/split/x"}, want: "split"},
		{name: "split route: its regex group", req: RouteRequest{Path: "/split/re/7"}, want: "split"},
	})
}

func TestPriorityBits(t *testing.T) {
	tests := []struct {
		name  string
		route Route
		paths []string
		want  uint64
	}{
		{name: "one prefix", route: Route{Paths: []string{"/v1"}}, paths: []string{"/v1"}, want: 1<<29 | 3},
		{name: "methods and prefix", route: Route{Methods: []string{"GET"}}, paths: []string{"/v1"}, want: 2<<29 | 3},
		{name: "plain host", route: Route{Hosts: []string{"a.test"}}, want: plainHostOnlyBit | 1<<29},
		{name: "wildcard host", route: Route{Hosts: []string{"*.test"}}, want: 1 << 29},
		{name: "empty hosts list counts as plain", route: Route{Hosts: []string{}, Methods: []string{"GET"}}, want: plainHostOnlyBit | 1<<29},
		{name: "two headers", route: Route{Headers: map[string][]string{"a": {"1"}, "b": {"2"}}}, want: 1<<29 | 2<<20},
		{
			name: "regex with priority", route: Route{RegexPriority: 3}, paths: []string{"~/x"},
			want: regexURLBit | 1<<29 | 3<<19,
		},
		{
			name: "weight four sign-extends", route: Route{Methods: []string{"GET"}, Hosts: []string{"*.t"}, Headers: map[string][]string{"a": nil}},
			paths: []string{"/ab"}, want: 0xFFFFFFFF_80000000 | 1<<20 | 3,
		},
		{
			name: "negative regex_priority sign-extends", route: Route{RegexPriority: -1}, paths: []string{"~/x"},
			want: 0xFFFFFFFF_FFF80000 | 1<<29 | regexURLBit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, priority(&tt.route, tt.paths))
		})
	}
}

func TestMatchFields(t *testing.T) {
	cfg := loadTestdata(t, "router_match.yaml")
	runRouteCases(t, cfg, []routeCase{
		{name: "exact host, port stripped", req: RouteRequest{Host: "api.example.com:8000", Path: "/h"}, want: "exact"},
		{name: "leftmost wildcard, any depth", req: RouteRequest{Host: "a.b.example.com", Path: "/h"}, want: "wild-left"},
		{name: "rightmost wildcard", req: RouteRequest{Host: "example.org", Path: "/h"}, want: "wild-right"},
		{name: "host with port", req: RouteRequest{Host: "ported.test:8443", Path: "/h"}, want: "ported"},
		{name: "host with listener port", req: RouteRequest{Host: "ported.test", Port: 8443, Path: "/h"}, want: "ported"},
		{name: "host with another port", req: RouteRequest{Host: "ported.test:9999", Path: "/h"}},
		{name: "host bytes compared as sent", req: RouteRequest{Host: "API.EXAMPLE.COM", Path: "/h"}},
		{name: "no host header", req: RouteRequest{Path: "/h"}},
		{name: "LuaJIT quirk: plain host bit outranks match weight", req: RouteRequest{Host: "api.test", Path: "/wild"}, want: "plain-host"},
		{name: "wildcard host and path", req: RouteRequest{Host: "x.test", Path: "/wild"}, want: "wild-longer"},
		{name: "header value case-insensitive", req: RouteRequest{Path: "/t"}, headers: http.Header{"X-Tenant": {"ACME"}}, want: "tenant"},
		{name: "any header value", req: RouteRequest{Path: "/t"}, headers: http.Header{"X-Tenant": {"other", "beta"}}, want: "tenant"},
		{name: "header mismatch", req: RouteRequest{Path: "/t"}, headers: http.Header{"X-Tenant": {"gamma"}}},
		{name: "header regex, underscore name", req: RouteRequest{Path: "/t"}, headers: http.Header{"X-Version": {"V2"}}, want: "version-re"},
		{name: "header sent with underscores", req: RouteRequest{Path: "/t"}, headers: http.Header{"X_version": {"v3"}}, want: "version-re"},
		{name: "method", req: RouteRequest{Path: "/m"}, want: "get-only"},
		{name: "other method", req: RouteRequest{Method: "POST", Path: "/m"}},
		{name: "disabled service", req: RouteRequest{Path: "/disabled"}},
		{name: "normalised before matching", req: RouteRequest{Path: "/x/../%6D/"}, want: "get-only"},
	})
}

func TestMatchResult(t *testing.T) {
	cfg := loadTestdata(t, "router_match.yaml")
	match := func(req RouteRequest) *Match {
		t.Helper()
		if req.Method == "" {
			req.Method = http.MethodGet
		}
		m, ok := cfg.Match(req)
		require.True(t, ok)
		return m
	}

	t.Run("https only", func(t *testing.T) {
		m := match(RouteRequest{Scheme: "http", Path: "/secure"})
		require.Equal(t, &ErrorResponse{
			Status: 426, Message: "Please use HTTPS protocol",
			Headers: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"TLS/1.2, HTTP/1.1"}},
		}, m.Exit)
		require.Nil(t, match(RouteRequest{Scheme: "https", Path: "/secure"}).Exit)
	})
	t.Run("https redirect", func(t *testing.T) {
		m := match(RouteRequest{Scheme: "http", Host: "Redir.test:8000", Path: "/redirect?a=1"})
		require.Equal(t, 308, m.Exit.Status)
		require.Equal(t, "https://redir.test/redirect?a=1", m.Exit.Headers.Get("Location"))
	})
	t.Run("preserve host", func(t *testing.T) {
		require.Equal(t, "h.test:8000", match(RouteRequest{Host: "h.test:8000", Path: "/preserve"}).UpstreamHost)
		require.Empty(t, match(RouteRequest{Host: "h.test", Path: "/m"}).UpstreamHost)
	})
	t.Run("captures", func(t *testing.T) {
		m := match(RouteRequest{Path: "/users/42/profile?x=1"})
		require.Equal(t, "users", m.Route.Name)
		require.Equal(t, &Captures{
			Unnamed: []string{"/users/42/profile", "42", "/profile", "profile"},
			Named:   map[string]string{"id": "42"},
		}, m.Captures)
		require.Equal(t, "/users/42/profile", m.Prefix, "strip_path strips the whole regex match")
		require.Equal(t, "/", m.UpstreamPath)

		m = match(RouteRequest{Path: "/users/%34%32"})
		require.Equal(t, "/users/42", m.Path)
		require.Equal(t, &Captures{Unnamed: []string{"/users/42", "42"}, Named: map[string]string{"id": "42"}}, m.Captures,
			"groups that did not take part are left out")
	})
	t.Run("no groups, no captures", func(t *testing.T) {
		require.Nil(t, match(RouteRequest{Path: "/plain/abc"}).Captures)
	})
	t.Run("header regex groups land in the captures", func(t *testing.T) {
		m := match(RouteRequest{Path: "/t", Headers: http.Header{"X-Version": {"V7"}}})
		require.Equal(t, &Captures{Unnamed: []string{"v7", "7"}, Named: map[string]string{}}, m.Captures)
	})
	t.Run("service-less route", func(t *testing.T) {
		m := match(RouteRequest{Path: "/serviceless/x"})
		require.Nil(t, m.Service)
		require.Equal(t, "/x", m.UpstreamPath)
	})
}

func TestUpstreamPath(t *testing.T) {
	cfg := loadTestdata(t, "router_strip.yaml")
	tests := []struct {
		host, path, route, want, prefix string
	}{
		{path: "/s/none/x", route: "s-none", want: "/x", prefix: "/s/none"},
		{path: "/s/none", route: "s-none", want: "/", prefix: "/s/none"},
		{path: "/s/none/", route: "s-none", want: "/", prefix: "/s/none"},
		{path: "/k/none/x", route: "k-none", want: "/k/none/x"},
		{path: "/s/base/x", route: "s-base", want: "/base/x", prefix: "/s/base"},
		{path: "/s/base", route: "s-base", want: "/base", prefix: "/s/base"},
		{path: "/s/base/", route: "s-base", want: "/base/", prefix: "/s/base"},
		{path: "/s/basex", route: "s-base", want: "/base/x", prefix: "/s/base"},
		{path: "/k/base/x", route: "k-base", want: "/base/k/base/x"},
		{path: "/r/42/y", route: "r-base", want: "/base/y", prefix: "/r/42"},
		{path: "/v1/base/y", route: "v1-base", want: "/base/y", prefix: "/v1/base"},
		{path: "/s/slash/x", route: "s-slash", want: "/base/x", prefix: "/s/slash"},
		{path: "/s/slash", route: "s-slash", want: "/base", prefix: "/s/slash"},
		{path: "/s/slash/", route: "s-slash", want: "/base/", prefix: "/s/slash"},
		{path: "/k/slash/x", route: "k-slash", want: "/base/k/slash/x"},
		{host: "slash.test", path: "/a/b", route: "host-only", want: "/base/a/b"},
		{path: "/s/none/a%20b", route: "s-none", want: "/a%20b", prefix: "/s/none"},
		{path: "/s/none/%7euser", route: "s-none", want: "/~user", prefix: "/s/none"},
		{path: "/s/none/a%2fb", route: "s-none", want: "/a%2Fb", prefix: "/s/none"},
		{path: "/s/none/x/../y", route: "s-none", want: "/y", prefix: "/s/none"},
		{path: "/s/none//x?q=1", route: "s-none", want: "/x", prefix: "/s/none"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			m, ok := cfg.Match(RouteRequest{Method: "GET", Scheme: "http", Host: tt.host, Path: tt.path})
			require.True(t, ok)
			require.Equal(t, tt.route, m.Route.Name)
			require.Equal(t, tt.want, m.UpstreamPath)
			require.Equal(t, tt.prefix, m.Prefix)
		})
	}
}
