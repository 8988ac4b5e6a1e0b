package kongemu

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// plugin reads a plugin entity; parent is the kind of the entity it is
// nested in ("" at the top level) and parentID that entity's id.
func (l *loader) plugin(n *yaml.Node, path, parent, parentID string) {
	var d deckPlugin
	where, ok := l.decodeEntity(n, "plugin", path, &d, parent)
	if !ok {
		return
	}
	p := &Plugin{Enabled: true, Tags: d.Tags, Protocols: d.Protocols}
	setString(&p.Name, d.Name)
	setString(&p.InstanceName, d.InstanceName)
	setBool(&p.Enabled, d.Enabled)
	if p.Name == "" {
		l.fail(where, "name: required field missing")
	}
	if d.InstanceName != nil {
		l.check(where, "instance_name", checkName(p.InstanceName))
	}
	config, err := configValue(&d.Config)
	if err != nil {
		l.wrap(where+": config", err)
	}
	p.Config = config
	p.CreatedAt, p.UpdatedAt = l.timestamps(d.CreatedAt, d.UpdatedAt)

	refs := map[string]deckRef{}
	for field, ref := range map[string]deckRef{
		"service": d.Service, "route": d.Route, "consumer": d.Consumer, "consumer_group": d.ConsumerGroup,
	} {
		if ref.Set {
			refs[field] = ref
		}
	}
	switch parent {
	case "service":
		p.ServiceID = parentID
	case "route":
		p.RouteID = parentID
	case "consumer":
		p.ConsumerID = parentID
	case "consumer_group":
		p.ConsumerGroupID = parentID
	}
	p.ID = l.identify("plugins", d.ID, pluginKey(p.Name, parent, parentID, refs), path, where)
	l.unique("plugins", "instance_name", p.InstanceName, where)
	l.cfg.Plugins = append(l.cfg.Plugins, p)
	l.plugins = append(l.plugins, &pendingPlugin{plugin: p, where: where, refs: refs})
}

// pluginKey is the cache-key-like string Kong's declarative loader hashes
// into a plugin id: "plugins:*:<name>:<route>:<service>:<consumer>", where
// a reference written as a string appears as written, the parent as its
// id, an absent one as "", and one written as a map is left out.
func pluginKey(name, parent, parentID string, refs map[string]deckRef) string {
	parts := []string{"plugins", "*", name}
	fields := []string{"route", "service", "consumer"}
	if parent == "consumer_group" || refs["consumer_group"].Set {
		fields = append(fields, "consumer_group") // Kong Enterprise's extra key
	}
	for _, f := range fields {
		ref, ok := refs[f]
		switch {
		case f == parent:
			parts = append(parts, parentID)
		case !ok:
			parts = append(parts, "")
		case ref.Text != "":
			parts = append(parts, ref.Text)
		}
	}
	return strings.Join(parts, ":")
}

// resolvePlugin links a plugin's scope references and checks its name,
// protocols and, for a bundled plugin, its config.
func (l *loader) resolvePlugin(pp *pendingPlugin) {
	c, p := l.cfg, pp.plugin
	for _, field := range []string{"service", "route", "consumer", "consumer_group"} {
		ref, ok := pp.refs[field]
		if !ok {
			continue
		}
		var id string
		switch field {
		case "service":
			if s := findRef(ref, c.servicesByID, c.Services, func(s *Service) string { return s.Name }); s != nil {
				id, p.ServiceID = s.ID, s.ID
			}
		case "route":
			if r := findRef(ref, c.routesByID, c.Routes, func(r *Route) string { return r.Name }); r != nil {
				id, p.RouteID = r.ID, r.ID
			}
		case "consumer":
			if cs := l.findConsumer(ref); cs != nil {
				id, p.ConsumerID = cs.ID, cs.ID
			}
		case "consumer_group":
			if g := findRef(ref, c.groupsByID, c.ConsumerGroups, func(g *ConsumerGroup) string { return g.Name }); g != nil {
				id, p.ConsumerGroupID = g.ID, g.ID
			}
		}
		if id == "" {
			l.badRef(pp.where, field, ref, field+"s")
		}
	}
	if p.ConsumerID != "" && p.ConsumerGroupID != "" {
		l.fail(pp.where, "consumer_group: only one of 'consumer' and 'consumer_group' can be set")
	}
	if p.Name == "" {
		return
	}
	b, isBundled := bundled[p.Name]
	switch {
	case isBundled:
		l.checkBundled(pp, b)
	case l.opts.plugins[p.Name] || strings.HasPrefix(p.Name, "tollgate-"):
		if p.Protocols == nil {
			p.Protocols = slices.Clone(httpProtocols)
		}
		for i, proto := range p.Protocols {
			l.check(pp.where, fmt.Sprintf("protocols[%d]", i), oneOf(proto, kongProtocols))
		}
	default:
		l.fail(pp.where, "name: %v", errNotEnabled(p.Name))
	}
}

// checkBundled applies a bundled plugin's schema and fills its defaults.
func (l *loader) checkBundled(pp *pendingPlugin, b bundledPlugin) {
	p := pp.plugin
	if p.Protocols == nil {
		p.Protocols = slices.Clone(b.protocols)
	}
	for i, proto := range p.Protocols {
		l.check(pp.where, fmt.Sprintf("protocols[%d]", i), oneOf(proto, b.protocols))
	}
	if b.noConsumer && p.ConsumerID != "" {
		l.fail(pp.where, "consumer: value must be null")
	}
	if b.noConsumer && p.ConsumerGroupID != "" {
		l.fail(pp.where, "consumer_group: value must be null")
	}
	config, errs := b.schema(p.Config)
	for _, err := range errs {
		l.wrap(pp.where+": config", err)
	}
	p.Config = config
}
