package konghost

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
)

// DefaultBodyBufferSize is nginx_http_client_body_buffer_size's default:
// bodies larger than this reach plugins as a file path (protocol spec §5).
const DefaultBodyBufferSize = 8 << 10

// Request is one client request as Kong holds it while plugins run: what
// the PDK getters read, what the setters change, and what the plugins
// answered. Kong's setters edit nginx's request in place, so a later
// plugin sees the headers and body as earlier plugins left them; only the
// path, scheme, host and port stay the client's (the spec's addendum).
//
// A Request is used by one event at a time, except in the log phase, whose
// handlers run concurrently; its own lock serialises their calls. Fields
// must not be changed while an event runs.
type Request struct {
	mu sync.Mutex

	Scheme      string // "http" or "https"
	Host        string // without port
	Port        int
	Method      string
	Path        string // normalised, as kong.request.get_path returns it
	RawQuery    string // without "?"
	HTTPVersion float64
	// Headers are the request headers, Host included; plugins' edits apply here.
	Headers http.Header
	// Body is the request body; set_raw_body replaces it.
	Body []byte
	// BodyBufferSize is nginx's client body buffer (0: 8 KiB). A larger body
	// is written to a file under BodyDir and handed over as its path, which
	// go-pdk reads itself.
	BodyBufferSize int
	// BodyDir is Kong's client_body_temp directory (empty: the OS temp dir).
	BodyDir string

	ClientIP      string
	ClientPort    int
	ForwardedIP   string
	ForwardedPort int
	StartTime     time.Time
	NodeID        string
	RequestID     string
	TLSVersion    string // "" when not TLS

	// Route and Service are nil until the request is routed.
	Route   *pb.Route
	Service *pb.Service
	// Captures are the route's regex captures.
	Captures Captures
	// Consumer and Credential are what auth plugins (or client.authenticate) set.
	Consumer   *pb.Consumer
	Credential *pb.AuthenticatedCredential
	// LoadConsumer answers kong.client.load_consumer; nil finds nothing.
	LoadConsumer func(id string, byUsername bool) *pb.Consumer
	// Upstreams are the names kong.service.set_upstream accepts.
	Upstreams map[string]bool

	// Shared is kong.ctx.shared; NginxCtx is ngx.ctx (kong.nginx.get/set_ctx).
	Shared   map[string]any
	NginxCtx map[string]any
	// Vars are nginx variables beyond the ones derived from the request.
	Vars map[string]string

	// Upstream is the request as it will go to the service.
	Upstream Upstream
	// Response is the client response: set in access, then the upstream's
	// (or the exit's) status and headers for the log phase.
	Response Response
	// ServiceResponse is the buffered upstream response (response phase).
	ServiceResponse *ServiceResponse
	// Exit is what kong.response.exit set, if it was called.
	Exit *Exit
	// Logs are the kong.log.* lines, in order.
	Logs []LogLine
	// SerializeValues are what kong.log.set_serialize_value added.
	SerializeValues map[string]any
	// Latencies feed kong.log.serialize (milliseconds).
	Latencies Latencies
	// Calls counts the PDK callbacks served; CallsTo counts them by method.
	Calls   int
	CallsTo map[string]int

	bodyFile string
	held     []net.Conn
	caller   caller
}

// Captures are a route's regex captures (kong.request.get_uri_captures).
type Captures struct {
	Unnamed []string
	Named   map[string]string
}

// Upstream is what plugins changed about the upstream request.
type Upstream struct {
	Scheme   string
	Method   string
	Path     string // set_path; "" keeps the router's upstream path
	RawQuery string
	QuerySet bool
	// Host and Port are set by kong.service.set_target.
	Host      string
	Port      int
	TargetSet bool
	// Name is set by kong.service.set_upstream.
	Name string
	// Body is set by set_raw_body (BodySet tells it was).
	Body    []byte
	BodySet bool
}

// Response is the client response as plugins and the log phase see it.
type Response struct {
	Status  int
	Headers http.Header
	// Source is "service", "exit" or "error" (kong.response.get_source).
	Source string
	Size   int
}

// ServiceResponse is a buffered upstream response.
type ServiceResponse struct {
	Status  int
	Headers http.Header
	Body    []byte
}

// Exit is the response a plugin answered with through kong.response.exit.
type Exit struct {
	Status  int
	Headers http.Header
	Body    []byte
}

// LogLine is one kong.log.* call.
type LogLine struct {
	Plugin  string // Client.Plugin of the caller
	Phase   Phase
	Level   string
	Message string
}

// LogLines returns a copy of the log lines; safe while log handlers run.
func (r *Request) LogLines() []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]LogLine(nil), r.Logs...)
}

// Latencies are what kong.log.serialize reports, in milliseconds.
type Latencies struct {
	Kong, Proxy, Request int
}

func (r *Request) bufferSize() int {
	if r.BodyBufferSize > 0 {
		return r.BodyBufferSize
	}
	return DefaultBodyBufferSize
}

// rawBody is kong.request.get_raw_body's answer: the body in memory, or the
// path of the file nginx spooled it to.
func (r *Request) rawBody() (*pb.RawBodyResult, error) {
	if r.Upstream.BodySet || len(r.Body) <= r.bufferSize() {
		return &pb.RawBodyResult{Kind: &pb.RawBodyResult_Content{Content: nonNil(r.Body)}}, nil
	}
	if r.bodyFile == "" {
		dir := r.BodyDir
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "client_body_temp")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create client_body_temp: %w", err)
		}
		f, err := os.CreateTemp(dir, "body-")
		if err != nil {
			return nil, fmt.Errorf("spool body: %w", err)
		}
		_, werr := f.Write(r.Body)
		cerr := f.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(f.Name())
			return nil, fmt.Errorf("spool body: %w", err)
		}
		// go-pdk reads the file from another process.
		if err := os.Chmod(f.Name(), 0o644); err != nil {
			return nil, fmt.Errorf("spool body: %w", err)
		}
		r.bodyFile = f.Name()
	}
	return &pb.RawBodyResult{Kind: &pb.RawBodyResult_BodyFilepath{BodyFilepath: r.bodyFile}}, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// BodyFile is the path the body was spooled to, if it was.
func (r *Request) BodyFile() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodyFile
}

func (r *Request) holdUntilFinish(c net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = append(r.held, c)
}

// Finish ends the request as Kong does: connections left open by an exit
// are closed (which releases the plugin's blocked Exit call) and the
// spooled body file is removed.
func (r *Request) Finish() {
	r.mu.Lock()
	held, file := r.held, r.bodyFile
	r.held, r.bodyFile = nil, ""
	r.mu.Unlock()
	for _, c := range held {
		c.Close()
	}
	if file != "" {
		os.Remove(file)
	}
}

// requestURI is the path and query as the client sent them.
func (r *Request) requestURI() string {
	if r.RawQuery == "" {
		return r.Path
	}
	return r.Path + "?" + r.RawQuery
}

func (r *Request) currentQuery() string {
	if r.Upstream.QuerySet {
		return r.Upstream.RawQuery
	}
	return r.RawQuery
}

func (r *Request) currentMethod() string {
	if r.Upstream.Method != "" {
		return r.Upstream.Method
	}
	return r.Method
}

// nginxVar answers kong.nginx.get_var for the variables nginx derives from
// the request; Vars overrides and extends them.
func (r *Request) nginxVar(name string) (string, bool) {
	if v, ok := r.Vars[name]; ok {
		return v, true
	}
	switch name {
	case "request_uri":
		return r.requestURI(), true
	case "uri":
		return r.Path, true
	case "args", "query_string":
		q := r.currentQuery()
		return q, q != ""
	case "request_method":
		return r.currentMethod(), true
	case "scheme":
		return r.Scheme, true
	case "host":
		return r.Host, true
	case "server_port":
		return strconv.Itoa(r.Port), true
	case "remote_addr", "realip_remote_addr", "binary_remote_addr":
		return r.ClientIP, true
	case "remote_port", "realip_remote_port":
		return strconv.Itoa(r.ClientPort), true
	case "request_id", "kong_request_id":
		return r.RequestID, r.RequestID != ""
	case "server_protocol":
		return fmt.Sprintf("HTTP/%.1f", r.HTTPVersion), true
	case "content_length":
		v := r.Headers.Get("Content-Length")
		return v, v != ""
	case "content_type":
		v := r.Headers.Get("Content-Type")
		return v, v != ""
	case "upstream_uri":
		if r.Upstream.Path != "" {
			return r.Upstream.Path, true
		}
	}
	if len(name) > 5 && name[:5] == "http_" {
		v := r.Headers.Values(headerName(name[5:]))
		if len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}
