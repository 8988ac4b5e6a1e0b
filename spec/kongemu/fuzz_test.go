package kongemu

import (
	"net/http"
	"testing"
)

// FuzzLoadDeck checks that no decK file makes the loader, the router or
// the plugin lookup panic. Seeds: testdata/fuzz/FuzzLoadDeck.
func FuzzLoadDeck(f *testing.F) {
	requests := []RouteRequest{
		{Method: "GET", Scheme: "http", Host: "example.com", Path: "/"},
		{Method: "POST", Scheme: "http", Host: "api.example.com:8000", Path: "/v1/chat/../x%2F%41?a=b",
			Headers: http.Header{"X-Tenant": {"acme"}, "Apikey": {"k1"}}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := LoadDeck(data)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config with an error")
			}
			return
		}
		for _, req := range requests {
			m, ok := cfg.Match(req)
			var consumer *Consumer
			if len(cfg.Consumers) > 0 {
				consumer = cfg.Consumers[0]
			}
			if ok {
				cfg.PluginsFor(m.Route, m.Service, consumer, cfg.GroupsOf(consumer))
				if m.Exit != nil {
					m.Exit.Render("text/html", "rid")
				}
			}
			for _, p := range cfg.Plugins {
				if p.Name != "key-auth" {
					continue
				}
				conf, err := ParseKeyAuthConfig(p.Config)
				if err != nil {
					t.Fatalf("loaded key-auth config does not parse: %v", err)
				}
				h := req.Headers.Clone()
				cfg.KeyAuth(conf, &KeyAuthRequest{Method: req.Method, Header: h, RawQuery: "apikey=k1&x=%zz"})
			}
		}
		cfg.GlobalPlugins()
	})
}
