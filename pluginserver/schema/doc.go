// Package schema makes a plugin's Go config struct its one source of
// truth: the Kong schema printed by the plugin server's -dump (which real
// Kong loads exactly like a Lua plugin's schema.lua), the validation and
// defaults applied at instance start, by `tollgate try` and by the Kong
// emulator (which reads the schema back from the dump, as Kong does), and
// the configuration table of the plugin's README.
//
// # Example
//
//	type Window struct {
//		Seconds int `json:"seconds" kong:"required,one_of=60|3600|86400" desc:"Length of the window in seconds."`
//		Limit   int `json:"limit" kong:"required,between=1:1000000" desc:"Tokens allowed per window."`
//	}
//
//	type Config struct {
//		Windows []Window `json:"windows" kong:"required,len_min=1" desc:"Windows checked on every request."`
//		Mode    string   `json:"mode" kong:"default=block,one_of=block|log" desc:"What to do when a window is exhausted."`
//		APIKey  string   `json:"api_key" kong:"referenceable,encrypted" desc:"Key of the upstream provider."`
//	}
//
//	sch, err := schema.ForConfig("tollgate-token-rate-limit", new(Config), schema.Options{})
//	// json.Marshal(sch) is the dump's "Schema".
//	cfg, err := sch.NormalizeConfig(map[string]any{"windows": []any{map[string]any{"seconds": 60.0, "limit": 0.0}}})
//	// err: config.windows[0].limit: value should be between 1 and 1000000
//
// pluginserver/README.md, section "Config tags", defines the tag grammar.
//
// # Kong semantics
//
// [Plugin.NormalizeConfig] and [Plugin.NormalizeEntity] follow
// kong/db/schema/init.lua (process_auto_fields then validate on insert):
// records are required and always materialised with their defaults, unset
// optional fields stay unset, unknown fields are rejected, empty strings
// are rejected unless len_min allows them, sets drop repeated values,
// vault references skip the validators of referenceable strings, and
// validators run in Kong's order with Kong's messages. match, not_match,
// match_all, match_none and match_any take Lua patterns, matched by a port
// of Lua 5.1's matcher. Every problem is reported in a *ValidationError,
// each with its path (0-based indexes: config.windows[1].limit).
//
// Deliberate differences from Kong: an explicit JSON null is treated as
// absent, so it gets the default (Kong stores null for optional fields and
// fails required ones); is_regex compiles with Go's regexp (RE2), not
// PCRE; json fields are not checked against their json_schema; a pattern
// or an entity check that Kong would only fail on at request time fails
// in Parse or ForConfig.
package schema
