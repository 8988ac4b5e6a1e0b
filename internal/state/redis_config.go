package state

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisConfig is the `redis` record of the Tollgate plugins, shaped like
// the one of Kong's own plugins so that the same decK values work. It
// selects one of three modes: a standalone server (host), Redis Sentinel
// (sentinel_master with sentinel_nodes) or Redis Cluster (cluster_nodes).
//
// Defaults live in the kong tags; NewRedis applies them too, so a
// RedisConfig built in Go with zero values means the same thing.
type RedisConfig struct {
	Host           string             `json:"host" desc:"Host name or IP address of a standalone Redis server."`
	Port           int                `json:"port" kong:"default=6379,between=0:65535" desc:"Port of the standalone Redis server."`
	Timeout        int                `json:"timeout" kong:"default=2000,between=1:2147483646" desc:"Timeout in milliseconds for connecting to Redis and for each operation."`
	Username       string             `json:"username" kong:"referenceable" desc:"User name for Redis ACL authentication (Redis 6 or later); unset means the default user."`
	Password       string             `json:"password" kong:"referenceable,encrypted" desc:"Password for Redis authentication."`
	Database       int                `json:"database" kong:"default=0,between=0:2147483646" desc:"Redis database number; must be 0 with Redis Cluster."`
	SSL            bool               `json:"ssl" kong:"default=false" desc:"Connect to Redis over TLS."`
	SSLVerify      bool               `json:"ssl_verify" kong:"default=false" desc:"Verify the TLS certificate of Redis against the system's trusted CAs."`
	ServerName     string             `json:"server_name" desc:"Server name sent in the TLS handshake (SNI) and checked against the certificate; unset means the host connected to."`
	SentinelMaster string             `json:"sentinel_master" desc:"Name of the master group monitored by Redis Sentinel; setting it selects Sentinel mode."`
	SentinelNodes  []RedisNode        `json:"sentinel_nodes" kong:"len_min=1" desc:"Addresses of the Sentinels to ask for the master, used with sentinel_master."`
	ClusterNodes   []RedisClusterNode `json:"cluster_nodes" kong:"len_min=1" desc:"Seed addresses of a Redis Cluster; setting them selects Cluster mode."`
	KeyPrefix      string             `json:"key_prefix" kong:"default=tollgate,len_max=64,match=^[%w_%.:%-]+$" desc:"Prefix of every key Tollgate writes, to share a Redis with other applications."`
}

// RedisNode is the address of a Sentinel.
type RedisNode struct {
	Host string `json:"host" kong:"required" desc:"Host name or IP address of the Sentinel."`
	Port int    `json:"port" kong:"default=6379,between=0:65535" desc:"Port of the Sentinel."`
}

// RedisClusterNode is the address of a Redis Cluster node; the field is
// called ip, as in Kong, but a host name works too.
type RedisClusterNode struct {
	IP   string `json:"ip" kong:"required" desc:"IP address or host name of the cluster node."`
	Port int    `json:"port" kong:"default=6379,between=0:65535" desc:"Port of the cluster node."`
}

// Defaults of the fields whose Go zero value is not their default.
const (
	defaultRedisPort      = 6379
	defaultRedisTimeout   = 2000 // ms
	defaultRedisKeyPrefix = "tollgate"
)

// withDefaults fills the fields left at their zero value.
func (c RedisConfig) withDefaults() RedisConfig {
	if c.Port == 0 {
		c.Port = defaultRedisPort
	}
	if c.Timeout == 0 {
		c.Timeout = defaultRedisTimeout
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = defaultRedisKeyPrefix
	}
	c.SentinelNodes = append([]RedisNode(nil), c.SentinelNodes...)
	for i := range c.SentinelNodes {
		if c.SentinelNodes[i].Port == 0 {
			c.SentinelNodes[i].Port = defaultRedisPort
		}
	}
	c.ClusterNodes = append([]RedisClusterNode(nil), c.ClusterNodes...)
	for i := range c.ClusterNodes {
		if c.ClusterNodes[i].Port == 0 {
			c.ClusterNodes[i].Port = defaultRedisPort
		}
	}
	return c
}

// Validate checks what the schema tags cannot: that exactly one mode is
// chosen and its fields agree. Every problem is reported, joined, each
// prefixed by its field name within the record (callers add the record's
// path, such as config.redis). Error text never contains a secret.
func (c RedisConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	standalone, sentinel, cluster := c.Host != "", c.SentinelMaster != "" || len(c.SentinelNodes) > 0, len(c.ClusterNodes) > 0
	switch n := btoi(standalone) + btoi(sentinel) + btoi(cluster); {
	case n == 0:
		add("host", "set host, sentinel_master with sentinel_nodes, or cluster_nodes")
	case n > 1:
		add("host", "host, sentinel_master/sentinel_nodes and cluster_nodes are mutually exclusive")
	}
	if sentinel && c.SentinelMaster == "" {
		add("sentinel_master", "required with sentinel_nodes")
	}
	if sentinel && len(c.SentinelNodes) == 0 {
		add("sentinel_nodes", "required with sentinel_master")
	}
	if cluster && c.Database != 0 {
		add("database", "must be 0 with cluster_nodes: Redis Cluster has only database 0")
	}
	checkPort := func(field string, port int) {
		if port < 0 || port > 65535 {
			add(field, "port %d is outside 0..65535", port)
		}
	}
	checkPort("port", c.Port)
	for i, n := range c.SentinelNodes {
		if n.Host == "" {
			add(fmt.Sprintf("sentinel_nodes[%d].host", i), "required")
		}
		checkPort(fmt.Sprintf("sentinel_nodes[%d].port", i), n.Port)
	}
	for i, n := range c.ClusterNodes {
		if n.IP == "" {
			add(fmt.Sprintf("cluster_nodes[%d].ip", i), "required")
		}
		checkPort(fmt.Sprintf("cluster_nodes[%d].port", i), n.Port)
	}
	if c.Timeout < 1 {
		add("timeout", "%d must be at least 1 ms", c.Timeout)
	}
	if c.Database < 0 {
		add("database", "%d must not be negative", c.Database)
	}
	if strings.ContainsAny(c.KeyPrefix, "{}") || len(c.KeyPrefix) > 64 {
		add("key_prefix", "must be at most 64 characters without braces (braces delimit Cluster hash tags)")
	}
	return errors.Join(errs...)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// universalOptions maps a valid, defaulted config to go-redis options.
func (c RedisConfig) universalOptions() *redis.UniversalOptions {
	timeout := time.Duration(c.Timeout) * time.Millisecond
	o := &redis.UniversalOptions{
		ClientName:  "tollgate",
		Username:    c.Username,
		Password:    c.Password,
		DB:          c.Database,
		DialTimeout: timeout,
		ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
		// Each operation gets the timeout as its context deadline, which
		// also bounds dialling and waiting for a pooled connection.
		ContextTimeoutEnabled: true,
		// A retried script could count a reservation twice, and retries
		// would stretch an outage past the timeout that fault_tolerant
		// relies on; the caller decides instead.
		MaxRetries:    -1,
		DialerRetries: 1, // one dial attempt: a refused connection fails at once
		// No CLIENT SETINFO or maintenance-notification handshake: they
		// are not needed and fail on older servers and proxies.
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	switch {
	case c.SentinelMaster != "":
		o.MasterName = c.SentinelMaster
		for _, n := range c.SentinelNodes {
			o.Addrs = append(o.Addrs, net.JoinHostPort(n.Host, strconv.Itoa(n.Port)))
		}
	case len(c.ClusterNodes) > 0:
		o.IsClusterMode = true
		for _, n := range c.ClusterNodes {
			o.Addrs = append(o.Addrs, net.JoinHostPort(n.IP, strconv.Itoa(n.Port)))
		}
	default:
		o.Addrs = []string{net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	}
	if c.SSL {
		o.TLSConfig = &tls.Config{
			MinVersion: tls.VersionTLS12,
			ServerName: c.ServerName, // empty: crypto/tls uses the dialled host
			// Kong's ssl_verify defaults to false; the operator opts in.
			InsecureSkipVerify: !c.SSLVerify,
		}
	}
	return o
}

// KongEntityChecks gives Kong the cross-field rules of Validate that hold
// whatever the plugin's policy: Kong materialises the record even when
// Redis is not used, so "one mode must be set" stays in the plugin's own
// conditional checks.
func (RedisConfig) KongEntityChecks() []map[string]any {
	return []map[string]any{
		{"mutually_required": []string{"sentinel_master", "sentinel_nodes"}},
		{"mutually_exclusive": []string{"host", "sentinel_master", "cluster_nodes"}},
	}
}
