// Command gopdk-echo is a plain go-pdk plugin (server.StartServer, no
// Tollgate code), so the tests show that konghost and the Kong emulator
// speak the protocol the way go-pdk's own embedded server expects.
//
// It echoes what it saw into upstream headers and, when the request has
// the header x-echo-exit, answers with kong.response.exit.
package main

import (
	"strconv"

	"github.com/Kong/go-pdk"
	"github.com/Kong/go-pdk/server"
)

// Config is go-pdk's kind of config: JSON-decoded, schema from field types.
type Config struct {
	Greeting string `json:"greeting"`
}

// New is the constructor go-pdk calls per instance.
func New() interface{} { return &Config{} }

// Access echoes request facts upstream.
func (c *Config) Access(kong *pdk.PDK) {
	if v, _ := kong.Request.GetHeader("x-echo-exit"); v != "" {
		kong.Response.Exit(299, []byte("echo exit "+c.Greeting), map[string][]string{"X-Echo": {"exit"}})
		return
	}
	method, _ := kong.Request.GetMethod()
	path, _ := kong.Request.GetPath()
	body, _ := kong.Request.GetRawBody()
	headers, _ := kong.Request.GetHeaders(-1)
	_ = kong.Ctx.SetShared("echo", c.Greeting)
	_ = kong.ServiceRequest.SetHeader("X-Echo-Greeting", c.Greeting)
	_ = kong.ServiceRequest.SetHeader("X-Echo-Request", method+" "+path)
	_ = kong.ServiceRequest.SetHeader("X-Echo-Body-Len", strconv.Itoa(len(body)))
	_ = kong.ServiceRequest.SetHeader("X-Echo-Header-Count", strconv.Itoa(len(headers)))
	_ = kong.Response.SetHeader("X-Echo", "access")
}

// Log records that it ran.
func (c *Config) Log(kong *pdk.PDK) {
	status, _ := kong.Response.GetStatus()
	kong.Log.Notice("gopdk-echo log status ", status)
}

func main() {
	_ = server.StartServer(New, "0.2.0", 700)
}
