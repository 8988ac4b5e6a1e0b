package schema_test

import (
	"encoding/json"
	"fmt"

	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

func ExampleForConfig() {
	type Config struct {
		Limit int    `json:"limit" kong:"required,between=1:1000" desc:"Requests allowed per minute."`
		Mode  string `json:"mode" kong:"default=block,one_of=block|log" desc:"What to do over the limit."`
	}
	sch, err := schema.ForConfig("tollgate-example", new(Config), schema.Options{NoConsumer: true})
	if err != nil {
		panic(err)
	}
	raw, _ := json.Marshal(sch.Config())
	fmt.Println(string(raw))

	cfg, err := sch.NormalizeConfig(map[string]any{"limit": 10.0})
	fmt.Println(cfg, err)

	_, err = sch.NormalizeConfig(map[string]any{"limit": 0.0, "mode": "drop"})
	fmt.Println(err)
	// Output:
	// {"type":"record","fields":[{"limit":{"type":"integer","required":true,"description":"Requests allowed per minute.","between":[1,1000]}},{"mode":{"type":"string","default":"block","description":"What to do over the limit.","one_of":["block","log"]}}]}
	// map[limit:10 mode:block] <nil>
	// config.limit: value should be between 1 and 1000
	// config.mode: expected one of: block, log
}
