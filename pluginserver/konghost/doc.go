// Package konghost is Kong's side of the external-plugin protocol
// (ProtoBuf over a Unix socket), as Kong 3.9/3.10 speaks it to Go plugin
// servers built on go-pdk v0.11.2.
//
// A [Client] is one Kong worker's view of one plugin server: it starts and
// closes instances and sends handle_event calls over pooled connections,
// with Kong's sequence numbers and framing. While an event runs, the plugin
// calls back into Kong; a [Request] answers those PDK calls the way Kong's
// pdk/*.lua does, with the phase rules, value conversions and quirks of
// the protocol spec (shared/kong-external-plugin-protocol.md): false
// becomes nil, nil becomes "NULL_VALUE", header keys are lower case,
// bodies over the buffer size arrive as a file path, a call that is illegal
// in the phase gets no reply, and kong.response.exit is never answered.
//
// The runtime's tests (package plugintest), `tollgate try` and the Kong
// emulator in spec/ drive plugins through this package, so every one of
// them goes through real sockets and the real runtime.
//
// # Example
//
//	c := konghost.NewClient("/usr/local/kong/tollgate-prompt-guard.socket")
//	defer c.Close()
//	st, err := c.StartInstance(ctx, "tollgate-prompt-guard", configJSON)
//	…
//	r := &konghost.Request{Method: "POST", Path: "/v1/chat/completions", Body: body, …}
//	out, err := c.HandleEvent(ctx, st.ID, konghost.PhaseAccess, r)
//	if out == konghost.Exited { // r.Exit holds the answer }
//	r.Finish()
package konghost
