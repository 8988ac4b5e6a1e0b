package piimask

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/Kong/go-pdk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/metrics"
	"github.com/tollgate-ai/tollgate/internal/pii"
	"github.com/tollgate-ai/tollgate/internal/presidio"
	"github.com/tollgate-ai/tollgate/internal/reqctx"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/unmask"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

// Name is the Kong plugin name.
const Name = "tollgate-pii-mask"

// Priority runs after the prompt guard (797), which refuses bad prompts
// before any work is spent on them, and before the token rate limiter
// (793), which must count the masked prompt that is really sent.
const Priority = 795

// HeaderFound lists the types found and their counts (never values), as
// CREDIT_CARD=1,EMAIL=2: always in shadow mode, else with audit_header.
const HeaderFound = "X-Tollgate-PII-Found"

// HeaderDegraded says the analyzer failed and only the built-in detectors
// ran (analyzer.fault_tolerant).
const HeaderDegraded = "X-Tollgate-PII-Degraded"

// Error codes of the plugin's answers.
const (
	CodeDetected    = "pii_detected"
	CodeUnmaskable  = "pii_unmaskable"
	CodeUnavailable = "pii_analyzer_unavailable"
)

// handOffTTL bounds how long egress may take to use the hand-off.
const handOffTTL = 10 * time.Minute

// Deps are what instances share with the rest of the process.
type Deps struct {
	// Keyring seals the placeholder map for egress.
	Keyring func() (*seal.Keyring, error)
	// Metrics, when set, gets tollgate_pii_entities_total.
	Metrics prometheus.Registerer
}

// New returns the plugin definition.
func New(d Deps) pluginserver.Definition {
	return pluginserver.Define(pluginserver.Meta{Name: Name, Version: "0.1.0", Priority: Priority},
		func(c *Config) (*handler, error) { return compile(c, d) })
}

type rule struct {
	action   string
	keepLast int
}

type handler struct {
	cfg     Config
	scanner *pii.Scanner
	rules   map[pii.Type]rule
	def     rule
	roles   map[llm.Role]bool
	fields  map[string]bool
	kr      *seal.Keyring
	redact  *unmask.Redact
	counter *prometheus.CounterVec
	// analyzer, when set, adds Presidio's findings; allow holds the
	// allow-listed values (folded) it must not report.
	analyzer *presidio.Client
	allow    map[string]bool
	hashKey  []byte
}

// entitiesCounter is the counter every instance of a registry shares.
func entitiesCounter(r prometheus.Registerer) (*prometheus.CounterVec, error) {
	return metrics.CounterVec(r, prometheus.CounterOpts{
		Name: "tollgate_pii_entities_total",
		Help: "Personal data entities found in prompts, by type and the action taken (or shadow).",
	}, "type", "action")
}

func compile(c *Config, d Deps) (*handler, error) {
	h := &handler{cfg: *c, rules: map[pii.Type]rule{}, def: rule{action: c.DefaultAction, keepLast: 4},
		roles: map[llm.Role]bool{}, fields: map[string]bool{}, hashKey: []byte(c.HashKey)}
	for _, e := range c.Entities {
		h.rules[pii.Type(e.Type)] = rule{action: e.Action, keepLast: e.KeepLast}
	}
	for _, r := range c.Roles {
		h.roles[llm.Role(r)] = true
	}
	if h.roles[llm.RoleTool] {
		h.roles[llm.RoleFunction] = true // legacy function results are tool output
	}
	for _, f := range c.Fields {
		h.fields[f] = true
	}
	cfg := pii.Config{DefaultRegion: c.DefaultRegion, AllowValues: c.AllowValues}
	for _, t := range c.Types {
		cfg.Types = append(cfg.Types, pii.Type(t))
	}
	for _, ce := range c.CustomEntities {
		for _, p := range ce.Patterns {
			cfg.Custom = append(cfg.Custom, pii.CustomEntity{Name: ce.Name, Pattern: p})
		}
		if len(ce.Words) > 0 {
			cfg.Custom = append(cfg.Custom, pii.CustomEntity{Name: ce.Name, Words: ce.Words})
		}
	}
	s, err := newScanner(cfg)
	if err != nil {
		return nil, err
	}
	h.scanner = s
	if c.Response.Redact {
		h.redact = &unmask.Redact{Types: cfg.Types, DefaultRegion: c.DefaultRegion, AllowValues: c.AllowValues, Custom: cfg.Custom}
		if len(c.Response.RedactTypes) > 0 {
			h.redact.Types = nil
			for _, t := range c.Response.RedactTypes {
				h.redact.Types = append(h.redact.Types, pii.Type(t))
			}
		}
	}
	if h.needsKeyring() {
		if d.Keyring == nil {
			return nil, errors.New("sealing key: none configured, and tokenize or response.redact needs one")
		}
		kr, err := d.Keyring()
		if err != nil {
			return nil, fmt.Errorf("sealing key (needed by tokenize and response.redact): %w", err)
		}
		h.kr = kr
	}
	if c.Analyzer.URL != "" {
		a, err := presidio.New(presidio.Options{URL: c.Analyzer.URL, Timeout: time.Duration(c.Analyzer.Timeout) * time.Millisecond,
			Language: c.Analyzer.Language, ScoreThreshold: c.Analyzer.ScoreThreshold, Entities: c.Analyzer.Entities})
		if err != nil {
			return nil, fmt.Errorf("analyzer: %w", err)
		}
		h.analyzer = a
		h.allow = map[string]bool{}
		for _, v := range c.AllowValues {
			h.allow[strings.ToLower(v)] = true
		}
	}
	if d.Metrics != nil {
		if h.counter, err = entitiesCounter(d.Metrics); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return h, nil
}

// newScanner compiles the detectors; pii.New allows one pattern per custom
// entity, so several patterns of one name are several entries, which it
// would refuse as duplicates: they are compiled as one alternation instead.
func newScanner(cfg pii.Config) (*pii.Scanner, error) {
	var merged []pii.CustomEntity
	idx := map[string]int{}
	for _, ce := range cfg.Custom {
		i, ok := idx[ce.Name]
		if !ok {
			idx[ce.Name] = len(merged)
			merged = append(merged, ce)
			continue
		}
		m := &merged[i]
		switch {
		case ce.Pattern != "" && m.Pattern != "":
			m.Pattern = "(?:" + m.Pattern + ")|(?:" + ce.Pattern + ")"
		case ce.Pattern != "":
			m.Pattern = ce.Pattern
		}
		m.Words = append(m.Words, ce.Words...)
	}
	cfg.Custom = merged
	s, err := pii.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	return s, nil
}

func (h *handler) needsKeyring() bool {
	if h.cfg.Shadow {
		return false
	}
	if h.cfg.Response.Redact {
		return true
	}
	if !h.cfg.Response.Restore {
		return false // tokenized values are never put back: nothing to hand off
	}
	if h.def.action == ActionTokenize {
		return true
	}
	for _, r := range h.rules {
		if r.action == ActionTokenize {
			return true
		}
	}
	return false
}

func (h *handler) ruleFor(t pii.Type) rule {
	if r, ok := h.rules[t]; ok {
		return r
	}
	return h.def
}

// segment is one piece of text to scan.
type segment struct {
	path string
	text string
	args bool
}

func (h *handler) segments(r *llm.Request) []segment {
	var out []segment
	for _, tp := range r.TextParts() {
		if !h.roles[tp.Role] {
			continue
		}
		field := ""
		switch {
		case r.Format == llm.FormatCompletions:
			field = "prompt"
		case tp.Kind == llm.PartToolResult || tp.Role == llm.RoleTool || tp.Role == llm.RoleFunction:
			field = "tool_results"
		case tp.Kind == llm.PartText || tp.Kind == llm.PartRefusal:
			field = "text"
		}
		if h.fields[field] {
			out = append(out, segment{path: tp.Path, text: tp.Text})
		}
	}
	if h.fields["tool_arguments"] {
		for _, ap := range r.ArgumentParts() {
			if h.roles[ap.Role] {
				out = append(out, segment{path: ap.Path, text: ap.Text, args: true})
			}
		}
	}
	return out
}

// run is one request's masking state.
type run struct {
	h       *handler
	counts  map[pii.Type]int
	actions map[[2]string]int
	tokens  map[string]string // type + "\x00" + value → placeholder
	perType map[pii.Type]int
	restore map[string]string
	blocked []string
}

// Access masks the request body and hands the placeholder map to egress.
func (h *handler) Access(kong *pdk.PDK) error {
	req, err := reqctx.Load(kong)
	if err != nil {
		return err
	}
	if req.ParseErr != nil {
		return req.ParseErr
	}
	if req.LLM == nil {
		return nil
	}
	ru := &run{h: h, counts: map[pii.Type]int{}, actions: map[[2]string]int{}, tokens: map[string]string{},
		perType: map[pii.Type]int{}, restore: map[string]string{}}
	type edit struct {
		seg  segment
		text string
	}
	var edits []edit
	segs := h.segments(req.LLM)
	var analyzed [][]pii.Finding
	if h.analyzer != nil {
		texts := make([]string, len(segs))
		for i, seg := range segs {
			texts[i] = seg.text
		}
		analyzed, err = h.analyzer.AnalyzeBatch(context.Background(), texts)
		if err != nil {
			if !h.cfg.Analyzer.FaultTolerant {
				kong.Log.Err("tollgate-pii-mask: analyzer unavailable, refusing (fault_tolerant is off): ", err.Error())
				h.count("ANALYZER", "unavailable", 1)
				return &apierror.Error{Status: http.StatusServiceUnavailable, Type: apierror.TypeServer, Code: CodeUnavailable, Message: "the personal data analyzer is unavailable"}
			}
			kong.Log.Warn("tollgate-pii-mask: analyzer unavailable, built-in detectors only: ", err.Error())
			h.count("ANALYZER", "degraded", 1)
			if err := kong.Response.SetHeader(HeaderDegraded, "analyzer"); err != nil {
				return err
			}
			analyzed = nil
		}
	}
	for i, seg := range segs {
		fs := h.scanner.Scan(seg.text)
		if analyzed != nil && len(analyzed[i]) > 0 {
			fs = presidio.Resolve(append(fs, h.allowed(seg.text, analyzed[i])...))
		}
		if len(fs) == 0 {
			continue
		}
		out := ru.apply(seg.text, fs)
		if seg.args && json.Valid([]byte(seg.text)) && !json.Valid([]byte(out)) {
			// Fail closed: an edit that breaks the arguments is not sent.
			return apierror.BadRequest(CodeUnmaskable, "tool call arguments contain personal data that cannot be masked safely")
		}
		edits = append(edits, edit{seg, out})
	}
	if len(ru.counts) == 0 {
		return nil
	}
	found := ru.found()
	if h.cfg.Shadow {
		for t, n := range ru.counts {
			h.count(string(t), "shadow", n)
		}
		kong.Log.Notice("tollgate-pii-mask: shadow, found ", found)
		return kong.Response.SetHeader(HeaderFound, found)
	}
	if len(ru.blocked) > 0 {
		for t, n := range ru.counts {
			if slices.Contains(ru.blocked, string(t)) {
				h.count(string(t), ActionBlock, n)
			}
		}
		kong.Log.Notice("tollgate-pii-mask: blocked, found ", found)
		sort.Strings(ru.blocked)
		return apierror.BadRequest(CodeDetected, "the prompt contains personal data of type "+strings.Join(ru.blocked, ", "))
	}
	for k, n := range ru.actions {
		h.count(k[0], k[1], n)
	}
	for _, e := range edits {
		if e.seg.args {
			err = req.LLM.SetArguments(e.seg.path, e.text)
		} else {
			err = req.LLM.SetText(e.seg.path, e.text)
		}
		if err != nil {
			return apierror.Internal(fmt.Errorf("mask %s: %w", e.seg.path, err))
		}
	}
	if err := reqctx.SetBody(kong, req, req.LLM.Bytes()); err != nil {
		return err
	}
	ho := &unmask.HandOff{Redact: h.redact, LookBehind: h.cfg.Response.StreamLookBehind}
	if h.cfg.Response.Restore {
		ho.Restore = ru.restore
	}
	if len(ho.Restore) == 0 {
		ho.Restore = nil
	}
	if ho.Active() {
		id, err := reqctx.ID(kong)
		if err != nil {
			return err
		}
		sealed, err := unmask.Seal(h.kr, id, ho, handOffTTL)
		if err != nil {
			return apierror.Internal(err)
		}
		if err := reqctx.AddHandOff(kong, unmask.Header, sealed); err != nil {
			return err
		}
	}
	kong.Log.Notice("tollgate-pii-mask: masked ", found)
	if h.cfg.AuditHeader {
		return kong.Response.SetHeader(HeaderFound, found)
	}
	return nil
}

// allowed drops the analyzer's findings of allow-listed values (the
// built-in scanner applies the list itself).
func (h *handler) allowed(text string, fs []pii.Finding) []pii.Finding {
	if len(h.allow) == 0 {
		return fs
	}
	out := fs[:0:0]
	for _, f := range fs {
		if !h.allow[strings.ToLower(text[f.Start:f.End])] {
			out = append(out, f)
		}
	}
	return out
}

func (h *handler) count(typ, action string, n int) {
	if h.counter != nil {
		h.counter.WithLabelValues(typ, action).Add(float64(n))
	}
}

// found renders the counts per type, sorted by type.
func (ru *run) found() string {
	var parts []string
	for t, n := range ru.counts {
		parts = append(parts, string(t)+"="+strconv.Itoa(n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// apply replaces the findings of text (sorted, disjoint) by their actions.
func (ru *run) apply(text string, fs []pii.Finding) string {
	var b strings.Builder
	prev := 0
	for _, f := range fs {
		ru.counts[f.Type]++
		value := text[f.Start:f.End]
		b.WriteString(text[prev:f.Start])
		b.WriteString(ru.replace(f.Type, value))
		prev = f.End
	}
	b.WriteString(text[prev:])
	return b.String()
}

func (ru *run) replace(t pii.Type, value string) string {
	r := ru.h.ruleFor(t)
	action := r.action
	var out string
	switch action {
	case ActionBlock:
		if !slices.Contains(ru.blocked, string(t)) {
			ru.blocked = append(ru.blocked, string(t))
		}
		out = "[" + string(t) + "]"
	case ActionMask:
		out = mask(value, r.keepLast)
	case ActionHash:
		m := hmac.New(sha256.New, ru.h.hashKey)
		m.Write([]byte(value))
		out = "[" + string(t) + ":" + hex.EncodeToString(m.Sum(nil))[:12] + "]"
	case ActionTokenize:
		key := string(t) + "\x00" + value
		if p, ok := ru.tokens[key]; ok {
			out = p
			break
		}
		if len(ru.tokens) >= ru.h.cfg.MaxPlaceholders {
			action, out = ActionRedact, "["+string(t)+"]"
			break
		}
		ru.perType[t]++
		out = unmask.Placeholder(t, ru.perType[t])
		ru.tokens[key] = out
		ru.restore[out] = value
	default:
		out = "[" + string(t) + "]"
	}
	ru.actions[[2]string{string(t), action}]++
	return out
}

// mask replaces every letter and digit but the last keep of them by '*';
// every other character (separators such as - . @ and spaces) stays.
func mask(value string, keep int) string {
	rs := []rune(value)
	seen := 0
	for i := len(rs) - 1; i >= 0; i-- {
		if !unicode.IsLetter(rs[i]) && !unicode.IsDigit(rs[i]) {
			continue
		}
		if seen < keep {
			seen++
			continue
		}
		rs[i] = '*'
	}
	return string(rs)
}
