package kongemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func keyAuthConfigFor(t *testing.T, cfg *Config, route string) KeyAuthConfig {
	t.Helper()
	r := cfg.Route(route)
	require.NotNil(t, r, route)
	p := cfg.PluginFor("key-auth", r, cfg.Service(r.ServiceID), nil, nil)
	require.NotNil(t, p)
	conf, err := ParseKeyAuthConfig(p.Config)
	require.NoError(t, err)
	return conf
}

func TestKeyAuth(t *testing.T) {
	cfg := loadTestdata(t, "keyauth.yaml")
	alice, bob, anon := cfg.Consumer("alice"), cfg.Consumers[1], cfg.Consumer("anonymous-user")
	aliceKey := cfg.KeyAuthCredential("alice-key")
	noKey := &ErrorResponse{Status: 401, Message: "No API key found in request", Headers: http.Header{"Www-Authenticate": {"Key"}}}

	tests := []struct {
		name       string
		route      string
		req        KeyAuthRequest
		consumer   *Consumer
		credential bool
		anonymous  bool
		skipped    bool
		exit       *ErrorResponse
		header     http.Header // expected request headers afterwards
		query      string
		body       map[string]any
		changed    bool // BodyChanged
	}{
		{
			name: "header hit", route: "default",
			req:      KeyAuthRequest{Method: "GET", Header: http.Header{"Apikey": {"alice-key"}, "X-Anonymous-Consumer": {"true"}}},
			consumer: alice, credential: true,
			header: http.Header{
				"Apikey": {"alice-key"}, "X-Consumer-Id": {alice.ID}, "X-Consumer-Custom-Id": {"alice-1"},
				"X-Consumer-Username": {"alice"}, "X-Credential-Identifier": {"6f1c1a52-7d23-4b4f-9f0e-0b7d3c1e2a10"},
			},
		},
		{
			name: "query hit, consumer without username", route: "default",
			req:      KeyAuthRequest{Method: "GET", RawQuery: "a=1&apikey=bob-key"},
			consumer: bob, credential: true, query: "a=1&apikey=bob-key",
			header: http.Header{
				"X-Consumer-Id": {bob.ID}, "X-Consumer-Custom-Id": {"bob-1"},
				"X-Credential-Identifier": {cfg.KeyAuthCredential("bob-key").ID},
			},
		},
		{name: "missing", route: "default", req: KeyAuthRequest{Method: "GET"}, exit: noKey},
		{name: "empty query value", route: "default", req: KeyAuthRequest{Method: "GET", RawQuery: "apikey="}, exit: noKey, query: "apikey="},
		{name: "bare query flag", route: "default", req: KeyAuthRequest{Method: "GET", RawQuery: "apikey"}, exit: noKey, query: "apikey"},
		{
			name: "invalid", route: "default", req: KeyAuthRequest{Method: "GET", Header: http.Header{"Apikey": {"nope"}}},
			exit: &ErrorResponse{Status: 401, Message: "Unauthorized", Headers: http.Header{"Www-Authenticate": {"Key"}}},
		},
		{
			name: "duplicate header", route: "default", req: KeyAuthRequest{Method: "GET", Header: http.Header{"Apikey": {"a", "b"}}},
			exit: &ErrorResponse{Status: 401, Message: "Duplicate API key found", Headers: http.Header{"Www-Authenticate": {"Key"}}},
		},
		{
			name: "duplicate query", route: "default", req: KeyAuthRequest{Method: "GET", RawQuery: "apikey=a&apikey=b"},
			exit:  &ErrorResponse{Status: 401, Message: "Duplicate API key found", Headers: http.Header{"Www-Authenticate": {"Key"}}},
			query: "apikey=a&apikey=b",
		},
		{
			name: "body ignored unless key_in_body", route: "default",
			req: KeyAuthRequest{Method: "POST", Body: map[string]any{"apikey": "alice-key"}}, exit: noKey,
			body: map[string]any{"apikey": "alice-key"},
		},
		{
			name: "hide: header", route: "hide",
			req:      KeyAuthRequest{Method: "GET", Header: http.Header{"Apikey": {"alice-key"}, "Other": {"x"}}, RawQuery: "b=1%202&c"},
			consumer: alice, credential: true, query: "b=1+2&c=",
			header: http.Header{
				"Other": {"x"}, "X-Consumer-Id": {alice.ID}, "X-Consumer-Custom-Id": {"alice-1"},
				"X-Consumer-Username": {"alice"}, "X-Credential-Identifier": {aliceKey.ID},
			},
		},
		{
			name: "hide: query, underscore key name", route: "hide",
			req:      KeyAuthRequest{Method: "GET", RawQuery: "keep=%7E&x_api_key=alice-key&x_api_key2=z"},
			consumer: alice, credential: true, query: "keep=%7E&x_api_key2=z",
			header: http.Header{
				"X-Consumer-Id": {alice.ID}, "X-Consumer-Custom-Id": {"alice-1"},
				"X-Consumer-Username": {"alice"}, "X-Credential-Identifier": {aliceKey.ID},
			},
		},
		{
			name: "hide: body", route: "hide",
			req:      KeyAuthRequest{Method: "POST", Body: map[string]any{"apikey": "alice-key", "model": "m"}},
			consumer: alice, credential: true, body: map[string]any{"model": "m"}, changed: true,
			header: http.Header{
				"X-Consumer-Id": {alice.ID}, "X-Consumer-Custom-Id": {"alice-1"},
				"X-Consumer-Username": {"alice"}, "X-Credential-Identifier": {aliceKey.ID},
			},
		},
		{
			name: "hide: a dashed header found by an underscored name stays (ngx.req.clear_header)", route: "hide",
			req:      KeyAuthRequest{Method: "GET", Header: http.Header{"X-Api-Key": {"alice-key"}}},
			consumer: alice, credential: true,
			header: http.Header{
				"X-Api-Key": {"alice-key"}, "X-Consumer-Id": {alice.ID}, "X-Consumer-Custom-Id": {"alice-1"},
				"X-Consumer-Username": {"alice"}, "X-Credential-Identifier": {aliceKey.ID},
			},
		},
		{
			name: "body: a list is a duplicate", route: "hide",
			req:  KeyAuthRequest{Method: "POST", Body: map[string]any{"apikey": []any{"a", "b"}}},
			exit: &ErrorResponse{Status: 401, Message: "Duplicate API key found", Headers: http.Header{"Www-Authenticate": {"Key"}}},
			body: map[string]any{"apikey": []any{"a", "b"}},
		},
		{
			name: "body: a number is no key", route: "hide",
			req: KeyAuthRequest{Method: "POST", Body: map[string]any{"apikey": 42.0}}, exit: noKey,
			body: map[string]any{"apikey": 42.0},
		},
		{
			name: "anonymous on a miss", route: "anon", req: KeyAuthRequest{Method: "GET"},
			consumer: anon, anonymous: true,
			header: http.Header{"X-Consumer-Id": {anon.ID}, "X-Consumer-Username": {"anonymous-user"}, "X-Anonymous-Consumer": {"true"}},
		},
		{
			name: "anonymous on an invalid key", route: "anon", req: KeyAuthRequest{Method: "GET", Header: http.Header{"Apikey": {"nope"}}},
			consumer: anon, anonymous: true,
			header: http.Header{"Apikey": {"nope"}, "X-Consumer-Id": {anon.ID}, "X-Consumer-Username": {"anonymous-user"}, "X-Anonymous-Consumer": {"true"}},
		},
		{
			name: "anonymous configured, key valid", route: "anon", req: KeyAuthRequest{Method: "GET", Header: http.Header{"Apikey": {"alice-key"}}},
			consumer: alice, credential: true,
			header: http.Header{
				"Apikey": {"alice-key"}, "X-Consumer-Id": {alice.ID}, "X-Consumer-Custom-Id": {"alice-1"},
				"X-Consumer-Username": {"alice"}, "X-Credential-Identifier": {aliceKey.ID},
			},
		},
		{
			name: "anonymous: already authenticated", route: "anon",
			req: KeyAuthRequest{Method: "GET", Authenticated: true}, skipped: true, header: http.Header{},
		},
		{
			name: "anonymous consumer missing", route: "anon-missing", req: KeyAuthRequest{Method: "GET"},
			exit: &ErrorResponse{Status: 500, Message: "anonymous consumer ghost is configured but doesn't exist"},
		},
		{
			name: "realm, key_in_query off", route: "realm", req: KeyAuthRequest{Method: "GET", RawQuery: "apikey=alice-key"},
			exit:  &ErrorResponse{Status: 401, Message: "No API key found in request", Headers: http.Header{"Www-Authenticate": {`Key realm="kong"`}}},
			query: "apikey=alice-key",
		},
		{name: "preflight skipped", route: "preflight", req: KeyAuthRequest{Method: "OPTIONS"}, skipped: true, header: http.Header{}},
		{name: "preflight off, GET still checked", route: "preflight", req: KeyAuthRequest{Method: "GET"}, exit: noKey},
		{name: "preflight checked by default", route: "default", req: KeyAuthRequest{Method: "OPTIONS"}, exit: noKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := keyAuthConfigFor(t, cfg, tt.route)
			req := tt.req
			res := cfg.KeyAuth(conf, &req)
			require.Equal(t, tt.exit, res.Exit)
			require.Equal(t, tt.skipped, res.Skipped)
			require.Equal(t, tt.consumer, res.Consumer)
			require.Equal(t, tt.credential, res.Credential != nil)
			require.Equal(t, tt.anonymous, res.Anonymous)
			require.Equal(t, tt.query, res.RawQuery)
			require.Equal(t, tt.body, req.Body)
			require.Equal(t, tt.changed, res.BodyChanged)
			if tt.header != nil {
				require.Equal(t, tt.header, req.Header)
			}
			if tt.consumer == alice {
				require.Equal(t, []*ConsumerGroup{cfg.ConsumerGroup("gold")}, res.Groups)
			}
		})
	}
}

func TestKeyAuthAnonymousByID(t *testing.T) {
	cfg := loadTestdata(t, "keyauth.yaml")
	anon := cfg.Consumer("anonymous-user")
	conf, err := ParseKeyAuthConfig(map[string]any{"anonymous": anon.ID})
	require.NoError(t, err)
	res := cfg.KeyAuth(conf, &KeyAuthRequest{Method: "GET"})
	require.Nil(t, res.Exit)
	require.Same(t, anon, res.Consumer)
}

func TestParseKeyAuthConfig(t *testing.T) {
	conf, err := ParseKeyAuthConfig(nil)
	require.NoError(t, err)
	require.Equal(t, KeyAuthConfig{
		KeyNames: []string{"apikey"}, KeyInHeader: true, KeyInQuery: true, RunOnPreflight: true,
	}, conf)

	_, err = ParseKeyAuthConfig(map[string]any{"key_in_body": "true", "key_names": []any{"ok", "not ok"}})
	require.ErrorContains(t, err, "key_in_body: expected a boolean")
	require.ErrorContains(t, err, "key_names: [1]: bad header name 'not ok'")
}

func TestKeyAuthRender(t *testing.T) {
	cfg := loadTestdata(t, "keyauth.yaml")
	res := cfg.KeyAuth(keyAuthConfigFor(t, cfg, "default"), &KeyAuthRequest{Method: "GET"})
	h, body := res.Exit.Render("", "a1b2")
	require.Equal(t, "{\n  \"message\":\"No API key found in request\",\n  \"request_id\":\"a1b2\"\n}", string(body))
	require.Equal(t, "application/json; charset=utf-8", h.Get("Content-Type"))
	require.Equal(t, "Key", h.Get("WWW-Authenticate"))
}
