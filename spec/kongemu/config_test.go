package kongemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testClock = WithClock(func() time.Time { return time.Unix(1700000000, 0) })

func loadTestdata(t *testing.T, name string, opts ...Option) *Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, err := LoadDeck(data, append([]Option{testClock}, opts...)...)
	require.NoError(t, err)
	return cfg
}

func TestLoadDeckBasic(t *testing.T) {
	cfg := loadTestdata(t, "basic.yaml")

	llm := cfg.Service("llm")
	require.NotNil(t, llm)
	require.Equal(t, &Service{
		ID: entityID("services", "llm"), Name: "llm",
		Protocol: "http", Host: "127.0.0.1", Port: 8099,
		Retries: 5, ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000,
		Enabled: true, CreatedAt: 1700000000, UpdatedAt: 1700000000,
	}, llm)
	require.Equal(t, "http://127.0.0.1:8099", llm.URL())

	secure := cfg.Service("secure")
	require.Equal(t, "https", secure.Protocol)
	require.Equal(t, 80, secure.Port, "an explicit protocol does not change the default port")
	require.Equal(t, "/api/", secure.Path)
	require.Equal(t, 2, secure.Retries)
	require.Equal(t, 1000, secure.ReadTimeout)
	require.False(t, secure.Enabled)
	require.Same(t, secure, cfg.Service(secure.ID), "lookup by id")

	openai := cfg.Route("openai")
	require.Equal(t, &Route{
		ID: entityID("routes", "openai"), Name: "openai",
		Protocols: []string{"http", "https"}, Methods: []string{"POST", "GET"}, Paths: []string{"/v1"},
		StripPath: false, PathHandling: "v0", HTTPSRedirectStatusCode: 426,
		RequestBuffering: true, ResponseBuffering: true,
		ServiceID: llm.ID, CreatedAt: 1700000000, UpdatedAt: 1700000000,
	}, openai)
	require.Equal(t, secure.ID, cfg.Route("top").ServiceID)
	require.Empty(t, cfg.Route("orphan").ServiceID)
	require.Equal(t, []string{"openai", "top", "orphan"}, routeNames(cfg.Routes), "definition order")

	alice := cfg.Consumer("alice")
	require.Equal(t, entityID("consumers", "alice"), alice.ID)
	require.Equal(t, "a-1", alice.CustomID)
	require.Equal(t, []string{"team-a"}, alice.Tags)
	require.Same(t, alice, cfg.Consumer(alice.ID))
	require.Nil(t, cfg.Consumer("a-1"), "custom_id is not an endpoint key")
	only := cfg.Consumers[1]
	require.Equal(t, "only-custom", only.CustomID)
	require.Equal(t, entityID("consumers", "#consumers[1]"), only.ID, "stable id where Kong draws a random one")

	gold, silver := cfg.ConsumerGroup("gold"), cfg.ConsumerGroup("silver")
	require.Equal(t, []*ConsumerGroup{gold, silver}, cfg.GroupsOf(alice), "both membership forms, by name")
	require.Equal(t, []string{alice.ID}, silver.ConsumerIDs)

	require.Equal(t, alice.ID, cfg.KeyAuthCredential("alice-key").ConsumerID)
	require.Equal(t, alice.ID, cfg.KeyAuthCredential("second-alice-key").ConsumerID)
	require.Equal(t, entityID("keyauth_credentials", "alice-key"), cfg.KeyAuthCredential("alice-key").ID)

	require.Len(t, cfg.Plugins, 5)
	keyAuth := cfg.Plugins[0]
	require.Equal(t, "key-auth", keyAuth.Name)
	require.Equal(t, llm.ID, keyAuth.ServiceID)
	require.Equal(t, entityID("plugins", "plugins:*:key-auth::"+llm.ID+":"), keyAuth.ID)
	require.Equal(t, map[string]any{
		"key_names": []any{"apikey", "x-api-key"}, "hide_credentials": false, "anonymous": nil,
		"key_in_header": true, "key_in_query": true, "key_in_body": false,
		"run_on_preflight": true, "realm": nil,
	}, keyAuth.Config, "Kong's defaults")
	require.Equal(t, []string{"grpc", "grpcs", "http", "https"}, keyAuth.Protocols)

	test := cfg.Plugins[1]
	require.Equal(t, map[string]any{"tag": "demo", "nested": map[string]any{"a": []any{1, 2}, "b": nil}}, test.Config)
	require.True(t, test.Enabled)

	byAlice := cfg.Plugins[2]
	require.Equal(t, alice.ID, byAlice.ConsumerID)
	require.Equal(t, llm.ID, byAlice.ServiceID, "nested in a consumer, scoped to a service too")
	require.Equal(t, entityID("plugins", "plugins:*:tollgate-test::llm:"+alice.ID), byAlice.ID)

	global := cfg.Plugins[3]
	require.True(t, global.IsGlobal())
	require.Equal(t, "global-test", global.InstanceName)

	disabled := cfg.Plugins[4]
	require.False(t, disabled.Enabled)
	require.Equal(t, []string{"https"}, disabled.Protocols)
}

func routeNames(routes []*Route) []string {
	var names []string
	for _, r := range routes {
		names = append(names, r.Name)
	}
	return names
}

func TestLoadDeckInvalid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var wants []string
			for _, line := range strings.Split(string(data), "\n") {
				if want, ok := strings.CutPrefix(line, "# want: "); ok {
					wants = append(wants, want)
				}
			}
			require.NotEmpty(t, wants, "a # want: line")
			_, err = LoadDeck(data)
			require.Error(t, err)
			for _, want := range wants {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestLoadDeckOptions(t *testing.T) {
	deck := []byte(`_format_version: "3.0"
plugins:
  - name: rate-limiting
  - name: tollgate-test
`)
	_, err := LoadDeck(deck)
	require.ErrorContains(t, err, "plugin 'rate-limiting' not enabled")

	cfg, err := LoadDeck(deck, WithPlugins("rate-limiting"))
	require.NoError(t, err)
	require.Equal(t, []string{"grpc", "grpcs", "http", "https"}, cfg.Plugins[0].Protocols)

	require.NoError(t, cfg.Validate(func(string) bool { return true }))
	err = cfg.Validate(func(name string) bool { return name == "rate-limiting" })
	require.ErrorContains(t, err, "plugin 'tollgate-test' not enabled")
}

func TestLoadDeckShapes(t *testing.T) {
	tests := []struct {
		name string
		deck string
		want func(t *testing.T, c *Config)
	}{
		{
			name: "json",
			deck: `{"_format_version": "3.0", "services": [{"name": "s", "url": "https://example.com"}]}`,
			want: func(t *testing.T, c *Config) {
				require.Equal(t, 443, c.Services[0].Port)
				require.Equal(t, "https", c.Services[0].Protocol)
			},
		},
		{
			name: "url port 443 without scheme",
			deck: "_format_version: \"3.0\"\nservices:\n  - {name: s, url: '//example.com:443/p'}\n",
			want: func(t *testing.T, c *Config) {
				require.Equal(t, "https", c.Services[0].Protocol)
				require.Equal(t, "/p", c.Services[0].Path)
			},
		},
		{
			name: "url overrides explicit fields",
			deck: "_format_version: \"3.0\"\nservices:\n  - {name: s, port: 9000, path: /x, url: 'http://example.com'}\n",
			want: func(t *testing.T, c *Config) {
				require.Equal(t, 80, c.Services[0].Port)
				require.Empty(t, c.Services[0].Path)
			},
		},
		{
			name: "references by id and map",
			deck: `_format_version: "3.0"
services:
  - {id: 0c1a7f3e-5f5b-4d3e-9c51-6608a6bb8101, name: s, url: http://e.test}
routes:
  - {name: a, paths: [/a], service: 0C1A7F3E-5F5B-4D3E-9C51-6608A6BB8101}
  - {name: b, paths: [/b], service: {name: s}}
  - {name: c, paths: [/c], service: {id: 0c1a7f3e-5f5b-4d3e-9c51-6608a6bb8101}}
plugins:
  - {name: tollgate-test, route: {name: b}}
`,
			want: func(t *testing.T, c *Config) {
				for _, r := range c.Routes {
					require.Equal(t, "0c1a7f3e-5f5b-4d3e-9c51-6608a6bb8101", r.ServiceID, r.Name)
				}
				require.Equal(t, c.Route("b").ID, c.Plugins[0].RouteID)
				require.Equal(t, entityID("plugins", "plugins:*:tollgate-test::"), c.Plugins[0].ID,
					"a reference written as a map is left out of Kong's key")
			},
		},
		{
			name: "extension keys are unknown fields",
			deck: `_format_version: "3.0"
x-base: &base {url: http://e.test}
`,
			want: nil,
		},
		{
			name: "generated key",
			deck: "_format_version: \"3.0\"\nconsumers:\n  - username: a\n    keyauth_credentials: [{}]\n",
			want: func(t *testing.T, c *Config) {
				key := c.KeyAuthCredentials[0].Key
				require.Len(t, key, 32)
				require.Same(t, c.KeyAuthCredentials[0], c.KeyAuthCredential(key))
			},
		},
		{
			name: "empty lists and nulls",
			deck: "_format_version: \"3.0\"\nservices: null\nroutes: []\nplugins:\n  - {name: tollgate-test, config: null}\n",
			want: func(t *testing.T, c *Config) {
				require.Equal(t, map[string]any{}, c.Plugins[0].Config)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadDeck([]byte(tt.deck))
			if tt.want == nil {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			tt.want(t, c)
		})
	}
}

func TestUUIDV5(t *testing.T) {
	// RFC 4122 appendix B / Python's uuid.uuid5(NAMESPACE_DNS, "www.example.com").
	dns := mustParseUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	require.Equal(t, "2ed6657d-e927-568b-95e1-2665a8aea6a2", uuidV5(dns, "www.example.com").String())
	_, ok := parseUUID("not-a-uuid")
	require.False(t, ok)
}

func TestPluginCacheKey(t *testing.T) {
	p := &Plugin{Name: "tollgate-opa", RouteID: "r", ConsumerID: "c"}
	require.Equal(t, "plugins:tollgate-opa:r::c::"+DefaultWorkspaceID, p.CacheKey(DefaultWorkspaceID))
}
