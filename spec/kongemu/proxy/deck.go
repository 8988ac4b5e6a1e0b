package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"

	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/spec/kongemu"
	"github.com/tollgate-ai/tollgate/spec/kongemu/pluginservers"
)

// wsID is the default workspace's id in the emulator.
const wsID = "0dc6f45b-8f8d-40d2-a504-473544ee190b"

// generation is one loaded declarative config: the deck, the external
// plugin entities validated against their dumped schemas, and the plugin
// order. A reload builds a new generation.
type generation struct {
	n        int64
	deck     *kongemu.Config
	entities map[string]*entity               // external plugin entities by id
	keyAuth  map[string]kongemu.KeyAuthConfig // key-auth configs by plugin id
	order    []string                         // plugin names, priority order
	global   []*entity                        // global external plugins, priority order
}

func buildGeneration(deck []byte, servers *pluginservers.Manager) (*generation, error) {
	names := make([]string, 0, len(servers.Plugins))
	for n := range servers.Plugins {
		names = append(names, n)
	}
	cfg, err := kongemu.LoadDeck(deck, kongemu.WithPlugins(names...))
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(func(n string) bool { return servers.Plugins[n] != nil }); err != nil {
		return nil, fmt.Errorf("load deck: %w", err)
	}
	g := &generation{deck: cfg, entities: map[string]*entity{}, keyAuth: map[string]kongemu.KeyAuthConfig{}}
	var errs []error
	for _, p := range cfg.Plugins {
		if kongemu.IsBundled(p.Name) {
			if p.Name == "key-auth" {
				kc, err := kongemu.ParseKeyAuthConfig(p.Config)
				if err != nil {
					errs = append(errs, fmt.Errorf("plugin key-auth (%s): %w", p.ID, err))
					continue
				}
				g.keyAuth[p.ID] = kc
			}
			continue
		}
		sp := servers.Plugins[p.Name]
		if sp == nil {
			errs = append(errs, fmt.Errorf("plugin %s is not served by any plugin server", p.Name))
			continue
		}
		e, err := newEntity(p, sp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g.entities[p.ID] = e
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load deck: %w", err)
	}
	var prio []kongemu.PluginPriority
	for _, n := range cfg.PluginNames() {
		if p, ok := kongemu.BundledPriority(n); ok {
			if n == "key-auth" {
				prio = append(prio, kongemu.PluginPriority{Name: n, Priority: p})
			}
			continue
		}
		if sp := servers.Plugins[n]; sp != nil {
			prio = append(prio, kongemu.PluginPriority{Name: n, Priority: sp.Info.Priority})
		}
	}
	kongemu.SortByPriority(prio)
	for _, p := range prio {
		g.order = append(g.order, p.Name)
	}
	for _, n := range g.order {
		if p := cfg.PluginFor(n, nil, nil, nil, nil); p != nil {
			if e := g.entities[p.ID]; e != nil {
				g.global = append(g.global, e)
			}
		}
	}
	return g, nil
}

// newEntity validates and defaults a plugin entity with the plugin's dumped
// schema, as Kong does on a declarative load, and builds the config JSON
// Kong sends to cmd_start_instance (spec §3.2).
func newEntity(p *kongemu.Plugin, sp *pluginservers.Plugin) (*entity, error) {
	ent := map[string]any{"name": p.Name, "enabled": p.Enabled}
	if p.Config != nil {
		ent["config"] = p.Config
	}
	if len(p.Protocols) > 0 {
		protos := make([]any, len(p.Protocols))
		for i, s := range p.Protocols {
			protos[i] = s
		}
		ent["protocols"] = protos
	}
	for k, id := range map[string]string{"route": p.RouteID, "service": p.ServiceID, "consumer": p.ConsumerID} {
		if id != "" {
			ent[k] = map[string]any{"id": id}
		}
	}
	if p.InstanceName != "" {
		ent["instance_name"] = p.InstanceName
	}
	norm, err := sp.Schema.NormalizeEntity(ent)
	if err != nil {
		return nil, fmt.Errorf("plugin %s (%s): %w", p.Name, p.ID, err)
	}
	cfg, _ := norm["config"].(map[string]any)
	if c := sp.Schema.Config(); c != nil && cfg != nil {
		if _, err := resolveRefs(c, cfg, "config"); err != nil {
			return nil, fmt.Errorf("plugin %s (%s): %w", p.Name, p.ID, err)
		}
	}
	out := make(map[string]any, len(cfg)+8)
	for k, v := range cfg {
		out[k] = v
	}
	out["__plugin_id"] = p.ID
	out["__ws_id"] = wsID
	out["__key__"] = fmt.Sprintf("plugins:%s:%s:%s:%s::%s", p.Name, p.RouteID, p.ServiceID, p.ConsumerID, wsID)
	if p.RouteID != "" {
		out["route_id"] = p.RouteID
	}
	if p.ServiceID != "" {
		out["service_id"] = p.ServiceID
	}
	if p.ConsumerID != "" {
		out["consumer_id"] = p.ConsumerID
	}
	if p.InstanceName != "" {
		out["plugin_instance_name"] = p.InstanceName
	}
	return &entity{id: p.ID, name: p.Name, plugin: sp, config: out}, nil
}

// routeMatch is the router's answer in the shape the gateway uses.
type routeMatch struct {
	route        *kongemu.Route
	service      *kongemu.Service
	pbRoute      *pb.Route
	pbService    *pb.Service
	captures     konghost.Captures
	scheme, host string
	port         int
	upstreamPath string
	prefix       string
	preserveHost bool
	exit         *kongemu.ErrorResponse
}

func (g *generation) match(req *http.Request, r *konghost.Request) (*routeMatch, bool) {
	m, ok := g.deck.Match(kongemu.RouteRequest{
		Method: req.Method, Scheme: r.Scheme, Host: req.Host, Path: req.RequestURI, Headers: req.Header, Port: r.Port,
	})
	if !ok {
		return nil, false
	}
	rm := &routeMatch{route: m.Route, service: m.Service, pbRoute: pbRoute(m.Route), upstreamPath: m.UpstreamPath,
		prefix: m.Prefix, preserveHost: m.Route.PreserveHost, exit: m.Exit}
	if m.Captures != nil {
		rm.captures = konghost.Captures{Unnamed: m.Captures.Unnamed, Named: m.Captures.Named}
	}
	if s := m.Service; s != nil {
		rm.pbService = pbService(s)
		rm.scheme, rm.host, rm.port = s.Protocol, s.Host, s.Port
	}
	return rm, true
}

func pbRoute(r *kongemu.Route) *pb.Route {
	out := &pb.Route{
		Id: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Name: r.Name, Protocols: r.Protocols,
		Methods: r.Methods, Hosts: r.Hosts, Paths: r.Paths, HttpsRedirectStatusCode: int32(r.HTTPSRedirectStatusCode),
		RegexPriority: int32(r.RegexPriority), StripPath: r.StripPath, PreserveHost: r.PreserveHost, Tags: r.Tags,
	}
	if r.ServiceID != "" {
		out.Service = &pb.ServiceKey{Id: r.ServiceID}
	}
	return out
}

func pbService(s *kongemu.Service) *pb.Service {
	return &pb.Service{
		Id: s.ID, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Name: s.Name, Retries: int32(s.Retries),
		Protocol: s.Protocol, Host: s.Host, Port: int32(s.Port), Path: s.Path, ConnectTimeout: int32(s.ConnectTimeout),
		WriteTimeout: int32(s.WriteTimeout), ReadTimeout: int32(s.ReadTimeout), Tags: s.Tags,
	}
}

func pbConsumer(c *kongemu.Consumer) *pb.Consumer {
	if c == nil {
		return nil
	}
	return &pb.Consumer{Id: c.ID, CreatedAt: c.CreatedAt, Username: c.Username, CustomId: c.CustomID, Tags: c.Tags}
}

// consumerRef is the authenticated consumer and its groups.
type consumerRef struct {
	consumer *kongemu.Consumer
	groups   []*kongemu.ConsumerGroup
}

// resolved is the config of one plugin for this request: a bundled
// plugin's handler or an external plugin entity.
type resolved struct {
	bundled func(r *konghost.Request, g *generation) bundledResult
	entity  *entity
}

type bundledResult struct {
	exit     *konghost.Exit
	consumer *consumerRef
}

// resolve picks the config of plugin name for the request as it stands.
func (g *generation) resolve(name string, rm *routeMatch, c *consumerRef) *resolved {
	var consumer *kongemu.Consumer
	var groups []*kongemu.ConsumerGroup
	if c != nil {
		consumer, groups = c.consumer, c.groups
	}
	// Kong filters plugins by subsystem (http), not by the request's scheme;
	// the deck already left out plugins without an http protocol.
	p := g.deck.PluginFor(name, rm.route, rm.service, consumer, groups)
	if p == nil {
		return nil
	}
	if name == "key-auth" {
		conf := g.keyAuth[p.ID]
		return &resolved{bundled: func(r *konghost.Request, g *generation) bundledResult { return g.runKeyAuth(conf, r) }}
	}
	if e := g.entities[p.ID]; e != nil {
		return &resolved{entity: e}
	}
	return nil
}

// runKeyAuth is Kong's key-auth access handler on r.
func (g *generation) runKeyAuth(conf kongemu.KeyAuthConfig, r *konghost.Request) bundledResult {
	kr := &kongemu.KeyAuthRequest{Method: r.Method, Header: r.Headers, RawQuery: r.RawQuery, Authenticated: r.Credential != nil}
	if conf.KeyInBody && strings.HasPrefix(r.Headers.Get("Content-Type"), "application/json") {
		var body map[string]any
		if json.Unmarshal(r.Body, &body) == nil {
			kr.Body = body
		}
	}
	res := g.deck.KeyAuth(conf, kr)
	if res.Exit != nil {
		h, body := res.Exit.Render(r.Headers.Get("Accept"), r.RequestID)
		return bundledResult{exit: &konghost.Exit{Status: res.Exit.Status, Headers: h, Body: body}}
	}
	if res.Skipped {
		return bundledResult{}
	}
	r.Headers = kr.Header
	if res.RawQuery != r.RawQuery {
		r.Upstream.RawQuery, r.Upstream.QuerySet = res.RawQuery, true
	}
	if res.BodyChanged {
		if b, err := json.Marshal(kr.Body); err == nil {
			r.Body, r.Upstream.Body, r.Upstream.BodySet = b, b, true
		}
	}
	r.Consumer = pbConsumer(res.Consumer)
	if res.Credential != nil {
		// Lua credentials hold consumer.id, not consumer_id (spec §5).
		r.Credential = &pb.AuthenticatedCredential{Id: res.Credential.ID}
	}
	return bundledResult{consumer: &consumerRef{consumer: res.Consumer, groups: res.Groups}}
}

// loadConsumer answers kong.client.load_consumer.
func (g *generation) loadConsumer(id string, byUsername bool) *pb.Consumer {
	for _, c := range g.deck.Consumers {
		if strings.EqualFold(c.ID, id) {
			return pbConsumer(c)
		}
	}
	if byUsername {
		for _, c := range g.deck.Consumers {
			if c.Username == id {
				return pbConsumer(c)
			}
		}
	}
	return nil
}
