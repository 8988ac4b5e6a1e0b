package kongemu

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Config is a decK file loaded as Kong's DB-less configuration: the
// entities in definition order plus the indexes the router, the plugin
// precedence and key-auth use. It is read-only after LoadDeck.
type Config struct {
	Services           []*Service
	Routes             []*Route
	Consumers          []*Consumer
	ConsumerGroups     []*ConsumerGroup
	KeyAuthCredentials []*KeyAuthCredential
	Plugins            []*Plugin

	servicesByID  map[string]*Service
	routesByID    map[string]*Route
	consumersByID map[string]*Consumer
	groupsByID    map[string]*ConsumerGroup
	keys          map[string]*KeyAuthCredential
	router        []routeEntry
	scoped        map[string]map[scope]*Plugin
}

// Service is a Kong Service. Path is "" when Kong stores null.
type Service struct {
	ID             string
	Name           string
	Protocol       string
	Host           string
	Port           int
	Path           string
	Retries        int
	ConnectTimeout int // milliseconds
	WriteTimeout   int // milliseconds
	ReadTimeout    int // milliseconds
	Enabled        bool
	TLSVerify      *bool
	Tags           []string
	CreatedAt      int64 // unix seconds
	UpdatedAt      int64
}

// URL is the service's address as decK's url shorthand writes it.
func (s *Service) URL() string {
	return fmt.Sprintf("%s://%s:%d%s", s.Protocol, s.Host, s.Port, s.Path)
}

// Route is a Kong Route (traditional_compatible fields). Hosts and
// Headers keep the nil/empty distinction of the file because Kong's
// priority calculation sees it.
type Route struct {
	ID                      string
	Name                    string
	Protocols               []string
	Methods                 []string
	Hosts                   []string
	Paths                   []string
	Headers                 map[string][]string
	StripPath               bool
	PreserveHost            bool
	RegexPriority           int
	PathHandling            string
	HTTPSRedirectStatusCode int
	RequestBuffering        bool
	ResponseBuffering       bool
	Tags                    []string
	ServiceID               string // "" when the route has no service
	CreatedAt               int64
	UpdatedAt               int64
}

// Consumer is a Kong Consumer. At least one of Username and CustomID is set.
type Consumer struct {
	ID        string
	Username  string
	CustomID  string
	Tags      []string
	GroupIDs  []string // consumer groups, ordered by group name
	CreatedAt int64
	UpdatedAt int64
}

// ConsumerGroup is a Kong Gateway Enterprise consumer group.
type ConsumerGroup struct {
	ID          string
	Name        string
	Tags        []string
	ConsumerIDs []string // members, in definition order
	CreatedAt   int64
	UpdatedAt   int64
}

// KeyAuthCredential is a key-auth credential (keyauth_credentials).
type KeyAuthCredential struct {
	ID         string
	Key        string
	ConsumerID string
	Tags       []string
	CreatedAt  int64
}

// Plugin is a plugin entity. Config is the raw config map; for the bundled
// plugins (key-auth) Kong's schema defaults are already applied, for
// external plugins it is as written (their schema lives in their -dump).
// The scope ids are "" when unset.
type Plugin struct {
	ID              string
	Name            string
	InstanceName    string
	Config          map[string]any
	Enabled         bool
	Protocols       []string
	ServiceID       string
	RouteID         string
	ConsumerID      string
	ConsumerGroupID string
	Tags            []string
	CreatedAt       int64
	UpdatedAt       int64
}

// DefaultWorkspaceID is the id of the workspace of a DB-less config
// (constants.DECLARATIVE_DEFAULT_WORKSPACE_ID), Kong's __ws_id.
const DefaultWorkspaceID = "0dc6f45b-8f8d-40d2-a504-473544ee190b"

// CacheKey is kong.db.plugins:cache_key for the plugin in workspace ws,
// the __key__ Kong adds to an external plugin's config:
// "plugins:<name>:<route>:<service>:<consumer>::<ws>".
func (p *Plugin) CacheKey(ws string) string {
	return "plugins:" + p.Name + ":" + p.RouteID + ":" + p.ServiceID + ":" + p.ConsumerID + "::" + ws
}

// IsGlobal reports whether the plugin has no scope.
func (p *Plugin) IsGlobal() bool {
	return p.ServiceID == "" && p.RouteID == "" && p.ConsumerID == "" && p.ConsumerGroupID == ""
}

// Option configures LoadDeck.
type Option func(*options)

type options struct {
	plugins map[string]bool
	now     func() time.Time
}

// WithPlugins declares the external plugin names the plugin servers
// provide. Names starting with "tollgate-" are always accepted; any other
// name that is neither bundled nor declared is an error, as Kong rejects a
// plugin that is not in its `plugins` property.
func WithPlugins(names ...string) Option {
	return func(o *options) {
		for _, n := range names {
			o.plugins[n] = true
		}
	}
}

// WithClock sets the clock for created_at and updated_at (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// LoadDeck parses and validates a decK file (YAML or JSON) as Kong 3.9 does
// for a DB-less config, generates ids and defaults, and compiles the router.
// Every problem found is reported, joined with errors.Join.
func LoadDeck(data []byte, opts ...Option) (*Config, error) {
	o := options{plugins: map[string]bool{}, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	l := newLoader(o)
	l.load(data)
	if len(l.errs) > 0 {
		return nil, fmt.Errorf("load deck: %w", errors.Join(l.errs...))
	}
	return l.cfg, nil
}

// Validate checks that every plugin that is not bundled is provided, as
// known reports, e.g. by the plugin servers' dumps.
func (c *Config) Validate(known func(name string) bool) error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range c.Plugins {
		if _, ok := bundled[p.Name]; ok || seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		if !known(p.Name) {
			errs = append(errs, fmt.Errorf("plugin %q: %w", p.Name, errNotEnabled(p.Name)))
		}
	}
	return errors.Join(errs...)
}

func errNotEnabled(name string) error {
	return fmt.Errorf("plugin '%s' not enabled; add it to the 'plugins' configuration property", name)
}

// Service returns the service with this id or name, or nil.
func (c *Config) Service(ref string) *Service {
	if s := c.servicesByID[strings.ToLower(ref)]; s != nil {
		return s
	}
	for _, s := range c.Services {
		if s.Name != "" && s.Name == ref {
			return s
		}
	}
	return nil
}

// Route returns the route with this id or name, or nil.
func (c *Config) Route(ref string) *Route {
	if r := c.routesByID[strings.ToLower(ref)]; r != nil {
		return r
	}
	for _, r := range c.Routes {
		if r.Name != "" && r.Name == ref {
			return r
		}
	}
	return nil
}

// Consumer returns the consumer with this id or username, or nil, as
// kong.client.load_consumer(ref, true) does.
func (c *Config) Consumer(ref string) *Consumer {
	if isUUID(ref) {
		if cs := c.consumersByID[strings.ToLower(ref)]; cs != nil {
			return cs
		}
	}
	for _, cs := range c.Consumers {
		if cs.Username != "" && cs.Username == ref {
			return cs
		}
	}
	return nil
}

// ConsumerGroup returns the consumer group with this id or name, or nil.
func (c *Config) ConsumerGroup(ref string) *ConsumerGroup {
	if g := c.groupsByID[strings.ToLower(ref)]; g != nil {
		return g
	}
	for _, g := range c.ConsumerGroups {
		if g.Name == ref {
			return g
		}
	}
	return nil
}

// GroupsOf returns the consumer groups of consumer ordered by name (the
// order Kong uses to pick between groups); nil for a nil consumer.
func (c *Config) GroupsOf(consumer *Consumer) []*ConsumerGroup {
	if consumer == nil {
		return nil
	}
	groups := make([]*ConsumerGroup, 0, len(consumer.GroupIDs))
	for _, id := range consumer.GroupIDs {
		if g := c.groupsByID[strings.ToLower(id)]; g != nil {
			groups = append(groups, g)
		}
	}
	return groups
}

// KeyAuthCredential returns the credential with this key, or nil.
func (c *Config) KeyAuthCredential(key string) *KeyAuthCredential {
	return c.keys[key]
}

// index builds the entity lookup tables once every entity is read.
func (c *Config) index() {
	c.servicesByID = map[string]*Service{}
	for _, s := range c.Services {
		c.servicesByID[strings.ToLower(s.ID)] = s
	}
	c.routesByID = map[string]*Route{}
	for _, r := range c.Routes {
		c.routesByID[strings.ToLower(r.ID)] = r
	}
	c.consumersByID = map[string]*Consumer{}
	for _, cs := range c.Consumers {
		c.consumersByID[strings.ToLower(cs.ID)] = cs
	}
	c.groupsByID = map[string]*ConsumerGroup{}
	for _, g := range c.ConsumerGroups {
		c.groupsByID[strings.ToLower(g.ID)] = g
	}
	c.keys = map[string]*KeyAuthCredential{}
	for _, k := range c.KeyAuthCredentials {
		c.keys[k.Key] = k
	}
}

// sortGroups orders each consumer's groups by name.
func (c *Config) sortGroups() {
	name := func(id string) string { return c.groupsByID[strings.ToLower(id)].Name }
	for _, cs := range c.Consumers {
		sort.SliceStable(cs.GroupIDs, func(i, j int) bool { return name(cs.GroupIDs[i]) < name(cs.GroupIDs[j]) })
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
