package kongemu

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// The decK file as written. Pointers tell an absent field from a zero one;
// nested entity lists stay yaml nodes so that each entry is checked for
// unknown fields with its own path.

type deckService struct {
	ID             *string     `yaml:"id"`
	Name           *string     `yaml:"name"`
	URL            *string     `yaml:"url"`
	Protocol       *string     `yaml:"protocol"`
	Host           *string     `yaml:"host"`
	Port           *int        `yaml:"port"`
	Path           *string     `yaml:"path"`
	Retries        *int        `yaml:"retries"`
	ConnectTimeout *int        `yaml:"connect_timeout"`
	WriteTimeout   *int        `yaml:"write_timeout"`
	ReadTimeout    *int        `yaml:"read_timeout"`
	Enabled        *bool       `yaml:"enabled"`
	TLSVerify      *bool       `yaml:"tls_verify"`
	TLSVerifyDepth *int        `yaml:"tls_verify_depth"`
	Tags           []string    `yaml:"tags"`
	CreatedAt      *int64      `yaml:"created_at"`
	UpdatedAt      *int64      `yaml:"updated_at"`
	Routes         []yaml.Node `yaml:"routes"`
	Plugins        []yaml.Node `yaml:"plugins"`
	Comment        any         `yaml:"_comment"`
	Ignore         any         `yaml:"_ignore"`
}

type deckRoute struct {
	ID                      *string             `yaml:"id"`
	Name                    *string             `yaml:"name"`
	Protocols               []string            `yaml:"protocols"`
	Methods                 []string            `yaml:"methods"`
	Hosts                   []string            `yaml:"hosts"`
	Paths                   []string            `yaml:"paths"`
	Headers                 map[string][]string `yaml:"headers"`
	SNIs                    []string            `yaml:"snis"`
	Sources                 []any               `yaml:"sources"`
	Destinations            []any               `yaml:"destinations"`
	StripPath               *bool               `yaml:"strip_path"`
	PreserveHost            *bool               `yaml:"preserve_host"`
	RegexPriority           *int                `yaml:"regex_priority"`
	PathHandling            *string             `yaml:"path_handling"`
	HTTPSRedirectStatusCode *int                `yaml:"https_redirect_status_code"`
	RequestBuffering        *bool               `yaml:"request_buffering"`
	ResponseBuffering       *bool               `yaml:"response_buffering"`
	Tags                    []string            `yaml:"tags"`
	CreatedAt               *int64              `yaml:"created_at"`
	UpdatedAt               *int64              `yaml:"updated_at"`
	Service                 deckRef             `yaml:"service"`
	Plugins                 []yaml.Node         `yaml:"plugins"`
	Comment                 any                 `yaml:"_comment"`
	Ignore                  any                 `yaml:"_ignore"`
}

type deckConsumer struct {
	ID                 *string     `yaml:"id"`
	Username           *string     `yaml:"username"`
	CustomID           *string     `yaml:"custom_id"`
	Tags               []string    `yaml:"tags"`
	CreatedAt          *int64      `yaml:"created_at"`
	UpdatedAt          *int64      `yaml:"updated_at"`
	KeyAuthCredentials []yaml.Node `yaml:"keyauth_credentials"`
	Plugins            []yaml.Node `yaml:"plugins"`
	Groups             []deckRef   `yaml:"groups"`
	Comment            any         `yaml:"_comment"`
	Ignore             any         `yaml:"_ignore"`
}

type deckCredential struct {
	ID        *string  `yaml:"id"`
	Key       *string  `yaml:"key"`
	Tags      []string `yaml:"tags"`
	CreatedAt *int64   `yaml:"created_at"`
	Consumer  deckRef  `yaml:"consumer"`
	Comment   any      `yaml:"_comment"`
	Ignore    any      `yaml:"_ignore"`
}

type deckConsumerGroup struct {
	ID        *string     `yaml:"id"`
	Name      *string     `yaml:"name"`
	Tags      []string    `yaml:"tags"`
	CreatedAt *int64      `yaml:"created_at"`
	UpdatedAt *int64      `yaml:"updated_at"`
	Consumers []deckRef   `yaml:"consumers"`
	Plugins   []yaml.Node `yaml:"plugins"`
	Comment   any         `yaml:"_comment"`
	Ignore    any         `yaml:"_ignore"`
}

type deckPlugin struct {
	ID            *string   `yaml:"id"`
	Name          *string   `yaml:"name"`
	InstanceName  *string   `yaml:"instance_name"`
	Config        yaml.Node `yaml:"config"`
	Enabled       *bool     `yaml:"enabled"`
	Protocols     []string  `yaml:"protocols"`
	Tags          []string  `yaml:"tags"`
	CreatedAt     *int64    `yaml:"created_at"`
	UpdatedAt     *int64    `yaml:"updated_at"`
	Service       deckRef   `yaml:"service"`
	Route         deckRef   `yaml:"route"`
	Consumer      deckRef   `yaml:"consumer"`
	ConsumerGroup deckRef   `yaml:"consumer_group"`
	Comment       any       `yaml:"_comment"`
	Ignore        any       `yaml:"_ignore"`
}

// deckRef is a foreign key as decK and Kong accept it: a string (the
// endpoint key, such as a name or username, or an id) or a map with id,
// name or username.
type deckRef struct {
	Set  bool
	Text string // the string form
	ID   string
	Name string // name or username
}

func (r *deckRef) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		if n.Tag != "!!str" {
			return fmt.Errorf("line %d: expected a string or a map", n.Line)
		}
		*r = deckRef{Set: true, Text: n.Value}
		return nil
	case yaml.MappingNode:
		var m struct {
			ID       string `yaml:"id"`
			Name     string `yaml:"name"`
			Username string `yaml:"username"`
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; k {
			case "id", "name", "username":
			default:
				return fmt.Errorf("line %d: %s: unknown field", n.Content[i].Line, k)
			}
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		name := m.Name
		if name == "" {
			name = m.Username
		}
		if m.ID == "" && name == "" {
			return fmt.Errorf("line %d: expected id, name or username", n.Line)
		}
		*r = deckRef{Set: true, ID: m.ID, Name: name}
		return nil
	default:
		return fmt.Errorf("line %d: expected a string or a map", n.Line)
	}
}

func (r deckRef) String() string {
	switch {
	case r.Text != "":
		return r.Text
	case r.ID != "":
		return r.ID
	default:
		return r.Name
	}
}

// topLevel lists the keys of the file format. A nil entry is accepted and
// ignored; a non-empty string is the reason it is refused.
var topLevel = map[string]string{
	"_format_version":       "",
	"_transform":            "",
	"_comment":              "",
	"_info":                 "",
	"_workspace":            "",
	"_konnect":              "",
	"services":              "",
	"routes":                "",
	"consumers":             "",
	"consumer_groups":       "",
	"plugins":               "",
	"keyauth_credentials":   "",
	"upstreams":             "not supported by the emulator",
	"targets":               "not supported by the emulator",
	"certificates":          "not supported by the emulator",
	"ca_certificates":       "not supported by the emulator",
	"snis":                  "not supported by the emulator",
	"vaults":                "not supported by the emulator",
	"keys":                  "not supported by the emulator",
	"key_sets":              "not supported by the emulator",
	"parameters":            "not supported by the emulator",
	"filter_chains":         "not supported by the emulator",
	"workspaces":            "not supported by the emulator",
	"acls":                  "not supported by the emulator",
	"basicauth_credentials": "not supported by the emulator",
	"hmacauth_credentials":  "not supported by the emulator",
	"jwt_secrets":           "not supported by the emulator",
	"oauth2_credentials":    "not supported by the emulator",
	"mtls_auth_credentials": "not supported by the emulator",
}

// unsupported are fields Kong knows that the emulator refuses.
var unsupported = map[string]string{
	"client_certificate":    "not supported by the emulator",
	"ca_certificates":       "not supported by the emulator",
	"acls":                  "not supported by the emulator (only key-auth is bundled)",
	"basicauth_credentials": "not supported by the emulator (only key-auth is bundled)",
	"hmacauth_credentials":  "not supported by the emulator (only key-auth is bundled)",
	"jwt_secrets":           "not supported by the emulator (only key-auth is bundled)",
	"oauth2_credentials":    "not supported by the emulator (only key-auth is bundled)",
	"mtls_auth_credentials": "not supported by the emulator (only key-auth is bundled)",
	"ordering":              "not supported by the emulator (dynamic plugin ordering is Kong Enterprise)",
	"ttl":                   "not supported by the emulator",
}

const maxEntities = 100000

var fieldCache sync.Map // reflect.Type → map[string]bool

// yamlFields is the set of yaml keys of struct type t.
func yamlFields(t reflect.Type) map[string]bool {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]bool)
	}
	f := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			f[name] = true
		}
	}
	fieldCache.Store(t, f)
	return f
}

// resolve follows aliases and unwraps a document node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 100; i++ {
		switch {
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		default:
			return n
		}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// decodeEntity checks that n is a map whose keys are fields of out (minus
// exclude, the parent's foreign key for a nested entity) and decodes it.
// It returns the entity's label for errors.
func (l *loader) decodeEntity(n *yaml.Node, kind, path string, out any, exclude string) (string, bool) {
	// Aliases can repeat nested lists without bound; Kong's own parser
	// expands them too, so a cap only keeps a hostile file finite.
	if l.entities++; l.entities > maxEntities {
		if l.entities == maxEntities+1 {
			l.fail("deck", "more than %d entities", maxEntities)
		}
		return "", false
	}
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		where := label(kind, "", path)
		l.fail(where, "expected a map")
		return where, false
	}
	where := label(kind, peekName(n), path)
	allowed := yamlFields(reflect.TypeOf(out).Elem())
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		switch {
		case k == "<<":
		case allowed[k] && k != exclude:
		case unsupported[k] != "":
			l.fail(where, "%s: %s", k, unsupported[k])
			ok = false
		default:
			l.fail(where, "%s: unknown field", k)
			ok = false
		}
	}
	if !ok {
		return where, false
	}
	if err := n.Decode(out); err != nil {
		l.wrap(where, err)
		return where, false
	}
	return where, true
}

// peekName reads an entity's name (or username, or custom_id) for its label.
func peekName(n *yaml.Node) string {
	found := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := resolve(n.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			found[n.Content[i].Value] = v.Value
		}
	}
	for _, k := range []string{"name", "username", "custom_id"} {
		if found[k] != "" {
			return found[k]
		}
	}
	return ""
}

// sequence returns the entries of a list-valued key.
func (l *loader) sequence(n *yaml.Node, where string) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.fail(where, "expected an array")
		return nil
	}
	return n.Content
}

func nodes(ns []yaml.Node) []*yaml.Node {
	out := make([]*yaml.Node, len(ns))
	for i := range ns {
		out[i] = &ns[i]
	}
	return out
}

// configValue converts a plugin config node into JSON-shaped Go values:
// map[string]any, []any, string, int, float64, bool and nil.
func configValue(n *yaml.Node) (map[string]any, error) {
	if isNull(n) {
		return map[string]any{}, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	m, ok := jsonShape(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a map")
	}
	return m, nil
}

func jsonShape(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonShape(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonShape(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonShape(e)
		}
		return t
	default:
		return v
	}
}
