// Package pluginserver hosts Tollgate's Go plugins on Kong's external-plugin
// protocol (ProtoBuf over a Unix socket), built on go-pdk's exported packages.
//
// It adds what go-pdk's embedded server lacks:
//
//   - a rich Kong schema in the dump, derived from the config struct's tags
//     (see package schema and README.md, "Config tags");
//   - config normalised, validated and compiled once per plugin instance, at
//     cmd_start_instance, with every problem reported by path;
//   - handlers that return errors: an [apierror.Error] becomes an OpenAI-shaped
//     answer through kong.response.exit, anything else a generic 500;
//   - panic recovery: a panicking handler answers 500 and the server lives on;
//   - graceful shutdown: stop accepting, finish in-flight events, remove sockets;
//   - one process for every plugin (sidecar mode) or one per plugin (Kong-managed).
//
// # Defining a plugin
//
// A plugin is a config struct (which is its Kong schema) and a build function
// that compiles a validated config into a handler:
//
//	type Config struct {
//		Limit int `json:"limit" kong:"required,between=1:1000" desc:"Requests allowed per minute."`
//	}
//
//	type handler struct{ limit int }
//
//	func (h *handler) Access(kong *pdk.PDK) error { … }
//
//	var Definition = pluginserver.Define(pluginserver.Meta{
//		Name: "tollgate-example", Version: "0.1.0", Priority: 790,
//	}, func(c *Config) (*handler, error) { return &handler{limit: c.Limit}, nil })
//
// The phases a plugin serves are the methods its handler type has among
// Certificate, Rewrite, Access, Response, Preread and Log, each with the
// signature func(*pdk.PDK) error. A handler with a Close() error method is
// closed when Kong closes the instance. If the config type has a
// Validate() error method it runs after the schema checks.
package pluginserver
