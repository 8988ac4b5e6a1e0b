package kongemu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func tagOf(p *Plugin) string {
	if p == nil {
		return ""
	}
	tag, _ := p.Config["tag"].(string)
	return tag
}

func TestPluginPrecedence(t *testing.T) {
	cfg := loadTestdata(t, "precedence.yaml")
	r1, r2, r3 := cfg.Route("r1"), cfg.Route("r2"), cfg.Route("r3")
	s1, s2 := cfg.Service("s1"), cfg.Service("s2")
	tests := []struct {
		name     string
		plugin   string
		route    *Route
		service  *Service
		consumer string
		want     string
	}{
		{name: "route+service+consumer first", plugin: "tollgate-test", route: r1, service: s1, consumer: "alice", want: "route+service+consumer"},
		{name: "route+consumer before service+consumer", plugin: "tollgate-test", route: r1, service: s1, consumer: "dave", want: "route+consumer"},
		{name: "service+consumer before route+service", plugin: "tollgate-test", route: r2, service: s1, consumer: "alice", want: "service+consumer"},
		{name: "route+service without a consumer config", plugin: "tollgate-test", route: r1, service: s1, consumer: "bob", want: "route+service"},
		{name: "unauthenticated", plugin: "tollgate-test", route: r1, service: s1, want: "route+service"},
		{name: "disabled config skipped", plugin: "tollgate-test", route: r1, service: s1, consumer: "carol", want: "route+service"},
		{name: "consumer before route and service", plugin: "tollgate-test", route: r3, service: s2, consumer: "alice", want: "consumer"},
		{name: "service", plugin: "tollgate-test", route: r2, service: s1, consumer: "bob", want: "service"},
		{name: "global", plugin: "tollgate-test", route: r3, service: s2, consumer: "bob", want: "global"},
		{name: "no route at all", plugin: "tollgate-test", want: "global"},
		{name: "four copies: consumer beats route", plugin: "tollgate-other", route: r1, service: s1, consumer: "bob", want: "consumer"},
		{name: "four copies: route beats service", plugin: "tollgate-other", route: r1, service: s1, consumer: "alice", want: "route"},
		{name: "four copies: service beats global", plugin: "tollgate-other", route: r2, service: s1, want: "service"},
		{name: "four copies: global", plugin: "tollgate-other", route: r3, service: s2, want: "global"},
		{name: "stream-only plugin never runs", plugin: "tollgate-stream", route: r1, service: s1},
		{name: "unknown plugin", plugin: "tollgate-none", route: r1, service: s1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var consumer *Consumer
			if tt.consumer != "" {
				consumer = cfg.Consumer(tt.consumer)
				require.NotNil(t, consumer)
			}
			require.Equal(t, tt.want, tagOf(cfg.PluginFor(tt.plugin, tt.route, tt.service, consumer, nil)))
		})
	}
}

func TestPluginsFor(t *testing.T) {
	cfg := loadTestdata(t, "precedence.yaml")
	got := cfg.PluginsFor(cfg.Route("r1"), cfg.Service("s1"), cfg.Consumer("bob"), nil)
	require.Len(t, got, 2)
	require.Equal(t, "tollgate-other", got[0].Name)
	require.Equal(t, "consumer", tagOf(got[0]))
	require.Equal(t, "tollgate-test", got[1].Name)
	require.Equal(t, "route+service", tagOf(got[1]))

	globals := cfg.GlobalPlugins()
	require.Len(t, globals, 2)
	for _, p := range globals {
		require.True(t, p.IsGlobal())
		require.Equal(t, "global", tagOf(p))
	}
	require.Equal(t, []string{"tollgate-other", "tollgate-test"}, cfg.PluginNames())
}

func TestPluginPrecedenceGroups(t *testing.T) {
	cfg := loadTestdata(t, "groups.yaml")
	r1, r2, s1 := cfg.Route("r1"), cfg.Route("r2"), cfg.Service("s1")
	tests := []struct {
		name     string
		route    *Route
		consumer string
		want     string
	}{
		{name: "group+route before service", route: r1, consumer: "alice", want: "gold+route"},
		{name: "group before service, groups by name", route: r2, consumer: "alice", want: "gold"},
		{name: "other group", route: r2, consumer: "carol", want: "silver"},
		{name: "consumer", route: r2, consumer: "bob", want: "consumer"},
		{name: "no group", route: r2, consumer: "dan", want: "service"},
		{name: "unauthenticated", route: r1, want: "service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var consumer *Consumer
			if tt.consumer != "" {
				consumer = cfg.Consumer(tt.consumer)
			}
			require.Equal(t, tt.want, tagOf(cfg.PluginFor("tollgate-limit", tt.route, s1, consumer, cfg.GroupsOf(consumer))))
		})
	}
	alice := cfg.Consumer("alice")
	groups := cfg.GroupsOf(alice)
	require.Equal(t, "gold", groups[0].Name)
	require.Equal(t, "silver", groups[1].Name)
}

func TestSortByPriority(t *testing.T) {
	keyAuth, ok := BundledPriority("key-auth")
	require.True(t, ok)
	require.Equal(t, 1250, keyAuth)
	_, ok = BundledPriority("tollgate-opa")
	require.False(t, ok)

	plugins := []PluginPriority{
		{Name: "tollgate-model-fallback", Priority: 789},
		{Name: "tollgate-b", Priority: 800},
		{Name: "key-auth", Priority: keyAuth},
		{Name: "tollgate-a", Priority: 800},
		{Name: "tollgate-opa", Priority: 799},
	}
	SortByPriority(plugins)
	var names []string
	for _, p := range plugins {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"key-auth", "tollgate-b", "tollgate-a", "tollgate-opa", "tollgate-model-fallback"}, names)
}
