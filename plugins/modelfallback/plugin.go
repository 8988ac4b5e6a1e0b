package modelfallback

import (
	"fmt"
	"time"

	"github.com/Kong/go-pdk"

	"github.com/tollgate-ai/tollgate/internal/apierror"
	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/reqctx"
	"github.com/tollgate-ai/tollgate/internal/seal"
	"github.com/tollgate-ai/tollgate/pluginserver"
)

// Name is the Kong plugin name.
const Name = "tollgate-model-fallback"

// Priority runs the plugin last of Tollgate's: it only points the request
// at the egress once every other plugin has accepted (and possibly edited) it.
const Priority = 789

// planTTL bounds how long a sealed plan stays valid on its way to egress.
const planTTL = time.Minute

// New returns the plugin definition. keyring is called when an instance
// starts and gives the key the plans are sealed with (the one egress opens
// them with).
func New(keyring func() (*seal.Keyring, error)) pluginserver.Definition {
	return pluginserver.Define(pluginserver.Meta{Name: Name, Version: "0.1.0", Priority: Priority},
		func(c *Config) (*handler, error) {
			kr, err := keyring()
			if err != nil {
				return nil, fmt.Errorf("sealing key: %w", err)
			}
			return compile(c, kr), nil
		})
}

type handler struct {
	kr      *seal.Keyring
	plan    egress.Plan // without the per-request fields
	host    string
	port    int
	timeout time.Duration
}

func defaultName(t Target) string {
	return egress.TargetName(t.Provider, t.URL, t.Model, t.Deployment)
}

func compile(c *Config, kr *seal.Keyring) *handler {
	h := &handler{kr: kr, host: c.Egress.Host, port: c.Egress.Port}
	h.plan = egress.Plan{
		RetryOn: c.RetryOn, MaxAttempts: c.MaxAttempts, DeadlineMS: c.Deadline,
		Breaker: egress.BreakerConfig{Enabled: c.Breaker.Enabled, FailureThreshold: c.Breaker.FailureThreshold,
			CoolDownSeconds: c.Breaker.CoolDown, HalfOpenProbes: c.Breaker.HalfOpenProbes},
	}
	for i, t := range c.Targets {
		tier := i
		if t.Tier != nil {
			tier = *t.Tier
		}
		h.plan.Targets = append(h.plan.Targets, egress.PlanTarget{
			Name: c.targetName(i), Provider: t.Provider, URL: t.URL, Model: t.Model, Deployment: t.Deployment,
			APIVersion: t.APIVersion, APIKey: t.APIKey, TimeoutMS: t.Timeout, Tier: tier, Weight: t.Weight,
		})
	}
	return h
}

// Access hands the plan to egress and points the request at it.
func (h *handler) Access(kong *pdk.PDK) error {
	plan := h.plan
	if c, err := kong.Client.GetConsumer(); err == nil {
		plan.Consumer = c.Username
		if plan.Consumer == "" {
			plan.Consumer = c.Id
		}
	}
	if r, err := kong.Router.GetRoute(); err == nil {
		plan.Route = r.Name
	}
	path, err := kong.Request.GetPath()
	if err != nil {
		return fmt.Errorf("read request path: %w", err)
	}
	id, err := reqctx.ID(kong)
	if err != nil {
		return err
	}
	sealed, err := egress.SealPlan(h.kr, id, &plan, planTTL)
	if err != nil {
		return apierror.Internal(fmt.Errorf("seal plan: %w", err))
	}
	headers := map[string][]string{
		egress.HeaderRequestID: {id},
		egress.HeaderPlan:      {sealed},
	}
	// What earlier plugins sealed for egress (the rate limiter's
	// reservation…) goes upstream only now that upstream is egress.
	handOffs, err := reqctx.HandOffs(kong)
	if err != nil {
		return err
	}
	for h, v := range handOffs {
		headers[h] = []string{v}
	}
	if err := kong.ServiceRequest.SetHeaders(headers); err != nil {
		return fmt.Errorf("set hand-off headers: %w", err)
	}
	if err := kong.Service.SetTarget(h.host, h.port); err != nil {
		return fmt.Errorf("point the request at egress: %w", err)
	}
	if err := kong.ServiceRequest.SetScheme("http"); err != nil {
		return fmt.Errorf("set upstream scheme: %w", err)
	}
	if err := kong.ServiceRequest.SetPath(path); err != nil {
		return fmt.Errorf("set upstream path: %w", err)
	}
	return nil
}
