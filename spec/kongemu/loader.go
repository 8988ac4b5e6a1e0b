package kongemu

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// loader turns a decK file into a Config: entities are read in file order,
// then references are resolved, plugins checked and the router compiled.
type loader struct {
	opts     options
	now      int64
	cfg      *Config
	errs     []error
	entities int // entries read, for maxEntities

	ids     map[string]map[string]claim // kind → lower-case id → first claim
	names   map[string]map[string]string
	routes  []pending[*Route] // top-level routes and their service
	creds   []pending[*KeyAuthCredential]
	members []membership
	plugins []*pendingPlugin
}

type claim struct {
	where string
	given bool
}

type pending[T any] struct {
	entity T
	ref    deckRef
	where  string
}

type membership struct {
	consumer *Consumer
	group    *ConsumerGroup
	ref      deckRef // the other side
	where    string
}

type pendingPlugin struct {
	plugin *Plugin
	where  string
	refs   map[string]deckRef // service, route, consumer, consumer_group
}

func newLoader(o options) *loader {
	return &loader{
		opts:  o,
		now:   o.now().Unix(),
		cfg:   &Config{},
		ids:   map[string]map[string]claim{},
		names: map[string]map[string]string{},
	}
}

func (l *loader) fail(where, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

func (l *loader) wrap(where string, err error) {
	l.errs = append(l.errs, fmt.Errorf("%s: %w", where, err))
}

func (l *loader) check(where, field, msg string) {
	if msg != "" {
		l.fail(where, "%s: %s", field, msg)
	}
}

// label names an entity in errors: `route "openai" (services[0].routes[0])`.
func label(kind, name, path string) string {
	if name != "" {
		return fmt.Sprintf("%s %q (%s)", kind, name, path)
	}
	return fmt.Sprintf("%s (%s)", kind, path)
}

func (l *loader) load(data []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		l.wrap("parse", err)
		return
	}
	root := resolve(&doc)
	if isNull(root) {
		l.fail("_format_version", "required field missing")
		return
	}
	if root.Kind != yaml.MappingNode {
		l.fail("deck", "expected a map")
		return
	}
	var format *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i].Value, root.Content[i+1]
		reason, known := topLevel[key]
		switch {
		case !known:
			l.fail(key, "unknown field")
		case reason != "":
			l.fail(key, "%s", reason)
		case key == "_format_version":
			format = resolve(value)
		case key == "services":
			for j, n := range l.sequence(value, key) {
				l.service(n, fmt.Sprintf("services[%d]", j))
			}
		case key == "routes":
			for j, n := range l.sequence(value, key) {
				l.route(n, fmt.Sprintf("routes[%d]", j), nil)
			}
		case key == "consumers":
			for j, n := range l.sequence(value, key) {
				l.consumer(n, fmt.Sprintf("consumers[%d]", j))
			}
		case key == "consumer_groups":
			for j, n := range l.sequence(value, key) {
				l.consumerGroup(n, fmt.Sprintf("consumer_groups[%d]", j))
			}
		case key == "plugins":
			for j, n := range l.sequence(value, key) {
				l.plugin(n, fmt.Sprintf("plugins[%d]", j), "", "")
			}
		case key == "keyauth_credentials":
			for j, n := range l.sequence(value, key) {
				l.credential(n, fmt.Sprintf("keyauth_credentials[%d]", j), nil)
			}
		}
	}
	switch {
	case format == nil:
		l.fail("_format_version", "required field missing")
	case format.Kind != yaml.ScalarNode || format.Tag != "!!str":
		l.fail("_format_version", "expected a string")
	case format.Value != "3.0":
		l.fail("_format_version", "%q is not supported: the emulator reads decK's \"3.0\" format", format.Value)
	}
	if len(l.errs) > 0 {
		return
	}
	l.cfg.index()
	l.resolve()
	if len(l.errs) > 0 {
		return
	}
	l.cfg.sortGroups()
	l.cfg.indexPlugins()
	router, err := compileRouter(l.cfg)
	if err != nil {
		l.wrap("routes", err)
		return
	}
	l.cfg.router = router
}

// identify sets the id of an entity: the given one, else the one Kong
// derives from its endpoint key, else a stable one from its path in the
// file (where Kong would use a random one).
func (l *loader) identify(kind string, given *string, key, path, where string) string {
	id := ""
	switch {
	case given != nil:
		id = *given
		if !isUUID(id) {
			l.fail(where, "id: expected a valid UUID")
		}
	case key != "":
		id = entityID(kind, key)
	default:
		id = entityID(kind, "#"+path)
	}
	if kind == "plugins" {
		return id // checked once scopes are resolved
	}
	if l.ids[kind] == nil {
		l.ids[kind] = map[string]claim{}
	}
	lower := strings.ToLower(id)
	if prev, dup := l.ids[kind][lower]; dup && (given != nil || prev.given) {
		l.fail(where, "uniqueness violation: '%s' entity with primary key set to '%s' already declared", kind, id)
	} else if !dup {
		l.ids[kind][lower] = claim{where: where, given: given != nil}
	}
	return id
}

// unique reports a second entity of kind with the same value of field.
func (l *loader) unique(kind, field, value, where string) {
	if value == "" {
		return
	}
	k := kind + "." + field
	if l.names[k] == nil {
		l.names[k] = map[string]string{}
	}
	if _, dup := l.names[k][value]; dup {
		l.fail(where, "uniqueness violation: '%s' entity with %s set to '%s' already declared", kind, field, value)
		return
	}
	l.names[k][value] = where
}

func (l *loader) timestamps(created, updated *int64) (int64, int64) {
	c, u := l.now, l.now
	if created != nil {
		c = *created
	}
	if updated != nil {
		u = *updated
	}
	return c, u
}

// resolve links references by id or endpoint key and checks the plugins.
func (l *loader) resolve() {
	c := l.cfg
	for _, p := range l.routes {
		if s := findRef(p.ref, c.servicesByID, c.Services, func(s *Service) string { return s.Name }); s != nil {
			p.entity.ServiceID = s.ID
		} else {
			l.badRef(p.where, "service", p.ref, "services")
		}
	}
	for _, p := range l.creds {
		if cs := l.findConsumer(p.ref); cs != nil {
			p.entity.ConsumerID = cs.ID
		} else {
			l.badRef(p.where, "consumer", p.ref, "consumers")
		}
	}
	for _, m := range l.members {
		switch {
		case m.consumer != nil:
			g := findRef(m.ref, c.groupsByID, c.ConsumerGroups, func(g *ConsumerGroup) string { return g.Name })
			if g == nil {
				l.badRef(m.where, "consumer_group", m.ref, "consumer_groups")
				continue
			}
			join(m.consumer, g)
		default:
			cs := l.findConsumer(m.ref)
			if cs == nil {
				l.badRef(m.where, "consumer", m.ref, "consumers")
				continue
			}
			join(cs, m.group)
		}
	}
	scopes, ids := map[string]string{}, map[string]string{}
	for _, pp := range l.plugins {
		l.resolvePlugin(pp)
		p := pp.plugin
		key := p.Name + "|" + p.RouteID + "|" + p.ServiceID + "|" + p.ConsumerID + "|" + p.ConsumerGroupID
		if prev, dup := scopes[key]; dup {
			l.fail(pp.where, "uniqueness violation: 'plugins' entity with name set to '%s' already declared for the same scope (%s)", p.Name, prev)
			continue
		}
		scopes[key] = pp.where
		// Two scopes can hash to one generated id (Kong's key drops
		// references written as maps); Kong rejects that too.
		if prev, dup := ids[strings.ToLower(p.ID)]; dup {
			l.fail(pp.where, "uniqueness violation: 'plugins' entity with primary key set to '%s' already declared (%s)", p.ID, prev)
		}
		ids[strings.ToLower(p.ID)] = pp.where
	}
}

func join(c *Consumer, g *ConsumerGroup) {
	if !slices.Contains(c.GroupIDs, g.ID) {
		c.GroupIDs = append(c.GroupIDs, g.ID)
	}
	if !slices.Contains(g.ConsumerIDs, c.ID) {
		g.ConsumerIDs = append(g.ConsumerIDs, c.ID)
	}
}

func (l *loader) findConsumer(ref deckRef) *Consumer {
	return findRef(ref, l.cfg.consumersByID, l.cfg.Consumers, func(c *Consumer) string { return c.Username })
}

// findRef resolves a reference as Kong's declarative loader does: a map
// by its id or name, a string by endpoint key first, then by id.
func findRef[E any](ref deckRef, byID map[string]*E, all []*E, key func(*E) string) *E {
	byKey := func(name string) *E {
		for _, e := range all {
			if k := key(e); k != "" && k == name {
				return e
			}
		}
		return nil
	}
	switch {
	case ref.ID != "":
		return byID[strings.ToLower(ref.ID)]
	case ref.Name != "":
		return byKey(ref.Name)
	}
	if e := byKey(ref.Text); e != nil {
		return e
	}
	return byID[strings.ToLower(ref.Text)]
}

func (l *loader) badRef(where, field string, ref deckRef, table string) {
	l.fail(where, "invalid reference '%s: %s' (no such entry in '%s')", field, ref, table)
}
