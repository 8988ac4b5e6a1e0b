package kongemu

import (
	"sort"
	"strings"
)

// scope is the compound key a plugin is stored under: the ids of its
// route, service, consumer and consumer group ("" when unset).
type scope struct {
	route, service, consumer, group string
}

// indexPlugins keeps the plugins the http subsystem runs: enabled, with
// at least one http protocol (plugins_iterator.lua should_process_plugin).
func (c *Config) indexPlugins() {
	c.scoped = map[string]map[scope]*Plugin{}
	for _, p := range c.Plugins {
		if !p.Enabled || !hasHTTPProtocol(p.Protocols) {
			continue
		}
		if c.scoped[p.Name] == nil {
			c.scoped[p.Name] = map[scope]*Plugin{}
		}
		k := scope{lower(p.RouteID), lower(p.ServiceID), lower(p.ConsumerID), lower(p.ConsumerGroupID)}
		c.scoped[p.Name][k] = p
	}
}

func hasHTTPProtocol(protocols []string) bool {
	for _, p := range protocols {
		for _, h := range httpProtocols {
			if p == h {
				return true
			}
		}
	}
	return false
}

func lower(s string) string { return strings.ToLower(s) }

// PluginNames returns the names of the plugins that can run, sorted.
func (c *Config) PluginNames() []string {
	return sortedKeys(c.scoped)
}

// PluginFor returns the config of plugin name that applies to a request
// on route and service by consumer (nil when unauthenticated) in groups
// (the consumer's groups, see GroupsOf), or nil when none does. Kong asks
// this per plugin as the access phase reaches it, so the consumer is the
// one that higher-priority auth plugins have set by then.
//
// The most specific config wins, in the order Kong documents for 3.x with
// consumer groups (Kong OSS's plugins_iterator.lua lookup_cfg has the
// eight levels without groups):
//
//	route+service+consumer, group+route+service, route+consumer,
//	service+consumer, group+route, group+service, route+service,
//	consumer, group, route, service, global
//
// At a group level the groups are tried by name, ascending.
func (c *Config) PluginFor(name string, route *Route, service *Service, consumer *Consumer, groups []*ConsumerGroup) *Plugin {
	combos := c.scoped[name]
	if combos == nil {
		return nil
	}
	var r, s, cs string
	if route != nil {
		r = lower(route.ID)
	}
	if service != nil {
		s = lower(service.ID)
	}
	if consumer != nil {
		cs = lower(consumer.ID)
	}
	gs := make([]string, 0, len(groups))
	for _, g := range sortGroupsByName(groups) {
		gs = append(gs, lower(g.ID))
	}
	try := func(need bool, k scope) *Plugin {
		if !need {
			return nil
		}
		return combos[k]
	}
	tryGroups := func(need bool, r, s string) *Plugin {
		if !need {
			return nil
		}
		for _, g := range gs {
			if p := combos[scope{route: r, service: s, group: g}]; p != nil {
				return p
			}
		}
		return nil
	}
	levels := []func() *Plugin{
		func() *Plugin { return try(r != "" && s != "" && cs != "", scope{route: r, service: s, consumer: cs}) },
		func() *Plugin { return tryGroups(r != "" && s != "", r, s) },
		func() *Plugin { return try(r != "" && cs != "", scope{route: r, consumer: cs}) },
		func() *Plugin { return try(s != "" && cs != "", scope{service: s, consumer: cs}) },
		func() *Plugin { return tryGroups(r != "", r, "") },
		func() *Plugin { return tryGroups(s != "", "", s) },
		func() *Plugin { return try(r != "" && s != "", scope{route: r, service: s}) },
		func() *Plugin { return try(cs != "", scope{consumer: cs}) },
		func() *Plugin { return tryGroups(true, "", "") },
		func() *Plugin { return try(r != "", scope{route: r}) },
		func() *Plugin { return try(s != "", scope{service: s}) },
		func() *Plugin { return combos[scope{}] },
	}
	for _, level := range levels {
		if p := level(); p != nil {
			return p
		}
	}
	return nil
}

func sortGroupsByName(groups []*ConsumerGroup) []*ConsumerGroup {
	sorted := append([]*ConsumerGroup(nil), groups...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	return sorted
}

// PluginsFor returns one config per plugin name for a request, chosen by
// PluginFor with the same consumer for every plugin, sorted by name.
func (c *Config) PluginsFor(route *Route, service *Service, consumer *Consumer, groups []*ConsumerGroup) []*Plugin {
	var out []*Plugin
	for _, name := range c.PluginNames() {
		if p := c.PluginFor(name, route, service, consumer, groups); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// GlobalPlugins returns the global plugins, sorted by name: the only ones
// for the rewrite phase, and the ones the log phase runs when access never
// did (no route matched, or an exit in rewrite).
func (c *Config) GlobalPlugins() []*Plugin {
	var out []*Plugin
	for _, name := range c.PluginNames() {
		if p := c.scoped[name][scope{}]; p != nil {
			out = append(out, p)
		}
	}
	return out
}

// PluginPriority is a plugin name with its handler's PRIORITY.
type PluginPriority struct {
	Name     string
	Priority int
}

// SortByPriority orders plugins as kong/db/dao/plugins.lua
// sort_by_handler_priority does: highest priority first, equal priorities
// by name descending. Kong leaves ties at priority 0 unordered; here they
// are by name descending too.
func SortByPriority(plugins []PluginPriority) {
	sort.SliceStable(plugins, func(i, j int) bool {
		if plugins[i].Priority != plugins[j].Priority {
			return plugins[i].Priority > plugins[j].Priority
		}
		return plugins[i].Name > plugins[j].Name
	})
}
