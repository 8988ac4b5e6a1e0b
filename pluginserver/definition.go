package pluginserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/Kong/go-pdk"

	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

// Meta is what Kong learns about a plugin from the dump.
type Meta struct {
	// Name is the Kong plugin name (tollgate-<feature>) and the socket file name.
	Name string
	// Version is the plugin version; Kong accepts at most three numeric parts.
	Version string
	// Priority orders the plugin among Kong's plugins, highest first.
	Priority int
	// Schema restricts where the plugin may be applied (consumer scoping, protocols).
	Schema schema.Options
}

// HandlerFunc is the signature of every phase method of a handler.
type HandlerFunc func(kong *pdk.PDK) error

// Definition is a plugin the runtime can host: its metadata, its schema and
// the way to turn a raw Kong config into a running instance.
type Definition interface {
	Meta() Meta
	// Phases lists the phases the handler serves, in Kong's order.
	Phases() []string
	// Schema is the rich Kong schema derived from the config struct.
	Schema() (*schema.Plugin, error)
	// Start decodes, normalises, validates and compiles one Kong config.
	Start(config []byte) (*Instance, error)
}

// Instance is one compiled plugin configuration.
type Instance struct {
	handlers map[string]HandlerFunc
	closer   func() error
	// Config is the normalised config as the handler saw it, for diagnostics.
	Config map[string]any
}

// Handler returns the handler for a phase, or nil.
func (i *Instance) Handler(phase string) HandlerFunc { return i.handlers[phase] }

// Close releases what the handler holds (Redis clients, timers, …).
func (i *Instance) Close() error {
	if i.closer == nil {
		return nil
	}
	return i.closer()
}

// phaseOrder is Kong's order of Go plugin phases (protocol spec §1.2).
var phaseOrder = []string{"Certificate", "Rewrite", "Access", "Response", "Preread", "Log"}

// kongKeys are the keys Kong adds to every config it sends (protocol spec §3.2);
// they are not part of the plugin's schema.
var kongKeys = []string{"__plugin_id", "__ws_id", "__key__", "__seq__", "route_id", "service_id", "consumer_id", "consumer_group_id", "plugin_instance_name"}

// Scope is where Kong attached a plugin instance, read from the keys Kong
// adds to the config it sends (protocol spec §3.2). A field is "" when the
// instance is not scoped that way (a global plugin has none).
type Scope struct {
	PluginID        string
	RouteID         string
	ServiceID       string
	ConsumerID      string
	ConsumerGroupID string
}

// Scoped is implemented by a config (through a pointer receiver) that
// wants its instance's Scope, such as a rate limiter keeping the counters
// of instances on different routes apart, as Kong's own do. SetScope is
// called after decoding, before Validate.
type Scoped interface{ SetScope(Scope) }

func scopeOf(in map[string]any) Scope {
	str := func(k string) string {
		switch v := in[k].(type) {
		case string:
			return v
		case map[string]any: // {"id": …}, as Kong writes foreign keys
			s, _ := v["id"].(string)
			return s
		}
		return ""
	}
	return Scope{PluginID: str("__plugin_id"), RouteID: str("route_id"), ServiceID: str("service_id"),
		ConsumerID: str("consumer_id"), ConsumerGroupID: str("consumer_group_id")}
}

type definition[C any, H any] struct {
	meta   Meta
	build  func(*C) (H, error)
	phases []string
}

// Define declares a plugin from its config type C and a build function that
// compiles a validated config into a handler H.
func Define[C any, H any](meta Meta, build func(*C) (H, error)) Definition {
	ht := reflect.TypeFor[H]()
	var phases []string
	for _, name := range phaseOrder {
		m, ok := ht.MethodByName(name)
		if !ok {
			continue
		}
		if !isHandlerMethod(m.Type, ht.Kind() == reflect.Interface) {
			panic(fmt.Sprintf("pluginserver: %s.%s must be func(*pdk.PDK) error", ht, name))
		}
		phases = append(phases, strings.ToLower(name))
	}
	return &definition[C, H]{meta: meta, build: build, phases: phases}
}

func isHandlerMethod(t reflect.Type, iface bool) bool {
	in := 1 // receiver
	if iface {
		in = 0
	}
	return t.NumIn() == in+1 && t.In(in) == reflect.TypeFor[*pdk.PDK]() &&
		t.NumOut() == 1 && t.Out(0) == reflect.TypeFor[error]()
}

func (d *definition[C, H]) Meta() Meta       { return d.meta }
func (d *definition[C, H]) Phases() []string { return d.phases }

func (d *definition[C, H]) Schema() (*schema.Plugin, error) {
	return schema.ForConfig(d.meta.Name, new(C), d.meta.Schema)
}

// ConfigError is a config Kong sent (or an operator gave to try) that does
// not pass the plugin's schema or its Validate method.
type ConfigError struct {
	Plugin string
	Err    error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid config for plugin %s: %v", e.Plugin, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

func (d *definition[C, H]) Start(raw []byte) (*Instance, error) {
	sch, err := d.Schema()
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", d.meta.Name, err)
	}
	var in map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, &ConfigError{Plugin: d.meta.Name, Err: fmt.Errorf("config is not a JSON object: %w", err)}
		}
	}
	if in == nil {
		in = map[string]any{}
	}
	scope := scopeOf(in)
	for _, k := range kongKeys {
		delete(in, k)
	}
	norm, err := sch.NormalizeConfig(in)
	if err != nil {
		return nil, &ConfigError{Plugin: d.meta.Name, Err: err}
	}
	buf, err := json.Marshal(norm)
	if err != nil {
		return nil, fmt.Errorf("encode normalised config of %s: %w", d.meta.Name, err)
	}
	cfg := new(C)
	if err := json.Unmarshal(buf, cfg); err != nil {
		return nil, &ConfigError{Plugin: d.meta.Name, Err: fmt.Errorf("decode config: %w", err)}
	}
	if sc, ok := any(cfg).(Scoped); ok {
		sc.SetScope(scope)
	}
	if v, ok := any(cfg).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, &ConfigError{Plugin: d.meta.Name, Err: err}
		}
	}
	h, err := d.build(cfg)
	if err != nil {
		return nil, &ConfigError{Plugin: d.meta.Name, Err: fmt.Errorf("compile: %w", err)}
	}
	inst := &Instance{handlers: map[string]HandlerFunc{}, Config: norm}
	hv := reflect.ValueOf(h)
	if !hv.IsValid() || (hv.Kind() == reflect.Pointer && hv.IsNil()) {
		return nil, errors.New("build returned a nil handler")
	}
	for _, p := range phaseOrder {
		if m := hv.MethodByName(p); m.IsValid() {
			inst.handlers[strings.ToLower(p)] = m.Interface().(func(*pdk.PDK) error)
		}
	}
	if c, ok := any(h).(interface{ Close() error }); ok {
		inst.closer = c.Close
	}
	return inst, nil
}
