package konghost

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// Info is what Kong takes from a plugin server's dump (query_cmd): the
// first element of Plugins only, and never SocketPath (spec §1.2).
type Info struct {
	Protocol string
	Name     string
	Version  string
	Priority int
	Phases   []string
	// Schema is the plugin's schema as dumped (validated by the caller).
	Schema json.RawMessage
}

var versionRE = regexp.MustCompile(`^\d+(\.\d+){0,2}$`)

// ParseInfo reads a query_cmd's stdout as Kong does and applies the
// checks of kong/db/dao/plugins.lua: an integer priority and a version of
// at most three numeric parts. Any failure aborts Kong's startup.
func ParseInfo(stdout []byte) (*Info, error) {
	var dump struct {
		Protocol string
		Plugins  []struct {
			Name     string
			Version  string
			Priority json.Number
			Phases   []string
			Schema   json.RawMessage
		}
	}
	if err := json.Unmarshal(stdout, &dump); err != nil {
		return nil, fmt.Errorf("failed loading external plugins: dump is not JSON: %w", err)
	}
	if dump.Protocol == "" {
		dump.Protocol = "MsgPack:1"
	}
	if dump.Protocol != "ProtoBuf:1" {
		return nil, fmt.Errorf("failed loading external plugins: protocol %q is not ProtoBuf:1", dump.Protocol)
	}
	if len(dump.Plugins) == 0 {
		return nil, errors.New("failed loading external plugins: dump has no Plugins")
	}
	p := dump.Plugins[0]
	if p.Name == "" {
		return nil, errors.New("failed loading external plugins: plugin has no Name")
	}
	prio, err := p.Priority.Int64()
	if err != nil {
		return nil, fmt.Errorf("plugin %s: priority %q is not an integer", p.Name, p.Priority)
	}
	if !versionRE.MatchString(p.Version) {
		return nil, fmt.Errorf("plugin %s: version %q must have at most three numeric parts", p.Name, p.Version)
	}
	if len(p.Schema) == 0 || string(p.Schema) == "null" {
		return nil, fmt.Errorf("plugin %s: dump has no Schema", p.Name)
	}
	return &Info{Protocol: dump.Protocol, Name: p.Name, Version: p.Version, Priority: int(prio), Phases: p.Phases, Schema: p.Schema}, nil
}
