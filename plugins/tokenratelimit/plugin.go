package tokenratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/Kong/go-pdk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/reqctx"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/internal/tokens"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

// Name is the Kong plugin name.
const Name = "tollgate-token-rate-limit"

// Priority runs after the prompt guard and PII masking (so the masked
// prompt is what is counted) and before the cache and the fallback.
const Priority = 793

// HeaderDegraded flags a request let through because the counters were
// unreachable (fault_tolerant).
const HeaderDegraded = "X-Tollgate-RateLimit-Degraded"

// reservationTTL bounds how long egress may take to reconcile.
const reservationTTL = 10 * time.Minute

// Deps are what instances share with the rest of the process.
type Deps struct {
	// Keyring seals the reservation for egress.
	Keyring func() (*seal.Keyring, error)
	// Memory is the process's memory backend (shared with egress in sidecar mode).
	Memory func() (state.Counters, error)
	// Metrics gets the decisions counter; nil exports nothing.
	Metrics prometheus.Registerer
}

// New returns the plugin definition.
func New(d Deps) pluginserver.Definition {
	m := decisions(d.Metrics)
	return pluginserver.Define(pluginserver.Meta{Name: Name, Version: "0.1.0", Priority: Priority},
		func(c *Config) (*handler, error) {
			h, err := compile(c, d)
			if h != nil {
				h.decisions = m
			}
			return h, err
		})
}

type handler struct {
	cfg      Config
	def      limits         // the windows of every model no entry of models matches
	models   []limits       // per model glob, in config order
	budgets  []state.Window // in micro-dollars
	counters state.Counters
	local    state.Counters // the process's memory, counting while Redis is down
	closer   func() error
	kr       *seal.Keyring
	// scopeKey prefixes every subject with the instance's route and
	// service, so that instances attached to different ones count apart.
	scopeKey string
	// decisions counts outcomes (never a subject: consumers are unbounded).
	decisions *prometheus.CounterVec
}

func (h *handler) count(outcome string) {
	if h.decisions != nil {
		h.decisions.WithLabelValues(outcome).Inc()
	}
}

// limits is one set of windows and the scope of its counters.
type limits struct {
	glob     string // "" for the default windows
	windows  []state.Window
	minLimit int64
}

func newLimits(glob string, ws []Window) limits {
	l := limits{glob: glob, minLimit: -1}
	for _, w := range ws {
		l.windows = append(l.windows, state.Window{Name: w.windowName(), Size: time.Duration(w.Size) * time.Second, Limit: int64(w.Limit)})
		if l.minLimit < 0 || int64(w.Limit) < l.minLimit {
			l.minLimit = int64(w.Limit)
		}
	}
	return l
}

// scaled is l with every limit multiplied by f (at least 1 token).
func (l *limits) scaled(f float64) *limits {
	out := &limits{glob: l.glob, minLimit: -1}
	for _, w := range l.windows {
		w.Limit = max(int64(math.Round(float64(w.Limit)*f)), 1)
		out.windows = append(out.windows, w)
		if out.minLimit < 0 || w.Limit < out.minLimit {
			out.minLimit = w.Limit
		}
	}
	return out
}

// limitsFor picks the windows of a model.
func (h *handler) limitsFor(model string) *limits {
	for i := range h.models {
		if ok, _ := path.Match(h.models[i].glob, model); ok {
			return &h.models[i]
		}
	}
	return &h.def
}

func compile(c *Config, d Deps) (*handler, error) {
	kr, err := d.Keyring()
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	h := &handler{cfg: *c, kr: kr, def: newLimits("", c.Windows)}
	if sc := c.scope; sc.RouteID != "" || sc.ServiceID != "" {
		h.scopeKey = "route:" + sc.RouteID + "|service:" + sc.ServiceID + "|"
	}
	for _, m := range c.Models {
		h.models = append(h.models, newLimits(m.Model, m.Windows))
	}
	for _, b := range c.Budgets {
		w := Window{Name: b.Name, Size: b.Size}
		h.budgets = append(h.budgets, state.Window{Name: w.windowName(), Size: time.Duration(b.Size) * time.Second, Limit: int64(math.Round(b.Limit * 1e6))})
	}
	switch c.Policy {
	case "redis":
		r, err := state.NewRedis(*c.Redis)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		h.counters, h.closer = r, r.Close
		if d.Memory != nil {
			if m, err := d.Memory(); err == nil {
				h.local = m
			}
		}
	default:
		m, err := d.Memory()
		if err != nil {
			return nil, err
		}
		h.counters = m
	}
	return h, nil
}

// Close releases the instance's Redis client.
func (h *handler) Close() error {
	if h.closer != nil {
		return h.closer()
	}
	return nil
}

// Access counts the prompt, reserves prompt plus expected completion in
// every window, answers 429 when a window is full, and hands the
// reservation to egress for reconciliation.
func (h *handler) Access(kong *pdk.PDK) error {
	req, err := reqctx.Load(kong)
	if err != nil {
		return err
	}
	if req.ParseErr != nil {
		return req.ParseErr
	}
	if req.LLM == nil {
		return nil // nothing to count (GET /v1/models and the like)
	}
	prompt := int64(tokens.Prompt(req.LLM))
	completion := int64(h.cfg.ExpectedCompletion)
	if req.LLM.MaxTokens != nil {
		completion = int64(*req.LLM.MaxTokens)
	}
	cost := prompt + completion
	lim := h.limitsFor(req.LLM.Model)
	if h.cfg.HonorObligations {
		o, err := reqctx.LoadObligations(kong)
		if err != nil {
			return apierror.Internal(err)
		}
		if o.TokenLimitScale > 0 {
			lim = lim.scaled(o.TokenLimitScale)
		}
	}
	if cost > lim.minLimit && !h.cfg.Shadow {
		h.count(outcomeTooLarge)
		return apierror.TooLarge("tokens_exceed_limit", fmt.Sprintf("the request needs %d tokens, more than a window allows (%d)", cost, lim.minLimit))
	}
	subject, err := h.subject(kong)
	if err != nil {
		return err
	}
	if lim.glob != "" {
		subject += "|model:" + lim.glob // a model's counters are its own
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	at := time.Now()
	counters, policy := h.counters, h.cfg.Policy
	dec, err := counters.Reserve(ctx, subject, lim.windows, cost)
	degraded := false
	if err != nil {
		if !errors.Is(err, state.ErrUnavailable) || !h.cfg.FaultTolerant {
			h.count(outcomeUnavailable)
			return apierror.Upstream(http.StatusServiceUnavailable, "token rate limit counters are unavailable")
		}
		h.count(outcomeDegraded)
		kong.Log.Warn("tollgate-token-rate-limit: counters unavailable, counting locally")
		if h.local == nil {
			return kong.Response.SetHeader(HeaderDegraded, "true")
		}
		// fault_tolerant: count on this node until Redis is back.
		counters, policy, degraded = h.local, "memory", true
		if dec, err = counters.Reserve(ctx, subject, lim.windows, cost); err != nil {
			return kong.Response.SetHeader(HeaderDegraded, "true")
		}
	}
	headers := h.headers(&dec, lim)
	if degraded {
		if headers == nil {
			headers = map[string][]string{}
		}
		headers[HeaderDegraded] = []string{"true"}
	}
	if !dec.Allowed && !h.cfg.Shadow {
		h.count(outcomeLimited)
		e := apierror.RateLimited(h.cfg.ErrorMessage, dec.RetryAfter)
		if e.Headers == nil {
			e.Headers = http.Header{}
		}
		for k, v := range headers {
			e.Headers[k] = v
		}
		return e
	}
	if !dec.Allowed {
		h.count(outcomeShadow)
		return h.setHeaders(kong, headers) // shadow: nothing was reserved
	}
	tokensRes := h.reservation(policy, lim.windows, subject, cost, at, nil)
	if h.cfg.EnforceDuringStream {
		// What the tightest window had left, this request's share included.
		var left int64 = -1
		for _, w := range dec.Windows() {
			if left < 0 || w.Remaining < left {
				left = w.Remaining
			}
		}
		tokensRes.Ceiling = cost + max(left, 0)
	}
	res := []*egress.Reservation{tokensRes}
	if price := h.priceFor(req.LLM.Model); price != nil && len(h.budgets) > 0 {
		spend := int64(math.Ceil(float64(prompt)*price.Input + float64(completion)*price.Output))
		bdec, err := counters.Reserve(ctx, subject+"|usd", h.budgets, spend)
		if err != nil && !(errors.Is(err, state.ErrUnavailable) && h.cfg.FaultTolerant) {
			_ = counters.Adjust(ctx, subject, lim.windows, -cost, at)
			h.count(outcomeUnavailable)
			return apierror.Upstream(http.StatusServiceUnavailable, "spend budget counters are unavailable")
		}
		if err == nil {
			if !bdec.Allowed && !h.cfg.Shadow {
				// Give the tokens back: the request does not go on.
				_ = counters.Adjust(ctx, subject, lim.windows, -cost, at)
				h.count(outcomeBudget)
				return apierror.QuotaExceeded("spend budget exceeded", bdec.RetryAfter)
			}
			if bdec.Allowed {
				res = append(res, h.reservation(policy, h.budgets, subject+"|usd", spend, at, price))
			}
			h.budgetHeaders(headers, &bdec)
		}
	}
	if err := h.setHeaders(kong, headers); err != nil {
		return err
	}
	if !degraded {
		h.count(outcomeAllowed)
	}
	return h.handOff(kong, res)
}

func (h *handler) setHeaders(kong *pdk.PDK, headers map[string][]string) error {
	if len(headers) == 0 {
		return nil
	}
	if err := kong.Response.SetHeaders(headers); err != nil {
		return fmt.Errorf("set rate-limit headers: %w", err)
	}
	return nil
}

// budgetHeaders adds X-AI-Budget-Limit-<Name> and -Remaining-<Name> in
// US dollars, and -Reset-<Name> in seconds.
func (h *handler) budgetHeaders(out map[string][]string, dec *state.Decision) {
	if out == nil {
		return
	}
	for _, w := range dec.Windows() {
		name := strings.ToUpper(w.Name[:1]) + w.Name[1:]
		out["X-AI-Budget-Limit-"+name] = []string{strconv.FormatFloat(float64(w.Limit)/1e6, 'f', -1, 64)}
		out["X-AI-Budget-Remaining-"+name] = []string{strconv.FormatFloat(float64(w.Remaining)/1e6, 'f', -1, 64)}
		out["X-AI-Budget-Reset-"+name] = []string{strconv.Itoa(max(int(time.Until(w.Reset).Seconds()+0.999), 0))}
	}
}

// priceFor is the price of a model's tokens in micro-dollars per token (a
// price in dollars per million tokens), or nil when none is configured.
func (h *handler) priceFor(model string) *egress.Price {
	for _, p := range h.cfg.Prices {
		if ok, _ := path.Match(p.Model, model); ok {
			return &egress.Price{Input: p.Input, Output: p.Output}
		}
	}
	return nil
}

func (h *handler) reservation(policy string, ws []state.Window, subject string, n int64, at time.Time, price *egress.Price) *egress.Reservation {
	r := &egress.Reservation{Policy: policy, Subject: subject, Reserved: n, AtMS: at.UnixMilli(), Price: price}
	if policy == "redis" {
		r.Redis = h.cfg.Redis
	}
	for _, w := range ws {
		r.Windows = append(r.Windows, egress.ReservedWindow{Name: w.Name, SizeMS: w.Size.Milliseconds(), Limit: w.Limit})
	}
	return r
}

// handOff seals the reservations for egress.
func (h *handler) handOff(kong *pdk.PDK, res []*egress.Reservation) error {
	id, err := reqctx.ID(kong)
	if err != nil {
		return err
	}
	v, err := egress.SealReservation(h.kr, id, res, reservationTTL)
	if err != nil {
		return apierror.Internal(err)
	}
	return reqctx.AddHandOff(kong, egress.HeaderReservation, v)
}

// subject is whom the request counts for, with Kong's fallback to the
// client IP when there is no consumer, credential or header value.
func (h *handler) subject(kong *pdk.PDK) (string, error) {
	var v string
	by := h.cfg.LimitBy
	if by == "consumer_group" {
		if v = h.cfg.scope.ConsumerGroupID; v == "" {
			by = "consumer" // not scoped to a group: each consumer counts alone
		}
	}
	switch by {
	case "consumer":
		if c, err := kong.Client.GetConsumer(); err == nil {
			v = c.Id
		}
	case "credential":
		if c, err := kong.Client.GetCredential(); err == nil {
			v = c.Id
		}
	case "header":
		v, _ = kong.Request.GetHeader(h.cfg.HeaderName)
	case "path":
		v, _ = kong.Request.GetPath()
	case "service":
		if s, err := kong.Router.GetService(); err == nil {
			v = s.Id
		}
	case "route":
		if r, err := kong.Router.GetRoute(); err == nil {
			v = r.Id
		}
	}
	if v == "" {
		ip, err := kong.Client.GetForwardedIp()
		if err != nil {
			return "", fmt.Errorf("read client ip: %w", err)
		}
		by, v = "ip", ip
	}
	return h.scopeKey + by + ":" + v, nil
}

// headers are Kong-style X-AI-RateLimit-* per window and the IETF
// RateLimit fields for the window closest to its limit.
func (h *handler) headers(dec *state.Decision, lim *limits) map[string][]string {
	if h.cfg.HideClientHeaders {
		return nil
	}
	out := map[string][]string{}
	var policies, limits []string
	tightest := -1
	ws := dec.Windows()
	for i, w := range ws {
		name := strings.ToUpper(w.Name[:1]) + w.Name[1:]
		reset := int(time.Until(w.Reset).Seconds() + 0.999)
		out["X-AI-RateLimit-Limit-"+name] = []string{strconv.FormatInt(w.Limit, 10)}
		out["X-AI-RateLimit-Remaining-"+name] = []string{strconv.FormatInt(w.Remaining, 10)}
		out["X-AI-RateLimit-Reset-"+name] = []string{strconv.Itoa(max(reset, 0))}
		size := int(lim.windows[i].Size.Seconds())
		policies = append(policies, fmt.Sprintf("%q;q=%d;w=%d;qu=\"tokens\"", w.Name, w.Limit, size))
		limits = append(limits, fmt.Sprintf("%q;r=%d;t=%d", w.Name, w.Remaining, max(reset, 0)))
		if tightest < 0 || w.Remaining < ws[tightest].Remaining {
			tightest = i
		}
	}
	out["RateLimit-Policy"] = []string{strings.Join(policies, ", ")}
	out["RateLimit"] = []string{strings.Join(limits, ", ")}
	if tightest >= 0 {
		w := ws[tightest]
		out["RateLimit-Limit"] = []string{strconv.FormatInt(w.Limit, 10)}
		out["RateLimit-Remaining"] = []string{strconv.FormatInt(w.Remaining, 10)}
		out["RateLimit-Reset"] = []string{strconv.Itoa(max(int(time.Until(w.Reset).Seconds()+0.999), 0))}
	}
	return out
}
