// Package tokenratelimit is the tollgate-token-rate-limit Kong plugin: it
// counts a request's prompt tokens with the model's tokenizer, reserves
// prompt plus expected completion in every configured window atomically
// (memory or Redis), refuses with 429 and Retry-After when a window is
// full, and hands the reservation to egress sealed, which settles it with
// the provider's real usage: the difference is debited or refunded, and a
// request no provider answered gives its reservation back.
//
// With policy memory the counters are the process's own: in sidecar mode
// the plugins and egress share them; a Kong-managed plugin process cannot
// share memory with a separate egress, so use redis there.
package tokenratelimit
