// Package kongemu is the protocol-independent half of the Kong emulator the
// end-to-end suite runs instead of Kong Gateway: the DB-less configuration
// (a decK file), the router, plugin precedence and ordering, Kong's own
// error responses, and a stand-in for the bundled key-auth plugin. It
// follows Kong 3.9 (router_flavor = traditional_compatible); the sources
// read are named beside each function. The protocol half, which drives the
// plugin servers, lives in pluginserver/konghost and spec/kongemu/proxy.
//
// # Loading
//
// LoadDeck reads `_format_version: "3.0"` files (Kong also takes "1.1"
// and "2.1", older formats decK 3 no longer writes; "3.1" does not exist
// and Kong rejects it too) with services (url shorthand or
// protocol/host/port/path), routes (top level with `service:` or nested),
// consumers with keyauth_credentials and groups, consumer_groups, and
// plugins at every scope. Defaults are Kong's. Ids are the ones Kong's
// declarative loader derives (UUID v5 of the entity's name, username or
// plugin cache key); where Kong draws a random one (an unnamed route or
// service, a credential) the emulator derives one from the entity's place
// in the file, so ids are stable across loads. Validation reports, with
// the entity and field, what Kong reports for the common mistakes: unknown
// or unsupported fields, bad values, duplicates, dangling references, a
// route with nothing to match, a plugin twice on one scope, a plugin Kong
// would not have enabled. Plugin configs stay raw maps except for the
// bundled key-auth, whose schema defaults are applied.
//
//	cfg, err := kongemu.LoadDeck(data, kongemu.WithPlugins("tollgate-opa"))
//	m, ok := cfg.Match(kongemu.RouteRequest{Method: "POST", Scheme: "http",
//		Host: "localhost:8000", Path: "/v1/chat/completions"})
//	if !ok {
//		// 404 "no Route matched with those values"
//	}
//	p := cfg.PluginFor("tollgate-opa", m.Route, m.Service, consumer, cfg.GroupsOf(consumer))
//
// # Routing
//
// Match implements traditional_compatible for methods, hosts (exact,
// "*.x" and "x.*", optional port), paths (prefix, or "~" regex anchored at
// the start, with captures), headers (values compared lower-cased, "~*"
// regexes) and the https-only check Kong makes after routing (426 or a
// redirect). A route is split into one matcher per path group (all regexes,
// or prefixes of one length) and each gets transform.lua's priority. That
// priority is computed as LuaJIT really computes it, which is not what its
// comment says: the match weight (number of non-empty fields), header count
// and regex_priority are shifted in 32-bit arithmetic, so the bits for
// "only plain hosts" (1<<60) and "regex path" (1<<51) outrank a match
// weight below 4. Equal priorities go to the higher route id, as atc-router orders
// its matchers; created_at plays no part. The upstream path is
// get_upstream_uri_v0's join of strip_path, the service path and the
// request path, which the ATC flavors use for path_handling v1 as well.
//
// # Plugins
//
// PluginFor picks the most specific config of a plugin
// (route+service+consumer first, global last, with Kong Enterprise's
// consumer-group levels); the caller asks for each plugin as the access phase reaches it,
// with the consumer known at that point. GlobalPlugins are what rewrite
// runs and what log runs when access never did. SortByPriority orders
// handlers like Kong (priority descending, then name descending), and
// BundledPriority gives the priority of the plugins emulated here.
//
// # key-auth
//
// KeyAuth runs key-auth's access handler: key_names looked up in headers
// (case-insensitively, '_' as '-'), the query and optionally a parsed
// body; hide_credentials; anonymous (id or username); run_on_preflight; the
// X-Consumer-* headers; and Kong's 401s with `WWW-Authenticate: Key` (or
// `Key realm="…"` when realm is set). ErrorResponse.Render produces Kong's
// error bodies, chosen by the Accept header.
//
// # Not emulated, and deviations
//
// Not emulated: stream routes, gRPC, snis, sources and destinations,
// expressions routes, upstreams and targets, certificates, vaults,
// workspaces, credentials of other auth plugins, Kong's other bundled
// plugins, dynamic plugin ordering, key-auth's ttl, and config validation
// for external plugins (their schema comes from their -dump). These are
// refused at load rather than ignored.
//
// Deviations: regex paths use Go's RE2 syntax where Kong uses Rust's regex
// crate (the same for common patterns; Rust's \d and \w are Unicode-aware).
// A route host with a port matches the Host header's port, else
// RouteRequest.Port. A plugin configured twice on one scope is refused
// even when Kong's id derivation would let the two through (one reference
// by name, one by nesting). Where Kong's route priority depends on an
// undefined LuaJIT conversion (match weight 4 or more, negative
// regex_priority) the emulator sign-extends. Consumer groups are Kong
// Enterprise; their precedence levels follow Kong's documentation, and a
// consumer's groups are tried by name.
//
// Kong behaviour kept on purpose, as a test may trip on it: host matching
// compares bytes, so an upper-case Host header misses a lower-case route
// host; header regex captures join the path captures; a plugin's
// protocols are not checked against the request's scheme; key-auth's
// hide_credentials clears the header by the configured name only, so a
// dashed header found through an underscored key name reaches the
// upstream.
package kongemu
