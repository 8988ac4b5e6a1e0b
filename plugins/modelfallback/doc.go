// Package modelfallback is the tollgate-model-fallback Kong plugin: it
// turns its config (an ordered list of provider targets, what to retry on,
// the circuit breaker) into a plan, seals the plan for the request, and
// points the request at Tollgate's egress proxy, which calls the targets
// with fallback and streams the answer back.
//
// The Kong service of the route may keep the primary provider's URL, so a
// deck stays readable; the plugin overrides the target (kong.service.set_target)
// to the egress, and sends the client's path along unchanged.
package modelfallback
