package kongemu

import (
	"fmt"
	"net/http"
	"strings"
)

// KeyAuthRequest is what the key-auth stand-in reads, and edits in place
// as kong.service.request does, so later plugins and the upstream see the
// edits.
type KeyAuthRequest struct {
	Method string
	// Header gets the credential removed (hide_credentials) and the
	// X-Consumer-* / X-Credential-Identifier / X-Anonymous-Consumer
	// headers set or cleared.
	Header http.Header
	// RawQuery is the query string as received.
	RawQuery string
	// Body is the parsed body (kong.request.get_body), read when
	// key_in_body; nil when there is none or it could not be parsed.
	// hide_credentials deletes the key from it.
	Body map[string]any
	// Authenticated is true when a higher-priority auth plugin already set
	// a credential; with anonymous configured key-auth then does nothing.
	Authenticated bool
}

// KeyAuthResult is the outcome of the key-auth access handler.
type KeyAuthResult struct {
	Consumer   *Consumer
	Credential *KeyAuthCredential // nil for the anonymous consumer
	Groups     []*ConsumerGroup   // the consumer's groups, by name
	Anonymous  bool
	// Skipped is true when the handler returned at once: an OPTIONS
	// request with run_on_preflight off, or Authenticated with anonymous.
	Skipped bool
	// RawQuery is the upstream query string, without the credential when
	// hide_credentials re-serialised it.
	RawQuery string
	// BodyChanged is true when hide_credentials deleted the key from Body;
	// Kong then re-encodes the body (kong.service.request.set_body).
	BodyChanged bool
	// Exit is the response Kong sends instead of proxying: 401 for a
	// missing, duplicate or invalid key, 500 for a missing anonymous
	// consumer.
	Exit *ErrorResponse
}

// Messages of kong/plugins/key-auth/handler.lua (Kong 3.9).
const (
	msgDuplicateKey = "Duplicate API key found"
	msgNoKey        = "No API key found in request"
	msgUnauthorized = "Unauthorized"
)

// Headers key-auth sets on the upstream request (kong/constants.lua).
const (
	HeaderConsumerID           = "X-Consumer-ID"
	HeaderConsumerCustomID     = "X-Consumer-Custom-ID"
	HeaderConsumerUsername     = "X-Consumer-Username"
	HeaderCredentialIdentifier = "X-Credential-Identifier"
	HeaderAnonymous            = "X-Anonymous-Consumer"
)

// KeyAuth runs key-auth's access handler against the consumers and
// keyauth_credentials of the config.
func (c *Config) KeyAuth(conf KeyAuthConfig, req *KeyAuthRequest) *KeyAuthResult {
	res := &KeyAuthResult{RawQuery: req.RawQuery}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if !conf.RunOnPreflight && req.Method == http.MethodOptions {
		res.Skipped = true
		return res
	}
	if conf.Anonymous != "" {
		if req.Authenticated {
			res.Skipped = true
			return res
		}
		if c.authenticate(conf, req, res) == nil {
			return res
		}
		anon := c.Consumer(conf.Anonymous)
		if anon == nil {
			res.Exit = &ErrorResponse{
				Status:  500,
				Message: fmt.Sprintf("anonymous consumer %s is configured but doesn't exist", conf.Anonymous),
			}
			return res
		}
		c.setConsumer(res, req.Header, anon, nil)
		return res
	}
	res.Exit = c.authenticate(conf, req, res)
	return res
}

// authenticate is do_authentication: it finds the key, hides it if asked
// and sets the consumer, or returns the 401 to send.
func (c *Config) authenticate(conf KeyAuthConfig, req *KeyAuthRequest, res *KeyAuthResult) *ErrorResponse {
	challenge := "Key"
	if conf.Realm != nil {
		challenge = `Key realm="` + *conf.Realm + `"`
	}
	unauthorized := func(msg string) *ErrorResponse {
		return &ErrorResponse{Status: 401, Message: msg, Headers: http.Header{"Www-Authenticate": {challenge}}}
	}
	query := parseArgs(req.RawQuery)
	key := ""
	for _, name := range conf.KeyNames {
		var v any
		if conf.KeyInHeader {
			v = headerLookup(req.Header, name)
		}
		if v == nil && conf.KeyInQuery {
			v = query.lookup(name)
		}
		if v == nil && conf.KeyInBody && req.Body != nil {
			v = req.Body[name]
		}
		switch t := v.(type) {
		case string:
			key = t
			if conf.HideCredentials {
				res.RawQuery = removeArg(res.RawQuery, name)
				delHeader(req.Header, name)
				if conf.KeyInBody && req.Body != nil {
					delete(req.Body, name)
					res.BodyChanged = true
				}
			}
		case []any, []string, map[string]any:
			return unauthorized(msgDuplicateKey)
		default:
			continue
		}
		break
	}
	if key == "" {
		return unauthorized(msgNoKey)
	}
	cred := c.keys[key]
	if cred == nil {
		return unauthorized(msgUnauthorized)
	}
	c.setConsumer(res, req.Header, c.consumersByID[strings.ToLower(cred.ConsumerID)], cred)
	return nil
}

// setConsumer is kong.client.authenticate plus the headers of set_consumer.
func (c *Config) setConsumer(res *KeyAuthResult, h http.Header, consumer *Consumer, cred *KeyAuthCredential) {
	res.Consumer, res.Credential, res.Anonymous = consumer, cred, cred == nil
	res.Groups = c.GroupsOf(consumer)
	set := func(name, value string) {
		delHeader(h, name)
		if value != "" {
			h.Set(name, value)
		}
	}
	var id, customID, username, credID string
	if consumer != nil {
		id, customID, username = consumer.ID, consumer.CustomID, consumer.Username
	}
	if cred != nil {
		credID = cred.ID
	}
	set(HeaderConsumerID, id)
	set(HeaderConsumerCustomID, customID)
	set(HeaderConsumerUsername, username)
	set(HeaderCredentialIdentifier, credID)
	if cred != nil {
		set(HeaderAnonymous, "")
	} else {
		set(HeaderAnonymous, "true")
	}
}

// delHeader is ngx.req.clear_header: every header with this name, in any
// case (but '_' and '-' are different characters here).
func delHeader(h http.Header, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}

// headerLookup reads headers[name] from kong.request.get_headers(): keys
// are lower case; a miss retries with the name lower-cased and '_' as '-'.
// One value is a string, several a list (a duplicate key).
func headerLookup(h http.Header, name string) any {
	values := func(target string) []string {
		var out []string
		for k, vs := range h {
			if strings.ToLower(k) == target {
				out = append(out, vs...)
			}
		}
		return out
	}
	vs := values(name)
	if len(vs) == 0 {
		vs = values(strings.ReplaceAll(strings.ToLower(name), "_", "-"))
	}
	switch len(vs) {
	case 0:
		return nil
	case 1:
		return vs[0]
	default:
		return vs
	}
}

// args is a query string as ngx.req.get_uri_args returns it: a bare name
// is true, a repeated name a list.
type args map[string][]any

func parseArgs(raw string) args {
	a := args{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasValue := strings.Cut(part, "=")
		k = unescapeArg(k)
		if k == "" {
			continue
		}
		if hasValue {
			a[k] = append(a[k], unescapeArg(v))
		} else {
			a[k] = append(a[k], true)
		}
	}
	return a
}

func (a args) lookup(name string) any {
	switch vs := a[name]; len(vs) {
	case 0:
		return nil
	case 1:
		return vs[0]
	default:
		return vs
	}
}

// unescapeArg decodes '+' and valid percent triplets, leaving invalid
// ones as they are (nginx's and the URL standard's leniency).
func unescapeArg(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			b.WriteByte(' ')
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// removeArg is kong.service.request.clear_query_arg: ada's
// URLSearchParams remove, which re-serialises the remaining pairs in
// order, form-encoded.
func removeArg(raw, name string) string {
	if raw == "" {
		return raw
	}
	var out []string
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescapeArg(k), unescapeArg(v)
		if k == name {
			continue
		}
		out = append(out, formEncode(k)+"="+formEncode(v))
	}
	return strings.Join(out, "&")
}

// formEncode is the application/x-www-form-urlencoded byte serializer of
// the WHATWG URL standard.
func formEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case isAlnum(c) || c == '*' || c == '-' || c == '.' || c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
