package state_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-ai/tollgate/internal/state"
)

func TestRedisConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  state.RedisConfig
		errs []string
	}{
		{"standalone", state.RedisConfig{Host: "redis"}, nil},
		{"sentinel", state.RedisConfig{SentinelMaster: "m", SentinelNodes: []state.RedisNode{{Host: "s"}}}, nil},
		{"cluster", state.RedisConfig{ClusterNodes: []state.RedisClusterNode{{IP: "10.0.0.1"}}}, nil},
		{"nothing", state.RedisConfig{}, []string{"host: set host, sentinel_master with sentinel_nodes, or cluster_nodes"}},
		{"two modes", state.RedisConfig{Host: "h", ClusterNodes: []state.RedisClusterNode{{IP: "i"}}}, []string{"host: host, sentinel_master/sentinel_nodes and cluster_nodes are mutually exclusive"}},
		{"sentinel without nodes", state.RedisConfig{SentinelMaster: "m"}, []string{"sentinel_nodes: required with sentinel_master"}},
		{"sentinel without master", state.RedisConfig{SentinelNodes: []state.RedisNode{{Host: "s"}}}, []string{"sentinel_master: required with sentinel_nodes"}},
		{"cluster database", state.RedisConfig{Database: 1, ClusterNodes: []state.RedisClusterNode{{IP: "i"}}}, []string{"database: must be 0"}},
		{"every problem", state.RedisConfig{
			Host: "h", Port: 70000, Timeout: -1, Database: -2, KeyPrefix: "a{b}",
		}, []string{"port: port 70000", "timeout: -1", "database: -2", "key_prefix: must be"}},
		{"node fields", state.RedisConfig{
			SentinelMaster: "m", SentinelNodes: []state.RedisNode{{Port: -1}},
		}, []string{"sentinel_nodes[0].host: required", "sentinel_nodes[0].port: port -1"}},
		{"cluster node fields", state.RedisConfig{ClusterNodes: []state.RedisClusterNode{{}}}, []string{"cluster_nodes[0].ip: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Password = "never-shown"
			err := tc.cfg.Validate()
			if tc.errs == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tc.errs {
				require.Contains(t, err.Error(), want)
			}
			require.Len(t, strings.Split(err.Error(), "\n"), len(tc.errs), "one line per problem")
			require.NotContains(t, err.Error(), "never-shown")
		})
	}
}

// TestRedisConfigJSON pins the field names shared with Kong's redis record.
func TestRedisConfigJSON(t *testing.T) {
	var cfg state.RedisConfig
	require.NoError(t, json.Unmarshal([]byte(`{
		"host": "redis", "port": 6380, "timeout": 500, "username": "u", "password": "p",
		"database": 2, "ssl": true, "ssl_verify": true, "server_name": "sni",
		"sentinel_master": "m", "sentinel_nodes": [{"host": "s", "port": 26379}],
		"cluster_nodes": [{"ip": "10.0.0.1", "port": 7000}], "key_prefix": "tg"
	}`), &cfg))
	require.Equal(t, state.RedisConfig{
		Host: "redis", Port: 6380, Timeout: 500, Username: "u", Password: "p",
		Database: 2, SSL: true, SSLVerify: true, ServerName: "sni",
		SentinelMaster: "m", SentinelNodes: []state.RedisNode{{Host: "s", Port: 26379}},
		ClusterNodes: []state.RedisClusterNode{{IP: "10.0.0.1", Port: 7000}}, KeyPrefix: "tg",
	}, cfg)
}
