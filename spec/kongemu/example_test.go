package kongemu_test

import (
	"fmt"
	"net/http"

	"github.com/tollgate-ai/tollgate/spec/kongemu"
)

func ExampleLoadDeck() {
	deck := []byte(`_format_version: "3.0"
services:
  - name: llm
    url: http://127.0.0.1:8099/openai
    routes:
      - name: chat
        paths: [/v1]
    plugins:
      - name: key-auth
      - name: tollgate-test
        config: {tag: service}
consumers:
  - username: alice
    keyauth_credentials: [{key: alice-key}]
    plugins:
      - name: tollgate-test
        config: {tag: alice}
`)
	cfg, err := kongemu.LoadDeck(deck)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, ok := cfg.Match(kongemu.RouteRequest{
		Method: "POST", Scheme: "http", Host: "localhost:8000", Path: "/v1/chat/completions?stream=true",
	})
	fmt.Println(ok, m.Route.Name, m.UpstreamPath)

	// key-auth (priority 1250) runs before the Tollgate plugins and sets
	// the consumer they are looked up with.
	conf, _ := kongemu.ParseKeyAuthConfig(cfg.PluginFor("key-auth", m.Route, m.Service, nil, nil).Config)
	auth := cfg.KeyAuth(conf, &kongemu.KeyAuthRequest{Method: "POST", Header: http.Header{"Apikey": {"alice-key"}}})
	fmt.Println(auth.Consumer.Username)
	fmt.Println(cfg.PluginFor("tollgate-test", m.Route, m.Service, auth.Consumer, auth.Groups).Config["tag"])

	denied := cfg.KeyAuth(conf, &kongemu.KeyAuthRequest{Method: "POST"})
	_, body := denied.Exit.Render("", "rid")
	fmt.Println(denied.Exit.Status, string(body))
	// Output:
	// true chat /openai/chat/completions
	// alice
	// alice
	// 401 {
	//   "message":"No API key found in request",
	//   "request_id":"rid"
	// }
}
