package pluginserver

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

// Info is what Kong's pluginserver_<name>_query_cmd must print (protocol spec §1.2).
type Info struct {
	Protocol   string
	SocketPath string
	Plugins    []PluginInfo
}

// PluginInfo describes one plugin; Kong uses only the first one of a dump.
type PluginInfo struct {
	Name     string
	Phases   []string
	Version  string
	Priority int
	Schema   *schema.Plugin
}

// Dump builds the info Kong reads for one plugin served under prefix.
func Dump(d Definition, prefix string) (*Info, error) {
	m := d.Meta()
	sch, err := d.Schema()
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", m.Name, err)
	}
	return &Info{
		Protocol:   "ProtoBuf:1",
		SocketPath: SocketPath(prefix, m.Name),
		Plugins: []PluginInfo{{
			Name:     m.Name,
			Phases:   d.Phases(),
			Version:  m.Version,
			Priority: m.Priority,
			Schema:   sch,
		}},
	}, nil
}

// DumpJSON is Dump encoded as Kong reads it.
func DumpJSON(d Definition, prefix string) ([]byte, error) {
	info, err := Dump(d, prefix)
	if err != nil {
		return nil, err
	}
	return json.Marshal(info)
}
