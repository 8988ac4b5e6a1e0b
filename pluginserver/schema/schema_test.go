package schema_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Shared is embedded (flattened), as the shared records of internal/ are.
type Shared struct {
	FaultTolerant bool `json:"fault_tolerant" kong:"required,default=true" desc:"Let traffic through when a dependency is down."`
}

type Redis struct {
	Host     string `json:"host" desc:"Host name of the Redis server."`
	Port     int    `json:"port" kong:"default=6379,between=0:65535" desc:"Port of the Redis server."`
	Timeout  int    `json:"timeout" kong:"default=2000,gt=0" desc:"Connect, send and read timeout in milliseconds."`
	Password string `json:"password" kong:"referenceable,encrypted,len_min=0" desc:"Password of the Redis user, if any."`
	Database uint8  `json:"database" kong:"default=0" desc:"Redis database number to use."`
	SSL      bool   `json:"ssl" kong:"default=false" desc:"Whether to connect with TLS."`
}

type Window struct {
	Seconds int    `json:"seconds" kong:"required,one_of=1|60|3600|86400" desc:"Length of the window in seconds."`
	Limit   int    `json:"limit" kong:"required,between=1:1000000" desc:"Tokens allowed per window."`
	Name    string `json:"name" kong:"match=^[%a_][%w_]*$,err=must be an identifier" desc:"Name of the window in headers and metrics."`
}

type Sample struct {
	Shared
	Policy      string              `json:"policy" kong:"default=memory,one_of=memory|redis" desc:"Where counters are kept."`
	Redis       Redis               `json:"redis" desc:"Redis connection, used when policy is redis."`
	Windows     []Window            `json:"windows" kong:"required,len_min=1" desc:"Windows checked on every request."`
	Mode        string              `json:"mode" kong:"default=block,one_of=block|log" desc:"What to do when a window is exhausted."`
	APIKey      string              `json:"api_key" kong:"referenceable,encrypted" desc:"Key of the upstream provider."`
	Models      []string            `json:"models" kong:"len_min=1,elements.len_max=128,elements.match=^[%w%.%-_:/]+$" desc:"Models this plugin applies to."`
	Headers     map[string]string   `json:"headers" kong:"keys.len_min=1,values.len_max=256" desc:"Headers added to the upstream request."`
	Tags        []string            `json:"tags" kong:"type=set,default=[\"a\",\"b\"],elements.not_one_of=x|y" desc:"Tags added to every metric."`
	Ratio       float64             `json:"ratio" kong:"between=0:1,default=0.5" desc:"Share of requests that are sampled."`
	Retries     *int                `json:"retries" kong:"between=0:10" desc:"Retries before giving up; unset means the provider default."`
	Pattern     string              `json:"pattern" kong:"is_regex" desc:"Regular expression the prompt is checked with."`
	Consumer    string              `json:"consumer_id" kong:"uuid" desc:"Consumer this limit is pinned to."`
	Since       int64               `json:"since" kong:"timestamp" desc:"Unix time when the limits started."`
	Prefix      string              `json:"prefix" kong:"starts_with=tg_,len_max=32" desc:"Prefix of the counter keys."`
	CSV         string              `json:"csv" kong:"match='^%d+,%d+$',not_match=^0" desc:"A pair of numbers separated by a comma."`
	Roles       []string            `json:"roles" kong:"contains=user,mutually_exclusive_subsets=[[\"admin\"],[\"guest\",\"user\"]]" desc:"Roles the caller must hold."`
	Code        int                 `json:"error_code" kong:"default=429,ne=200,not_one_of=0|1" desc:"Status code of the rejection."`
	Extra       *Redis              `json:"extra_redis" desc:"An optional second Redis."`
	Limits      map[string][]Window `json:"limits" kong:"values.len_max=3" desc:"Windows per consumer group name."`
	Salt        string              `json:"salt" kong:"match_all=[{\"pattern\":\"^%x+$\",\"err\":\"hex only\"}],match_any={\"patterns\":[\"^a\",\"^b\"]}" desc:"Salt for hashing identifiers."`
	Internal    string              `json:"-"`
	unexported  int
	ExactlyFive string `json:"exactly_five" kong:"len_eq=5,eq=hello,examples=[\"hello\"]" desc:"A field that can only be hello."`
}

func (Sample) KongEntityChecks() []map[string]any {
	return []map[string]any{
		{"conditional": map[string]any{
			"if_field": "policy", "if_match": map[string]any{"eq": "redis"},
			"then_field": "redis.host", "then_match": map[string]any{"required": true},
		}},
		{"mutually_exclusive": []string{"pattern", "csv"}},
	}
}

func sampleSchema(t testing.TB) *schema.Plugin {
	t.Helper()
	p, err := schema.ForConfig("tollgate-sample", new(Sample), schema.Options{NoConsumer: true})
	require.NoError(t, err)
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got))
}

func TestForConfigGolden(t *testing.T) {
	p := sampleSchema(t)
	raw, err := json.MarshalIndent(p, "", "  ")
	require.NoError(t, err)
	golden(t, "sample.json", append(raw, '\n'))
	golden(t, "sample.md", []byte(schema.Markdown(p)))
}

func TestRoundTrip(t *testing.T) {
	p := sampleSchema(t)
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	back, err := schema.Parse(raw)
	require.NoError(t, err)
	require.Equal(t, p, back)
	again, err := json.Marshal(back)
	require.NoError(t, err)
	require.JSONEq(t, string(raw), string(again))
	require.Equal(t, raw, again, "field order must survive")
}

func TestForConfigAcceptsReflectType(t *testing.T) {
	a, err := schema.ForConfig("x", new(Window), schema.Options{})
	require.NoError(t, err)
	var w Window
	b, err := schema.ForConfig("x", reflect.TypeOf(w), schema.Options{})
	require.NoError(t, err)
	require.Equal(t, a, b)
}

func TestForConfigOptions(t *testing.T) {
	p, err := schema.ForConfig("x", new(Window), schema.Options{NoRoute: true, NoService: true, Protocols: []string{"http", "https"}})
	require.NoError(t, err)
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"x","fields":[
		{"protocols":{"type":"set","required":true,"default":["http","https"],"elements":{"type":"string","one_of":["http","https"]}}},
		{"route":{"type":"foreign","reference":"routes","eq":null}},
		{"service":{"type":"foreign","reference":"services","eq":null}},
		{"config":{"type":"record","fields":[
			{"seconds":{"type":"integer","required":true,"description":"Length of the window in seconds.","one_of":[1,60,3600,86400]}},
			{"limit":{"type":"integer","required":true,"description":"Tokens allowed per window.","between":[1,1000000]}},
			{"name":{"type":"string","description":"Name of the window in headers and metrics.","err":"must be an identifier","match":"^[%a_][%w_]*$"}}]}}]}`, string(raw))

	_, err = schema.ForConfig("x", new(Window), schema.Options{Protocols: []string{"smtp"}})
	require.ErrorContains(t, err, `unknown protocol "smtp"`)
}

type (
	badDuration struct {
		D time.Duration `json:"d"`
	}
	badTime struct {
		T time.Time `json:"t"`
	}
	badBytes struct {
		B []byte `json:"b"`
	}
	badIface struct {
		I any `json:"i"`
	}
	badChan struct {
		C chan int `json:"c"`
	}
	badFunc struct {
		F func() `json:"f"`
	}
	badMapKey struct {
		M map[int]string `json:"m"`
	}
	badArray struct {
		A [3]string `json:"a"`
	}
	badNoTag struct {
		MaxSize int
	}
	badDash struct {
		X int `json:"-,"`
	}
	badCase struct {
		X int `json:"maxSize"`
	}
	badStringOpt struct {
		X int `json:"x,string"`
	}
	badDup struct {
		Shared
		FT bool `json:"fault_tolerant"`
	}
	badRecursive struct {
		Next *badRecursive `json:"next"`
	}
	badDesc struct {
		X int `json:"x" desc:"short"`
	}
	badDefault struct {
		X int `json:"x" kong:"default=5,between=10:20"`
	}
	badTag struct {
		X int `json:"x" kong:"required,between=1"`
	}
	badAttr struct {
		X int `json:"x" kong:"frobnicate"`
	}
	badAttrType struct {
		X bool `json:"x" kong:"len_max=3"`
	}
	badImplicit struct {
		X uint8 `json:"x" kong:"between=0:1000"`
	}
	badPattern struct {
		X string `json:"x" kong:"match=[a-"`
	}
	badCheck struct {
		X string `json:"x"`
	}
	badEmbeddedTag struct {
		Shared `kong:"required"`
	}
	badTargets struct {
		X string `json:"x" kong:"elements.len_max=3"`
	}
	badEmptyDefault struct {
		X string `json:"x" kong:"default=''"`
	}
)

func (badCheck) KongEntityChecks() []map[string]any {
	return []map[string]any{{"at_least_one_of": []string{"x", "y"}}}
}

func TestForConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		config any
		want   string
	}{
		{"duration", new(badDuration), "badDuration.D (config.d): time.Duration is not supported"},
		{"time", new(badTime), "time.Time is not supported"},
		{"bytes", new(badBytes), "[]uint8 is not supported"},
		{"interface", new(badIface), "badIface.I (config.i): Go type interface {} (interface) has no Kong equivalent"},
		{"chan", new(badChan), "has no Kong equivalent"},
		{"func", new(badFunc), "has no Kong equivalent"},
		{"map key", new(badMapKey), "map keys must be strings"},
		{"go array", new(badArray), "use a slice with len_eq"},
		{"no json tag", new(badNoTag), "badNoTag.MaxSize (config): missing json tag"},
		{"dash name", new(badDash), `json name "-" is not a Kong field name`},
		{"camel case", new(badCase), `json name "maxSize" is not a Kong field name`},
		{"string option", new(badStringOpt), `json option "string" is not supported`},
		{"duplicate", new(badDup), `field name "fault_tolerant" is also used by badDup.Shared.FaultTolerant`},
		{"recursive", new(badRecursive), "recursive type"},
		{"short description", new(badDesc), "config.x.description: length must be between 10 and 500 (is 5)"},
		{"invalid default", new(badDefault), "config.x.default: invalid default: value should be between 10 and 20"},
		{"malformed between", new(badTag), `kong tag between: "1" is not lo:hi`},
		{"unknown attribute", new(badAttr), "kong tag frobnicate: unknown attribute"},
		{"attribute on wrong type", new(badAttrType), "field of type 'boolean' cannot have attribute 'len_max'"},
		{"between outside Go range", new(badImplicit), "outside what the Go type holds (0:255)"},
		{"malformed Lua pattern", new(badPattern), "invalid Lua pattern \"[a-\": malformed pattern (missing ']')"},
		{"entity check on unknown field", new(badCheck), `at_least_one_of names unknown field "y"`},
		{"tag on embedded struct", new(badEmbeddedTag), "cannot have kong or desc tags"},
		{"target missing", new(badTargets), "a string field has no elements"},
		{"empty string default", new(badEmptyDefault), "config.x.default: invalid default: length must be at least 1"},
		{"not a struct", new(int), "config must be a struct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.ForConfig("x", tt.config, schema.Options{})
			require.Error(t, err)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestForConfigReportsEveryProblem(t *testing.T) {
	type many struct {
		A time.Duration `json:"a"`
		B any           `json:"b"`
	}
	_, err := schema.ForConfig("x", new(many), schema.Options{})
	require.ErrorContains(t, err, "config.a")
	require.ErrorContains(t, err, "config.b")
}

func TestFlattenedEmbedding(t *testing.T) {
	p := sampleSchema(t)
	cfg := p.Config()
	require.Equal(t, "fault_tolerant", cfg.Fields[0].Name, "embedded fields come first, flattened")
	require.Nil(t, cfg.Field("Shared"))
	require.Nil(t, cfg.Field("Internal"))
	require.Equal(t, []float64{0, 255}, cfg.Field("redis").Field("database").Between, "uint8 bounds")
	require.False(t, *cfg.Field("extra_redis").Required, "a *struct record may be absent")
}
