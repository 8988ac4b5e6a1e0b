package piimask_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/unmask"
	"github.com/tollgate-ai/tollgate/plugins/piimask"
	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/pluginserver/plugintest"
)

type env struct {
	kr  *seal.Keyring
	reg *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	kr, err := seal.NewKeyring(seal.NewRandomKey())
	require.NoError(t, err)
	return &env{kr: kr, reg: prometheus.NewRegistry()}
}

func (e *env) start(t *testing.T, cfg map[string]any) *plugintest.Instance {
	def := piimask.New(piimask.Deps{Keyring: func() (*seal.Keyring, error) { return e.kr, nil }, Metrics: e.reg})
	return plugintest.New(t, def).Start(t, cfg)
}

func chat(msgs ...string) []byte {
	var parts []string
	for i := 0; i+1 < len(msgs); i += 2 {
		parts = append(parts, fmt.Sprintf(`{"role":%q,"content":%q}`, msgs[i], msgs[i+1]))
	}
	return []byte(`{"model":"gpt-4o-mini","messages":[` + strings.Join(parts, ",") + `]}`)
}

func post(body []byte) *konghost.Request {
	return plugintest.Request("POST", "/v1/chat/completions", body)
}

// sent is the body Kong sends upstream.
func sent(t *testing.T, r *konghost.Request) string {
	t.Helper()
	if !r.Upstream.BodySet {
		return string(r.Body)
	}
	return string(r.Upstream.Body)
}

func contents(t *testing.T, body string) []string {
	var v struct {
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	var out []string
	for _, m := range v.Messages {
		out = append(out, m.Content)
	}
	return out
}

func (e *env) handOff(t *testing.T, r *konghost.Request) *unmask.HandOff {
	t.Helper()
	s, _ := r.Shared["tollgate.handoff"].(string)
	if s == "" {
		return nil
	}
	h, v, ok := strings.Cut(s, ":")
	require.True(t, ok)
	require.Equal(t, unmask.Header, h)
	ho, err := unmask.Open(e.kr, r.Shared["tollgate.request_id"].(string), v)
	require.NoError(t, err)
	return ho
}

const (
	email = "jane.doe@example.com"
	card  = "4111 1111 1111 1111"
	ssn   = "123-45-6789"
)

func TestActions(t *testing.T) {
	tests := []struct {
		name   string
		cfg    map[string]any
		text   string
		want   string
		handed map[string]string
	}{
		{"tokenize by default", nil, "mail " + email + " now", "mail <EMAIL_1> now", map[string]string{"<EMAIL_1>": email}},
		{"redact", map[string]any{"default_action": "redact"}, "card " + card, "card [CREDIT_CARD]", nil},
		{"mask keeps separators and last 4", map[string]any{"entities": []any{map[string]any{"type": "CREDIT_CARD", "action": "mask"}}}, "card " + card, "card **** **** **** 1111", nil},
		{"mask keep_last 0", map[string]any{"entities": []any{map[string]any{"type": "US_SSN", "action": "mask", "keep_last": 0}}}, "ssn " + ssn, "ssn ***-**-****", nil},
		{"hash", map[string]any{"default_action": "hash", "hash_key": "k1"}, "mail " + email, "", nil},
		{"per type override", map[string]any{"default_action": "redact", "entities": []any{map[string]any{"type": "EMAIL", "action": "tokenize"}}}, email + " " + ssn, "<EMAIL_1> [US_SSN]", map[string]string{"<EMAIL_1>": email}},
		{"restore off hands nothing", map[string]any{"response": map[string]any{"restore": false}}, "mail " + email, "mail <EMAIL_1>", nil},
		{"allow_values untouched", map[string]any{"allow_values": []any{email}}, "mail " + email, "mail " + email, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := tt.cfg
			if cfg == nil {
				cfg = map[string]any{}
			}
			inst := e.start(t, cfg)
			r := post(chat("user", tt.text))
			require.False(t, inst.Access(t, r).Exited())
			got := contents(t, sent(t, r))[0]
			if tt.name == "hash" {
				require.Regexp(t, `^mail \[EMAIL:[0-9a-f]{12}\]$`, got)
				r2 := post(chat("user", "again "+email))
				require.False(t, inst.Access(t, r2).Exited())
				require.Equal(t, "again "+strings.TrimPrefix(got, "mail "), contents(t, sent(t, r2))[0], "stable per key")
			} else {
				require.Equal(t, tt.want, got)
			}
			ho := e.handOff(t, r)
			if tt.handed == nil {
				require.Nil(t, ho)
				return
			}
			require.NotNil(t, ho)
			require.Equal(t, tt.handed, ho.Restore)
		})
	}
}

func TestPlaceholdersAreConsistentAcrossMessages(t *testing.T) {
	e := newEnv(t)
	inst := e.start(t, map[string]any{})
	other := "bob@example.org"
	r := post(chat("system", "Contact "+email, "user", "Write to "+other+" and "+email, "assistant", "Sure, "+other))
	require.False(t, inst.Access(t, r).Exited())
	require.Equal(t, []string{"Contact <EMAIL_1>", "Write to <EMAIL_2> and <EMAIL_1>", "Sure, <EMAIL_2>"}, contents(t, sent(t, r)))
	require.Equal(t, map[string]string{"<EMAIL_1>": email, "<EMAIL_2>": other}, e.handOff(t, r).Restore)
	require.Equal(t, 4.0, counted(t, e.reg))
}

func counted(t *testing.T, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 1)
	require.Equal(t, "tollgate_pii_entities_total", mfs[0].GetName())
	var sum float64
	for _, m := range mfs[0].GetMetric() {
		sum += m.GetCounter().GetValue()
		for _, l := range m.GetLabel() {
			require.NotContains(t, l.GetValue(), "@", "no values in labels")
		}
	}
	return sum
}

func TestRolesAndFields(t *testing.T) {
	body := []byte(`{"model":"m","messages":[{"role":"system","content":"s ` + email + `"},{"role":"user","content":"u ` + email + `"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"to\":\"` + email + `\"}"}}]},` +
		`{"role":"tool","tool_call_id":"c","content":"t ` + email + `"}]}`)
	tests := []struct {
		name string
		cfg  map[string]any
		want []string // masked: system, user, arguments, tool
	}{
		{"all by default", map[string]any{}, []string{"s <EMAIL_1>", "u <EMAIL_1>", `{"to":"<EMAIL_1>"}`, "t <EMAIL_1>"}},
		{"user only", map[string]any{"roles": []any{"user"}}, []string{"s " + email, "u <EMAIL_1>", `{"to":"` + email + `"}`, "t " + email}},
		{"no tool arguments", map[string]any{"fields": []any{"text", "tool_results"}}, []string{"s <EMAIL_1>", "u <EMAIL_1>", `{"to":"` + email + `"}`, "t <EMAIL_1>"}},
		{"text only", map[string]any{"fields": []any{"text"}}, []string{"s <EMAIL_1>", "u <EMAIL_1>", `{"to":"` + email + `"}`, "t " + email}},
		{"tool results only", map[string]any{"fields": []any{"tool_results"}}, []string{"s " + email, "u " + email, `{"to":"` + email + `"}`, "t <EMAIL_1>"}},
		{"tool arguments only", map[string]any{"fields": []any{"tool_arguments"}}, []string{"s " + email, "u " + email, `{"to":"<EMAIL_1>"}`, "t " + email}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := post(body)
			require.False(t, e.start(t, tt.cfg).Access(t, r).Exited())
			var v struct {
				Messages []struct {
					Content   *string `json:"content"`
					ToolCalls []struct {
						Function struct{ Arguments string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"messages"`
			}
			out := sent(t, r)
			require.NoError(t, json.Unmarshal([]byte(out), &v))
			args := v.Messages[2].ToolCalls[0].Function.Arguments
			require.True(t, json.Valid([]byte(args)), "arguments stay valid JSON")
			require.Equal(t, tt.want, []string{*v.Messages[0].Content, *v.Messages[1].Content, args, *v.Messages[3].Content})
		})
	}
}

func TestAnthropicToolUseStaysAnObject(t *testing.T) {
	e := newEnv(t)
	body := []byte(`{"model":"claude","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"card":"` + card + `"}}]},{"role":"user","content":"ok"}]}`)
	r := plugintest.Request("POST", "/v1/messages", body)
	require.False(t, e.start(t, map[string]any{"default_action": "mask"}).Access(t, r).Exited())
	require.Contains(t, sent(t, r), `"input":{"card":"**** **** **** 1111"}`)
}

func TestCustomEntities(t *testing.T) {
	e := newEnv(t)
	inst := e.start(t, map[string]any{
		"default_action": "redact",
		"custom_entities": []any{
			map[string]any{"name": "EMPLOYEE_ID", "patterns": []any{`\bEMP-\d{6}\b`, `\bCTR-\d{4}\b`}},
			map[string]any{"name": "PROJECT", "words": []any{"Bluebird", "Night Owl"}},
		},
	})
	r := post(chat("user", "EMP-123456 and CTR-9876 work on bluebird and Night Owl"))
	require.False(t, inst.Access(t, r).Exited())
	require.Equal(t, "[EMPLOYEE_ID] and [EMPLOYEE_ID] work on [PROJECT] and [PROJECT]", contents(t, sent(t, r))[0])
}

func TestBlockNamesOnlyTheType(t *testing.T) {
	e := newEnv(t)
	inst := e.start(t, map[string]any{"entities": []any{map[string]any{"type": "CREDIT_CARD", "action": "block"}}})
	r := post(chat("user", "pay with "+card+", mail "+email))
	res := inst.Access(t, r)
	require.True(t, res.Exited())
	require.Equal(t, http.StatusBadRequest, res.Exit.Status)
	ae, ok := apierror.Parse(res.Exit.Body)
	require.True(t, ok)
	require.Equal(t, piimask.CodeDetected, ae.Code)
	require.Equal(t, "the prompt contains personal data of type CREDIT_CARD", ae.Message)
	require.NotContains(t, string(res.Exit.Body), "4111")
	require.NotContains(t, string(res.Exit.Body), email)
	require.Nil(t, e.handOff(t, r))
}

func TestShadowChangesNothing(t *testing.T) {
	e := newEnv(t)
	body := chat("user", "mail "+email+" card "+card+" "+email)
	r := post(body)
	require.False(t, e.start(t, map[string]any{"shadow": true}).Access(t, r).Exited())
	require.False(t, r.Upstream.BodySet, "the body is not rewritten")
	require.Equal(t, string(body), sent(t, r))
	require.Nil(t, r.Shared["tollgate.handoff"])
	require.Equal(t, "CREDIT_CARD=1,EMAIL=2", r.Response.Headers.Get(piimask.HeaderFound))
}

func TestAuditHeader(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newEnv(t)
		r := post(chat("user", "mail "+email+" card "+card+" "+email))
		require.False(t, e.start(t, map[string]any{"audit_header": on}).Access(t, r).Exited())
		want := ""
		if on {
			want = "CREDIT_CARD=1,EMAIL=2"
		}
		require.Equal(t, want, r.Response.Headers.Get(piimask.HeaderFound))
	}
}

func TestMaxPlaceholdersRedactsTheRest(t *testing.T) {
	e := newEnv(t)
	r := post(chat("user", "a@example.com b@example.com c@example.com a@example.com"))
	require.False(t, e.start(t, map[string]any{"max_placeholders": 2}).Access(t, r).Exited())
	require.Equal(t, "<EMAIL_1> <EMAIL_2> [EMAIL] <EMAIL_1>", contents(t, sent(t, r))[0])
	require.Len(t, e.handOff(t, r).Restore, 2)
}

func TestResponseRedactIsHandedOff(t *testing.T) {
	e := newEnv(t)
	r := post(chat("user", "hello"))
	require.False(t, e.start(t, map[string]any{"response": map[string]any{"redact": true, "redact_types": []any{"EMAIL"}}}).Access(t, r).Exited())
	// Nothing found in the prompt: the body is untouched and no hand-off is needed yet.
	require.Nil(t, e.handOff(t, r))
	r = post(chat("user", "mail "+email))
	require.False(t, e.start(t, map[string]any{"response": map[string]any{"redact": true, "redact_types": []any{"EMAIL"}}}).Access(t, r).Exited())
	ho := e.handOff(t, r)
	require.NotNil(t, ho.Redact)
	require.Equal(t, "EMAIL", string(ho.Redact.Types[0]))
	require.Equal(t, 1024, ho.LookBehind)
}

func TestBadBodyIs400(t *testing.T) {
	e := newEnv(t)
	res := e.start(t, map[string]any{}).Access(t, post([]byte(`{"messages":"nope"}`)))
	require.True(t, res.Exited())
	require.Equal(t, 400, res.Exit.Status)
}

func TestConfigValidation(t *testing.T) {
	mask := func(typ string) piimask.Entity { return piimask.Entity{Type: typ, Action: "mask"} }
	tests := []struct {
		name string
		cfg  piimask.Config
		want []string
	}{
		{"valid", piimask.Config{DefaultAction: "tokenize", Entities: []piimask.Entity{mask("EMAIL"), mask("EMP")}, CustomEntities: []piimask.CustomEntity{{Name: "EMP", Words: []string{"x"}}}}, nil},
		{"hash needs a key", piimask.Config{DefaultAction: "redact", Entities: []piimask.Entity{{Type: "EMAIL", Action: "hash"}}}, []string{"config.hash_key: required"}},
		{"unknown entity type", piimask.Config{Entities: []piimask.Entity{mask("EMAIL"), mask("NOPE")}}, []string{"config.entities[1].type: \"NOPE\" is neither"}},
		{"entity type twice", piimask.Config{Entities: []piimask.Entity{mask("EMAIL"), mask("EMAIL")}}, []string{"config.entities[1].type: \"EMAIL\" is given more than once"}},
		{"custom name is built-in", piimask.Config{CustomEntities: []piimask.CustomEntity{{Name: "EMAIL", Words: []string{"x"}}}}, []string{"config.custom_entities[0].name: \"EMAIL\" is a built-in type"}},
		{"custom needs patterns or words", piimask.Config{CustomEntities: []piimask.CustomEntity{{Name: "X"}}}, []string{"config.custom_entities[0]: needs patterns or words"}},
		{"bad pattern", piimask.Config{CustomEntities: []piimask.CustomEntity{{Name: "X", Patterns: []string{"a(("}}}}, []string{"config.custom_entities[0].patterns[0]"}},
		{"every problem", piimask.Config{DefaultAction: "hash", CustomEntities: []piimask.CustomEntity{{Name: "X"}}}, []string{"config.hash_key", "config.custom_entities[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestNoKeyringFailsOnlyWhenNeeded(t *testing.T) {
	def := piimask.New(piimask.Deps{Keyring: func() (*seal.Keyring, error) { return nil, fmt.Errorf("no key") }})
	_, err := plugintest.New(t, def).TryStart(piimask.Name, map[string]any{})
	require.Error(t, err, "tokenize needs the sealing key")
	_, err = plugintest.New(t, def).TryStart(piimask.Name, map[string]any{"default_action": "redact"})
	require.NoError(t, err)
}

// A custom pattern that matches JSON syntax would break the arguments: the
// request is refused rather than sent broken or unmasked.
func TestArgumentsThatWouldBreakAreRefused(t *testing.T) {
	e := newEnv(t)
	inst := e.start(t, map[string]any{"default_action": "redact", "custom_entities": []any{map[string]any{"name": "KEYNAME", "patterns": []any{`"to"`}}}})
	body := []byte(`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"to\":\"x\"}"}}]}]}`)
	res := inst.Access(t, post(body))
	require.True(t, res.Exited())
	require.Equal(t, http.StatusBadRequest, res.Exit.Status)
	ae, ok := apierror.Parse(res.Exit.Body)
	require.True(t, ok)
	require.Equal(t, piimask.CodeUnmaskable, ae.Code)
}
