package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-ai/tollgate/internal/egress"
	"github.com/tollgate-ai/tollgate/internal/state"
	"github.com/tollgate-ai/tollgate/internal/tokens"
	"github.com/tollgate-ai/tollgate/internal/version"
)

// egressCmd runs the egress proxy and the admin server, beside the plugin
// sockets (serve) or alone (egress).
type egressCmd struct {
	keys      *keys
	memory    *state.Memory
	reg       *prometheus.Registry // shared with the plugins
	listen    string
	admin     string
	store     string
	redisAddr string
}

func (c *egressCmd) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "egress-listen", "127.0.0.1:8765", "address of the egress proxy (Kong's upstream for AI routes); empty disables it")
	fs.StringVar(&c.admin, "admin-listen", "127.0.0.1:8766", "address of the admin server: /metrics, /status, /healthz")
	fs.StringVar(&c.store, "state", "memory", "where shared state (circuit breakers) lives: memory (this process) or redis (every node)")
	fs.StringVar(&c.redisAddr, "redis", "127.0.0.1:6379", "Redis host:port for --state redis; the password is read from TOLLGATE_REDIS_PASSWORD")
}

// backend opens the state backend the flags ask for.
func (c *egressCmd) backend() (state.Backend, error) {
	switch c.store {
	case "memory":
		return c.memory, nil
	case "redis":
		host, port, err := net.SplitHostPort(c.redisAddr)
		if err != nil {
			return nil, fmt.Errorf("--redis %q: want host:port", c.redisAddr)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("--redis %q: bad port", c.redisAddr)
		}
		return state.NewRedis(state.RedisConfig{Host: host, Port: p, Password: os.Getenv("TOLLGATE_REDIS_PASSWORD")})
	}
	return nil, fmt.Errorf("--state %q: want memory or redis", c.store)
}

// main is `tollgate egress`.
func (c *egressCmd) main(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("tollgate egress", flag.ContinueOnError)
	c.flags(fs)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8765", "address of the egress proxy")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := c.keys.prepare(false); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx, log); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate:", err)
		return 1
	}
	return 0
}

// run serves egress and admin until ctx ends.
func (c *egressCmd) run(ctx context.Context, log *slog.Logger) error {
	if c.listen == "" {
		return nil
	}
	kr, err := c.keys.get()
	if err != nil {
		return err
	}
	st, err := c.backend()
	if err != nil {
		return err
	}
	if st != state.Backend(c.memory) {
		defer st.Close()
	}
	reg := c.reg
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eg, err := egress.New(egress.Options{
		Keyring:     kr,
		Breakers:    st,
		Counters:    c.memory,
		Usage:       &egress.Bus{},
		Registerer:  reg,
		CountTokens: tokens.Count,
		Log:         log.With("component", "egress"),
	})
	if err != nil {
		return err
	}
	defer eg.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		st, err := eg.Status(r.Context())
		w.Header().Set("Content-Type", "application/json")
		out := map[string]any{"version": version.String(), "breakers": st}
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			out["error"] = "breaker state unavailable"
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	servers := []*http.Server{
		{Addr: c.listen, Handler: eg, ReadHeaderTimeout: 30 * time.Second},
	}
	if c.admin != "" {
		servers = append(servers, &http.Server{Addr: c.admin, Handler: mux, ReadHeaderTimeout: 30 * time.Second})
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", s.Addr, err)
		}
		log.Info("listening", "addr", ln.Addr().String(), "server", map[bool]string{true: "egress", false: "admin"}[s.Handler == eg])
		go func() { errc <- s.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
	return nil
}
