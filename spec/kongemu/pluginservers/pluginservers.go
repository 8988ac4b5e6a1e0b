// Package pluginservers is the Kong emulator's process side of external
// plugins: it reads the kong.conf properties Kong reads, runs every
// query_cmd through a shell and keeps the first plugin of its dump, starts
// start_cmd processes (respawning them at most once a second, SIGTERM on
// shutdown), and hands out konghost clients for the configured sockets.
// It follows §1 of the protocol spec (shared/kong-external-plugin-protocol.md).
package pluginservers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/pluginserver/schema"
)

// Conf is the part of kong.conf the emulator reads.
type Conf struct {
	// Prefix is Kong's prefix (default /usr/local/kong).
	Prefix string
	// Plugins is the `plugins` list, "bundled" included.
	Plugins []string
	// ProxyListen is the first proxy_listen address.
	ProxyListen string
	// BodyBufferSize is nginx_http_client_body_buffer_size in bytes.
	BodyBufferSize int
	// Servers are the pluginserver_names entries, in order.
	Servers []ServerConf
	// Props holds every property as written.
	Props map[string]string
}

// ServerConf is one pluginserver_<name>_* group.
type ServerConf struct {
	Name     string
	Socket   string
	StartCmd string
	QueryCmd string
}

// ParseConf reads kong.conf text: `key = value` lines, `#` comments.
// Defaults follow kong/conf_loader: socket <prefix>/<name>.socket, and
// start_cmd and query_cmd /usr/local/bin/<name> when that file exists.
func ParseConf(data []byte) (*Conf, error) {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("kong.conf line %d: want key = value", n)
		}
		props[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read kong.conf: %w", err)
	}
	c := &Conf{Prefix: "/usr/local/kong", ProxyListen: "0.0.0.0:8000", BodyBufferSize: konghost.DefaultBodyBufferSize, Props: props}
	if v := props["prefix"]; v != "" {
		c.Prefix = v
	}
	if v := props["proxy_listen"]; v != "" {
		first, _, _ := strings.Cut(v, ",")
		addr, _, _ := strings.Cut(strings.TrimSpace(first), " ")
		c.ProxyListen = addr
	}
	if v := props["nginx_http_client_body_buffer_size"]; v != "" {
		n, err := parseSize(v)
		if err != nil {
			return nil, fmt.Errorf("nginx_http_client_body_buffer_size: %w", err)
		}
		c.BodyBufferSize = n
	}
	c.Plugins = splitList(props["plugins"])
	if len(c.Plugins) == 0 {
		c.Plugins = []string{"bundled"}
	}
	for _, name := range splitList(props["pluginserver_names"]) {
		name = strings.ToLower(name)
		key := "pluginserver_" + strings.ReplaceAll(name, "-", "_") + "_"
		s := ServerConf{Name: name, Socket: props[key+"socket"], StartCmd: props[key+"start_cmd"], QueryCmd: props[key+"query_cmd"]}
		if s.Socket == "" {
			s.Socket = filepath.Join(c.Prefix, name+".socket")
		}
		if bin := "/usr/local/bin/" + name; fileExists(bin) {
			if s.StartCmd == "" {
				s.StartCmd = bin
			}
			if s.QueryCmd == "" {
				s.QueryCmd = bin + " -dump"
			}
		}
		if s.QueryCmd == "" {
			return nil, fmt.Errorf("pluginserver %s: no query_cmd (Kong will not start without one)", name)
		}
		c.Servers = append(c.Servers, s)
	}
	return c, nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseSize(v string) (int, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	mult := 1
	switch {
	case strings.HasSuffix(v, "k"):
		mult, v = 1<<10, v[:len(v)-1]
	case strings.HasSuffix(v, "m"):
		mult, v = 1<<20, v[:len(v)-1]
	case strings.HasSuffix(v, "g"):
		mult, v = 1<<30, v[:len(v)-1]
	}
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", v)
	}
	return n * mult, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Plugin is one external plugin as Kong knows it after the query.
type Plugin struct {
	Server ServerConf
	Info   *konghost.Info
	// Schema is the dumped schema, parsed; the emulator validates and
	// defaults plugin entities with it as Kong does.
	Schema *schema.Plugin
}

// HasPhase reports whether the dump lists a phase.
func (p *Plugin) HasPhase(phase konghost.Phase) bool {
	for _, ph := range p.Info.Phases {
		if ph == string(phase) {
			return true
		}
	}
	return false
}

// Query runs one query_cmd through a shell as Kong's io.popen does:
// stdout is read whole, exit status and stderr are ignored.
func Query(ctx context.Context, s ServerConf) (*Plugin, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.QueryCmd)
	cmd.Stderr = io.Discard
	out, _ := cmd.Output() // Kong ignores the exit status
	info, err := konghost.ParseInfo(out)
	if err != nil {
		return nil, fmt.Errorf("pluginserver %s: %w", s.Name, err)
	}
	sch, err := schema.Parse(info.Schema)
	if err != nil {
		return nil, fmt.Errorf("failed loading external plugins: schema of %s: %w", info.Name, err)
	}
	return &Plugin{Server: s, Info: info, Schema: sch}, nil
}

// Manager runs the plugin servers Kong would start and knows every
// plugin's dump.
type Manager struct {
	Conf    *Conf
	Plugins map[string]*Plugin // by the dumped Name
	Log     *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	procs map[string]*os.Process // running start_cmd processes by server name
}

// Start queries every plugin server, fails like Kong on a bad dump, and
// starts the start_cmd processes. It does not wait for sockets: Kong does
// not either (calls before the plugin listens fail, spec §1.3).
func Start(ctx context.Context, c *Conf, log *slog.Logger) (*Manager, error) {
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{Conf: c, Plugins: map[string]*Plugin{}, Log: log, procs: map[string]*os.Process{}}
	for _, s := range c.Servers {
		qctx, cancel := context.WithTimeout(ctx, time.Minute)
		p, err := Query(qctx, s)
		cancel()
		if err != nil {
			return nil, err
		}
		if !enabled(c.Plugins, p.Info.Name) {
			log.Warn("external plugin is not in `plugins`; Kong will not load it", "plugin", p.Info.Name)
			continue
		}
		m.Plugins[p.Info.Name] = p
	}
	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	for _, s := range c.Servers {
		if s.StartCmd == "" {
			log.Warn("no start_cmd: the plugin server is managed externally", "pluginserver", s.Name)
			continue
		}
		m.wg.Add(1)
		go func() { defer m.wg.Done(); m.supervise(runCtx, s) }()
	}
	return m, nil
}

func enabled(list []string, name string) bool {
	for _, p := range list {
		if p == name {
			return true
		}
	}
	return false
}

// supervise runs `exec <start_cmd>` and respawns it when it exits, at most
// once per second, until ctx ends; then it sends SIGTERM.
func (m *Manager) supervise(ctx context.Context, s ServerConf) {
	log := m.Log.With("pluginserver", s.Name)
	for {
		started := time.Now()
		cmd := exec.Command("/bin/sh", "-c", "exec "+s.StartCmd)
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = pw, pw
		if err := cmd.Start(); err != nil {
			log.Error("start plugin server", "error", err)
		} else {
			go relay(pr, log, cmd.Process.Pid)
			m.mu.Lock()
			m.procs[s.Name] = cmd.Process
			m.mu.Unlock()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait(); pw.Close() }()
			select {
			case err := <-done:
				log.Warn("plugin server exited; respawning", "error", errString(err))
			case <-ctx.Done():
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					_ = cmd.Process.Kill()
					<-done
				}
				return
			}
		}
		wait := time.Second - time.Since(started)
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, 0)):
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// relay logs the server's output line by line, as Kong does at INFO.
func relay(r io.Reader, log *slog.Logger, pid int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		log.Info(sc.Text(), "pid", pid)
	}
}

// Signal sends sig to the running process of a plugin server started with
// start_cmd, as an operator (or a crash) would; Kong respawns it.
func (m *Manager) Signal(server string, sig os.Signal) error {
	m.mu.Lock()
	p := m.procs[server]
	m.mu.Unlock()
	if p == nil {
		return fmt.Errorf("plugin server %s is not running under start_cmd", server)
	}
	return p.Signal(sig)
}

// Stop sends SIGTERM to every started server and waits for them.
func (m *Manager) Stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
}

// WaitSockets waits until every plugin's socket accepts connections. Kong
// does not wait; tests and the demo do, to avoid Kong's startup race.
func (m *Manager) WaitSockets(ctx context.Context) error {
	for _, p := range m.Plugins {
		for {
			conn, err := dialOnce(ctx, p.Server.Socket)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("socket of %s did not come up: %w", p.Info.Name, errors.Join(err, ctx.Err()))
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

func dialOnce(ctx context.Context, socket string) (io.Closer, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", socket)
}
