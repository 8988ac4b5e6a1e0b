// Command kongemu runs the Kong emulator of spec/kongemu as a process: it
// reads kong.conf, queries and starts the external plugin servers as Kong
// does, loads a decK file as its DB-less config and serves the proxy.
//
//	kongemu -conf kong.conf -deck decks/demo.yaml
//
// It is for make demo and manual tries; the e2e tests use the packages
// in process. spec/kongemu/README.md says what it emulates.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tollgate-ai/tollgate/spec/kongemu/pluginservers"
	"github.com/tollgate-ai/tollgate/spec/kongemu/proxy"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kongemu:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("kongemu", flag.ContinueOnError)
	confPath := fs.String("conf", "kong.conf", "kong.conf with the pluginserver_* properties")
	deckPath := fs.String("deck", "", "decK file (_format_version 3.0) served as the DB-less config")
	workers := fs.Int("workers", 2, "Kong workers to simulate")
	listen := fs.String("listen", "", "proxy address (default: proxy_listen from kong.conf)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *deckPath == "" {
		fs.Usage()
		return errors.New("-deck is required")
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	rawConf, err := os.ReadFile(*confPath)
	if err != nil {
		return err
	}
	conf, err := pluginservers.ParseConf(rawConf)
	if err != nil {
		return err
	}
	deck, err := os.ReadFile(*deckPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	servers, err := pluginservers.Start(ctx, conf, log)
	if err != nil {
		return err
	}
	defer servers.Stop()
	gw, err := proxy.New(proxy.Options{Servers: servers, Workers: *workers, Log: log}, deck)
	if err != nil {
		return err
	}
	defer gw.Close()
	addr := conf.ProxyListen
	if *listen != "" {
		addr = *listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 60 * time.Second}
	log.Info("kongemu proxy listening", "addr", ln.Addr().String(), "plugins", len(servers.Plugins))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
