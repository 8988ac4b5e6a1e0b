package konghost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	pb "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// phaseSet is the set of phases a PDK method may be called in.
type phaseSet uint8

const (
	inRewrite phaseSet = 1 << iota
	inAccess
	inResponse
	inLog
	inCertificate
	inPreread

	always  = inRewrite | inAccess | inResponse | inLog | inCertificate | inPreread
	request = inRewrite | inAccess | inResponse // the phases with a live nginx request
	routed  = inAccess | inResponse | inLog     // after the router ran
	setters = inRewrite | inAccess              // upstream request edits
)

func phaseBit(p Phase) phaseSet {
	switch p {
	case PhaseRewrite:
		return inRewrite
	case PhaseAccess:
		return inAccess
	case PhaseResponse:
		return inResponse
	case PhaseLog:
		return inLog
	case PhaseCertificate:
		return inCertificate
	case PhasePreread:
		return inPreread
	}
	return 0
}

// CallError is a PDK call Kong refuses: unknown method, wrong phase or bad
// argument. Kong raises a Lua error, sends no reply and abandons the
// connection, so the plugin sees EOF and Kong answers 500 (spec §2.6).
type CallError struct {
	Method string
	Phase  Phase
	Reason string
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%s in %s: %s", e.Method, e.Phase, e.Reason)
}

// errExit stops the event loop after kong.response.exit.
var errExit = errors.New("kong.response.exit")

type method struct {
	phases phaseSet
	args   func() proto.Message
	// fn serves the call; it runs with r.mu held.
	fn func(r *Request, p Phase, args proto.Message) (proto.Message, error)
}

// caller is who made a callback, for the log methods.
type caller struct {
	plugin string
	phase  Phase
}

func empty() proto.Message      { return &emptypb.Empty{} }
func str() proto.Message        { return &pb.String{} }
func integer() proto.Message    { return &pb.Int{} }
func kv() proto.Message         { return &pb.KV{} }
func boolean() proto.Message    { return &pb.Bool{} }
func strct() proto.Message      { return &structpb.Struct{} }
func listValue() proto.Message  { return &structpb.ListValue{} }
func byteString() proto.Message { return &pb.ByteString{} }

func sv(s string) proto.Message { return &pb.String{V: s} }

// svOpt is a string result that Lua would return as nil when absent.
func svOpt(s string, ok bool) proto.Message {
	if !ok {
		return nil
	}
	return &pb.String{V: s}
}

var methods map[string]method

func init() {
	methods = map[string]method{
		// client
		"kong.client.get_ip":           {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.ClientIP), nil }},
		"kong.client.get_forwarded_ip": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.ForwardedIP), nil }},
		"kong.client.get_port": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return &pb.Int{V: int32(r.ClientPort)}, nil
		}},
		"kong.client.get_forwarded_port": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return &pb.Int{V: int32(r.ForwardedPort)}, nil
		}},
		"kong.client.get_credential": {routed, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return orNil(r.Credential), nil }},
		"kong.client.get_consumer":   {routed, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return orNil(r.Consumer), nil }},
		"kong.client.load_consumer":  {always, func() proto.Message { return &pb.ConsumerSpec{} }, loadConsumer},
		"kong.client.authenticate":   {inAccess, func() proto.Message { return &pb.AuthenticateArgs{} }, authenticate},
		"kong.client.get_protocol":   {request, boolean, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.Scheme), nil }},

		// ctx, ip, node
		"kong.ctx.shared.set": {always, kv, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			setKV(&r.Shared, a.(*pb.KV))
			return nil, nil
		}},
		"kong.ctx.shared.get": {always, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			return wrapValue(r.Shared[a.(*pb.String).V])
		}},
		"kong.ip.is_trusted":         {always, str, func(*Request, Phase, proto.Message) (proto.Message, error) { return &pb.Bool{V: false}, nil }},
		"kong.node.get_id":           {always, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.NodeID), nil }},
		"kong.node.get_memory_stats": {always, empty, func(*Request, Phase, proto.Message) (proto.Message, error) { return &pb.MemoryStats{}, nil }},

		// log
		"kong.log.alert":  {always, listValue, logAt("alert")},
		"kong.log.crit":   {always, listValue, logAt("crit")},
		"kong.log.err":    {always, listValue, logAt("err")},
		"kong.log.warn":   {always, listValue, logAt("warn")},
		"kong.log.notice": {always, listValue, logAt("notice")},
		"kong.log.info":   {always, listValue, logAt("info")},
		"kong.log.debug":  {always, listValue, logAt("debug")},
		"kong.log.set_serialize_value": {always, kv, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			setKV(&r.SerializeValues, a.(*pb.KV))
			return nil, nil
		}},
		"kong.log.serialize": {inLog, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return serialize(r) }},

		// nginx
		"kong.nginx.get_var": {request, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			return svOpt(r.nginxVar(a.(*pb.String).V)), nil
		}},
		"kong.nginx.get_tls1_version_str": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return svOpt(r.TLSVersion, r.TLSVersion != ""), nil
		}},
		"kong.nginx.set_ctx": {always, kv, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			setKV(&r.NginxCtx, a.(*pb.KV))
			return nil, nil
		}},
		"kong.nginx.get_ctx": {always, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			return wrapValue(r.NginxCtx[a.(*pb.String).V])
		}},
		"kong.nginx.req_start_time": {always, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return &pb.Number{V: float64(r.StartTime.UnixMilli()) / 1000}, nil
		}},
		"kong.nginx.get_subsystem": {always, empty, func(*Request, Phase, proto.Message) (proto.Message, error) { return sv("http"), nil }},

		// request
		"kong.request.get_scheme": {request | inLog, empty, func(r *Request, p Phase, _ proto.Message) (proto.Message, error) {
			return routedOnly(r, p, sv(r.Scheme))
		}},
		"kong.request.get_host": {request | inLog, empty, func(r *Request, p Phase, _ proto.Message) (proto.Message, error) { return routedOnly(r, p, sv(r.Host)) }},
		"kong.request.get_port": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return &pb.Int{V: int32(r.Port)}, nil
		}},
		"kong.request.get_forwarded_scheme": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.Scheme), nil }},
		"kong.request.get_forwarded_host":   {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.Host), nil }},
		"kong.request.get_forwarded_port": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return &pb.Int{V: int32(r.Port)}, nil
		}},
		"kong.request.get_http_version": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return &pb.Number{V: r.HTTPVersion}, nil
		}},
		"kong.request.get_method": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.currentMethod()), nil }},
		"kong.request.get_path":   {request | inLog, empty, func(r *Request, p Phase, _ proto.Message) (proto.Message, error) { return routedOnly(r, p, sv(r.Path)) }},
		"kong.request.get_path_with_query": {request | inLog, empty, func(r *Request, p Phase, _ proto.Message) (proto.Message, error) {
			return routedOnly(r, p, sv(r.requestURI()))
		}},
		"kong.request.get_raw_query": {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return sv(r.currentQuery()), nil }},
		"kong.request.get_query_arg": {request, str, getQueryArg},
		"kong.request.get_query":     {request, integer, getQuery},
		"kong.request.get_header": {always, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			return header(r.Headers, a.(*pb.String).V)
		}},
		"kong.request.get_headers": {always, integer, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return headers(r.Headers, a.(*pb.Int).V, "kong.request.get_headers", p)
		}},
		"kong.request.get_raw_body":     {request, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return r.rawBody() }},
		"kong.request.get_uri_captures": {always, empty, captures},

		// response
		"kong.response.get_status": {inResponse | inLog, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return &pb.Int{V: int32(r.Response.Status)}, nil
		}},
		"kong.response.get_header": {inResponse | inLog, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			return header(r.Response.Headers, a.(*pb.String).V)
		}},
		"kong.response.get_headers": {inResponse | inLog, integer, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return headers(r.Response.Headers, a.(*pb.Int).V, "kong.response.get_headers", p)
		}},
		"kong.response.get_source": {inResponse | inLog, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
			return sv(orDefault(r.Response.Source, "service")), nil
		}},
		"kong.response.set_status": {request, integer, setStatus},
		"kong.response.set_header": {request, kv, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return nil, editHeader(&r.Response.Headers, a, "set", p)
		}},
		"kong.response.add_header": {request, kv, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return nil, editHeader(&r.Response.Headers, a, "add", p)
		}},
		"kong.response.clear_header": {request, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			ensure(&r.Response.Headers).Del(a.(*pb.String).V)
			return nil, nil
		}},
		"kong.response.set_headers": {request, strct, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return nil, setHeaders(ensure(&r.Response.Headers), a.(*structpb.Struct), "kong.response.set_headers", p)
		}},
		"kong.response.exit": {request, func() proto.Message { return &pb.ExitArgs{} }, exit},

		// router
		"kong.router.get_route":   {routed, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return orNil(r.Route), nil }},
		"kong.router.get_service": {routed, empty, func(r *Request, _ Phase, _ proto.Message) (proto.Message, error) { return orNil(r.Service), nil }},

		// service
		"kong.service.set_upstream": {inAccess, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			name := a.(*pb.String).V
			if !r.Upstreams[name] {
				return nil, nil // Lua returns nil, "could not find an Upstream named …"
			}
			r.Upstream.Name = name
			return &pb.Bool{V: true}, nil
		}},
		"kong.service.set_target": {inAccess, func() proto.Message { return &pb.Target{} }, setTarget},

		// service.request
		"kong.service.request.set_scheme": {setters, str, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			s := a.(*pb.String).V
			if s != "http" && s != "https" {
				return nil, &CallError{"kong.service.request.set_scheme", p, fmt.Sprintf("invalid scheme: %s", s)}
			}
			r.Upstream.Scheme = s
			return nil, nil
		}},
		"kong.service.request.set_path": {setters, str, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			s := a.(*pb.String).V
			if !strings.HasPrefix(s, "/") {
				return nil, &CallError{"kong.service.request.set_path", p, "path must start with /"}
			}
			r.Upstream.Path = s
			return nil, nil
		}},
		"kong.service.request.set_raw_query": {setters, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			r.Upstream.RawQuery, r.Upstream.QuerySet = a.(*pb.String).V, true
			return nil, nil
		}},
		"kong.service.request.set_method": {setters, str, setMethod},
		"kong.service.request.set_query":  {setters, strct, setQuery},
		"kong.service.request.set_header": {setters, kv, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return nil, editHeader(&r.Headers, a, "set", p)
		}},
		"kong.service.request.add_header": {setters, kv, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return nil, editHeader(&r.Headers, a, "add", p)
		}},
		"kong.service.request.clear_header": {setters, str, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			ensure(&r.Headers).Del(a.(*pb.String).V)
			return nil, nil
		}},
		"kong.service.request.set_headers": {setters, strct, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			return nil, setHeaders(ensure(&r.Headers), a.(*structpb.Struct), "kong.service.request.set_headers", p)
		}},
		"kong.service.request.set_raw_body": {setters, byteString, func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
			b := append([]byte(nil), a.(*pb.ByteString).V...)
			r.Body, r.Upstream.Body, r.Upstream.BodySet = b, b, true
			ensure(&r.Headers).Set("Content-Length", strconv.Itoa(len(b)))
			return nil, nil
		}},

		// service.response (buffered proxying only)
		"kong.service.response.get_status": {inResponse | inLog, empty, func(r *Request, p Phase, _ proto.Message) (proto.Message, error) {
			sr, err := buffered(r, p, "kong.service.response.get_status")
			if err != nil || sr == nil {
				return nil, err
			}
			return &pb.Int{V: int32(sr.Status)}, nil
		}},
		"kong.service.response.get_header": {inResponse | inLog, str, func(r *Request, p Phase, a proto.Message) (proto.Message, error) {
			sr, err := buffered(r, p, "kong.service.response.get_header")
			if err != nil || sr == nil {
				return nil, err
			}
			return header(sr.Headers, a.(*pb.String).V)
		}},
		"kong.service.response.get_headers": {inResponse | inLog, integer, func(r *Request, p Phase, _ proto.Message) (proto.Message, error) {
			if _, err := buffered(r, p, "kong.service.response.get_headers"); err != nil {
				return nil, err
			}
			// A proxy table with only __index: pairs() sees nothing (spec §5).
			return &structpb.Struct{}, nil
		}},
		"kong.service.response.get_raw_body": {inResponse | inLog, empty, func(r *Request, p Phase, _ proto.Message) (proto.Message, error) {
			sr, err := buffered(r, p, "kong.service.response.get_raw_body")
			if err != nil || sr == nil {
				return nil, err
			}
			return &pb.ByteString{V: sr.Body}, nil
		}},
	}
}

// Methods lists the PDK method names Kong serves, sorted.
func Methods() []string {
	names := make([]string, 0, len(methods))
	for n := range methods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// serve answers one PDK callback. It returns the reply payload, errExit
// for kong.response.exit, or a *CallError when Kong would raise one.
func (r *Request) serve(plugin string, phase Phase, name string, args []byte) ([]byte, error) {
	m, ok := methods[name]
	if !ok {
		return nil, &CallError{name, phase, fmt.Sprintf("method %q not found", name)}
	}
	if m.phases&phaseBit(phase) == 0 {
		return nil, &CallError{name, phase, "function cannot be called in " + string(phase) + " phase"}
	}
	in := m.args()
	if err := proto.Unmarshal(args, in); err != nil {
		return nil, &CallError{name, phase, fmt.Sprintf("bad argument: %v", err)}
	}
	r.mu.Lock()
	r.Calls++
	if r.CallsTo == nil {
		r.CallsTo = map[string]int{}
	}
	r.CallsTo[name]++
	r.caller = caller{plugin, phase}
	out, err := m.fn(r, phase, in)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	b, err := proto.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode %s result: %w", name, err)
	}
	return b, nil
}

// orNil gives an empty payload for a nil entity, as Kong does for nil.
func orNil[T any, P interface {
	*T
	proto.Message
}](v P) proto.Message {
	if v == nil {
		return nil
	}
	return v
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func ensure(h *http.Header) http.Header {
	if *h == nil {
		*h = http.Header{}
	}
	return *h
}

func routedOnly(r *Request, p Phase, m proto.Message) (proto.Message, error) {
	if p == PhaseLog && r.Route == nil {
		return nil, &CallError{"kong.request.*", p, "API disabled in the current context"}
	}
	return m, nil
}

func buffered(r *Request, p Phase, name string) (*ServiceResponse, error) {
	if r.ServiceResponse == nil && p == PhaseResponse {
		return nil, &CallError{name, p, "response was not buffered"}
	}
	return r.ServiceResponse, nil
}

// headerName turns a PDK header name into the canonical key: case does not
// matter and "_" stands for "-".
func headerName(n string) string {
	return http.CanonicalHeaderKey(strings.ReplaceAll(n, "_", "-"))
}

func header(h http.Header, name string) (proto.Message, error) {
	v := h.Values(headerName(name))
	if len(v) == 0 {
		return nil, nil
	}
	return sv(v[0]), nil
}

// headers is get_headers: lower-case keys, a string or a list when repeated,
// at most max entries; max outside 1..1000 is a Lua error.
func headers(h http.Header, max int32, name string, p Phase) (proto.Message, error) {
	if max < 1 || max > 1000 {
		return nil, &CallError{name, p, "max_headers must be >= 1 and <= 1000"}
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fields := map[string]*structpb.Value{}
	for _, k := range keys {
		if len(fields) >= int(max) {
			break
		}
		vals := h[k]
		if len(vals) == 0 {
			continue
		}
		fields[strings.ToLower(k)] = stringOrList(vals)
	}
	return &structpb.Struct{Fields: fields}, nil
}

func stringOrList(vals []string) *structpb.Value {
	if len(vals) == 1 {
		return structpb.NewStringValue(vals[0])
	}
	l := make([]*structpb.Value, len(vals))
	for i, v := range vals {
		l[i] = structpb.NewStringValue(v)
	}
	return structpb.NewListValue(&structpb.ListValue{Values: l})
}

// editHeader is set_header/add_header: the value must be a string, number
// or boolean, and "" is sent as " " (spec §5).
func editHeader(hp *http.Header, a proto.Message, op string, p Phase) error {
	args := a.(*pb.KV)
	if args.K == "" {
		return &CallError{"kong.*." + op + "_header", p, "invalid header name"}
	}
	v, ok := headerValue(args.V)
	if !ok {
		return &CallError{"kong.*." + op + "_header", p, "invalid header value for " + args.K}
	}
	h := ensure(hp)
	if op == "add" {
		h.Add(args.K, v)
	} else {
		h.Set(args.K, v)
	}
	return nil
}

func headerValue(v *structpb.Value) (string, bool) {
	switch x := unwrapValue(v).(type) {
	case string:
		if x == "" {
			return " ", true
		}
		return x, true
	case float64:
		return luaNumber(x), true
	case bool:
		return "true", true
	}
	return "", false
}

func setHeaders(h http.Header, s *structpb.Struct, name string, p Phase) error {
	for k, v := range s.GetFields() {
		if l := v.GetListValue(); l != nil {
			h.Del(k)
			for _, e := range l.Values {
				sv, ok := headerValue(e)
				if !ok {
					return &CallError{name, p, "invalid header value for " + k}
				}
				h.Add(k, sv)
			}
			continue
		}
		sv, ok := headerValue(v)
		if !ok {
			return &CallError{name, p, "invalid header value for " + k}
		}
		h.Set(k, sv)
	}
	return nil
}

func setStatus(r *Request, p Phase, a proto.Message) (proto.Message, error) {
	st := int(a.(*pb.Int).V)
	if st < 100 || st > 599 {
		return nil, &CallError{"kong.response.set_status", p, "code must be a number between 100 and 599"}
	}
	r.Response.Status = st
	return nil, nil
}

func exit(r *Request, p Phase, a proto.Message) (proto.Message, error) {
	args := a.(*pb.ExitArgs)
	st := int(args.Status)
	if st < 100 || st > 599 {
		return nil, &CallError{"kong.response.exit", p, "code must be a number between 100 and 599"}
	}
	h := http.Header{}
	for k, vs := range r.Response.Headers {
		h[k] = append([]string(nil), vs...)
	}
	if args.Headers != nil {
		if err := setHeaders(h, args.Headers, "kong.response.exit", p); err != nil {
			return nil, err
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(args.Body)))
	r.Exit = &Exit{Status: st, Headers: h, Body: append([]byte(nil), args.Body...)}
	r.Response.Status, r.Response.Source = st, "exit"
	return nil, errExit
}

func setTarget(r *Request, p Phase, a proto.Message) (proto.Message, error) {
	t := a.(*pb.Target)
	if t.Host == "" {
		return nil, &CallError{"kong.service.set_target", p, "host must be a string"}
	}
	if t.Port < 0 || t.Port > 65535 {
		return nil, &CallError{"kong.service.set_target", p, "port must be an integer between 0 and 65535"}
	}
	r.Upstream.Host, r.Upstream.Port, r.Upstream.TargetSet = t.Host, int(t.Port), true
	return nil, nil
}

func setMethod(r *Request, p Phase, a proto.Message) (proto.Message, error) {
	m := a.(*pb.String).V
	switch m {
	case "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "MKCOL", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "PATCH", "TRACE":
		r.Upstream.Method = m
		return nil, nil
	}
	return nil, &CallError{"kong.service.request.set_method", p, "invalid method: " + m}
}

// setQuery is set_query: keys sorted, true flags without "=", lists repeated.
func setQuery(r *Request, p Phase, a proto.Message) (proto.Message, error) {
	s := a.(*structpb.Struct)
	keys := make([]string, 0, len(s.GetFields()))
	for k := range s.GetFields() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	add := func(k string, v *structpb.Value) error {
		switch x := unwrapValue(v).(type) {
		case string:
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(x))
		case float64:
			parts = append(parts, url.QueryEscape(k)+"="+luaNumber(x))
		case bool:
			parts = append(parts, url.QueryEscape(k))
		default:
			return &CallError{"kong.service.request.set_query", p, "invalid value for " + k}
		}
		return nil
	}
	for _, k := range keys {
		v := s.Fields[k]
		if l := v.GetListValue(); l != nil {
			for _, e := range l.Values {
				if err := add(k, e); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	r.Upstream.RawQuery, r.Upstream.QuerySet = strings.Join(parts, "&"), true
	return nil, nil
}

// queryArgs parses a raw query as ngx.req.get_uri_args does: a key without
// "=" is the boolean true.
func queryArgs(raw string) (keys []string, vals map[string][]any) {
	vals = map[string][]any{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasEq := strings.Cut(part, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k == "" {
			continue
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		if !hasEq {
			vals[k] = append(vals[k], true)
			continue
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		vals[k] = append(vals[k], v)
	}
	return keys, vals
}

func getQueryArg(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
	_, vals := queryArgs(r.currentQuery())
	v := vals[a.(*pb.String).V]
	if len(v) == 0 {
		return nil, nil
	}
	if s, ok := v[0].(string); ok {
		return sv(s), nil
	}
	return nil, nil // a flag is true, which a String cannot carry
}

func getQuery(r *Request, p Phase, a proto.Message) (proto.Message, error) {
	max := a.(*pb.Int).V
	if max < 1 || max > 1000 {
		return nil, &CallError{"kong.request.get_query", p, "max_args must be >= 1 and <= 1000"}
	}
	keys, vals := queryArgs(r.currentQuery())
	fields := map[string]*structpb.Value{}
	for _, k := range keys {
		if len(fields) >= int(max) {
			break
		}
		vs := vals[k]
		if len(vs) == 1 {
			v, _ := structpb.NewValue(vs[0])
			fields[k] = v
			continue
		}
		l := make([]*structpb.Value, len(vs))
		for i, e := range vs {
			l[i], _ = structpb.NewValue(e)
		}
		fields[k] = structpb.NewListValue(&structpb.ListValue{Values: l})
	}
	return &structpb.Struct{Fields: fields}, nil
}

func captures(r *Request, _ Phase, _ proto.Message) (proto.Message, error) {
	out := &pb.UriCapturesResult{Named: map[string][]byte{}}
	for _, u := range r.Captures.Unnamed {
		out.Unnamed = append(out.Unnamed, []byte(u))
	}
	for k, v := range r.Captures.Named {
		out.Named[k] = []byte(v)
	}
	return out, nil
}

func loadConsumer(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
	spec := a.(*pb.ConsumerSpec)
	if r.LoadConsumer == nil {
		return nil, nil
	}
	return orNil(r.LoadConsumer(spec.Id, spec.ByUsername)), nil
}

// authenticate stores the decoded tables as they are (spec §5).
func authenticate(r *Request, p Phase, a proto.Message) (proto.Message, error) {
	args := a.(*pb.AuthenticateArgs)
	if args.Consumer == nil && args.Credential == nil {
		return nil, &CallError{"kong.client.authenticate", p, "either credential or consumer must be provided"}
	}
	r.Consumer, r.Credential = args.Consumer, args.Credential
	return nil, nil
}

func logAt(level string) func(*Request, Phase, proto.Message) (proto.Message, error) {
	return func(r *Request, _ Phase, a proto.Message) (proto.Message, error) {
		var b strings.Builder
		for _, v := range a.(*structpb.ListValue).GetValues() {
			switch x := unwrapValue(v).(type) {
			case nil:
				// false reads as nil, and a nil argument vanishes
			case string:
				b.WriteString(x)
			case float64:
				b.WriteString(luaNumber(x))
			case bool:
				b.WriteString("true")
			}
		}
		r.Logs = append(r.Logs, LogLine{Plugin: r.caller.plugin, Phase: r.caller.phase, Level: level, Message: b.String()})
		return nil, nil
	}
}

// serialize is kong.log.serialize's JSON for the log phase.
func serialize(r *Request) (proto.Message, error) {
	reqHeaders := map[string]any{}
	for k, v := range r.Headers {
		lk := strings.ToLower(k)
		if lk == "authorization" || lk == "proxy-authorization" {
			reqHeaders[lk] = "REDACTED"
			continue
		}
		reqHeaders[lk] = jsonHeader(v)
	}
	respHeaders := map[string]any{}
	for k, v := range r.Response.Headers {
		respHeaders[strings.ToLower(k)] = jsonHeader(v)
	}
	_, q := queryArgs(r.RawQuery)
	qs := map[string]any{}
	for k, v := range q {
		if len(v) == 1 {
			qs[k] = v[0]
		} else {
			qs[k] = v
		}
	}
	upstreamURI := r.Upstream.Path
	if upstreamURI == "" {
		upstreamURI = r.Path
	}
	if q := r.currentQuery(); q != "" {
		upstreamURI += "?" + q
	}
	entry := map[string]any{
		"request": map[string]any{
			"method": r.Method, "uri": r.requestURI(), "url": fmt.Sprintf("%s://%s:%d%s", r.Scheme, r.Host, r.Port, r.requestURI()),
			"querystring": qs, "headers": reqHeaders, "size": len(r.Body),
		},
		"response":     map[string]any{"status": r.Response.Status, "headers": respHeaders, "size": r.Response.Size},
		"latencies":    map[string]any{"kong": r.Latencies.Kong, "proxy": r.Latencies.Proxy, "request": r.Latencies.Request},
		"upstream_uri": upstreamURI,
		"client_ip":    r.ClientIP,
		"started_at":   r.StartTime.UnixMilli(),
		"source":       orDefault(r.Response.Source, "service"),
	}
	if r.ServiceResponse != nil {
		entry["upstream_status"] = strconv.Itoa(r.ServiceResponse.Status)
	}
	if r.Route != nil {
		entry["route"] = map[string]any{"id": r.Route.Id, "name": r.Route.Name, "paths": r.Route.Paths, "protocols": r.Route.Protocols}
	}
	if r.Service != nil {
		entry["service"] = map[string]any{"id": r.Service.Id, "name": r.Service.Name, "host": r.Service.Host, "port": r.Service.Port, "protocol": r.Service.Protocol}
	}
	if r.Consumer != nil {
		entry["consumer"] = map[string]any{"id": r.Consumer.Id, "username": r.Consumer.Username, "custom_id": r.Consumer.CustomId}
	}
	for k, v := range r.SerializeValues {
		entry[k] = v
	}
	b, err := json.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("serialize log entry: %w", err)
	}
	return sv(string(b)), nil
}

func jsonHeader(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

// luaNumber formats a number as LuaJIT's tostring does (%.14g).
func luaNumber(f float64) string {
	return strconv.FormatFloat(f, 'g', 14, 64)
}
