// Package testplugin holds test-only plugins built on Tollgate's runtime: tollgate-test
// exercises every PDK call the suite uses (behaviour chosen per request by
// the x-test-action header) and tollgate-noop is the baseline of the
// protocol cost.
package testplugin

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/Kong/go-pdk"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

// Config is tollgate-test's config; it uses the schema attributes the real
// plugins use so the dump and the emulator's validation are exercised too.
type Config struct {
	Tag        string            `json:"tag" kong:"required,len_min=1,len_max=32" desc:"Label echoed in the X-Test-Plugin response header."`
	ExitStatus int               `json:"exit_status" kong:"default=418,between=100:599" desc:"Status used when the request asks the plugin to exit."`
	Mode       string            `json:"mode" kong:"default=observe,one_of=observe|strict" desc:"In strict mode requests without a body are rejected with 400."`
	Secret     string            `json:"secret" kong:"referenceable,encrypted" desc:"A secret that must never appear in any log line."`
	Extra      map[string]string `json:"extra" desc:"Headers added to the upstream request as they are."`
	Limits     Limits            `json:"limits" desc:"Nested record to check defaults of nested records."`
}

// Limits is a nested record.
type Limits struct {
	MaxBody int `json:"max_body" kong:"default=1048576,gt=0" desc:"Largest body in bytes the plugin accepts."`
}

// Validate is the config check beyond the schema.
func (c *Config) Validate() error {
	if c.Tag == "invalid" {
		return fmt.Errorf("config.tag: %q is reserved", c.Tag)
	}
	return nil
}

type testHandler struct{ cfg Config }

// Test is the tollgate-test plugin.
var Test = pluginserver.Define(pluginserver.Meta{Name: "tollgate-test", Version: "0.1.0", Priority: 790},
	func(c *Config) (*testHandler, error) { return &testHandler{cfg: *c}, nil })

// Seen is what the access handler observed, sent upstream as JSON.
type Seen struct {
	Method, Path, Scheme, Host, RawQuery, PathWithQuery string
	Port                                                int
	HTTPVersion                                         float64
	Query                                               map[string][]string
	QueryArg                                            string
	ClientIP, ForwardedIP                               string
	Consumer, ConsumerID, CredentialID                  string
	Route, Service, ServiceHost                         string
	BodyLen                                             int
	HeaderCount                                         int
	Shared                                              string
	NodeID                                              string
	Var                                                 string
	Tag                                                 string
	MaxBody                                             int
}

func (h *testHandler) Access(kong *pdk.PDK) error {
	action, err := kong.Request.GetHeader("x-test-action")
	if err != nil {
		return fmt.Errorf("read x-test-action: %w", err)
	}
	switch action {
	case "panic":
		var m map[string]int
		m["boom"]++ // a nil map write: a real runtime panic
	case "error":
		return apierror.RateLimited("test limit reached", 7*time.Second)
	case "exit":
		kong.Response.Exit(h.cfg.ExitStatus, []byte(`{"exited":true}`), map[string][]string{"Content-Type": {"application/json"}, "X-Test-Exit": {"yes"}})
		return nil
	case "sleep":
		time.Sleep(200 * time.Millisecond)
	}

	var s Seen
	s.Tag, s.MaxBody = h.cfg.Tag, h.cfg.Limits.MaxBody
	if s.Method, err = kong.Request.GetMethod(); err != nil {
		return err
	}
	s.Path, _ = kong.Request.GetPath()
	s.Scheme, _ = kong.Request.GetScheme()
	s.Host, _ = kong.Request.GetHost()
	s.Port, _ = kong.Request.GetPort()
	s.RawQuery, _ = kong.Request.GetRawQuery()
	s.PathWithQuery, _ = kong.Request.GetPathWithQuery()
	s.HTTPVersion, _ = kong.Request.GetHttpVersion()
	s.Query, _ = kong.Request.GetQuery(-1)
	s.QueryArg, _ = kong.Request.GetQueryArg("q")
	s.ClientIP, _ = kong.Client.GetIp()
	s.ForwardedIP, _ = kong.Client.GetForwardedIp()
	if c, err := kong.Client.GetConsumer(); err == nil {
		s.Consumer, s.ConsumerID = c.Username, c.Id
	}
	if cr, err := kong.Client.GetCredential(); err == nil {
		s.CredentialID = cr.Id
	}
	if r, err := kong.Router.GetRoute(); err == nil {
		s.Route = r.Name
	}
	if sv, err := kong.Router.GetService(); err == nil {
		s.Service, s.ServiceHost = sv.Name, sv.Host
	}
	headers, err := kong.Request.GetHeaders(-1)
	if err != nil {
		return fmt.Errorf("read headers: %w", err)
	}
	s.HeaderCount = len(headers)
	body, err := kong.Request.GetRawBody()
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	s.BodyLen = len(body)
	if len(body) > h.cfg.Limits.MaxBody {
		return apierror.TooLarge("body_too_large", "request body is larger than the test limit")
	}
	if h.cfg.Mode == "strict" && len(body) == 0 {
		return apierror.BadRequest("empty_body", "a body is required")
	}
	if err := kong.Ctx.SetShared("tollgate.test", "set-in-access"); err != nil {
		return fmt.Errorf("set shared: %w", err)
	}
	s.Shared, _ = kong.Ctx.GetSharedString("tollgate.test")
	s.NodeID, _ = kong.Node.GetId()
	s.Var, _ = kong.Nginx.GetVar("request_uri")
	kong.Log.Info("tollgate-test access ", s.Method, " ", s.Path, " body_len=", strconv.Itoa(s.BodyLen))

	seen, _ := json.Marshal(s)
	if err := kong.ServiceRequest.SetHeader("X-Test-Seen", string(seen)); err != nil {
		return fmt.Errorf("set upstream header: %w", err)
	}
	for k, v := range h.cfg.Extra {
		if err := kong.ServiceRequest.AddHeader(k, v); err != nil {
			return err
		}
	}
	if err := kong.ServiceRequest.ClearHeader("X-Test-Remove"); err != nil {
		return err
	}
	if err := kong.Response.SetHeader("X-Test-Plugin", h.cfg.Tag); err != nil {
		return err
	}
	switch action {
	case "body":
		if err := kong.ServiceRequest.SetRawBody(strings.ToUpper(string(body))); err != nil {
			return err
		}
	case "target":
		target, _ := kong.Request.GetHeader("x-test-target")
		host, port, err := net.SplitHostPort(target)
		if err != nil {
			return apierror.BadRequest("bad_target", "x-test-target must be host:port")
		}
		p, _ := strconv.Atoi(port)
		if err := kong.Service.SetTarget(host, p); err != nil {
			return err
		}
		if err := kong.ServiceRequest.SetPath("/target"); err != nil {
			return err
		}
	}
	return nil
}

func (h *testHandler) Log(kong *pdk.PDK) error {
	shared, err := kong.Ctx.GetSharedString("tollgate.test")
	if err != nil {
		return fmt.Errorf("get shared in log: %w", err)
	}
	status, err := kong.Response.GetStatus()
	if err != nil {
		return fmt.Errorf("get status in log: %w", err)
	}
	ser, err := kong.Log.Serialize()
	if err != nil {
		return fmt.Errorf("serialize: %w", err)
	}
	var entry struct {
		Request struct {
			Method string `json:"method"`
		} `json:"request"`
	}
	_ = json.Unmarshal([]byte(ser), &entry)
	kong.Log.Notice("tollgate-test log status=", strconv.Itoa(status), " shared=", shared, " method=", entry.Request.Method)
	return nil
}

type noopHandler struct{}

func (noopHandler) Access(*pdk.PDK) error { return nil }

// NoopConfig has no fields.
type NoopConfig struct{}

// Noop is the tollgate-noop plugin: the protocol's own cost.
var Noop = pluginserver.Define(pluginserver.Meta{Name: "tollgate-noop", Version: "0.1.0", Priority: 780},
	func(*NoopConfig) (noopHandler, error) { return noopHandler{}, nil })

// All returns the test plugins.
func All() []pluginserver.Definition { return []pluginserver.Definition{Test, Noop} }
