// Package egress is Tollgate's response side: the HTTP proxy Kong uses as
// the upstream of AI routes. It only serves requests that carry a valid
// sealed plan from tollgate-model-fallback, calls the plan's provider
// targets in order through the provider adapters, falls back on the
// configured errors before the first byte reaches the client, streams SSE
// through unbuffered, reports what was used and exports metrics.
//
// # Fallback
//
// Targets are tried by tier, and within a tier in an order drawn by weight.
// A target whose circuit breaker is open is skipped. An attempt fails over
// to the next target when its error class is in the plan's retry_on (429,
// 5xx, timeout, connection, context_length) and attempts remain; a
// Retry-After from a provider keeps egress from trying that target again
// before the time it gives. Each attempt has a timeout until its first
// byte (response headers, and for streams the first event), and the whole
// loop has a deadline. Fallback happens only before anything has been sent
// to the client: once the first byte of an answer is out, a failure ends
// the stream with an OpenAI-shaped SSE error event instead.
//
// When every attempt failed the client gets the last provider error as the
// provider classed it (a 429 stays a 429 with its Retry-After), in the
// OpenAI error shape.
//
// # Personal data
//
// A request with tollgate-pii-mask's sealed hand-off (unmask.Header) has
// its answer rewritten by package unmask: placeholders restored and, if
// asked, values the model wrote redacted, in whole answers and event by
// event in streams. Egress fails closed: a hand-off that does not open
// refuses the request before any provider is called (500), and an answer
// it cannot check is answered with 502, or ends the stream with an SSE
// error event, instead of being passed on.
package egress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/llm"
	"github.com/tollgate-ai/tollgate/internal/provider"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/internal/unmask"
)

// Response headers egress adds.
const (
	HeaderProvider = "X-Tollgate-Provider"
	HeaderModel    = "X-Tollgate-Model"
	HeaderAttempts = "X-Tollgate-Attempts"
	HeaderTarget   = "X-Tollgate-Target"
)

// Options configure an Egress.
type Options struct {
	// Keyring opens the sealed plans (shared with the plugins).
	Keyring *seal.Keyring
	// Replay rejects a request id seen before (default: an in-memory guard).
	Replay seal.ReplayChecker
	// Breakers holds circuit-breaker state (memory, or Redis so that every
	// node agrees); nil disables breakers.
	Breakers state.Breakers
	// Counters is the process's memory backend, which the token rate
	// limiter's memory policy reserves in (sidecar mode); reservations in
	// Redis are reconciled on the Redis they name.
	Counters state.Counters
	// Usage receives a usage event per answered request.
	Usage *Bus
	// Registerer gets the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Transport calls providers (default: a tuned http.Transport).
	Transport http.RoundTripper
	// CountTokens estimates tokens when a provider reports none (default:
	// four bytes a token).
	CountTokens func(model, text string) int
	// MaxBody bounds a request body (default llm.MaxBodyBytes).
	MaxBody int64
	Log     *slog.Logger
}

// Egress is the proxy.
type Egress struct {
	seen     sync.Map // target names tried, for the status endpoint
	pool     counterPool
	scanners *unmask.Scanners
	opts     Options
	tr       http.RoundTripper
	m        *metrics
	log      *slog.Logger
	count    func(model, text string) int
	maxBody  int64
}

// New returns an egress proxy.
func New(opts Options) (*Egress, error) {
	if opts.Keyring == nil {
		return nil, errors.New("egress needs the keyring the plugins seal with")
	}
	e := &Egress{opts: opts, tr: opts.Transport, m: newMetrics(opts.Registerer), log: opts.Log, count: opts.CountTokens, maxBody: opts.MaxBody}
	e.pool.memory = opts.Counters
	e.scanners = unmask.NewScanners(0)
	if e.opts.Replay == nil {
		e.opts.Replay = seal.NewReplayGuard(0)
	}
	if e.tr == nil {
		e.tr = defaultTransport()
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.count == nil {
		e.count = func(_, text string) int { return (len(text) + 3) / 4 }
	}
	if e.maxBody <= 0 {
		e.maxBody = llm.MaxBodyBytes
	}
	return e, nil
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.ForceAttemptHTTP2 = true
	return t
}

// forwarded are the client headers a provider may see; everything else
// (the client's own credentials, Kong's and Tollgate's headers) stays here.
// Accept-Encoding is not among them: egress must read the answer (usage,
// translation), so its transport negotiates and decompresses itself.
var forwarded = []string{"Content-Type", "Accept", "User-Agent", "Openai-Beta", "Anthropic-Beta", "Anthropic-Version"}

// ServeHTTP answers one request that came through Kong and the plugins.
func (e *Egress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := r.Header.Get(HeaderRequestID)
	plan, err := e.openPlan(r, reqID)
	if err != nil {
		e.log.Warn("refused request without a valid sealed plan", "error", err.Error())
		e.m.requests.WithLabelValues("", "", "refused").Inc()
		apierror.Write(w, apierror.Forbidden("missing_sealed_context", "this endpoint only serves requests that passed through Tollgate's Kong plugins"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, e.maxBody))
	if err != nil {
		apierror.Write(w, apierror.TooLarge("request_too_large", "request body is too large"))
		return
	}
	format, _ := llm.FormatForPath(r.URL.Path)
	req, err := llm.Parse(format, body)
	if err != nil {
		apierror.Write(w, err)
		return
	}
	call := &provider.Call{Format: req.Format, Body: body, Req: req, Header: http.Header{}}
	for _, k := range forwarded {
		if v := r.Header.Values(k); len(v) > 0 {
			call.Header[k] = v
		}
	}
	x := &exchange{e: e, w: w, r: r, plan: plan, call: call, reqID: reqID, start: start}
	x.reservation = e.openReservation(r, reqID)
	if x.unmask, err = e.openUnmask(r, reqID); err != nil {
		// The request side masked the prompt and wants the answer
		// restored or redacted; without its hand-off egress cannot, so it
		// does not call the provider at all (fail closed).
		e.log.Error("refused request whose PII hand-off does not open", "request_id", reqID, "error", err.Error())
		e.m.requests.WithLabelValues("", "", "refused").Inc()
		e.reconcile(x.reservation, 0, 0)
		apierror.Write(w, &apierror.Error{Status: http.StatusInternalServerError, Type: apierror.TypeServer, Code: "pii_handoff_invalid", Message: "the answer cannot be checked for personal data"})
		return
	}
	x.run()
	if !x.settled {
		e.reconcile(x.reservation, 0, 0) // nobody answered: release it all
	}
}

// Close releases the Redis clients opened to reconcile reservations.
func (e *Egress) Close() { e.pool.close() }

// openReservation opens the rate limiter's reservations, if there are any.
func (e *Egress) openReservation(r *http.Request, reqID string) []*Reservation {
	v := r.Header.Get(HeaderReservation)
	if v == "" {
		return nil
	}
	b, err := e.opts.Keyring.Open(PurposeReservation, reqID, v)
	if err != nil {
		e.log.Warn("ignored a token reservation that does not open", "error", err.Error())
		return nil
	}
	var res []*Reservation
	if err := json.Unmarshal(b, &res); err != nil {
		e.log.Warn("ignored an undecodable token reservation", "error", err.Error())
		return nil
	}
	return res
}

// openUnmask opens tollgate-pii-mask's hand-off, if there is one, and
// makes the answer's rewriter.
func (e *Egress) openUnmask(r *http.Request, reqID string) (*unmask.Rewriter, error) {
	v := r.Header.Get(unmask.Header)
	if v == "" {
		return nil, nil
	}
	h, err := unmask.Open(e.opts.Keyring, reqID, v)
	if err != nil {
		return nil, err
	}
	if !h.Active() {
		return nil, nil
	}
	return unmask.New(h, e.scanners)
}

func (e *Egress) openPlan(r *http.Request, reqID string) (*Plan, error) {
	if reqID == "" {
		return nil, errors.New("no " + HeaderRequestID)
	}
	v := r.Header.Get(HeaderPlan)
	if v == "" {
		return nil, errors.New("no " + HeaderPlan)
	}
	plan, env, err := OpenPlan(e.opts.Keyring, reqID, v)
	if err != nil {
		return nil, err
	}
	if err := e.opts.Replay.Check(reqID, env.ExpiresAt); err != nil {
		return nil, err
	}
	return plan, nil
}

// exchange is one client request and its attempts.
type exchange struct {
	e     *Egress
	w     http.ResponseWriter
	r     *http.Request
	plan  *Plan
	call  *provider.Call
	reqID string
	start time.Time

	attempts int
	first    string // name of the first target tried
	lastErr  *provider.UpstreamError

	reservation []*Reservation
	settled     bool // the reservation was reconciled with real usage

	unmask *unmask.Rewriter // restores and redacts PII in the answer, or nil
}

// order returns the targets by tier, each tier shuffled by weight.
func order(targets []PlanTarget) []PlanTarget {
	out := slices.Clone(targets)
	slices.SortStableFunc(out, func(a, b PlanTarget) int { return a.Tier - b.Tier })
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && out[j].Tier == out[i].Tier {
			j++
		}
		weightedShuffle(out[i:j])
		i = j
	}
	return out
}

// weightedShuffle orders ts so that a target comes first with probability
// proportional to its weight (weights ≤ 0 count as 1).
func weightedShuffle(ts []PlanTarget) {
	for i := range ts {
		total := 0
		for _, t := range ts[i:] {
			total += max(t.Weight, 1)
		}
		pick := rand.IntN(total)
		for j := i; j < len(ts); j++ {
			pick -= max(ts[j].Weight, 1)
			if pick < 0 {
				ts[i], ts[j] = ts[j], ts[i]
				break
			}
		}
	}
}

func (x *exchange) run() {
	ctx := x.r.Context()
	deadline := time.Duration(x.plan.DeadlineMS) * time.Millisecond
	if deadline <= 0 {
		deadline = 2 * time.Minute
	}
	loopCtx, cancelLoop := context.WithTimeout(context.Background(), deadline)
	defer cancelLoop()
	maxAttempts := x.plan.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = len(x.plan.Targets)
	}
	targets := order(x.plan.Targets)
	notBefore := map[string]time.Time{}
	var breakerRetry time.Time
	for round := 0; x.attempts < maxAttempts && round < maxAttempts; round++ {
		progressed := false
		for _, t := range targets {
			if x.attempts >= maxAttempts || ctx.Err() != nil || loopCtx.Err() != nil {
				break
			}
			ad, err := provider.For(provider.Kind(t.Provider))
			if err != nil || !ad.Supports(x.call.Format) {
				continue
			}
			if nb := notBefore[t.Name]; time.Now().Before(nb) {
				continue // the provider asked not to be retried yet
			}
			if !x.allowed(ctx, t, &breakerRetry) {
				continue
			}
			progressed = true
			x.e.seen.Store(t.Name, true)
			if x.first == "" {
				x.first = t.Name
			}
			x.attempts++
			done, uerr := x.try(ctx, loopCtx, t, ad)
			if done {
				return
			}
			x.lastErr = uerr
			if uerr.RetryAfter > 0 {
				notBefore[t.Name] = time.Now().Add(uerr.RetryAfter)
			}
			if !provider.Retryable(uerr.Class, x.plan.RetryOn) {
				x.fail()
				return
			}
		}
		if !progressed {
			break
		}
	}
	if ctx.Err() != nil {
		x.e.m.requests.WithLabelValues("", "", "client_gone").Inc()
		return
	}
	if x.lastErr == nil {
		// Nothing could be tried: every breaker open, or no target speaks this API.
		retry := time.Until(breakerRetry)
		if breakerRetry.IsZero() {
			x.e.m.requests.WithLabelValues("", "", "refused").Inc()
			apierror.Write(x.w, apierror.BadRequest("unsupported_api", "no target of this route serves the "+string(x.call.Format)+" API"))
			return
		}
		x.e.m.requests.WithLabelValues("", "", "exhausted").Inc()
		err := apierror.Upstream(http.StatusServiceUnavailable, "every provider target is unavailable (circuit open)")
		if retry > 0 {
			x.w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds()+0.999)))
		}
		x.w.Header().Set(HeaderAttempts, "0")
		apierror.Write(x.w, err)
		return
	}
	x.fail()
}

// Status reports the breaker of every target egress has tried.
func (e *Egress) Status(ctx context.Context) (map[string]state.BreakerStatus, error) {
	var names []string
	e.seen.Range(func(k, _ any) bool { names = append(names, k.(string)); return true })
	slices.Sort(names)
	if e.opts.Breakers == nil {
		return map[string]state.BreakerStatus{}, nil
	}
	st, err := e.opts.Breakers.Status(ctx, breakerKeys(names))
	if err != nil {
		return nil, err
	}
	out := make(map[string]state.BreakerStatus, len(names))
	for _, n := range names {
		out[n] = st[breakerKey(n)]
	}
	return out, nil
}

// breakerKey is the state key of a target's breaker.
func breakerKey(target string) string { return "breaker:" + target }

func breakerKeys(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = breakerKey(n)
	}
	return out
}

func (c BreakerConfig) state() state.BreakerConfig {
	return state.BreakerConfig{
		FailureThreshold: max(c.FailureThreshold, 1),
		CoolDown:         time.Duration(max(c.CoolDownSeconds, 1)) * time.Second,
		HalfOpenProbes:   max(c.HalfOpenProbes, 1),
	}
}

// allowed consults the target's circuit breaker.
func (x *exchange) allowed(ctx context.Context, t PlanTarget, retry *time.Time) bool {
	b := x.e.opts.Breakers
	if b == nil || !x.plan.Breaker.Enabled {
		return true
	}
	p, err := b.Allow(ctx, breakerKey(t.Name), x.plan.Breaker.state())
	if err != nil {
		// A state outage must not stop traffic: breakers fail open.
		x.e.log.Warn("circuit breaker state unavailable", "target", t.Name, "error", err.Error())
		return true
	}
	if !p.Allowed && (retry.IsZero() || p.RetryAt.Before(*retry)) {
		*retry = p.RetryAt
	}
	return p.Allowed
}

func (x *exchange) record(t PlanTarget, success bool) {
	b := x.e.opts.Breakers
	if b == nil || !x.plan.Breaker.Enabled {
		return
	}
	st, err := b.Record(context.WithoutCancel(x.r.Context()), breakerKey(t.Name), x.plan.Breaker.state(), success)
	if err != nil {
		x.e.log.Warn("record circuit breaker outcome", "target", t.Name, "error", err.Error())
		return
	}
	x.e.m.breaker.WithLabelValues(t.Name).Set(float64(st))
}

// fail answers with the last provider error, in the OpenAI shape.
func (x *exchange) fail() {
	u := x.lastErr
	x.e.m.requests.WithLabelValues("", "", "upstream_error").Inc()
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(HeaderAttempts, strconv.Itoa(x.attempts))
	if u.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(u.RetryAfter.Seconds()+0.999)))
	}
	status := u.Status
	if status < 400 {
		status = http.StatusBadGateway
	}
	x.w.WriteHeader(status)
	_, _ = x.w.Write(u.Body)
}

// try makes one attempt. It reports done when the client has been
// answered (successfully or, after the first byte, with a stream error);
// otherwise the error says why the attempt failed.
func (x *exchange) try(ctx, loopCtx context.Context, t PlanTarget, ad provider.Adapter) (bool, *provider.UpstreamError) {
	target := provider.Target{Provider: provider.Kind(t.Provider), URL: t.URL, Model: t.Model, Deployment: t.Deployment, APIVersion: t.APIVersion, APIKey: t.APIKey}
	actx, cancel := context.WithCancel(ctx)
	stopLoop := context.AfterFunc(loopCtx, cancel)
	defer stopLoop()
	timeout := time.Duration(t.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); cancel() })
	// At the first byte the attempt is committed: neither its timeout nor
	// the loop's deadline may cut the answer short any more.
	firstByte := func() { timer.Stop(); stopLoop() }

	up, err := ad.Request(actx, target, x.call)
	if err != nil {
		timer.Stop()
		cancel()
		x.e.log.Error("build provider request", "target", t.Name, "error", err.Error())
		return false, &provider.UpstreamError{Status: http.StatusBadGateway, Class: "bad_request", Message: "could not build the provider request", Body: apierror.Upstream(http.StatusBadGateway, "could not build the provider request").Body()}
	}
	sent := time.Now()
	resp, err := x.e.tr.RoundTrip(up)
	if err != nil {
		timer.Stop()
		cancel()
		class, status, msg := provider.Class("connection"), http.StatusBadGateway, "the provider could not be reached"
		if timedOut.Load() || loopCtx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			class, status, msg = "timeout", http.StatusGatewayTimeout, "the provider did not answer in time"
		}
		x.e.m.attempts.WithLabelValues(t.Name, string(class)).Inc()
		x.record(t, false)
		return false, &provider.UpstreamError{Status: status, Class: class, Message: msg, Body: apierror.Upstream(status, msg).Body()}
	}
	x.e.m.latency.WithLabelValues(t.Name).Observe(time.Since(sent).Seconds())
	if resp.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		timer.Stop()
		cancel()
		uerr := ad.Error(resp.StatusCode, resp.Header, b)
		x.e.m.attempts.WithLabelValues(t.Name, string(uerr.Class)).Inc()
		x.record(t, !breakerFailure(uerr.Class))
		return false, uerr
	}
	if x.call.Req.Stream && isEventStream(resp.Header) {
		return x.stream(t, ad, resp, cancel, firstByte, &timedOut)
	}
	defer cancel()
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	firstByte()
	if err != nil {
		class := provider.Class("connection")
		if timedOut.Load() {
			class = "timeout"
		}
		x.e.m.attempts.WithLabelValues(t.Name, string(class)).Inc()
		x.record(t, false)
		return false, &provider.UpstreamError{Status: http.StatusBadGateway, Class: class, Message: "the provider's answer broke off", Body: apierror.Upstream(http.StatusBadGateway, "the provider's answer broke off").Body()}
	}
	out, usage, err := ad.Response(x.call, raw)
	if err != nil {
		x.e.m.attempts.WithLabelValues(t.Name, "bad_response").Inc()
		x.record(t, false)
		return false, &provider.UpstreamError{Status: http.StatusBadGateway, Class: "server", Message: "the provider's answer could not be read", Body: apierror.Upstream(http.StatusBadGateway, "the provider's answer could not be read").Body()}
	}
	x.e.m.attempts.WithLabelValues(t.Name, "ok").Inc()
	x.record(t, true)
	model := modelOf(out, targetModel(t), x.call.Req.Model)
	if !usage.Known {
		usage.CompletionTokens = x.e.count(model, answerText(out))
	}
	if x.unmask != nil {
		rewritten, err := x.unmask.Body(x.call.Format, out)
		if err != nil {
			// Fail closed: an answer that cannot be checked is not passed on.
			x.e.log.Error("answer could not be checked for personal data", "target", t.Name, "request_id", x.reqID)
			apierror.Write(x.w, apierror.Upstream(http.StatusBadGateway, "the answer cannot be checked for personal data"))
			x.finish(t, model, usage, false, http.StatusBadGateway, false, "pii_unreadable")
			return true, nil
		}
		out = rewritten
		x.countPII()
	}
	x.headers(t, model, resp.Header, "application/json")
	x.w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	x.w.WriteHeader(resp.StatusCode)
	_, werr := x.w.Write(out)
	x.finish(t, model, usage, false, resp.StatusCode, werr == nil, "")
	return true, nil
}

func breakerFailure(c provider.Class) bool {
	switch c {
	case "rate_limit", "server", "timeout", "connection":
		return true
	}
	return false
}

func isEventStream(h http.Header) bool {
	return strings.HasPrefix(strings.ToLower(h.Get("Content-Type")), "text/event-stream")
}

// stream relays a provider's SSE answer. The first event is read before
// anything is sent, so a provider that fails at once still falls back;
// after that, events are written and flushed as they arrive.
func (x *exchange) stream(t PlanTarget, ad provider.Adapter, resp *http.Response, cancel context.CancelFunc, firstByte func(), timedOut *atomic.Bool) (bool, *provider.UpstreamError) {
	defer cancel()
	defer resp.Body.Close()
	st := ad.Stream(x.call, resp.Body)
	first, err := st.Next()
	firstByte()
	if err != nil || st.Err() != nil {
		class := provider.Class("server")
		if timedOut.Load() {
			class = "timeout"
		}
		x.e.m.attempts.WithLabelValues(t.Name, string(class)).Inc()
		x.record(t, false)
		msg := "the provider's stream failed before its first event"
		return false, &provider.UpstreamError{Status: http.StatusBadGateway, Class: class, Message: msg, Body: apierror.Upstream(http.StatusBadGateway, msg).Body()}
	}
	x.e.m.attempts.WithLabelValues(t.Name, "ok").Inc()
	model := modelOf(sseData(first), targetModel(t), x.call.Req.Model)
	x.headers(t, model, resp.Header, "text/event-stream")
	x.w.Header().Set("Cache-Control", "no-cache")
	x.w.WriteHeader(resp.StatusCode)
	fl, _ := x.w.(http.Flusher)
	var rw *unmask.Stream
	if x.unmask != nil {
		var err error
		if rw, err = x.unmask.Stream(x.call.Format); err != nil {
			_, _ = x.w.Write(piiUnreadableEvent)
			x.record(t, true)
			x.finish(t, model, st.Usage(), true, resp.StatusCode, false, "pii_unreadable")
			return true, nil
		}
	}
	var text strings.Builder
	ceiling := x.ceiling()
	collect := t.Provider == string(provider.KindOpenAICompatible) || ceiling > 0
	var prompt, soFar int
	if ceiling > 0 {
		prompt = x.e.count(model, x.call.Req.Text())
	}
	rewriteFailed := false
	write := func(b []byte) bool {
		if rw != nil {
			var err error
			if b, err = rw.Event(b); err != nil {
				rewriteFailed = true
				return false
			}
			if len(b) == 0 {
				return true
			}
		}
		if _, err := x.w.Write(b); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		if collect {
			before := text.Len()
			appendDeltaText(&text, b)
			if ceiling > 0 && text.Len() > before {
				// Counted per chunk: a whole-text count on every chunk would
				// be quadratic in the answer's length.
				soFar += x.e.count(model, text.String()[before:])
			}
		}
		return true
	}
	streamErr := ""
	// A rewrite that fails ends the stream with an SSE error rather than
	// pass on an event it could not check (fail closed).
	checked := func(ok bool) bool {
		if !ok && rewriteFailed && streamErr == "" {
			streamErr = "pii_unreadable"
			_, _ = x.w.Write(piiUnreadableEvent)
			if fl != nil {
				fl.Flush()
			}
		}
		return ok
	}
	ok := checked(write(first))
	x.e.m.ttft.WithLabelValues(t.Name).Observe(time.Since(x.start).Seconds())
	for ok {
		b, err := st.Next()
		if len(b) > 0 {
			if st.Err() != nil {
				streamErr = "provider stream error"
			}
			ok = checked(write(b))
		}
		if ok && ceiling > 0 && int64(prompt+soFar) > ceiling {
			// enforce_during_stream: the answer would spend more than the
			// budget had left; end it rather than let it overspend.
			streamErr = "token budget exhausted mid-stream"
			_, _ = x.w.Write(budgetExhaustedEvent)
			if fl != nil {
				fl.Flush()
			}
			break
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && streamErr == "" {
				streamErr = "stream read failed"
			}
			break
		}
	}
	if rw != nil {
		if rest := rw.Close(); len(rest) > 0 && ok {
			_, _ = x.w.Write(rest)
		}
		x.countPII()
	}
	x.record(t, streamErr == "" || streamErr == "pii_unreadable")
	usage := st.Usage()
	if !usage.Known && collect {
		usage.CompletionTokens = x.e.count(model, text.String())
	}
	x.finish(t, model, usage, true, resp.StatusCode, ok && streamErr == "", streamErr)
	return true, nil
}

// piiUnreadableEvent ends a stream whose answer could not be checked for
// personal data.
var piiUnreadableEvent = []byte(`data: {"error":{"message":"the answer cannot be checked for personal data","type":"server_error","param":null,"code":"pii_unreadable"}}` + "\n\n")

// countPII counts what the answer's rewriter did; counts only, never a
// value.
func (x *exchange) countPII() {
	c := x.unmask.Counts()
	for t, n := range c.Restored {
		x.e.m.pii.WithLabelValues(string(t), "restore").Add(float64(n))
	}
	for t, n := range c.Redacted {
		x.e.m.pii.WithLabelValues(string(t), "redact").Add(float64(n))
	}
}

// budgetExhaustedEvent ends a stream that ran past the caller's budget.
var budgetExhaustedEvent = []byte(`data: {"error":{"message":"token budget exhausted during the answer","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}` + "\n\n")

// ceiling is the most tokens the rate limiter let this request use while
// streaming (enforce_during_stream), or 0 for no limit.
func (x *exchange) ceiling() int64 {
	var c int64
	for _, r := range x.reservation {
		if r.Ceiling > 0 && r.Price == nil && (c == 0 || r.Ceiling < c) {
			c = r.Ceiling
		}
	}
	return c
}

// sseData returns the data of the first event in b.
func sseData(b []byte) []byte {
	for _, line := range bytes.Split(b, []byte("\n")) {
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			return bytes.TrimSpace(d)
		}
	}
	return nil
}

// appendDeltaText adds the delta contents of OpenAI chunks in b to text.
func appendDeltaText(text *strings.Builder, b []byte) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		d, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal(bytes.TrimSpace(d), &chunk) == nil {
			for _, c := range chunk.Choices {
				text.WriteString(c.Delta.Content)
			}
		}
	}
}

// answerText is the generated text of an OpenAI-shaped answer (chat
// choices, or legacy completions' text), for counting when the provider
// reported no usage.
func answerText(body []byte) string {
	var a struct {
		Choices []struct {
			Text    string `json:"text"`
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if json.Unmarshal(body, &a) != nil {
		return ""
	}
	var b strings.Builder
	for _, c := range a.Choices {
		b.WriteString(c.Message.Content)
		b.WriteString(c.Text)
	}
	return b.String()
}

// targetModel is the model a target asks for: its model, or its Azure
// deployment.
func targetModel(t PlanTarget) string {
	if t.Model != "" {
		return t.Model
	}
	return t.Deployment
}

// modelOf is the model that answered: the body's "model", else the
// target's, else the client's.
func modelOf(body []byte, target, client string) string {
	var m struct {
		Model string `json:"model"`
	}
	if json.Unmarshal(body, &m) == nil && m.Model != "" {
		return m.Model
	}
	if target != "" {
		return target
	}
	return client
}

// passed are provider response headers the client may see.
var passed = []string{"X-Request-Id", "Request-Id", "Openai-Processing-Ms", "Openai-Version"}

func (x *exchange) headers(t PlanTarget, model string, up http.Header, contentType string) {
	h := x.w.Header()
	for _, k := range passed {
		if v := up.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	for k, v := range up {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-ratelimit-") || strings.HasPrefix(lk, "anthropic-ratelimit-") {
			h[k] = v
		}
	}
	h.Set("Content-Type", contentType)
	h.Set(HeaderProvider, t.Provider)
	h.Set(HeaderModel, model)
	h.Set(HeaderTarget, t.Name)
	h.Set(HeaderAttempts, strconv.Itoa(x.attempts))
	if x.first != "" && x.first != t.Name {
		x.e.m.fallbacks.Inc()
	}
}

// finish counts the answer and publishes its usage.
func (x *exchange) finish(t PlanTarget, model string, u provider.Usage, stream bool, status int, completed bool, streamErr string) {
	outcome := "ok"
	switch {
	case streamErr != "":
		outcome = "stream_error"
	case !completed:
		outcome = "client_gone"
	}
	x.e.m.requests.WithLabelValues(t.Provider, model, outcome).Inc()
	ev := Usage{
		RequestID: x.reqID, Consumer: x.plan.Consumer, Route: x.plan.Route, Service: x.plan.Service,
		Provider: t.Provider, Target: t.Name, Model: model, Stream: stream, Status: status, Completed: completed, At: time.Now(),
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
	}
	if !u.Known {
		ev.Estimated = true
		if ev.PromptTokens == 0 {
			ev.PromptTokens = x.e.count(model, x.call.Req.Text())
		}
	}
	x.settled = true
	x.e.reconcile(x.reservation, int64(ev.PromptTokens), int64(ev.CompletionTokens))
	x.e.m.tokens.WithLabelValues("prompt", t.Provider, model).Add(float64(ev.PromptTokens))
	x.e.m.tokens.WithLabelValues("completion", t.Provider, model).Add(float64(ev.CompletionTokens))
	x.e.opts.Usage.Publish(ev)
	if streamErr != "" {
		x.e.log.Warn("provider stream ended with an error", "target", t.Name, "request_id", x.reqID)
	}
}
